package io.hotpath.engine.jvm;

import java.lang.foreign.MemorySegment;

/** {@link Kernels} in plain Java loops: correct everywhere, several times slower than {@link VectorKernels}. */
final class ScalarKernels implements Kernels {
    private static final int P = 32;

    @Override
    public int panel() {
        return P;
    }

    @Override
    public boolean alignedRowWeights() {
        return false;
    }

    @Override
    public void denseRow(float[] x, int xo, int k, float[] wp, MemorySegment wpAligned, int panels, float[] biasPad, float[] out, int oo, int[] idx, float[] val) {
        for (int p = 0; p < panels; p++) {
            int o = oo + p * P;
            for (int c = 0; c < P; c++) {
                out[o + c] = biasPad == null ? 0f : biasPad[p * P + c];
            }
            int base = p * k * P;
            for (int kk = 0; kk < k; kk++) {
                float xk = x[xo + kk];
                if (xk == 0f && idx != null) {
                    continue;
                }
                int wo = base + kk * P;
                for (int c = 0; c < P; c++) {
                    out[o + c] = Math.fma(xk, wp[wo + c], out[o + c]);
                }
            }
        }
    }

    @Override
    public void denseRow2(float[] x, int xo0, int xo1, int k, float[] wp, int panels, float[] biasPad, float[] out, int oo0, int oo1) {
        denseRow(x, xo0, k, wp, null, panels, biasPad, out, oo0, null, null);
        denseRow(x, xo1, k, wp, null, panels, biasPad, out, oo1, null, null);
    }

    @Override
    public void denseRow4(float[] x, int xo, int k, float[] wp, MemorySegment wpAligned, int panels, float[] biasPad, float[] out, int oo, int stride) {
        for (int r = 0; r < 4; r++) {
            denseRow(x, xo + r * k, k, wp, null, panels, biasPad, out, oo + r * stride, null, null);
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
