package io.hotpath.engine.jvm;

import java.lang.foreign.MemorySegment;

/**
 * The inner loops of a dense layer. Weights are packed once into panels of {@link #panel()}
 * output columns: panel p holds, for each input k, its {@code panel()} weights side by side
 * ({@code wp[(p * K + k) * panel() + c] = W[k][p * panel() + c]}), zero-padded past the last
 * column, so a row's pass over one panel reads memory in order.
 *
 * <p>With 512-bit vectors the panels exist twice. The one-row and four-row kernels read a copy off
 * the heap that starts on a 64-byte boundary ({@link #WEIGHT_ALIGNMENT}), so every 64-byte load
 * stays inside one cache line, addressed in long byte offsets (each load's bounds check one
 * compare). A {@code float[]}'s elements start 16 bytes into an object the collector may move, so
 * a 64-byte load from one usually spans two lines; measured on an AVX-512 Xeon, {@code mlp} at
 * batch 1 took 3.7-4.1 instead of 4.6-5.1 us at best; at batch 8 the four-row kernel on the copy,
 * a whole panel (16 accumulators) at a time, took about 1.34 times less (the two changes were
 * measured together). The two-row kernel (the pair left when a batch is not a multiple of four; a
 * single last row takes the one-row kernel) and 256-bit vectors read the {@code float[]}: with
 * 32-byte loads only half split a line, and there the segment measured slower
 * ({@code -XX:UseAVX=2}, batch 1, int offsets). Two implementations:
 * {@link VectorKernels} with the JDK's Vector API (explicit SIMD at the CPU's width), used when
 * the JVM runs with {@code --add-modules jdk.incubator.vector}; otherwise {@link ScalarKernels}
 * (the JIT does not vectorize these loops: it cannot prove the output and weight arrays apart).
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

    /** Where packed weights start: a cache line, a multiple of every vector width the kernels use. */
    long WEIGHT_ALIGNMENT = 64;

    /** Whether the one- and four-row kernels read a copy of the panels on a cache line ({@code wpAligned}). */
    boolean alignedRowWeights();

    /** Output columns per panel. */
    int panel();

    /**
     * One row: {@code out[oo + j] = biasPad[j] + sum_k x[xo + k] * W[k][j]} for every padded column
     * {@code j < panels * panel()}, the weights at float index {@code (p * k + kk) * panel() + c} of
     * {@code wp}, or of {@code wpAligned} (the same floats off the heap on a cache line) when it is
     * not null; an implementation may ignore it (the engine passes one only where
     * {@link #alignedRowWeights()}). With {@code idx} and {@code val} (length at least k) the row's
     * non-zero inputs are gathered first (after a ReLU about half are zero) and only their weights
     * are read; the caller passes them only when every weight is finite (so a zero contributes
     * exactly nothing). Null: every input is used.
     */
    void denseRow(float[] x, int xo, int k, float[] wp, MemorySegment wpAligned, int panels, float[] biasPad, float[] out, int oo, int[] idx, float[] val);

    /** Two rows at once (inputs at {@code xo0}, {@code xo1}; outputs at {@code oo0}, {@code oo1}): each weight is loaded once for both. */
    void denseRow2(float[] x, int xo0, int xo1, int k, float[] wp, int panels, float[] biasPad, float[] out, int oo0, int oo1);

    /**
     * Four rows at once, inputs at {@code xo + r * k} and outputs at {@code oo + r * stride} for
     * {@code r < 4}: each weight is loaded once for four rows, from {@code wpAligned} when it is
     * not null (an implementation may ignore it), else from {@code wp}.
     */
    void denseRow4(float[] x, int xo, int k, float[] wp, MemorySegment wpAligned, int panels, float[] biasPad, float[] out, int oo, int stride);

    /** {@code sum_i x[xo + i] * w[wo + i]} for {@code i < k}. */
    float dot(float[] x, int xo, float[] w, int wo, int k);

    /** {@code vector (8 float lanes)} or {@code scalar}: for reports. */
    String describe();
}
