package io.hotpath.engine.jvm;

import java.util.Arrays;

/** {@link Kernels} in plain Java loops: correct everywhere, several times slower than {@link VectorKernels}. */
final class ScalarKernels implements Kernels {
    @Override
    public void denseRow(float[] x, int xo, int k, float[] w, int n, float[] bias, float[] y, int yo, boolean skipZeros) {
        if (bias != null) {
            System.arraycopy(bias, 0, y, yo, n);
        } else {
            Arrays.fill(y, yo, yo + n, 0f);
        }
        for (int kk = 0; kk < k; kk++) {
            float xk = x[xo + kk];
            if (xk == 0f && skipZeros) {
                continue;
            }
            int wo = kk * n;
            for (int j = 0; j < n; j++) {
                y[yo + j] = Math.fma(xk, w[wo + j], y[yo + j]);
            }
        }
    }

    @Override
    public float dot(float[] x, int xo, float[] w, int wo, int k) {
        // four partial sums: independent chains the CPU overlaps
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < k; i += 4) {
            s0 = Math.fma(x[xo + i], w[wo + i], s0);
            s1 = Math.fma(x[xo + i + 1], w[wo + i + 1], s1);
            s2 = Math.fma(x[xo + i + 2], w[wo + i + 2], s2);
            s3 = Math.fma(x[xo + i + 3], w[wo + i + 3], s3);
        }
        for (; i < k; i++) {
            s0 = Math.fma(x[xo + i], w[wo + i], s0);
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public String describe() {
        return "scalar";
    }
}
