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
    private final float[] leafValue;
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
        this.leafValue = e.leafValue;
        this.kind = e.tracksMissing ? GENERIC : e.uniformMode == TreeEnsemble.LEQ ? ONLY_LEQ : e.uniformMode == TreeEnsemble.LT ? ONLY_LT : GENERIC;
    }

    @Override
    public void leaves(float[] x, int rows, int features, int[] leaves) {
        if (kind == ONLY_LEQ || kind == ONLY_LT) {
            uniform(x, rows, features, leaves, kind == ONLY_LT);
            return;
        }
        int trees = roots.length;
        for (int t = 0; t < trees; t++) {
            int root = roots[t];
            for (int r = 0, off = 0; r < rows; r++, off += features) {
                leaves[r * trees + t] = ~walk(root, x, off);
            }
        }
    }

    /**
     * One comparison for every branch. A walk is a chain of dependent loads (node, feature value,
     * child), and an ensemble of hundreds of trees does not fit the L2 cache: four walks advance
     * side by side so their cache misses overlap: four rows of one tree when the batch has them
     * (the tree's nodes are then shared), else four trees of one row.
     */
    private void uniform(float[] x, int rows, int features, int[] leaves, boolean lt) {
        int trees = roots.length;
        if (rows >= 4) {
            for (int t = 0; t < trees; t++) {
                int root = roots[t];
                int r = 0;
                for (; r + 3 < rows; r += 4) {
                    int o = r * features;
                    int a = root;
                    int b = root;
                    int c = root;
                    int d = root;
                    while ((a & b & c & d) >= 0) {      // until all four are leaves (negative)
                        if (a >= 0) {
                            a = step(a, x, o, lt);
                        }
                        if (b >= 0) {
                            b = step(b, x, o + features, lt);
                        }
                        if (c >= 0) {
                            c = step(c, x, o + 2 * features, lt);
                        }
                        if (d >= 0) {
                            d = step(d, x, o + 3 * features, lt);
                        }
                    }
                    leaves[r * trees + t] = ~a;
                    leaves[(r + 1) * trees + t] = ~b;
                    leaves[(r + 2) * trees + t] = ~c;
                    leaves[(r + 3) * trees + t] = ~d;
                }
                for (; r < rows; r++) {
                    leaves[r * trees + t] = ~walkOne(root, x, r * features, lt);
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            int o = r * features;
            int base = r * trees;
            int t = 0;
            for (; t + 3 < trees; t += 4) {
                int a = roots[t];
                int b = roots[t + 1];
                int c = roots[t + 2];
                int d = roots[t + 3];
                while ((a & b & c & d) >= 0) {
                    if (a >= 0) {
                        a = step(a, x, o, lt);
                    }
                    if (b >= 0) {
                        b = step(b, x, o, lt);
                    }
                    if (c >= 0) {
                        c = step(c, x, o, lt);
                    }
                    if (d >= 0) {
                        d = step(d, x, o, lt);
                    }
                }
                leaves[base + t] = ~a;
                leaves[base + t + 1] = ~b;
                leaves[base + t + 2] = ~c;
                leaves[base + t + 3] = ~d;
            }
            for (; t < trees; t++) {
                leaves[base + t] = ~walkOne(roots[t], x, o, lt);
            }
        }
    }

    /** Finds the leaves, then adds their values per row in tree order. */
    @Override
    public void sums(float[] x, int rows, int features, int[] leaves, float[] out) {
        int trees = roots.length;
        leaves(x, rows, features, leaves);
        TreeWalker.addLeafValues(leaves, rows, trees, leafValue, out);
    }

    private int step(int n, float[] x, int off, boolean lt) {
        float v = x[off + feature[n]];
        float th = threshold[n];
        return children[(n << 1) | ((lt ? v < th : v <= th) ? 1 : 0)];
    }

    private int walkOne(int n, float[] x, int off, boolean lt) {
        return lt ? walkLt(n, x, off) : walkLeq(n, x, off);
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
