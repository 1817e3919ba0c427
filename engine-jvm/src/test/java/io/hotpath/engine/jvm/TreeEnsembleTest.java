package io.hotpath.engine.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.EngineProvider;
import io.hotpath.core.HotpathException;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.BuiltinModels;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.TreeEnsembleModels;
import io.hotpath.models.TreeEnsembleModels.Kind;
import io.hotpath.models.TreeEnsembleModels.Spec;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random tree ensembles (hundreds of trees, depth 6 to 8) run by the JVM engine, with both
 * walkers, and by ONNX Runtime with one intra-op thread (so it sums the trees in order) on the
 * same rows, at batch 1, 7 and 64. Without a post transform, or with PROBIT only on one target,
 * every output must be bit for bit ONNX Runtime's; the transforms use exp and log, where Java's
 * and the C library's float results may differ by an ulp: those must agree within 1e-5 relative.
 */
class TreeEnsembleTest {
    @TempDir
    Path tmp;

    static final String[] ALL_MODES = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
    static final int[] BATCHES = {1, 7, 64};

    /** The worst difference over every case, for the report at the end of the class's run. */
    static double worstTransformed;

    @org.junit.jupiter.api.AfterAll
    static void report() {
        System.out.println("TreeEnsembleTest: worst relative difference with a post transform: " + worstTransformed);
    }

    private record Result(double worst, long inexact, long compared) {
    }

    /** Runs rows through ONNX Runtime and every walker; labels must be equal; returns the float differences. */
    private Result compare(ModelProto m, double nanFraction, long seed) {
        Path f = OnnxBuilder.write(m, tmp.resolve("m" + seed + ".onnx"));
        double worst = 0;
        long inexact = 0;
        long compared = 0;
        try (OrtCpuEngine ort = OrtCpuEngine.open(f, CpuEngineOptions.builder().maxBatchSize(64).intraOpThreads(1).build())) {
            for (String variant : new String[] {"array", "packed", "bytecode", "auto"}) {
                Program p = TreeCompiler.compile(m, variant);
                String d = p.describe();
                assertTrue(variant.equals("auto") ? d.contains("packed") || d.contains("bytecode below 4 rows, array from 4") : d.contains(variant), d);
                try (JvmEngine jvm = JvmEngine.of("trees", m, p, JvmEngineOptions.defaults())) {
                    assertEquals(ort.outputs().size(), jvm.outputs().size());
                    for (TensorSpec o : jvm.outputs()) {
                        TensorSpec r = ort.outputs().stream().filter(x -> x.name().equals(o.name())).findFirst().orElseThrow();
                        assertEquals(r.dtype(), o.dtype(), o.name());
                        assertEquals(r.shape().rank(), o.shape().rank(), o.name() + ": " + r.shape() + " vs " + o.shape());
                    }
                    Batch a = jvm.newBatch();
                    Batch b = ort.newBatch();
                    SplittableRandom rnd = new SplittableRandom(seed);
                    int width = (int) jvm.inputs().getFirst().shape().dim(1);
                    for (int rows : BATCHES) {
                        float[] x = new float[rows * width];
                        TreeEnsembleModels.sampleRow(rnd, x, 0, rows * width, nanFraction);
                        a.input(TreeEnsembleModels.INPUT).reshape(rows, width);
                        b.input(TreeEnsembleModels.INPUT).reshape(rows, width);
                        for (int k = 0; k < x.length; k++) {
                            a.input(TreeEnsembleModels.INPUT).putFloat(k, x[k]);
                            b.input(TreeEnsembleModels.INPUT).putFloat(k, x[k]);
                        }
                        jvm.run(a);
                        ort.run(b);
                        for (TensorSpec o : jvm.outputs()) {
                            String name = o.name();
                            assertEquals(b.output(name).elementCount(), a.output(name).elementCount(), name);
                            for (long k = 0; k < a.output(name).elementCount(); k++) {
                                if (o.dtype() == DType.INT64) {
                                    assertEquals(b.output(name).getLong(k), a.output(name).getLong(k), variant + " batch " + rows + " " + name + "[" + k + "]");
                                    continue;
                                }
                                float want = b.output(name).getFloat(k);
                                float got = a.output(name).getFloat(k);
                                compared++;
                                if (Float.isNaN(want) && Float.isNaN(got) || Float.floatToIntBits(want) == Float.floatToIntBits(got)) {
                                    continue;
                                }
                                inexact++;
                                worst = Math.max(worst, Math.abs(got - want) / Math.max(1e-30, Math.abs(want)));
                                if (Float.isNaN(want) != Float.isNaN(got)) {
                                    worst = Double.POSITIVE_INFINITY;
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Result(worst, inexact, compared);
    }

    /** The built-in trees model (every branch BRANCH_LEQ: the interleaved walks), bit for bit, with and without NaN inputs. */
    @Test
    void theBuiltInTreesModelIsExact() {
        exact(Spec.regressor(io.hotpath.models.BuiltinModels.TREES_COUNT, io.hotpath.models.BuiltinModels.TREES_DEPTH,
                io.hotpath.models.BuiltinModels.TREES_FEATURES, io.hotpath.models.BuiltinModels.DEFAULT_SEED), 0);
        exact(Spec.regressor(300, 7, 16, 99), 0.05);
    }

    /**
     * One target summed or averaged: the generated trees add their leaf values as they walk (the
     * exact tests above run that path); MIN/MAX, several targets and classifiers collect leaves first.
     */
    /**
     * The default walker: packed where every branch is LEQ or GT (or every one LT or GTE), missing-value
     * tracking or not, else bytecode and arrays.
     */
    @Test
    void theDefaultWalkerIsPackedWhereEveryBranchComparesOneWayUpToASwap() {
        for (Spec s : new Spec[] {regressor(20, 7), regressor(20, 8).modes("BRANCH_LT"), regressor(20, 10).missingTracksTrue(0.3),
                regressor(20, 11).modes("BRANCH_LEQ", "BRANCH_GT").missingTracksTrue(0.3), regressor(20, 12).modes("BRANCH_GTE", "BRANCH_LT")}) {
            String d = TreeCompiler.compile(TreeEnsembleModels.build(s), "auto").describe();
            assertTrue(d.contains(" packed]"), s + ": " + d);
        }
        for (Spec s : new Spec[] {regressor(20, 9).modes(ALL_MODES), regressor(20, 13).modes("BRANCH_LEQ", "BRANCH_LT")}) {
            String d = TreeCompiler.compile(TreeEnsembleModels.build(s), "auto").describe();
            assertTrue(d.contains("bytecode below 4 rows, array from 4"), s + ": " + d);
            assertTrue(TreeCompiler.compile(TreeEnsembleModels.build(s), "packed").describe().contains("array (packed asked for"), s + ": " + d);
        }
    }

    @Test
    void generatedTreesAddLeafValuesOnlyWhereTheSumIsTheWholeAggregate() {
        assertTrue(TreeCompiler.compile(TreeEnsembleModels.build(regressor(20, 1)), "bytecode").describe().contains("sums fused"));
        assertTrue(TreeCompiler.compile(TreeEnsembleModels.build(regressor(20, 2).aggregate("AVERAGE")), "bytecode").describe()
                .contains("sums fused"));
        for (Spec s : new Spec[] {regressor(20, 3).aggregate("MIN"), regressor(20, 4).aggregate("MAX"), regressor(20, 5).targets(3),
                regressor(20, 6).kind(Kind.CLASSIFIER).targets(5)}) {
            String d = TreeCompiler.compile(TreeEnsembleModels.build(s), "bytecode").describe();
            assertTrue(d.contains("bytecode") && !d.contains("sums fused"), s + ": " + d);
        }
    }

    private void exact(Spec s, double nanFraction) {
        Result r = compare(TreeEnsembleModels.build(s), nanFraction, s.seed());
        assertEquals(0, r.inexact(), s + ": " + r.inexact() + " of " + r.compared() + " outputs differ, worst " + r.worst());
    }

    private void bounded(Spec s, double nanFraction) {
        Result r = compare(TreeEnsembleModels.build(s), nanFraction, s.seed());
        worstTransformed = Math.max(worstTransformed, r.worst());
        assertTrue(r.worst() <= 1e-5, s + ": worst relative difference " + r.worst() + " (" + r.inexact() + " of " + r.compared() + " differ)");
    }

    private static Spec regressor(int trees, long seed) {
        return Spec.regressor(trees, 8, 24, seed);
    }

    @Test
    void regressorsWithOneTargetAreBitForBitOnnxRuntimes() {
        exact(regressor(500, 1), 0);
        exact(regressor(300, 2).modes(ALL_MODES).baseValues(1), 0);
        exact(regressor(300, 3).modes(ALL_MODES).missingTracksTrue(0.3).baseValues(1), 0.1);
        exact(regressor(300, 4).modes("BRANCH_LT").missingTracksTrue(0.5), 0.2);
        // the packed walker's families, children swapped for GT and GTE, NaN sent by each node's own rule
        exact(regressor(300, 8).modes("BRANCH_LEQ", "BRANCH_GT").missingTracksTrue(0.4).baseValues(1), 0.2);
        exact(regressor(300, 9).modes("BRANCH_GTE", "BRANCH_LT").missingTracksTrue(0.4), 0.2);
        exact(regressor(300, 10).modes("BRANCH_GT"), 0.1);
        exact(regressor(300, 5).modes(ALL_MODES).aggregate("AVERAGE").baseValues(1), 0.05);
        exact(regressor(300, 6).modes(ALL_MODES).aggregate("MIN").baseValues(1).missingTracksTrue(0.2), 0.05);
        exact(regressor(300, 7).modes(ALL_MODES).aggregate("MAX"), 0.05);
        // one target: ONNX Runtime applies PROBIT only, LOGISTIC and SOFTMAX leave the score as it is
        exact(regressor(300, 8).aggregate("SUM").postTransform("LOGISTIC"), 0);
        exact(regressor(300, 9).aggregate("MAX").postTransform("SOFTMAX"), 0);
        bounded(regressor(300, 10).aggregate("AVERAGE").postTransform("PROBIT").positiveWeights(true), 0.05);
    }

    @Test
    void regressorsWithThreeTargetsAgreeWithOnnxRuntime() {
        for (String agg : new String[] {"SUM", "AVERAGE", "MIN", "MAX"}) {
            long seed = 20 + agg.length();
            exact(regressor(300, seed).targets(3).modes(ALL_MODES).missingTracksTrue(0.3).aggregate(agg).baseValues(3), 0.1);
            exact(regressor(300, seed + 100).targets(3).aggregate(agg), 0);
        }
        bounded(regressor(300, 31).targets(3).modes(ALL_MODES).postTransform("SOFTMAX").baseValues(3), 0.05);
        bounded(regressor(300, 32).targets(3).aggregate("AVERAGE").postTransform("LOGISTIC"), 0);
        bounded(regressor(300, 33).targets(3).aggregate("MIN").postTransform("SOFTMAX_ZERO").baseValues(3), 0);
        bounded(regressor(300, 34).targets(3).aggregate("AVERAGE").postTransform("PROBIT").positiveWeights(true), 0);
    }

    @Test
    void classifiersOfFiveClassesAgreeWithOnnxRuntime() {
        Spec c = regressor(300, 40).kind(Kind.CLASSIFIER).targets(5).modes(ALL_MODES).missingTracksTrue(0.3);
        exact(c, 0.1);
        exact(c.baseValues(5), 0.1);
        bounded(c.postTransform("SOFTMAX").baseValues(5), 0.05);
        bounded(c.postTransform("LOGISTIC"), 0.05);
        bounded(c.postTransform("SOFTMAX_ZERO"), 0);
    }

    @Test
    void twoClassClassifiersFollowOnnxRuntimesBinaryRules() {
        Spec two = regressor(300, 50).kind(Kind.CLASSIFIER).targets(2).modes(ALL_MODES);
        for (int base = 0; base <= 2; base++) {
            exact(two.baseValues(base), 0.05);                                             // votes for both classes
            exact(two.baseValues(base).oneClassWeights(true).positiveWeights(true), 0);    // the binary case, weights >= 0: 1 - p, p
            exact(two.baseValues(base).oneClassWeights(true), 0);                          // the binary case, mixed signs: -s, s
            bounded(two.baseValues(base).oneClassWeights(true).postTransform("LOGISTIC"), 0);
            bounded(two.baseValues(base).postTransform("LOGISTIC"), 0);
            bounded(two.baseValues(base).postTransform("SOFTMAX"), 0);
        }
    }

    @Test
    void treeEnsembleOfOpset5Agrees() {
        Spec v5 = regressor(300, 60).kind(Kind.TREE_ENSEMBLE).modes(ALL_MODES).missingTracksTrue(0.3);
        exact(v5, 0.1);
        exact(v5.aggregate("MAX").targets(3), 0.1);
        exact(v5.aggregate("AVERAGE").targets(3), 0.1);
        bounded(v5.targets(3).postTransform("SOFTMAX"), 0);
        bounded(v5.targets(3).postTransform("LOGISTIC"), 0);
        bounded(v5.aggregate("AVERAGE").postTransform("PROBIT").positiveWeights(true), 0);
        // ONNX Runtime 1.24 tests BRANCH_MEMBER natively and disagrees with the chain of BRANCH_EQ the specification describes
        String m = refused(TreeEnsembleModels.build(v5.modes("BRANCH_LEQ", "BRANCH_MEMBER"))).getMessage();
        assertTrue(m.contains("BRANCH_MEMBER") && m.contains("(ai.onnx.ml.TreeEnsemble)"), m);
    }

    @Test
    void aRunAllocatesNothing() {
        for (String variant : new String[] {"array", "packed", "bytecode"}) {
            ModelProto m = TreeEnsembleModels.build(regressor(300, 70).kind(Kind.CLASSIFIER).targets(5).modes(ALL_MODES).missingTracksTrue(0.2)
                    .postTransform("SOFTMAX"));
            try (JvmEngine e = JvmEngine.of("trees", m, TreeCompiler.compile(m, variant), JvmEngineOptions.defaults())) {
                Batch b = e.newBatch();
                b.input(TreeEnsembleModels.INPUT).reshape(1, 24);
                SplittableRandom r = new SplittableRandom(1);
                for (int i = 0; i < 24; i++) {
                    b.input(TreeEnsembleModels.INPUT).putFloat(i, TreeEnsembleModels.sample(r));
                }
                // blocks of 100,000 runs until the JIT has compiled the walk (SteadyState); one 16-byte object per run would be 1.6 MB
                long bytes = SteadyState.bytesPerBlock(() -> e.run(b), 100_000, 10_000, 40);
                assertTrue(bytes < 10_000, variant + ": heap bytes over 100,000 runs: " + bytes);
            }
        }
    }

    @Test
    void theBuiltInTreesAliasCompilesAndTheProviderTakesIt() {
        Path trees = ModelCatalog.resolve("trees");
        try (JvmEngine e = JvmEngine.open(trees)) {
            assertTrue(e.describe().contains("trees " + BuiltinModels.TREES_COUNT), e.describe());
            assertTrue(e.operationsPerRow() > 5 * BuiltinModels.TREES_COUNT && e.operationsPerRow() <= 8 * BuiltinModels.TREES_COUNT,
                    e.describe());
            assertEquals(List.of(BuiltinModels.TREES_FEATURES), List.of((int) e.inputs().getFirst().shape().dim(1)));
        }
        EngineProvider.Availability a = new JvmEngineProvider().availability(trees);
        assertTrue(a.usable(), a.reason());
    }

    /**
     * Every walker's comparisons at every edge of the float order,
     * thresholds and inputs alike (both zeros, NaN of either sign, infinities, the smallest
     * subnormals, the largest numbers, a value equal to its threshold), must send each row where
     * ONNX Runtime does, in every mode and with NaN routed either way. One stump per threshold, mode
     * and NaN side, each its own target (1 on the true side, 2 on the false), so every path shows.
     */
    @Test
    void theEdgesOfTheFloatOrderGoWhereOnnxRuntimeSendsThem() throws Exception {
        float[] edges = {-0f, 0f, Float.NaN, Float.intBitsToFloat(0xffc0_0000), Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY,
                Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1.5f, -1.5f, Math.nextUp(1.5f), Math.nextDown(-1.5f),
                Float.MAX_VALUE, -Float.MAX_VALUE};
        for (String[] family : new String[][] {{"BRANCH_LEQ", "BRANCH_GT"}, {"BRANCH_LT", "BRANCH_GTE"}}) {
            int stumps = 4 * edges.length;     // each threshold in both modes of the family, NaN routed to either side
            long[] treeIds = new long[3 * stumps];
            long[] nodeIds = new long[3 * stumps];
            long[] features = new long[3 * stumps];
            float[] values = new float[3 * stumps];
            String[] modes = new String[3 * stumps];
            long[] trues = new long[3 * stumps];
            long[] falses = new long[3 * stumps];
            long[] missing = new long[3 * stumps];
            long[] leafTrees = new long[2 * stumps];
            long[] targets = new long[2 * stumps];
            long[] leafNodes = new long[2 * stumps];
            float[] weights = new float[2 * stumps];
            for (int t = 0; t < stumps; t++) {
                for (int n = 0; n < 3; n++) {
                    treeIds[3 * t + n] = t;
                    nodeIds[3 * t + n] = n;
                    modes[3 * t + n] = "LEAF";
                }
                values[3 * t] = edges[t % edges.length];
                modes[3 * t] = family[t / edges.length % 2];
                trues[3 * t] = 1;
                falses[3 * t] = 2;
                missing[3 * t] = t / (2 * edges.length);
                for (int side = 0; side < 2; side++) {
                    leafTrees[2 * t + side] = t;
                    leafNodes[2 * t + side] = 1 + side;
                    targets[2 * t + side] = t;
                    weights[2 * t + side] = 1 + side;
                }
            }
            ModelProto m = new OnnxBuilder("edges", 17).opsetImport("ai.onnx.ml", 3).input("X", OnnxBuilder.FLOAT, "batch", 1)
                    .nodeInDomain("ai.onnx.ml", "TreeEnsembleRegressor", "X", "Y", "nodes_treeids", treeIds, "nodes_nodeids", nodeIds,
                            "nodes_featureids", features, "nodes_values", values, "nodes_modes", modes, "nodes_truenodeids", trues,
                            "nodes_falsenodeids", falses, "nodes_missing_value_tracks_true", missing, "target_treeids", leafTrees,
                            "target_nodeids", leafNodes, "target_ids", targets, "target_weights", weights, "n_targets", (long) stumps)
                    .output("Y", OnnxBuilder.FLOAT, "batch", stumps).build();
            Path f = OnnxBuilder.write(m, tmp.resolve("edges-" + family[0] + ".onnx"));
            for (String walker : new String[] {"packed", "array", "bytecode"}) {
                try (OrtCpuEngine ort = OrtCpuEngine.open(f, CpuEngineOptions.builder().maxBatchSize(64).intraOpThreads(1).build());
                     JvmEngine jvm = JvmEngine.of("edges", m, TreeCompiler.compile(m, walker), JvmEngineOptions.defaults())) {
                    assertTrue(TreeCompiler.compile(m, walker).describe().contains(walker));
                    for (int rows : new int[] {1, 8, edges.length}) {          // one at a time, eight rows of one tree, and the rest
                        Batch a = jvm.newBatch();
                        Batch b = ort.newBatch();
                        for (int start = 0; start < edges.length; start += rows) {
                            int n = Math.min(rows, edges.length - start);
                            a.input("X").reshape(n, 1);
                            b.input("X").reshape(n, 1);
                            for (int r = 0; r < n; r++) {
                                a.input("X").putFloat(r, edges[start + r]);
                                b.input("X").putFloat(r, edges[start + r]);
                            }
                            jvm.run(a);
                            ort.run(b);
                            for (int r = 0; r < n * stumps; r++) {
                                int t = r % stumps;
                                assertEquals(b.output("Y").getFloat(r), a.output("Y").getFloat(r), walker + " " + family[0] + " x=" + edges[start + r / stumps]
                                        + " (bits " + Integer.toHexString(Float.floatToRawIntBits(edges[start + r / stumps])) + ") against "
                                        + modes[3 * t] + " " + values[3 * t] + ", NaN to the true side " + missing[3 * t] + ", " + n + " rows");
                            }
                        }
                    }
                }
            }
        }
    }

    /** A NaN threshold compares false whatever the mode: a GT node with one is not the LEQ node with its children swapped. */
    @Test
    void greaterThanANaNThresholdIsFalseOnEveryWalker() {
        float nan = Float.NaN;
        ModelProto m = new OnnxBuilder("nan-thresholds", 17).opsetImport("ai.onnx.ml", 3).input("X", OnnxBuilder.FLOAT, "batch", 2)
                .nodeInDomain("ai.onnx.ml", "TreeEnsembleRegressor", "X", "Y",
                        "nodes_treeids", new long[] {0, 0, 0, 1, 1, 1, 2, 2, 2}, "nodes_nodeids", new long[] {0, 1, 2, 0, 1, 2, 0, 1, 2},
                        "nodes_featureids", new long[] {0, 0, 0, 1, 0, 0, 1, 0, 0},
                        "nodes_values", new float[] {nan, 0, 0, nan, 0, 0, 0.25f, 0, 0},
                        "nodes_modes", new String[] {"BRANCH_GT", "LEAF", "LEAF", "BRANCH_GT", "LEAF", "LEAF", "BRANCH_GT", "LEAF", "LEAF"},
                        "nodes_truenodeids", new long[] {1, 0, 0, 1, 0, 0, 1, 0, 0}, "nodes_falsenodeids", new long[] {2, 0, 0, 2, 0, 0, 2, 0, 0},
                        "nodes_missing_value_tracks_true", new long[] {0, 0, 0, 1, 0, 0, 1, 0, 0},
                        "target_treeids", new long[] {0, 0, 1, 1, 2, 2}, "target_nodeids", new long[] {1, 2, 1, 2, 1, 2},
                        "target_ids", new long[] {0, 0, 0, 0, 0, 0}, "target_weights", new float[] {1f, 2f, 10f, 20f, 100f, 200f},
                        "n_targets", 1L)
                .output("Y", OnnxBuilder.FLOAT, "batch", 1).build();
        assertTrue(TreeCompiler.compile(m, "auto").describe().contains(" packed]"), TreeCompiler.compile(m, "auto").describe());
        Result r = compare(m, 0.3, 77);
        assertEquals(0, r.inexact(), r.inexact() + " of " + r.compared() + " outputs differ, worst " + r.worst());
    }

    /** Tree ensembles have their own size threshold: a 1,000-tree ensemble is over the dense one but taken; 3,000 trees are not. */
    @Test
    void theProviderTakesTreeEnsemblesUpToTheirOwnThreshold() {
        EngineProvider.Availability thousand = new JvmEngineProvider().availability(OnnxBuilder.write(BuiltinModels.trees(1000, 8,
                BuiltinModels.TREES_FEATURES, 42), tmp.resolve("trees-1000.onnx")));
        assertTrue(thousand.usable(), thousand.reason());
        EngineProvider.Availability big = new JvmEngineProvider().availability(OnnxBuilder.write(BuiltinModels.trees(3000, 8,
                BuiltinModels.TREES_FEATURES, 42), tmp.resolve("trees-3000.onnx")));
        assertTrue(!big.usable() && big.reason().contains("exceed the small-model threshold") && big.reason().contains(
                Long.toString(JvmEngineProvider.MAX_TREE_BYTES)), big.reason());
    }

    private static HotpathException refused(ModelProto m) {
        HotpathException e = assertThrows(HotpathException.class, () -> JvmEngine.of("bad", m, JvmEngineOptions.defaults()));
        assertEquals(HotpathException.Category.UNSUPPORTED, e.category(), e.getMessage());
        return e;
    }

    private static ModelProto tiny(String op, int inputType, Object... extra) {
        List<Object> attrs = new ArrayList<>(List.of("nodes_treeids", new long[] {0, 0, 0}, "nodes_nodeids", new long[] {0, 1, 2},
                "nodes_featureids", new long[] {0, 0, 0}, "nodes_values", new float[] {0.5f, 0, 0},
                "nodes_modes", new String[] {"BRANCH_LEQ", "LEAF", "LEAF"}, "nodes_truenodeids", new long[] {1, 0, 0},
                "nodes_falsenodeids", new long[] {2, 0, 0}));
        boolean classifier = op.equals("TreeEnsembleClassifier");
        String p = classifier ? "class_" : "target_";
        attrs.addAll(List.of(p + "treeids", new long[] {0, 0}, p + "nodeids", new long[] {1, 2}, p + "ids", new long[] {0, 1},
                p + "weights", new float[] {1f, 2f}));
        if (classifier) {
            attrs.addAll(List.of("classlabels_int64s", new long[] {3, 4}));
        } else {
            attrs.addAll(List.of("n_targets", 2L));
        }
        for (Object o : extra) {
            attrs.add(o);
        }
        OnnxBuilder b = new OnnxBuilder("tiny", 17).opsetImport("ai.onnx.ml", 3).input("X", inputType, "batch", 2);
        if (classifier) {
            b.nodeInDomain("ai.onnx.ml", op, "X", "label,probabilities", attrs.toArray()).output("label", OnnxBuilder.INT64, "batch")
                    .output("probabilities", OnnxBuilder.FLOAT, "batch", 2);
        } else {
            b.nodeInDomain("ai.onnx.ml", op, "X", "Y", attrs.toArray()).output("Y", OnnxBuilder.FLOAT, "batch", 2);
        }
        return b.build();
    }

    @Test
    void whatTheEngineDoesNotCompileIsRefusedNamingTheNodeAndWhat() {
        assertEquals(2, JvmEngine.of("ok", tiny("TreeEnsembleRegressor", OnnxBuilder.FLOAT), JvmEngineOptions.defaults()).outputs().getFirst()
                .shape().dim(1));
        String m = refused(tiny("TreeEnsembleRegressor", OnnxBuilder.DOUBLE)).getMessage();
        assertTrue(m.contains("node 'TreeEnsembleRegressor_0' (ai.onnx.ml.TreeEnsembleRegressor)") && m.contains("float32"), m);
        m = refused(tiny("TreeEnsembleClassifier", OnnxBuilder.FLOAT, "classlabels_strings", new String[] {"a", "b"})).getMessage();
        assertTrue(m.contains("classlabels_strings"), m);
        m = refused(tiny("TreeEnsembleRegressor", OnnxBuilder.FLOAT, "unknown_attribute", 1L)).getMessage();
        assertTrue(m.contains("attribute 'unknown_attribute'"), m);
        m = refused(tiny("TreeEnsembleRegressor", OnnxBuilder.FLOAT, "aggregate_function", "MEDIAN")).getMessage();
        assertTrue(m.contains("MEDIAN"), m);
        ModelProto badMode = tiny("TreeEnsembleRegressor", OnnxBuilder.FLOAT).toBuilder().build();
        var node = badMode.getGraph().getNode(0).toBuilder();
        for (int i = 0; i < node.getAttributeCount(); i++) {
            if (node.getAttribute(i).getName().equals("nodes_modes")) {
                node.setAttribute(i, node.getAttribute(i).toBuilder().setStrings(0, com.google.protobuf.ByteString.copyFromUtf8("BRANCH_SOMETIMES")));
            }
        }
        ModelProto bad = badMode.toBuilder().setGraph(badMode.getGraph().toBuilder().setNode(0, node)).build();
        m = refused(bad).getMessage();
        assertTrue(m.contains("'BRANCH_SOMETIMES'"), m);
        ModelProto zipmap = new OnnxBuilder("zip", 17).opsetImport("ai.onnx.ml", 3).input("X", OnnxBuilder.FLOAT, "batch", 2)
                .nodeInDomain("ai.onnx.ml", "TreeEnsembleClassifier", "X", "label,probabilities", tiny("TreeEnsembleClassifier", OnnxBuilder.FLOAT)
                        .getGraph().getNode(0).getAttributeList().stream().flatMap(a -> java.util.stream.Stream.of(a.getName(), value(a))).toArray())
                .nodeInDomain("ai.onnx.ml", "ZipMap", "probabilities", "out", "classlabels_int64s", new long[] {3, 4})
                .output("label", OnnxBuilder.INT64, "batch").build();
        m = refused(zipmap).getMessage();
        assertTrue(m.contains("ZipMap"), m);
        assertThrows(HotpathException.class, () -> TreeCompiler.compile(tiny("TreeEnsembleRegressor", OnnxBuilder.FLOAT), "jit"));
    }

    private static Object value(io.hotpath.onnx.proto.Onnx.AttributeProto a) {
        return switch (a.getType()) {
            case INTS -> a.getIntsList().stream().mapToLong(Long::longValue).toArray();
            case FLOATS -> {
                float[] f = new float[a.getFloatsCount()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = a.getFloats(i);
                }
                yield f;
            }
            case STRINGS -> a.getStringsList().stream().map(com.google.protobuf.ByteString::toStringUtf8).toArray(String[]::new);
            default -> throw new IllegalArgumentException(a.getType().toString());
        };
    }
}
