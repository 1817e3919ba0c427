package io.hotpath.engine.jvm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} with the Vector API at the CPU's preferred width (8 float lanes on AVX2, 16 on
 * AVX-512). A panel is four vectors wide: a row keeps its four output vectors in registers while it
 * walks the inputs, reading each input's panel weights in order (a register-blocked matrix-vector
 * product: each weight loaded once per row, each output stored once), with fused multiply-adds
 * as ONNX Runtime's kernels use them. Two or four rows at once share every weight load. With
 * 512-bit vectors the one- and four-row kernels read the panels' copy on a cache line, the
 * four-row kernel a whole panel (16 accumulators) at a time ({@link Kernels} says why). Loaded by
 * name only when the JVM has {@code jdk.incubator.vector}.
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int P = 4 * L;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Bytes per vector. */
    private static final long VB = 4L * L;
    /** 512-bit vectors: 32 registers, room for a whole panel of four rows (16 accumulators, 4 loads). */
    private static final boolean WIDE = S.vectorByteSize() >= 64;

    @Override
    public int panel() {
        return P;
    }

    /** Where the weights are copied to a cache line: 512-bit vectors (see {@link Kernels}). */
    @Override
    public boolean alignedRowWeights() {
        return WIDE;
    }

    @Override
    public void denseRow(float[] x, int xo, int k, float[] wp, MemorySegment wpAligned, int panels, float[] biasPad, float[] out, int oo, int[] idx,
            float[] val) {
        int m = k;
        if (idx != null) {
            // the non-zero inputs, gathered once without a branch per input (the zeros follow no pattern)
            m = 0;
            for (int kk = 0; kk < k; kk++) {
                float xk = x[xo + kk];
                idx[m] = kk * P;
                val[m] = xk;
                m += xk != 0f ? 1 : 0;
            }
        }
        for (int p = 0; p < panels; p++) {
            int base = p * k * P;
            int bo = p * P;
            FloatVector a0 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo);
            FloatVector a1 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo + L);
            FloatVector a2 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo + 2 * L);
            FloatVector a3 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo + 3 * L);
            if (wpAligned != null) {
                // byte offsets in longs with constant steps: each load's bounds check is a compare
                // on one register plus a constant (int offsets widened per load cost ~6 instructions each)
                long pb = 4L * base;
                if (idx != null) {
                    for (int i = 0; i < m; i++) {
                        FloatVector xb = FloatVector.broadcast(S, val[i]);
                        long wo = pb + 4L * idx[i];
                        a0 = FloatVector.fromMemorySegment(S, wpAligned, wo, ORDER).fma(xb, a0);
                        a1 = FloatVector.fromMemorySegment(S, wpAligned, wo + VB, ORDER).fma(xb, a1);
                        a2 = FloatVector.fromMemorySegment(S, wpAligned, wo + 2 * VB, ORDER).fma(xb, a2);
                        a3 = FloatVector.fromMemorySegment(S, wpAligned, wo + 3 * VB, ORDER).fma(xb, a3);
                    }
                } else {
                    long wo = pb;
                    for (int kk = 0; kk < k; kk++, wo += 4L * P) {
                        FloatVector xb = FloatVector.broadcast(S, x[xo + kk]);
                        a0 = FloatVector.fromMemorySegment(S, wpAligned, wo, ORDER).fma(xb, a0);
                        a1 = FloatVector.fromMemorySegment(S, wpAligned, wo + VB, ORDER).fma(xb, a1);
                        a2 = FloatVector.fromMemorySegment(S, wpAligned, wo + 2 * VB, ORDER).fma(xb, a2);
                        a3 = FloatVector.fromMemorySegment(S, wpAligned, wo + 3 * VB, ORDER).fma(xb, a3);
                    }
                }
            } else if (idx != null) {
                for (int i = 0; i < m; i++) {
                    FloatVector xb = FloatVector.broadcast(S, val[i]);
                    int wo = base + idx[i];
                    a0 = FloatVector.fromArray(S, wp, wo).fma(xb, a0);
                    a1 = FloatVector.fromArray(S, wp, wo + L).fma(xb, a1);
                    a2 = FloatVector.fromArray(S, wp, wo + 2 * L).fma(xb, a2);
                    a3 = FloatVector.fromArray(S, wp, wo + 3 * L).fma(xb, a3);
                }
            } else {
                for (int kk = 0; kk < k; kk++) {
                    FloatVector xb = FloatVector.broadcast(S, x[xo + kk]);
                    int wo = base + kk * P;
                    a0 = FloatVector.fromArray(S, wp, wo).fma(xb, a0);
                    a1 = FloatVector.fromArray(S, wp, wo + L).fma(xb, a1);
                    a2 = FloatVector.fromArray(S, wp, wo + 2 * L).fma(xb, a2);
                    a3 = FloatVector.fromArray(S, wp, wo + 3 * L).fma(xb, a3);
                }
            }
            int o = oo + bo;
            a0.intoArray(out, o);
            a1.intoArray(out, o + L);
            a2.intoArray(out, o + 2 * L);
            a3.intoArray(out, o + 3 * L);
        }
    }

    @Override
    public void denseRow2(float[] x, int xo0, int xo1, int k, float[] wp, int panels, float[] biasPad, float[] out, int oo0, int oo1) {
        for (int p = 0; p < panels; p++) {
            int base = p * k * P;
            int bo = p * P;
            FloatVector p0 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo);
            FloatVector p1 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo + L);
            FloatVector p2 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo + 2 * L);
            FloatVector p3 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, bo + 3 * L);
            FloatVector q0 = p0;
            FloatVector q1 = p1;
            FloatVector q2 = p2;
            FloatVector q3 = p3;
            for (int kk = 0; kk < k; kk++) {
                int wo = base + kk * P;
                FloatVector xp = FloatVector.broadcast(S, x[xo0 + kk]);
                FloatVector xq = FloatVector.broadcast(S, x[xo1 + kk]);
                FloatVector w0 = FloatVector.fromArray(S, wp, wo);
                p0 = w0.fma(xp, p0);
                q0 = w0.fma(xq, q0);
                FloatVector w1 = FloatVector.fromArray(S, wp, wo + L);
                p1 = w1.fma(xp, p1);
                q1 = w1.fma(xq, q1);
                FloatVector w2 = FloatVector.fromArray(S, wp, wo + 2 * L);
                p2 = w2.fma(xp, p2);
                q2 = w2.fma(xq, q2);
                FloatVector w3 = FloatVector.fromArray(S, wp, wo + 3 * L);
                p3 = w3.fma(xp, p3);
                q3 = w3.fma(xq, q3);
            }
            p0.intoArray(out, oo0 + bo);
            p1.intoArray(out, oo0 + bo + L);
            p2.intoArray(out, oo0 + bo + 2 * L);
            p3.intoArray(out, oo0 + bo + 3 * L);
            q0.intoArray(out, oo1 + bo);
            q1.intoArray(out, oo1 + bo + L);
            q2.intoArray(out, oo1 + bo + 2 * L);
            q3.intoArray(out, oo1 + bo + 3 * L);
        }
    }

    @Override
    public void denseRow4(float[] x, int xo, int k, float[] wp, MemorySegment wpAligned, int panels, float[] biasPad, float[] out, int oo, int stride) {
        if (wpAligned != null && WIDE) {
            rows4Aligned(x, xo, k, wpAligned, panels, biasPad, out, oo, stride);
            return;
        }
        int x0 = xo;
        int x1 = xo + k;
        int x2 = xo + 2 * k;
        int x3 = xo + 3 * k;
        for (int p = 0; p < panels; p++) {
            int base = p * k * P;
            // half a panel (two vectors) at a time: 4 rows x 2 vectors = 8 accumulators, which leaves
            // registers for the loads on AVX2's sixteen
            for (int h = 0; h < 2; h++) {
                int col = p * P + h * 2 * L;
                FloatVector b0 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, col);
                FloatVector b1 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, col + L);
                FloatVector r00 = b0;
                FloatVector r01 = b1;
                FloatVector r10 = b0;
                FloatVector r11 = b1;
                FloatVector r20 = b0;
                FloatVector r21 = b1;
                FloatVector r30 = b0;
                FloatVector r31 = b1;
                int wo = base + h * 2 * L;
                for (int kk = 0; kk < k; kk++, wo += P) {
                    FloatVector w0 = FloatVector.fromArray(S, wp, wo);
                    FloatVector w1 = FloatVector.fromArray(S, wp, wo + L);
                    FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
                    r00 = w0.fma(a, r00);
                    r01 = w1.fma(a, r01);
                    a = FloatVector.broadcast(S, x[x1 + kk]);
                    r10 = w0.fma(a, r10);
                    r11 = w1.fma(a, r11);
                    a = FloatVector.broadcast(S, x[x2 + kk]);
                    r20 = w0.fma(a, r20);
                    r21 = w1.fma(a, r21);
                    a = FloatVector.broadcast(S, x[x3 + kk]);
                    r30 = w0.fma(a, r30);
                    r31 = w1.fma(a, r31);
                }
                int o = oo + col;
                r00.intoArray(out, o);
                r01.intoArray(out, o + L);
                r10.intoArray(out, o + stride);
                r11.intoArray(out, o + stride + L);
                r20.intoArray(out, o + 2 * stride);
                r21.intoArray(out, o + 2 * stride + L);
                r30.intoArray(out, o + 3 * stride);
                r31.intoArray(out, o + 3 * stride + L);
            }
        }
    }

    /**
     * Four rows over the panels on a cache line (512-bit vectors: 32 registers): a whole panel at a
     * time, 16 accumulators, so each input's four broadcasts serve four weight vectors.
     */
    private static void rows4Aligned(float[] x, int xo, int k, MemorySegment wp, int panels, float[] biasPad, float[] out, int oo, int stride) {
        int x0 = xo;
        int x1 = xo + k;
        int x2 = xo + 2 * k;
        int x3 = xo + 3 * k;
        for (int p = 0; p < panels; p++) {
            int col = p * P;
            FloatVector c0 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, col);
            FloatVector c1 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, col + L);
            FloatVector c2 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, col + 2 * L);
            FloatVector c3 = biasPad == null ? FloatVector.zero(S) : FloatVector.fromArray(S, biasPad, col + 3 * L);
            FloatVector r00 = c0, r01 = c1, r02 = c2, r03 = c3;
            FloatVector r10 = c0, r11 = c1, r12 = c2, r13 = c3;
            FloatVector r20 = c0, r21 = c1, r22 = c2, r23 = c3;
            FloatVector r30 = c0, r31 = c1, r32 = c2, r33 = c3;
            long wo = 4L * p * k * P;
            for (int kk = 0; kk < k; kk++, wo += 4L * P) {
                FloatVector w0 = FloatVector.fromMemorySegment(S, wp, wo, ORDER);
                FloatVector w1 = FloatVector.fromMemorySegment(S, wp, wo + VB, ORDER);
                FloatVector w2 = FloatVector.fromMemorySegment(S, wp, wo + 2 * VB, ORDER);
                FloatVector w3 = FloatVector.fromMemorySegment(S, wp, wo + 3 * VB, ORDER);
                FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
                r00 = w0.fma(a, r00);
                r01 = w1.fma(a, r01);
                r02 = w2.fma(a, r02);
                r03 = w3.fma(a, r03);
                a = FloatVector.broadcast(S, x[x1 + kk]);
                r10 = w0.fma(a, r10);
                r11 = w1.fma(a, r11);
                r12 = w2.fma(a, r12);
                r13 = w3.fma(a, r13);
                a = FloatVector.broadcast(S, x[x2 + kk]);
                r20 = w0.fma(a, r20);
                r21 = w1.fma(a, r21);
                r22 = w2.fma(a, r22);
                r23 = w3.fma(a, r23);
                a = FloatVector.broadcast(S, x[x3 + kk]);
                r30 = w0.fma(a, r30);
                r31 = w1.fma(a, r31);
                r32 = w2.fma(a, r32);
                r33 = w3.fma(a, r33);
            }
            int o = oo + col;
            r00.intoArray(out, o);
            r01.intoArray(out, o + L);
            r02.intoArray(out, o + 2 * L);
            r03.intoArray(out, o + 3 * L);
            o += stride;
            r10.intoArray(out, o);
            r11.intoArray(out, o + L);
            r12.intoArray(out, o + 2 * L);
            r13.intoArray(out, o + 3 * L);
            o += stride;
            r20.intoArray(out, o);
            r21.intoArray(out, o + L);
            r22.intoArray(out, o + 2 * L);
            r23.intoArray(out, o + 3 * L);
            o += stride;
            r30.intoArray(out, o);
            r31.intoArray(out, o + L);
            r32.intoArray(out, o + 2 * L);
            r33.intoArray(out, o + 3 * L);
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
