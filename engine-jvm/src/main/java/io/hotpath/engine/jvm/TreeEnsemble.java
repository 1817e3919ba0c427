package io.hotpath.engine.jvm;

/**
 * A tree ensemble as flat arrays (struct of arrays), the form both tree walkers read. Branch
 * nodes of one tree are contiguous, in depth-first order with the false child first, so the
 * false branch of a node is usually the next node (as ONNX Runtime lays them out). A child is a
 * branch index ({@code >= 0}) or {@code ~leaf} ({@code < 0}); leaves are numbered across the
 * ensemble in the same depth-first order.
 *
 * <pre>
 * branch n:  feature[n]  threshold[n]  mode[n]  nanTrue[n]  children[2n] (false)  children[2n+1] (true)
 * tree t:    roots[t]   (a branch, or ~leaf for a tree that is one leaf)
 * leaf l:    leafValue[l] (the one-target value)   weights leafStart[l] .. leafStart[l+1]-1:
 *            weightTarget[w]  weightValue[w]
 * </pre>
 */
final class TreeEnsemble {
    static final byte LEQ = 0;
    static final byte LT = 1;
    static final byte GTE = 2;
    static final byte GT = 3;
    static final byte EQ = 4;
    static final byte NEQ = 5;
    /** The mode names in code order, as ONNX writes them. */
    static final String[] MODE_NAMES = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};

    final int features;
    final int targets;
    final int[] roots;
    final int[] feature;
    final float[] threshold;
    final byte[] mode;
    final boolean[] nanTrue;
    final int[] children;
    final float[] leafValue;
    final int[] leafStart;
    final int[] weightTarget;
    final float[] weightValue;
    /** The mode every branch shares, or -1 when they differ. */
    final int uniformMode;
    /** True when some branch sends NaN to its true child. */
    final boolean tracksMissing;
    /** The deepest tree's depth (branches on its longest path), and the sum of every tree's. */
    final int maxDepth;
    final long depthSum;

    TreeEnsemble(int features, int targets, int[] roots, int[] feature, float[] threshold, byte[] mode, boolean[] nanTrue, int[] children,
                 float[] leafValue, int[] leafStart, int[] weightTarget, float[] weightValue) {
        this.features = features;
        this.targets = targets;
        this.roots = roots;
        this.feature = feature;
        this.threshold = threshold;
        this.mode = mode;
        this.nanTrue = nanTrue;
        this.children = children;
        this.leafValue = leafValue;
        this.leafStart = leafStart;
        this.weightTarget = weightTarget;
        this.weightValue = weightValue;
        int u = mode.length == 0 ? LEQ : mode[0];
        boolean missing = false;
        for (int n = 0; n < mode.length; n++) {
            if (mode[n] != u) {
                u = -1;
            }
            missing |= nanTrue[n];
        }
        this.uniformMode = u;
        this.tracksMissing = missing;
        int max = 0;
        long sum = 0;
        for (int root : roots) {
            int d = depth(root);
            max = Math.max(max, d);
            sum += d;
        }
        this.maxDepth = max;
        this.depthSum = sum;
    }

    int trees() {
        return roots.length;
    }

    int branches() {
        return feature.length;
    }

    int leaves() {
        return leafValue.length;
    }

    private int depth(int n) {
        return n < 0 ? 0 : 1 + Math.max(depth(children[2 * n]), depth(children[2 * n + 1]));
    }

    /** The bytes of the node and leaf arrays. */
    long bytes() {
        return (long) branches() * (4 + 4 + 1 + 1 + 8) + (long) leaves() * (4 + 4) + (long) weightValue.length * 8 + roots.length * 4L;
    }
}
