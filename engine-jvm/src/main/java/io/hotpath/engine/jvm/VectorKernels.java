package io.hotpath.engine.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} with the Vector API at the CPU's preferred width (8 lanes on AVX2, 16 on
 * AVX-512). A dense row keeps four vectors of outputs in registers while it walks the inputs
 * (a register-blocked matrix-vector product: each weight is loaded once, each output stored
 * once), with fused multiply-adds as ONNX Runtime's kernels use them. Loaded by name only when
 * the JVM has {@code jdk.incubator.vector}.
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    public void denseRow(float[] x, int xo, int k, float[] w, int n, float[] bias, float[] y, int yo, boolean skipZeros) {
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            FloatVector a0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, j);
            FloatVector a1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, j + L);
            FloatVector a2 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, j + 2 * L);
            FloatVector a3 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, j + 3 * L);
            for (int kk = 0; kk < k; kk++) {
                float xk = x[xo + kk];
                if (xk == 0f && skipZeros) {
                    continue;
                }
                FloatVector xb = FloatVector.broadcast(S, xk);
                int wo = kk * n + j;
                a0 = FloatVector.fromArray(S, w, wo).fma(xb, a0);
                a1 = FloatVector.fromArray(S, w, wo + L).fma(xb, a1);
                a2 = FloatVector.fromArray(S, w, wo + 2 * L).fma(xb, a2);
                a3 = FloatVector.fromArray(S, w, wo + 3 * L).fma(xb, a3);
            }
            a0.intoArray(y, yo + j);
            a1.intoArray(y, yo + j + L);
            a2.intoArray(y, yo + j + 2 * L);
            a3.intoArray(y, yo + j + 3 * L);
        }
        for (; j + L <= n; j += L) {
            FloatVector a = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, j);
            for (int kk = 0; kk < k; kk++) {
                float xk = x[xo + kk];
                if (xk == 0f && skipZeros) {
                    continue;
                }
                a = FloatVector.fromArray(S, w, kk * n + j).fma(FloatVector.broadcast(S, xk), a);
            }
            a.intoArray(y, yo + j);
        }
        for (; j < n; j++) {
            float s = bias == null ? 0f : bias[j];
            for (int kk = 0; kk < k; kk++) {
                s = Math.fma(x[xo + kk], w[kk * n + j], s);
            }
            y[yo + j] = s;
        }
    }

    @Override
    public float dot(float[] x, int xo, float[] w, int wo, int k) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        int i = 0;
        for (; i + 2 * L <= k; i += 2 * L) {
            a0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, w, wo + i), a0);
            a1 = FloatVector.fromArray(S, x, xo + i + L).fma(FloatVector.fromArray(S, w, wo + i + L), a1);
        }
        for (; i + L <= k; i += L) {
            a0 = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, w, wo + i), a0);
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            s = Math.fma(x[xo + i], w[wo + i], s);
        }
        return s;
    }

    @Override
    public String describe() {
        return "vector (" + L + " float lanes)";
    }
}
