package io.hotpath.models;

import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random tree ensembles (ai.onnx.ml TreeEnsembleRegressor, TreeEnsembleClassifier and
 * TreeEnsemble of opset 5) for tests and benchmarks: nobody tuned them by hand. Features and
 * thresholds come from the same distribution ({@link #sampleRow}: a Gaussian rounded to a grid of
 * 0.25), so every branch is taken both ways and equality tests hold often enough to tell
 * BRANCH_LEQ from BRANCH_LT. Each tree has a depth between {@code maxDepth - 2} and
 * {@code maxDepth}; its root is listed first, the other nodes and the leaf weights in random order.
 */
public final class TreeEnsembleModels {
    /** The operator written. */
    public enum Kind { REGRESSOR, CLASSIFIER, TREE_ENSEMBLE }

    /**
     * What to generate. {@code targets} is n_targets for a regressor, the number of classes for a
     * classifier; {@code modes} the branch modes drawn from (BRANCH_LEQ ... BRANCH_NEQ, and
     * BRANCH_MEMBER for {@link Kind#TREE_ENSEMBLE}); {@code missingTracksTrue} the fraction of
     * branches whose NaN goes to the true side; {@code baseValues} 0, 1 or {@code targets} base
     * values; {@code oneClassWeights} a classifier whose leaves all vote for class 1 only (ONNX
     * Runtime's "binary case"); {@code positiveWeights} leaf weights in [0, 1) instead of Gaussian.
     */
    public record Spec(Kind kind, int trees, int maxDepth, int features, int targets, List<String> modes, double missingTracksTrue,
                       String aggregate, String postTransform, int baseValues, boolean oneClassWeights, boolean positiveWeights, long seed) {
        /** A regressor: one target, BRANCH_LEQ, SUM, no post transform, no base value. */
        public static Spec regressor(int trees, int maxDepth, int features, long seed) {
            return new Spec(Kind.REGRESSOR, trees, maxDepth, features, 1, List.of("BRANCH_LEQ"), 0, "SUM", "NONE", 0, false, false, seed);
        }

        public Spec kind(Kind k) {
            return new Spec(k, trees, maxDepth, features, targets, modes, missingTracksTrue, aggregate, postTransform, baseValues, oneClassWeights, positiveWeights, seed);
        }

        public Spec targets(int n) {
            return new Spec(kind, trees, maxDepth, features, n, modes, missingTracksTrue, aggregate, postTransform, baseValues, oneClassWeights, positiveWeights, seed);
        }

        public Spec modes(String... m) {
            return new Spec(kind, trees, maxDepth, features, targets, List.of(m), missingTracksTrue, aggregate, postTransform, baseValues, oneClassWeights, positiveWeights, seed);
        }

        public Spec missingTracksTrue(double f) {
            return new Spec(kind, trees, maxDepth, features, targets, modes, f, aggregate, postTransform, baseValues, oneClassWeights, positiveWeights, seed);
        }

        public Spec aggregate(String a) {
            return new Spec(kind, trees, maxDepth, features, targets, modes, missingTracksTrue, a, postTransform, baseValues, oneClassWeights, positiveWeights, seed);
        }

        public Spec postTransform(String p) {
            return new Spec(kind, trees, maxDepth, features, targets, modes, missingTracksTrue, aggregate, p, baseValues, oneClassWeights, positiveWeights, seed);
        }

        public Spec baseValues(int n) {
            return new Spec(kind, trees, maxDepth, features, targets, modes, missingTracksTrue, aggregate, postTransform, n, oneClassWeights, positiveWeights, seed);
        }

        public Spec oneClassWeights(boolean b) {
            return new Spec(kind, trees, maxDepth, features, targets, modes, missingTracksTrue, aggregate, postTransform, baseValues, b, positiveWeights, seed);
        }

        public Spec positiveWeights(boolean b) {
            return new Spec(kind, trees, maxDepth, features, targets, modes, missingTracksTrue, aggregate, postTransform, baseValues, oneClassWeights, b, seed);
        }
    }

    /** The graph input's name: float {@code [batch, features]}. */
    public static final String INPUT = "X";
    /** A classifier's labels: {@code 10 * class + 7}. */
    public static final long LABEL_BASE = 7;

    private TreeEnsembleModels() {
    }

    /** One feature value: a Gaussian rounded to a multiple of 0.25 (thresholds are drawn the same way). */
    public static float sample(SplittableRandom r) {
        return Math.round(r.nextGaussian() * 4) / 4f;
    }

    /** Fills {@code row} with {@link #sample} values, each NaN with probability {@code nanFraction}. */
    public static void sampleRow(SplittableRandom r, float[] row, int offset, int features, double nanFraction) {
        for (int i = 0; i < features; i++) {
            row[offset + i] = r.nextDouble() < nanFraction ? Float.NaN : sample(r);
        }
    }

    /** A node of a generated tree: a branch (feature >= 0) or a leaf. */
    private static final class Node {
        int id;
        int feature = -1;
        float threshold;
        String mode;
        float[] members;
        boolean nanTrue;
        Node yes;
        Node no;
        int[] targets;
        float[] weights;
    }

    /** The model described by {@code s}. */
    public static ModelProto build(Spec s) {
        if (s.trees() < 1 || s.maxDepth() < 1 || s.features() < 1 || s.targets() < 1) {
            throw new IllegalArgumentException("trees, depth, features and targets must be positive: " + s);
        }
        SplittableRandom r = new SplittableRandom(s.seed());
        List<List<Node>> trees = new ArrayList<>();
        for (int t = 0; t < s.trees(); t++) {
            int depth = Math.max(1, s.maxDepth() - r.nextInt(3));
            List<Node> nodes = new ArrayList<>();
            grow(s, r, nodes, 0, depth);
            trees.add(nodes);
        }
        return s.kind() == Kind.TREE_ENSEMBLE ? v5(s, r, trees) : v3(s, r, trees);
    }

    private static Node grow(Spec s, SplittableRandom r, List<Node> nodes, int level, int depth) {
        Node n = new Node();
        n.id = nodes.size();
        nodes.add(n);
        boolean leaf = level == depth || (level >= depth - 2 && level > 0 && r.nextDouble() < 0.15);
        if (leaf) {
            leafWeights(s, r, n);
            return n;
        }
        n.feature = r.nextInt(s.features());
        n.threshold = sample(r);
        n.mode = s.modes().get(r.nextInt(s.modes().size()));
        if (n.mode.equals("BRANCH_MEMBER")) {
            n.members = new float[1 + r.nextInt(3)];
            for (int i = 0; i < n.members.length; i++) {
                n.members[i] = Math.round(r.nextGaussian() * 2);      // ONNX Runtime 1.24 takes integer sets only
            }
        }
        n.nanTrue = r.nextDouble() < s.missingTracksTrue();
        n.yes = grow(s, r, nodes, level + 1, depth);
        n.no = grow(s, r, nodes, level + 1, depth);
        return n;
    }

    private static void leafWeights(Spec s, SplittableRandom r, Node n) {
        List<Integer> ts = new ArrayList<>();
        if (s.kind() == Kind.CLASSIFIER && s.oneClassWeights()) {
            ts.add(1);
        } else if (s.targets() == 1 || s.kind() == Kind.TREE_ENSEMBLE) {
            ts.add(r.nextInt(s.targets()));
        } else {
            for (int k = 0; k < s.targets(); k++) {
                if (r.nextDouble() < 0.6) {
                    ts.add(k);
                }
            }
            if (ts.isEmpty()) {
                ts.add(r.nextInt(s.targets()));
            }
        }
        n.targets = ts.stream().mapToInt(Integer::intValue).toArray();
        n.weights = new float[n.targets.length];
        for (int i = 0; i < n.weights.length; i++) {
            n.weights[i] = s.positiveWeights() ? (float) r.nextDouble() / (s.oneClassWeights() ? s.trees() : 1)
                    : (float) (r.nextGaussian() * 0.1);
        }
    }

    private static float[] baseValues(Spec s, SplittableRandom r) {
        float[] b = new float[s.baseValues()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (r.nextGaussian() * 0.5);
        }
        return b;
    }

    /** TreeEnsembleRegressor or TreeEnsembleClassifier, ai.onnx.ml opset 3. */
    private static ModelProto v3(Spec s, SplittableRandom r, List<List<Node>> trees) {
        List<Long> treeIds = new ArrayList<>();
        List<Long> nodeIds = new ArrayList<>();
        List<Long> featureIds = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        List<String> modes = new ArrayList<>();
        List<Long> yes = new ArrayList<>();
        List<Long> no = new ArrayList<>();
        List<Long> missing = new ArrayList<>();
        List<long[]> weightKeys = new ArrayList<>();       // tree, node, target
        List<Float> weightValues = new ArrayList<>();
        for (int t = 0; t < trees.size(); t++) {
            List<Node> nodes = new ArrayList<>(trees.get(t));
            Node root = nodes.removeFirst();
            shuffle(r, nodes);
            nodes.addFirst(root);
            for (Node n : nodes) {
                treeIds.add((long) t);
                nodeIds.add((long) n.id);
                boolean leaf = n.feature < 0;
                featureIds.add(leaf ? 0L : n.feature);
                values.add(leaf ? 0f : n.threshold);
                modes.add(leaf ? "LEAF" : n.mode);
                yes.add(leaf ? 0L : n.yes.id);
                no.add(leaf ? 0L : n.no.id);
                missing.add(!leaf && n.nanTrue ? 1L : 0L);
                if (leaf) {
                    for (int i = 0; i < n.targets.length; i++) {
                        weightKeys.add(new long[] {t, n.id, n.targets[i]});
                        weightValues.add(n.weights[i]);
                    }
                }
            }
        }
        int[] order = new int[weightKeys.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        long[] wTree = new long[order.length];
        long[] wNode = new long[order.length];
        long[] wTarget = new long[order.length];
        float[] wValue = new float[order.length];
        for (int i = 0; i < order.length; i++) {
            long[] k = weightKeys.get(order[i]);
            wTree[i] = k[0];
            wNode[i] = k[1];
            wTarget[i] = k[2];
            wValue[i] = weightValues.get(order[i]);
        }
        boolean classifier = s.kind() == Kind.CLASSIFIER;
        String prefix = classifier ? "class_" : "target_";
        List<Object> attrs = new ArrayList<>(List.of(
                "nodes_treeids", longs(treeIds), "nodes_nodeids", longs(nodeIds), "nodes_featureids", longs(featureIds),
                "nodes_values", floats(values), "nodes_modes", modes.toArray(new String[0]), "nodes_truenodeids", longs(yes),
                "nodes_falsenodeids", longs(no), "nodes_missing_value_tracks_true", longs(missing),
                prefix + "treeids", wTree, prefix + "nodeids", wNode, prefix + "ids", wTarget, prefix + "weights", wValue,
                "post_transform", s.postTransform()));
        if (s.baseValues() > 0) {
            attrs.addAll(List.of("base_values", baseValues(s, r)));
        }
        OnnxBuilder b = new OnnxBuilder(classifier ? "trees_classifier" : "trees_regressor", BuiltinModels.OPSET).opsetImport("ai.onnx.ml", 3)
                .input(INPUT, OnnxBuilder.FLOAT, "batch", s.features());
        if (classifier) {
            long[] labels = new long[s.targets()];
            for (int k = 0; k < labels.length; k++) {
                labels[k] = 10L * k + LABEL_BASE;
            }
            attrs.addAll(List.of("classlabels_int64s", labels));
            b.nodeInDomain("ai.onnx.ml", "TreeEnsembleClassifier", INPUT, "label,probabilities", attrs.toArray())
                    .output("label", OnnxBuilder.INT64, "batch")
                    .output("probabilities", OnnxBuilder.FLOAT, "batch", s.targets());
        } else {
            attrs.addAll(List.of("n_targets", (long) s.targets(), "aggregate_function", s.aggregate()));
            b.nodeInDomain("ai.onnx.ml", "TreeEnsembleRegressor", INPUT, "variable", attrs.toArray())
                    .output("variable", OnnxBuilder.FLOAT, "batch", s.targets());
        }
        return b.build();
    }

    /** TreeEnsemble, ai.onnx.ml opset 5: branches and leaves in separate lists, BRANCH_MEMBER sets. */
    private static ModelProto v5(Spec s, SplittableRandom r, List<List<Node>> trees) {
        List<Node> branches = new ArrayList<>();
        List<Node> leaves = new ArrayList<>();
        long[] roots = new long[trees.size()];
        for (int t = 0; t < trees.size(); t++) {
            List<Node> nodes = new ArrayList<>(trees.get(t));
            Node root = nodes.removeFirst();
            shuffle(r, nodes);
            nodes.addFirst(root);
            roots[t] = branches.size();
            for (Node n : nodes) {
                if (n.feature < 0) {
                    n.id = leaves.size();
                    leaves.add(n);
                } else {
                    n.id = branches.size();
                    branches.add(n);
                }
            }
        }
        int nb = branches.size();
        long[] feature = new long[nb];
        byte[] modes = new byte[nb];
        float[] splits = new float[nb];
        long[] yes = new long[nb];
        long[] no = new long[nb];
        long[] yesLeaf = new long[nb];
        long[] noLeaf = new long[nb];
        long[] missing = new long[nb];
        List<Float> members = new ArrayList<>();
        List<String> order = List.of("BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "BRANCH_MEMBER");
        for (int i = 0; i < nb; i++) {
            Node n = branches.get(i);
            feature[i] = n.feature;
            modes[i] = (byte) order.indexOf(n.mode);
            splits[i] = n.threshold;
            yes[i] = n.yes.id;
            no[i] = n.no.id;
            yesLeaf[i] = n.yes.feature < 0 ? 1 : 0;
            noLeaf[i] = n.no.feature < 0 ? 1 : 0;
            missing[i] = n.nanTrue ? 1 : 0;
            if (n.members != null) {
                for (float m : n.members) {
                    members.add(m);
                }
                members.add(Float.NaN);
            }
        }
        long[] leafTargets = new long[leaves.size()];
        float[] leafWeights = new float[leaves.size()];
        for (int i = 0; i < leaves.size(); i++) {
            leafTargets[i] = leaves.get(i).targets[0];
            leafWeights[i] = leaves.get(i).weights[0];
        }
        List<String> aggregates = List.of("AVERAGE", "SUM", "MIN", "MAX");
        // ONNX Runtime reads post_transform as its own enum: 0 NONE, 1 LOGISTIC, 2 SOFTMAX, 3 SOFTMAX_ZERO, 4 PROBIT
        List<String> posts = List.of("NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT");
        List<Object> attrs = new ArrayList<>(List.of(
                "n_targets", (long) s.targets(), "aggregate_function", (long) aggregates.indexOf(s.aggregate()),
                "post_transform", (long) posts.indexOf(s.postTransform()), "tree_roots", roots,
                "nodes_featureids", feature, "nodes_modes", OnnxBuilder.tensor(OnnxBuilder.UINT8, modes, nb),
                "nodes_splits", OnnxBuilder.tensor(splits), "nodes_truenodeids", yes, "nodes_falsenodeids", no,
                "nodes_trueleafs", yesLeaf, "nodes_falseleafs", noLeaf, "nodes_missing_value_tracks_true", missing,
                "leaf_targetids", leafTargets, "leaf_weights", OnnxBuilder.tensor(leafWeights)));
        if (!members.isEmpty()) {
            attrs.addAll(List.of("membership_values", OnnxBuilder.tensor(floats(members))));
        }
        return new OnnxBuilder("trees_v5", BuiltinModels.OPSET).opsetImport("ai.onnx.ml", 5)
                .input(INPUT, OnnxBuilder.FLOAT, "batch", s.features())
                .nodeInDomain("ai.onnx.ml", "TreeEnsemble", INPUT, "Y", attrs.toArray())
                .output("Y", OnnxBuilder.FLOAT, "batch", s.targets())
                .build();
    }

    private static <T> void shuffle(SplittableRandom r, List<T> l) {
        for (int i = l.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T x = l.get(i);
            l.set(i, l.get(j));
            l.set(j, x);
        }
    }

    private static long[] longs(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }

    private static float[] floats(List<Float> l) {
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = l.get(i);
        }
        return f;
    }
}
