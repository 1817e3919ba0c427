package io.hotpath.engine.jvm;

/**
 * The inner loops of a dense layer, for one row. Two implementations: {@link VectorKernels} with
 * the JDK's Vector API (explicit SIMD: AVX2 or AVX-512, whatever the CPU has), used when the JVM
 * runs with {@code --add-modules jdk.incubator.vector}; otherwise {@link ScalarKernels}, plain
 * loops (the JIT does not vectorize them: it cannot prove the output and weight arrays apart).
 */
interface Kernels {
    /** The kernels this JVM can run: vector when the incubator module is present (and not switched off with {@code -Dhotpath.jvm.vector=false}). */
    Kernels BEST = choose();

    private static Kernels choose() {
        boolean wanted = !"false".equals(System.getProperty("hotpath.jvm.vector"));
        if (wanted && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                // by name, so this interface links without the incubator module
                return (Kernels) Class.forName("io.hotpath.engine.jvm.VectorKernels").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                System.getLogger(Kernels.class.getName()).log(System.Logger.Level.WARNING, "the Vector API kernels could not load (" + e
                        + "); the JVM engine uses scalar loops");
            }
        }
        return new ScalarKernels();
    }

    /**
     * {@code y[yo + j] = bias[j] + sum_k x[xo + k] * w[k * n + j]} for {@code j < n} (bias may be
     * null: 0). With {@code skipZeros}, a zero {@code x} skips its row of {@code w}.
     */
    void denseRow(float[] x, int xo, int k, float[] w, int n, float[] bias, float[] y, int yo, boolean skipZeros);

    /** {@code sum_i x[xo + i] * w[wo + i]} for {@code i < k}. */
    float dot(float[] x, int xo, float[] w, int wo, int k);

    /** {@code vector (AVX2, 8 lanes)} or {@code scalar}: for reports. */
    String describe();
}
