package io.hotpath.engine.jvm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A compiled tree ensemble: float32 rows copied into a buffer, the {@link TreeWalker} finds each
 * tree's leaf, then the leaves are aggregated and transformed exactly as ONNX Runtime does it
 * (tree_ensemble_aggregator.h): scores summed in float32 in tree order, base values added at the
 * end, the classifier's labels and its two-class special cases.
 */
final class TreeProgram implements Program {
    enum Aggregate { AVERAGE, SUM, MIN, MAX }

    enum Post { NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO, PROBIT }

    /** The classifier's part: labels, and ONNX Runtime's "binary case" (two classes, votes for one). */
    record Classes(long[] labels, boolean binaryCase, boolean weightsAllPositive) {
    }

    private final TensorSpec input;
    private final List<TensorSpec> outputs;
    private final TreeEnsemble e;
    private final TreeWalker walker;
    private final Aggregate aggregate;
    private final Post post;
    private final float[] base;
    private final Classes classes;
    /** Model output index of the scores and of the labels, -1 when the graph does not output them. */
    private final int scoreOut;
    private final int labelOut;
    private final int width;
    private final int trees;
    /** One target summed or averaged: the walker adds the leaf values itself ({@link TreeWalker#sums}). */
    private final boolean sums;

    TreeProgram(TensorSpec input, List<TensorSpec> outputs, int scoreOut, int labelOut, TreeEnsemble e, TreeWalker walker, Aggregate aggregate,
                Post post, float[] base, Classes classes) {
        this.input = input;
        this.outputs = List.copyOf(outputs);
        this.scoreOut = scoreOut;
        this.labelOut = labelOut;
        this.e = e;
        this.walker = walker;
        this.aggregate = aggregate;
        this.post = post;
        this.base = base;
        this.classes = classes;
        this.width = e.targets;
        this.trees = e.trees();
        this.sums = sumsLeaves(e, aggregate, classes);
    }

    /** Whether a program of this shape lets the walker add the leaf values: one target, SUM or AVERAGE, no classes. */
    static boolean sumsLeaves(TreeEnsemble e, Aggregate aggregate, Classes classes) {
        return classes == null && e.targets == 1 && (aggregate == Aggregate.SUM || aggregate == Aggregate.AVERAGE);
    }

    /** One batch's working memory. */
    static final class Scratch {
        final float[] x;
        final int[] leaves;
        final float[] scores;
        final long[] labels;
        final float[] acc;
        final boolean[] has;

        Scratch(int rows, int features, int trees, int width) {
            x = new float[rows * features];
            leaves = new int[rows * trees];
            scores = new float[rows * width];
            labels = new long[rows];
            acc = new float[width];
            has = new boolean[width];
        }
    }

    @Override
    public List<TensorSpec> inputs() {
        return List.of(input);
    }

    @Override
    public List<TensorSpec> outputs() {
        return outputs;
    }

    @Override
    public Object newScratch(int maxRows) {
        long ints = (long) maxRows * trees + (long) maxRows * e.features + (long) maxRows * width;
        if (ints > DenseProgram.MAX_SCRATCH_FLOATS) {
            throw HotpathException.invalidArgument("a batch of " + maxRows + " rows needs " + ints + " values of working memory for "
                    + trees + " trees; the JVM engine allows " + DenseProgram.MAX_SCRATCH_FLOATS + ": lower maxBatchSize");
        }
        return new Scratch(maxRows, e.features, trees, width);
    }

    @Override
    public void run(Object scratch, Tensor[] in, Tensor[] out, int rows) {
        Scratch s = (Scratch) scratch;
        MemorySegment.copy(in[0].data(), JAVA_FLOAT_UNALIGNED, 0, s.x, 0, rows * e.features);
        if (sums) {
            walker.sums(s.x, rows, e.features, s.leaves, s.scores);
            for (int r = 0; r < rows; r++) {
                s.scores[r] = finishSum(s.scores[r]);
            }
        } else {
            walker.leaves(s.x, rows, e.features, s.leaves);
            for (int r = 0; r < rows; r++) {
                if (classes != null) {
                    s.labels[r] = classify(s, r);
                } else if (width == 1) {
                    s.scores[r] = one(s.leaves, r * trees);
                } else {
                    many(s, r);
                }
            }
        }
        if (scoreOut >= 0 && out[scoreOut] != null) {
            MemorySegment.copy(s.scores, 0, out[scoreOut].data(), JAVA_FLOAT_UNALIGNED, 0, rows * width);
        }
        if (labelOut >= 0 && out[labelOut] != null) {
            MemorySegment.copy(s.labels, 0, out[labelOut].data(), JAVA_LONG_UNALIGNED, 0, rows);
        }
    }

    /** One target summed or averaged: the walker's sum, averaged, then {@link #finish}. */
    private float finishSum(float sum) {
        return finish(aggregate == Aggregate.AVERAGE ? sum / trees : sum);
    }

    /** One target, MIN or MAX (SUM and AVERAGE are the walker's, {@link #finishSum}). */
    private float one(int[] leaves, int at) {
        float[] value = e.leafValue;
        boolean min = aggregate == Aggregate.MIN;
        float s = value[leaves[at]];
        for (int t = 1; t < trees; t++) {
            float v = value[leaves[at + t]];
            s = min ? (v < s ? v : s) : (v > s ? v : s);
        }
        return finish(s);
    }

    /** ONNX Runtime's FinalizeScores1 ending for one target: the base value, then PROBIT (the only transform of a single score). */
    private float finish(float s) {
        s += base.length == 1 ? base[0] : 0f;
        return post == Post.PROBIT ? TreeMath.probit(s) : s;
    }

    /** Adds every tree's leaf votes of row r into {@code s.acc}, noting which targets got a vote. */
    private void accumulate(Scratch s, int r, Aggregate how) {
        float[] acc = s.acc;
        boolean[] has = s.has;
        for (int k = 0; k < width; k++) {
            acc[k] = 0f;
            has[k] = false;
        }
        int at = r * trees;
        for (int t = 0; t < trees; t++) {
            int leaf = s.leaves[at + t];
            for (int w = e.leafStart[leaf], end = e.leafStart[leaf + 1]; w < end; w++) {
                int k = e.weightTarget[w];
                float v = e.weightValue[w];
                switch (how) {
                    case SUM, AVERAGE -> acc[k] += v;
                    case MIN -> acc[k] = !has[k] || v < acc[k] ? v : acc[k];
                    case MAX -> acc[k] = !has[k] || v > acc[k] ? v : acc[k];
                }
                has[k] = true;
            }
        }
    }

    /** Several targets: FinalizeScores of the regression aggregators, then the transform over the row. */
    private void many(Scratch s, int r) {
        accumulate(s, r, aggregate);
        float[] acc = s.acc;
        boolean useBase = base.length == width;
        for (int k = 0; k < width; k++) {
            acc[k] = switch (aggregate) {
                case SUM -> useBase ? acc[k] + base[k] : acc[k];
                case AVERAGE -> useBase ? acc[k] / trees + base[k] : acc[k] / trees;
                case MIN, MAX -> (useBase ? base[k] : 0f) + (s.has[k] ? acc[k] : 0f);
            };
        }
        write(acc, s.has, width, -1, s.scores, r * width);
    }

    /** TreeAggregatorClassifier.FinalizeScores: the label, and the scores as ONNX Runtime writes them. */
    private long classify(Scratch s, int r) {
        accumulate(s, r, Aggregate.SUM);
        float[] acc = s.acc;
        boolean[] has = s.has;
        long[] labels = classes.labels();
        if (width > 2) {
            for (int k = 0; k < base.length; k++) {
                acc[k] = has[k] ? acc[k] + base[k] : base[k];
                has[k] = true;
            }
            int best = -1;
            float bestScore = 0;
            for (int k = 0; k < width; k++) {
                if (has[k] && (best == -1 || acc[k] > bestScore)) {
                    best = k;
                    bestScore = acc[k];
                }
            }
            write(acc, s.has, width, -1, s.scores, r * width);
            return labels[Math.max(best, 0)];
        }
        int size = 2;
        int extra = -1;
        if (base.length == 2) {
            if (has[1]) {
                acc[1] = base[1] + acc[0];      // ONNX Runtime reads score 0 here, not score 1 (base[0] is assumed equal to base[1])
                acc[0] = -acc[1];
            } else {
                acc[1] += base[1];
                acc[0] += base[0];
            }
        } else if (base.length == 1) {
            acc[0] += base[0];
            size = has[1] ? 2 : 1;
        } else if (base.length == 0) {
            extra = 3;
            size = has[1] ? 2 : 1;
        }
        boolean second = size == 2 && has[1];
        float positive = second ? acc[1] : has[0] ? acc[0] : 0f;
        long label;
        if (classes.binaryCase()) {
            if (classes.weightsAllPositive()) {
                extra = positive > 0.5f ? 0 : 1;
            } else {
                extra = positive > 0 ? 2 : 3;
            }
            label = extra == 0 || extra == 2 ? labels[1] : labels[0];
        } else {
            label = positive > 0 ? 1 : 0;       // ONNX Runtime's positive_label_/negative_label_, not the class labels
        }
        write(acc, has, size, extra, s.scores, r * width);
        return label;
    }

    /**
     * ONNX Runtime's write_scores: the transform over {@code n >= 2} scores, or its one-score
     * cases. It reads each score through ScoreValue's conversion, so a score no tree voted for
     * reads 0 whatever base value was added to it.
     */
    private void write(float[] v, boolean[] has, int n, int extra, float[] out, int at) {
        for (int k = 0; k < n; k++) {
            v[k] = has[k] ? v[k] : 0f;
        }
        if (n >= 2) {
            switch (post) {
                case PROBIT -> {
                    for (int k = 0; k < n; k++) {
                        v[k] = TreeMath.probit(v[k]);
                    }
                }
                case LOGISTIC -> {
                    for (int k = 0; k < n; k++) {
                        v[k] = TreeMath.logistic(v[k]);
                    }
                }
                case SOFTMAX -> TreeMath.softmax(v, 0, n);
                case SOFTMAX_ZERO -> TreeMath.softmaxZero(v, 0, n);
                case NONE -> {
                }
            }
            System.arraycopy(v, 0, out, at, n);
            return;
        }
        float s = v[0];
        out[at + 1] = 0f;       // ONNX Runtime leaves this column unwritten in the one-score cases below
        if (post == Post.PROBIT) {
            out[at] = TreeMath.probit(s);
            return;
        }
        switch (extra) {
            case 0, 1 -> {
                out[at] = 1 - s;
                out[at + 1] = s;
            }
            case 2, 3 -> {
                if (post == Post.LOGISTIC) {
                    out[at] = TreeMath.logistic(-s);
                    out[at + 1] = TreeMath.logistic(s);
                } else {
                    out[at] = -s;
                    out[at + 1] = s;
                }
            }
            default -> out[at] = s;
        }
    }

    @Override
    public Cost cost() {
        return new Cost(e.depthSum, e.bytes());
    }

    @Override
    public String describe() {
        return "[trees " + trees + " (" + e.branches() + " branches, " + e.leaves() + " leaves, depth <= " + e.maxDepth + ") "
                + (classes != null ? width + " classes" : width + (width == 1 ? " target " : " targets ") + aggregate) + " " + post + " "
                + walker.describe() + "]";
    }
}
