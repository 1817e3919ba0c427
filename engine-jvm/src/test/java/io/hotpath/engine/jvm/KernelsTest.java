package io.hotpath.engine.jvm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Both kernel implementations against a plain double-precision product, on layers whose widths are
 * not a multiple of a panel, through every row form the dense step uses (one row with and without
 * skipping zeros, two rows, four rows), with weights packed as the step packs them; the one- and
 * four-row kernels from the heap panels and from a copy on a cache line.
 */
class KernelsTest {
    private static final int[][] SHAPES = {{1, 8}, {3, 17}, {64, 256}, {37, 100}, {256, 65}, {5, 1000}};

    @Test
    void theVectorAndScalarKernelsComputeTheSameProductAsAPlainLoop() {
        Kernels[] kernels = {new ScalarKernels(), new VectorKernels()};
        Random r = new Random(11);
        for (int[] shape : SHAPES) {
            int k = shape[0];
            int n = shape[1];
            float[] w = new float[k * n];
            for (int i = 0; i < w.length; i++) {
                w[i] = r.nextFloat() * 2 - 1;
            }
            float[] bias = new float[n];
            for (int j = 0; j < n; j++) {
                bias[j] = r.nextFloat() - 0.5f;
            }
            float[] x = new float[5 * k];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextInt(3) == 0 ? 0f : r.nextFloat() * 2 - 1;     // a third zero, as after a ReLU
            }
            for (Kernels kern : kernels) {
                for (boolean withBias : new boolean[] {true, false}) {
                    DenseSteps.Dense d = new DenseSteps.Dense(0, 1, k, n, w.clone(), withBias ? bias.clone() : null);
                    d.packFor(kern);
                    String what = what(kern, k, n) + (withBias ? "" : " without bias");
                    check(kern, d, x, w, withBias ? bias : new float[n], what);
                }
            }
        }
    }

    /** Every row form of {@code kern} over {@code d} against the plain product, rows and outputs at offsets other than 0. */
    private static void check(Kernels kern, DenseSteps.Dense d, float[] x, float[] w, float[] bias, String what) {
        int k = d.k;
        int n = d.n;
        assertEquals(kern.alignedRowWeights(), d.packedRow != null, what + ": a cache-line copy exactly where the kernels read one");
        MemorySegment aligned = d.packedRow;
        if (aligned == null) {
            // this CPU's vectors do not use the copy by default: make one, to run that path anyway
            aligned = Arena.ofAuto().allocate(4L * d.packed.length, Kernels.WEIGHT_ALIGNMENT);
            MemorySegment.copy(d.packed, 0, aligned, JAVA_FLOAT, 0, d.packed.length);
        }
        assertEquals(0, aligned.address() % Kernels.WEIGHT_ALIGNMENT, "the copy starts on a cache line");
        assertEquals(-1, MemorySegment.ofArray(d.packed).mismatch(aligned), "the copy holds the heap panels' floats");
        int pad = d.panels * kern.panel();
        int oo = 3;                                  // outputs away from the array's start
        float[] out = new float[oo + 4 * pad];
        // the scalar kernels have no aligned path: once is enough for them
        MemorySegment[] copies = kern instanceof ScalarKernels ? new MemorySegment[] {null} : new MemorySegment[] {null, aligned};
        for (MemorySegment seg : copies) {
            String from = seg == null ? " (heap panels)" : " (panels on a cache line)";
            Arrays.fill(out, Float.NaN);
            kern.denseRow(x, k, k, d.packed, seg, d.panels, d.biasPad, out, oo, new int[k], new float[k]);
            check(what + " one row skipping zeros" + from, x, k, w, bias, k, n, out, oo, 1e-5);
            Arrays.fill(out, Float.NaN);
            kern.denseRow(x, 0, k, d.packed, seg, d.panels, d.biasPad, out, oo, null, null);
            check(what + " one row" + from, x, 0, w, bias, k, n, out, oo, 1e-5);
            Arrays.fill(out, Float.NaN);
            kern.denseRow4(x, k, k, d.packed, seg, d.panels, d.biasPad, out, oo, pad);
            for (int row = 0; row < 4; row++) {
                check(what + " four rows, row " + row + from, x, (row + 1) * k, w, bias, k, n, out, oo + row * pad, 1e-5);
                for (int c = n; c < pad; c++) {
                    assertEquals(0f, out[oo + row * pad + c], what + ": padding column " + c + " of row " + row + " stays zero" + from);
                }
            }
        }
        Arrays.fill(out, Float.NaN);
        kern.denseRow2(x, 2 * k, k, k, d.packed, d.panels, d.biasPad, out, oo, oo + pad);
        check(what + " two rows, first", x, 2 * k, w, bias, k, n, out, oo, 1e-5);
        check(what + " two rows, second", x, k, w, bias, k, n, out, oo + pad, 1e-5);
    }

    private static String what(Kernels kern, int k, int n) {
        return kern.describe() + " " + k + "x" + n;
    }

    private static void check(String what, float[] x, int xo, float[] w, float[] bias, int k, int n, float[] out, int oo, double tol) {
        for (int j = 0; j < n; j++) {
            double s = bias[j];
            double mag = Math.abs(bias[j]);
            for (int kk = 0; kk < k; kk++) {
                s += (double) x[xo + kk] * w[kk * n + j];
                mag += Math.abs((double) x[xo + kk] * w[kk * n + j]);
            }
            float got = out[oo + j];
            assertTrue(Math.abs(got - s) <= tol * Math.max(1, mag), what + ": column " + j + " " + got + " expected " + s);
        }
    }
}
