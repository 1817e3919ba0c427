package io.hotpath.engine.jvm;

/**
 * Walks an ensemble whose branches compare one way up to a swap of children (every branch
 * {@code BRANCH_LEQ} or {@code BRANCH_GT}, or every one {@code BRANCH_LT} or {@code BRANCH_GTE}:
 * what the usual converters write, XGBoost's {@code <} with its default directions for missing
 * values included) without a single data-dependent branch, eight walks at a time.
 *
 * <p>Fresh rows make a tree walk a chain of dependent loads whose direction the CPU cannot guess:
 * generated if/else code then pays a mispredicted branch at about every other level, and node
 * arrays spread over several arrays pay a cache miss per array (500 trees of depth 8 are megabytes,
 * past the L2 cache). Here every node, leaves included, is four ints in one array, so a step reads
 * one cache line; a leaf points to itself on both sides, so a walk that reached its leaf stays
 * there; and eight trees of one row (or eight rows of one tree) take the same number of steps, the
 * deepest of the eight: no test of whether a walk is done, and eight independent chains of loads in
 * flight at once.
 *
 * <pre>
 * node p (ints 4p .. 4p+3):  nan | feature   threshold bits   child 0   child 1
 * leaf p:                    0               0                p         p           leafOf[p] = leaf
 * </pre>
 *
 * A step takes child 1 when the feature compares true ({@code <=}, or {@code <} for the LT family)
 * and child 0 otherwise. A {@code BRANCH_GT} or {@code BRANCH_GTE} node is its negation with the
 * children swapped ({@code x > t} is {@code !(x <= t)} for every number x and t; a NaN threshold,
 * false for every x whatever the mode, is kept unswapped). A NaN compares false, so
 * it takes child 0 unless the top bit of the feature word ({@code nan}) sends it to child 1: set
 * where the node's own rule for NaN (its missing-value tracking, through the swap) leads to the
 * child in slot 1. Nodes are in the ensemble's depth-first order with the false child first, so a
 * false child is usually the next node, in the same cache line.
 */
final class PackedTreeWalker implements TreeWalker {
    /** Walks advanced side by side. */
    static final int WAYS = 8;
    /** From this many rows, eight rows of one tree walk side by side (the tree's nodes are then shared). */
    static final int BY_TREE_FROM_ROWS = 8;

    private final int[] node;
    private final int[] leafOf;
    /** A leaf node's one-target value (0 for branches and where there are several targets). */
    private final float[] value;
    private final float[] leafValue;
    private final int[] roots;
    /** For each tree from t = 8g: the deepest of trees 8g .. 8g+7 (fewer at the end). */
    private final int[] groupDepth;
    /** Each tree's depth. */
    private final int[] depth;
    private final boolean lt;
    /** Some node sends NaN to child 1 (else every NaN takes child 0, as its comparison does, and steps skip the test). */
    private final boolean nanRouting;

    private static final int NAN_TO_CHILD_1 = 0x8000_0000;
    private static final int FEATURE = 0x7fff_ffff;

    /** Whether {@code e} can be walked this way: every branch LEQ or GT, or every one LT or GTE. */
    static boolean accepts(TreeEnsemble e) {
        return family(e) >= 0;
    }

    /** {@link TreeEnsemble#LEQ} when every branch is LEQ or GT, {@link TreeEnsemble#LT} when every one is LT or GTE, else -1. */
    private static int family(TreeEnsemble e) {
        boolean leq = false;
        boolean lt = false;
        for (byte m : e.mode) {
            if (m == TreeEnsemble.LEQ || m == TreeEnsemble.GT) {
                leq = true;
            } else if (m == TreeEnsemble.LT || m == TreeEnsemble.GTE) {
                lt = true;
            } else {
                return -1;
            }
        }
        return leq && lt ? -1 : lt ? TreeEnsemble.LT : TreeEnsemble.LEQ;
    }

    PackedTreeWalker(TreeEnsemble e) {
        int family = family(e);
        if (family < 0) {
            throw new IllegalArgumentException("the packed walker needs every branch LEQ or GT, or every one LT or GTE");
        }
        this.lt = family == TreeEnsemble.LT;
        this.leafValue = e.leafValue;
        int trees = e.trees();
        long count = (long) e.branches() + e.leaves();
        if (count * 4 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("an ensemble of " + count + " nodes is too large for one packed array");
        }
        this.node = new int[(int) count * 4];
        this.leafOf = new int[(int) count];
        this.value = new float[(int) count];
        this.roots = new int[trees];
        this.depth = new int[trees];
        int[] next = {0};
        for (int t = 0; t < trees; t++) {
            roots[t] = place(e, e.roots[t], next);
            depth[t] = depth(e, e.roots[t]);
        }
        boolean routing = false;
        for (int p = 0; p < leafOf.length; p++) {
            routing |= node[4 * p] < 0;
        }
        this.nanRouting = routing;
        this.groupDepth = new int[(trees + WAYS - 1) / WAYS];
        for (int t = 0; t < trees; t++) {
            groupDepth[t / WAYS] = Math.max(groupDepth[t / WAYS], depth[t]);
        }
    }

    /** Lays out the subtree of ensemble node n (a branch, or ~leaf) depth first, false child first; returns its packed index. */
    private int place(TreeEnsemble e, int n, int[] next) {
        int p = next[0]++;
        if (n < 0) {
            node[4 * p + 2] = p;
            node[4 * p + 3] = p;
            leafOf[p] = ~n;
            value[p] = e.targets == 1 ? e.leafValue[~n] : 0f;
            return p;
        }
        leafOf[p] = -1;
        // GT and GTE: the negated comparison, children swapped. A NaN goes to the true child when the node tracks
        // missing values, else where its comparison (false) sends it: the false child
        // (not with a NaN threshold: every comparison with it is false, so the node's mode does not matter and the
        // negation would turn it true)
        boolean swap = (e.mode[n] == TreeEnsemble.GT || e.mode[n] == TreeEnsemble.GTE) && !Float.isNaN(e.threshold[n]);
        boolean nanToTrueChild = e.nanTrue[n];
        boolean nanToSlot1 = swap ? !nanToTrueChild : nanToTrueChild;
        node[4 * p] = e.feature[n] | (nanToSlot1 ? NAN_TO_CHILD_1 : 0);
        node[4 * p + 1] = Float.floatToRawIntBits(e.threshold[n]);
        int falseChild = place(e, e.children[2 * n], next);
        int trueChild = place(e, e.children[2 * n + 1], next);
        node[4 * p + 2] = swap ? trueChild : falseChild;
        node[4 * p + 3] = swap ? falseChild : trueChild;
        return p;
    }

    private static int depth(TreeEnsemble e, int n) {
        return n < 0 ? 0 : 1 + Math.max(depth(e, e.children[2 * n]), depth(e, e.children[2 * n + 1]));
    }

    private int step(int p, float[] x, int off) {
        int q = p << 2;
        if (!nanRouting) {
            float v = x[off + node[q]];
            float th = Float.intBitsToFloat(node[q + 1]);
            return node[q + 2 + ((lt ? v < th : v <= th) ? 1 : 0)];
        }
        int f = node[q];
        float v = x[off + (f & FEATURE)];
        float th = Float.intBitsToFloat(node[q + 1]);
        int k = ((lt ? v < th : v <= th) ? 1 : 0) | ((v != v ? 1 : 0) & (f >>> 31));
        return node[q + 2 + k];
    }

    @Override
    public void leaves(float[] x, int rows, int features, int[] leaves) {
        if (rows >= BY_TREE_FROM_ROWS) {
            byTree(x, rows, features, leaves);
            return;
        }
        for (int r = 0; r < rows; r++) {
            row(x, r * features, leaves, r * roots.length, false);
        }
    }

    /**
     * Row at {@code off}, eight trees side by side: with {@code sum}, returns its leaves' values
     * added in tree order (nothing stored); otherwise stores its leaves from {@code leaves[at]}.
     */
    private float row(float[] x, int off, int[] leaves, int at, boolean sum) {
        int trees = roots.length;
        float total = 0f;
        int t = 0;
        for (; t + WAYS <= trees; t += WAYS) {
            int a = roots[t];
            int b = roots[t + 1];
            int c = roots[t + 2];
            int d = roots[t + 3];
            int f = roots[t + 4];
            int g = roots[t + 5];
            int h = roots[t + 6];
            int i = roots[t + 7];
            for (int s = groupDepth[t / WAYS]; s > 0; s--) {
                a = step(a, x, off);
                b = step(b, x, off);
                c = step(c, x, off);
                d = step(d, x, off);
                f = step(f, x, off);
                g = step(g, x, off);
                h = step(h, x, off);
                i = step(i, x, off);
            }
            if (sum) {
                total = total + value[a] + value[b] + value[c] + value[d] + value[f] + value[g] + value[h] + value[i];
            } else {
                leaves[at + t] = leafOf[a];
                leaves[at + t + 1] = leafOf[b];
                leaves[at + t + 2] = leafOf[c];
                leaves[at + t + 3] = leafOf[d];
                leaves[at + t + 4] = leafOf[f];
                leaves[at + t + 5] = leafOf[g];
                leaves[at + t + 6] = leafOf[h];
                leaves[at + t + 7] = leafOf[i];
            }
        }
        for (; t < trees; t++) {
            int a = roots[t];
            for (int s = depth[t]; s > 0; s--) {
                a = step(a, x, off);
            }
            if (sum) {
                total += value[a];
            } else {
                leaves[at + t] = leafOf[a];
            }
        }
        return total;
    }

    /** Eight rows of one tree side by side, tree after tree, so each tree's nodes stay cached across the batch. */
    private void byTree(float[] x, int rows, int features, int[] leaves) {
        int trees = roots.length;
        for (int t = 0; t < trees; t++) {
            int root = roots[t];
            int steps = depth[t];
            int r = 0;
            for (; r + WAYS <= rows; r += WAYS) {
                int o = r * features;
                int a = root;
                int b = root;
                int c = root;
                int d = root;
                int f = root;
                int g = root;
                int h = root;
                int i = root;
                for (int s = steps; s > 0; s--) {
                    a = step(a, x, o);
                    b = step(b, x, o + features);
                    c = step(c, x, o + 2 * features);
                    d = step(d, x, o + 3 * features);
                    f = step(f, x, o + 4 * features);
                    g = step(g, x, o + 5 * features);
                    h = step(h, x, o + 6 * features);
                    i = step(i, x, o + 7 * features);
                }
                leaves[r * trees + t] = leafOf[a];
                leaves[(r + 1) * trees + t] = leafOf[b];
                leaves[(r + 2) * trees + t] = leafOf[c];
                leaves[(r + 3) * trees + t] = leafOf[d];
                leaves[(r + 4) * trees + t] = leafOf[f];
                leaves[(r + 5) * trees + t] = leafOf[g];
                leaves[(r + 6) * trees + t] = leafOf[h];
                leaves[(r + 7) * trees + t] = leafOf[i];
            }
            for (; r < rows; r++) {
                int a = root;
                int o = r * features;
                for (int s = steps; s > 0; s--) {
                    a = step(a, x, o);
                }
                leaves[r * trees + t] = leafOf[a];
            }
        }
    }

    /**
     * Below {@link #BY_TREE_FROM_ROWS} rows the values are added as the walks end (the chain of
     * additions overlaps the next walks); from there the leaves first, then their values per row,
     * in tree order either way.
     */
    @Override
    public void sums(float[] x, int rows, int features, int[] leaves, float[] out) {
        int trees = roots.length;
        if (rows < BY_TREE_FROM_ROWS) {
            for (int r = 0; r < rows; r++) {
                out[r] = row(x, r * features, leaves, 0, true);
            }
            return;
        }
        byTree(x, rows, features, leaves);
        TreeWalker.addLeafValues(leaves, rows, trees, leafValue, out);
    }

    @Override
    public String describe() {
        return "packed";
    }
}
