package io.hotpath.engine.jvm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.hotpath.core.HotpathException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The steps a dense program runs, one per compiled layer, over per-value float buffers of
 * {@code rows x width} laid out row after row. Each step reads and writes buffers by index; all
 * state is in the buffers, so a step is immutable and shared by every batch's scratch.
 */
final class DenseSteps {
    /** The kernels every dense step runs (read once: a constant the JIT folds). */
    static final Kernels KERNELS = Kernels.BEST;

    private DenseSteps() {
    }

    /** Activations that fuse into the step that produced their input. */
    enum Act {
        NONE, RELU, LEAKY_RELU, SIGMOID, TANH, CLIP;

        /** Applies this activation to {@code y[from, from + n)} in place. */
        void apply(float[] y, int from, int n, float p1, float p2) {
            int end = from + n;
            switch (this) {
                case NONE -> {
                }
                case RELU -> {
                    for (int j = from; j < end; j++) {
                        y[j] = Math.max(y[j], 0f);
                    }
                }
                case LEAKY_RELU -> {
                    for (int j = from; j < end; j++) {
                        float v = y[j];
                        y[j] = v >= 0 ? v : v * p1;
                    }
                }
                case SIGMOID -> {
                    for (int j = from; j < end; j++) {
                        y[j] = sigmoid(y[j]);
                    }
                }
                case TANH -> {
                    for (int j = from; j < end; j++) {
                        y[j] = (float) Math.tanh(y[j]);
                    }
                }
                case CLIP -> {
                    for (int j = from; j < end; j++) {
                        y[j] = Math.min(Math.max(y[j], p1), p2);
                    }
                }
            }
        }

        static float sigmoid(float x) {
            // written for both signs so that exp never overflows
            if (x >= 0) {
                return (float) (1.0 / (1.0 + Math.exp(-x)));
            }
            double e = Math.exp(x);
            return (float) (e / (1.0 + e));
        }
    }

    /** One compiled layer. */
    abstract static class Step {
        abstract void run(DenseScratch sc, int rows);

        /** Multiply-adds (or elementwise operations) per row. */
        abstract long ops();

        /** Bytes of constants a row reads. */
        abstract long weightBytes();

        abstract String describe();
    }

    /** A step whose output an activation can be folded into: it applies {@link #act} to each row it writes. */
    abstract static class Fused extends Step {
        Act act = Act.NONE;
        float p1;
        float p2;

        /** Folds activation {@code kind} (with its parameters) into this step; only while it has none. */
        void fuse(Act kind, float a, float b) {
            this.act = kind;
            this.p1 = a;
            this.p2 = b;
        }

        /** {@code +relu} and the like for {@link #describe()}, or nothing. */
        String actSuffix() {
            return act == Act.NONE ? "" : "+" + act.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * {@code y = act(x W + bias)}: W kept as {@code [K][N]} row-major while the compiler folds into
     * it, then packed into panels for the {@link Kernels} (explicit vector loops; the JIT does not
     * vectorize such loops by itself), with a copy on a cache line for the one- and four-row kernels where the
     * kernels want one. A zero input (common after ReLU) skips its row of W; that changes nothing
     * when every weight is finite, which the compiler checked before allowing it. Narrow layers (N
     * below {@link #NARROW}) use dot products over W transposed instead, since a short inner loop
     * cannot use vectors.
     */
    static final class Dense extends Fused {
        static final int NARROW = 8;
        /** The most floats one layer's packed panels may take (1 GiB; padding to whole panels can multiply a narrow layer's weights). */
        static final long MAX_PACKED_FLOATS = 1L << 28;
        final int in;
        final int out;
        final int k;
        final int n;
        /** [K][N] row-major, or [N][K] when narrow. */
        final float[] w;
        final float[] bias;
        final boolean skipZeros;
        final boolean narrow;

        Dense(int in, int out, int k, int n, float[] wKn, float[] bias) {
            this.in = in;
            this.out = out;
            this.k = k;
            this.n = n;
            this.narrow = n < NARROW;
            this.bias = bias;
            boolean finite = true;
            for (float v : wKn) {
                finite &= Float.isFinite(v);
            }
            this.skipZeros = finite;
            if (narrow) {
                float[] t = new float[k * n];
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < n; j++) {
                        t[j * k + kk] = wKn[kk * n + j];
                    }
                }
                this.w = t;
            } else {
                this.w = wKn;
            }
        }

        /**
         * The weights packed into panels for {@link #KERNELS} (and the bias padded to match): made
         * once the layer's folding is done. {@code packed} on the heap; {@code packedRow} the same
         * floats off the heap on a cache line for the one- and four-row kernels where the kernels want it
         * ({@link Kernels#alignedRowWeights()} says why), else null. {@code packedRow}'s memory is
         * freed by the collector once the program is unreachable, so a run can never read it after
         * it is freed.
         */
        float[] packed;
        MemorySegment packedRow;
        float[] biasPad;
        int panels;

        /** Packs the weights for the kernels; the compiler calls it once every fold into this layer is done. */
        void pack() {
            packFor(KERNELS);
        }

        /**
         * Packs the weights for {@code kern}'s panel width. Tests pack for each implementation and
         * call it directly; {@link #run} uses {@link #KERNELS}, so a step that runs must have been
         * packed by {@link #pack()}.
         */
        void packFor(Kernels kern) {
            if (narrow) {
                return;
            }
            int p = kern.panel();
            panels = (n + p - 1) / p;
            long floats = (long) panels * k * p;
            if (floats > MAX_PACKED_FLOATS) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "dense layer " + k + "x" + n + " packs into " + floats
                        + " floats; the JVM engine packs up to " + MAX_PACKED_FLOATS + " a layer (use ONNX Runtime)");
            }
            packed = new float[(int) floats];
            for (int q = 0; q < panels; q++) {
                for (int kk = 0; kk < k; kk++) {
                    for (int c = 0; c < p && q * p + c < n; c++) {
                        packed[(q * k + kk) * p + c] = w[kk * n + q * p + c];
                    }
                }
            }
            packedRow = null;
            if (kern.alignedRowWeights()) {
                packedRow = Arena.ofAuto().allocate(4L * packed.length, Kernels.WEIGHT_ALIGNMENT);
                MemorySegment.copy(packed, 0, packedRow, JAVA_FLOAT, 0, packed.length);
            }
            if (bias != null) {
                biasPad = java.util.Arrays.copyOf(bias, panels * p);
            }
        }

        /** Floats of the padded output rows the kernels write (four rows). */
        int tmpFloats() {
            return narrow ? 0 : 4 * panels * KERNELS.panel();
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[] x = sc.bufs[in];
            float[] y = sc.bufs[out];
            float[] tmp = sc.tmp;
            Kernels kern = KERNELS;
            int r = 0;
            if (narrow) {
                for (; r < rows; r++) {
                    int xo = r * k;
                    int yo = r * n;
                    for (int j = 0; j < n; j++) {
                        y[yo + j] = kern.dot(x, xo, w, j * k, k) + (bias == null ? 0f : bias[j]);
                    }
                }
            } else {
                int pad = panels * kern.panel();
                for (; r + 3 < rows; r += 4) {
                    kern.denseRow4(x, r * k, k, packed, packedRow, panels, biasPad, tmp, 0, pad);
                    for (int q = 0; q < 4; q++) {
                        System.arraycopy(tmp, q * pad, y, (r + q) * n, n);
                    }
                }
                for (; r + 1 < rows; r += 2) {
                    kern.denseRow2(x, r * k, (r + 1) * k, k, packed, panels, biasPad, tmp, 0, pad);
                    System.arraycopy(tmp, 0, y, r * n, n);
                    System.arraycopy(tmp, pad, y, (r + 1) * n, n);
                }
                for (; r < rows; r++) {
                    kern.denseRow(x, r * k, k, packed, packedRow, panels, biasPad, tmp, 0, skipZeros ? sc.idx : null, sc.val);
                    System.arraycopy(tmp, 0, y, r * n, n);
                }
            }
            for (r = 0; r < rows; r++) {
                act.apply(y, r * n, n, p1, p2);
            }
        }

        /** Multiplies output column j (its weights and bias) by {@code s[j]} (or {@code s[0]} for all). */
        void scaleColumns(float[] s) {
            for (int j = 0; j < n; j++) {
                float f = s.length == 1 ? s[0] : s[j];
                for (int kk = 0; kk < k; kk++) {
                    w[narrow ? j * k + kk : kk * n + j] *= f;
                }
                if (bias != null) {
                    bias[j] *= f;
                }
            }
        }

        @Override
        long ops() {
            return (long) k * n;
        }

        @Override
        long weightBytes() {
            return 4L * (w.length + (bias == null ? 0 : bias.length));
        }

        @Override
        String describe() {
            return "dense " + k + "x" + n + (bias == null ? "" : "+bias") + actSuffix();
        }
    }

    /** Elementwise operations. */
    enum Op {
        ADD, SUB, MUL, DIV;

        float apply(float a, float b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
            };
        }
    }

    /** {@code y = act(x op c)} with a constant broadcast along the row ({@code c.length} 1 or the width); {@code constFirst} computes {@code c op x}. */
    static final class ConstOp extends Fused {
        final int in;
        final int out;
        final int width;
        final Op op;
        final float[] c;
        final boolean constFirst;

        ConstOp(int in, int out, int width, Op op, float[] c, boolean constFirst) {
            this.in = in;
            this.out = out;
            this.width = width;
            this.op = op;
            this.c = c;
            this.constFirst = constFirst;
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[][] b = sc.bufs;
            float[] x = b[in];
            float[] y = b[out];
            for (int r = 0; r < rows; r++) {
                int o = r * width;
                for (int j = 0; j < width; j++) {
                    float cj = c.length == 1 ? c[0] : c[j];
                    y[o + j] = constFirst ? op.apply(cj, x[o + j]) : op.apply(x[o + j], cj);
                }
                act.apply(y, o, width, p1, p2);
            }
        }

        @Override
        long ops() {
            return width;
        }

        @Override
        long weightBytes() {
            return 4L * c.length;
        }

        @Override
        String describe() {
            return op.name().toLowerCase(java.util.Locale.ROOT) + " const" + actSuffix();
        }
    }

    /** {@code y = act(a op b)} for two values of the same width. */
    static final class BinaryOp extends Fused {
        final int a;
        final int bIn;
        final int out;
        final int width;
        final Op op;

        BinaryOp(int a, int bIn, int out, int width, Op op) {
            this.a = a;
            this.bIn = bIn;
            this.out = out;
            this.width = width;
            this.op = op;
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[][] b = sc.bufs;
            float[] x = b[a];
            float[] z = b[bIn];
            float[] y = b[out];
            int n = rows * width;
            for (int i = 0; i < n; i++) {
                y[i] = op.apply(x[i], z[i]);
            }
            for (int r = 0; r < rows; r++) {
                act.apply(y, r * width, width, p1, p2);
            }
        }

        @Override
        long ops() {
            return width;
        }

        @Override
        long weightBytes() {
            return 0;
        }

        @Override
        String describe() {
            return op.name().toLowerCase(java.util.Locale.ROOT) + actSuffix();
        }
    }

    /** An activation on its own (its input is also used elsewhere, so it cannot fuse). */
    static final class Activation extends Step {
        final int in;
        final int out;
        final int width;
        final Act act;
        final float p1;
        final float p2;

        Activation(int in, int out, int width, Act act, float p1, float p2) {
            this.in = in;
            this.out = out;
            this.width = width;
            this.act = act;
            this.p1 = p1;
            this.p2 = p2;
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[][] b = sc.bufs;
            System.arraycopy(b[in], 0, b[out], 0, rows * width);
            for (int r = 0; r < rows; r++) {
                act.apply(b[out], r * width, width, p1, p2);
            }
        }

        @Override
        long ops() {
            return width;
        }

        @Override
        long weightBytes() {
            return 0;
        }

        @Override
        String describe() {
            return act.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Softmax along the row: {@code exp(x - max) / sum}. */
    static final class Softmax extends Step {
        final int in;
        final int out;
        final int width;

        Softmax(int in, int out, int width) {
            this.in = in;
            this.out = out;
            this.width = width;
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[][] b = sc.bufs;
            float[] x = b[in];
            float[] y = b[out];
            for (int r = 0; r < rows; r++) {
                int o = r * width;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < width; j++) {
                    max = Math.max(max, x[o + j]);
                }
                double sum = 0;
                for (int j = 0; j < width; j++) {
                    float e = (float) Math.exp(x[o + j] - max);
                    y[o + j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int j = 0; j < width; j++) {
                    y[o + j] *= inv;
                }
            }
        }

        @Override
        long ops() {
            return 3L * width;
        }

        @Override
        long weightBytes() {
            return 0;
        }

        @Override
        String describe() {
            return "softmax";
        }
    }

    /** Layer normalization along the row: {@code (x - mean) / sqrt(var + eps) * scale + bias}. */
    static final class LayerNorm extends Step {
        final int in;
        final int out;
        final int width;
        final float[] scale;
        final float[] bias;
        final float eps;

        LayerNorm(int in, int out, int width, float[] scale, float[] bias, float eps) {
            this.in = in;
            this.out = out;
            this.width = width;
            this.scale = scale;
            this.bias = bias;
            this.eps = eps;
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[][] b = sc.bufs;
            float[] x = b[in];
            float[] y = b[out];
            for (int r = 0; r < rows; r++) {
                int o = r * width;
                double sum = 0;
                for (int j = 0; j < width; j++) {
                    sum += x[o + j];
                }
                float mean = (float) (sum / width);
                double sq = 0;
                for (int j = 0; j < width; j++) {
                    float d = x[o + j] - mean;
                    sq += d * d;
                }
                float inv = (float) (1.0 / Math.sqrt(sq / width + eps));
                for (int j = 0; j < width; j++) {
                    float s = scale.length == 1 ? scale[0] : scale[j];
                    float c = bias == null ? 0f : bias.length == 1 ? bias[0] : bias[j];
                    y[o + j] = (x[o + j] - mean) * inv * s + c;
                }
            }
        }

        @Override
        long ops() {
            return 4L * width;
        }

        @Override
        long weightBytes() {
            return 4L * (scale.length + (bias == null ? 0 : bias.length));
        }

        @Override
        String describe() {
            return "layernorm";
        }
    }

    /** Concatenation along the row. */
    static final class Concat extends Step {
        final int[] ins;
        final int[] widths;
        final int out;
        final int width;

        Concat(int[] ins, int[] widths, int out, int width) {
            this.ins = ins;
            this.widths = widths;
            this.out = out;
            this.width = width;
        }

        @Override
        void run(DenseScratch sc, int rows) {
            float[][] b = sc.bufs;
            float[] y = b[out];
            for (int r = 0; r < rows; r++) {
                int o = r * width;
                for (int i = 0; i < ins.length; i++) {
                    System.arraycopy(b[ins[i]], r * widths[i], y, o, widths[i]);
                    o += widths[i];
                }
            }
        }

        @Override
        long ops() {
            return width;
        }

        @Override
        long weightBytes() {
            return 0;
        }

        @Override
        String describe() {
            return "concat";
        }
    }
}
