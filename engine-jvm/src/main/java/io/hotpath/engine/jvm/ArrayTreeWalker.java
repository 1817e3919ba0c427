package io.hotpath.engine.jvm;

/**
 * Walks the flat node arrays of a {@link TreeEnsemble}: one loop per tree and row, the next node
 * picked from the interleaved child pair without a branch on the outcome. Trees are the outer
 * loop so one tree's nodes stay in cache across the rows of a batch. When every branch has the
 * same mode (BRANCH_LEQ or BRANCH_LT, the usual converters' output) and none tracks missing
 * values, a loop with that one comparison runs; otherwise the comparison is picked per node.
 */
final class ArrayTreeWalker implements TreeWalker {
    private final int[] roots;
    private final int[] feature;
    private final float[] threshold;
    private final byte[] mode;
    private final boolean[] nanTrue;
    private final int[] children;
    private final int kind;
    private final String note;

    private static final int GENERIC = 0;
    private static final int ONLY_LEQ = 1;
    private static final int ONLY_LT = 2;

    ArrayTreeWalker(TreeEnsemble e) {
        this(e, "");
    }

    /** {@code note} is appended to {@link #describe()}: why the arrays run where bytecode was asked for. */
    ArrayTreeWalker(TreeEnsemble e, String note) {
        this.note = note;
        this.roots = e.roots;
        this.feature = e.feature;
        this.threshold = e.threshold;
        this.mode = e.mode;
        this.nanTrue = e.nanTrue;
        this.children = e.children;
        this.kind = e.tracksMissing ? GENERIC : e.uniformMode == TreeEnsemble.LEQ ? ONLY_LEQ : e.uniformMode == TreeEnsemble.LT ? ONLY_LT : GENERIC;
    }

    @Override
    public void leaves(float[] x, int rows, int features, int[] leaves) {
        int trees = roots.length;
        for (int t = 0; t < trees; t++) {
            int root = roots[t];
            for (int r = 0, off = 0; r < rows; r++, off += features) {
                int n = switch (kind) {
                    case ONLY_LEQ -> walkLeq(root, x, off);
                    case ONLY_LT -> walkLt(root, x, off);
                    default -> walk(root, x, off);
                };
                leaves[r * trees + t] = ~n;
            }
        }
    }

    private int walkLeq(int n, float[] x, int off) {
        while (n >= 0) {
            n = children[(n << 1) | (x[off + feature[n]] <= threshold[n] ? 1 : 0)];
        }
        return n;
    }

    private int walkLt(int n, float[] x, int off) {
        while (n >= 0) {
            n = children[(n << 1) | (x[off + feature[n]] < threshold[n] ? 1 : 0)];
        }
        return n;
    }

    /** ONNX Runtime's rule: the mode's comparison, or NaN where the node tracks missing values to its true child. */
    private int walk(int n, float[] x, int off) {
        while (n >= 0) {
            float v = x[off + feature[n]];
            float th = threshold[n];
            boolean go = switch (mode[n]) {
                case TreeEnsemble.LEQ -> v <= th;
                case TreeEnsemble.LT -> v < th;
                case TreeEnsemble.GTE -> v >= th;
                case TreeEnsemble.GT -> v > th;
                case TreeEnsemble.EQ -> v == th;
                default -> v != th;
            };
            go |= v != v && nanTrue[n];
            n = children[(n << 1) | (go ? 1 : 0)];
        }
        return n;
    }

    @Override
    public String describe() {
        return "array" + note;
    }
}
