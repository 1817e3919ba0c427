package io.hotpath.optimizer;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.onnx.WordPieceTokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * Variant selection: builds the variants of a model (graph optimization level × precision ×
 * calibration method), checks each against the float32 original on held-out inputs, times each
 * on ONNX Runtime (p50 at batch 1, throughput at batch 8), checks that a row's answer does not
 * depend on the rest of its batch, and picks the fastest variant within the accuracy budget.
 */
public final class Optimizer {
    /** What the model reads: sentences through a tokenizer (text models) or rows of one float input. */
    public sealed interface Data permits Text, Rows {
    }

    /** Sentences for a BERT-style model (inputs input_ids, attention_mask, token_type_ids). */
    public record Text(WordPieceTokenizer tokenizer, List<String> sentences) implements Data {
    }

    /** Rows of the model's single float input, each {@code width} values. */
    public record Rows(List<float[]> rows) implements Data {
    }

    /**
     * The accuracy budget: mean and minimum cosine similarity per output row, and optionally a
     * largest absolute error (for narrow outputs such as one score per row, where cosine says little).
     */
    public record Budget(double cosineMean, double cosineMin, double maxAbsErr) {
        public Budget(double cosineMean, double cosineMin) {
            this(cosineMean, cosineMin, Double.POSITIVE_INFINITY);
        }

        /** Parses {@code cosine>=0.99}, optionally {@code ,cosine_min>=0.97} (default 0.97) and {@code ,max_abs_err<=0.01}. */
        public static Budget parse(String s) {
            double mean = 0.99;
            double min = 0.97;
            double maxErr = Double.POSITIVE_INFINITY;
            for (String term : s.split(",")) {
                if (term.contains("<=")) {
                    String[] kv = term.trim().split("<=");
                    if (kv.length != 2 || !kv[0].trim().equals("max_abs_err")) {
                        throw HotpathException.invalidArgument("budget term '" + term + "': only max_abs_err<=VALUE takes <=");
                    }
                    try {
                        maxErr = Double.parseDouble(kv[1].trim());
                    } catch (NumberFormatException e) {
                        throw HotpathException.invalidArgument("budget value '" + kv[1] + "' is not a number");
                    }
                    continue;
                }
                String[] kv = term.trim().split(">=");
                if (kv.length != 2) {
                    throw HotpathException.invalidArgument("budget term '" + term + "' is not NAME>=VALUE (cosine>=0.99, cosine_min>=0.97)"
                            + " or max_abs_err<=VALUE");
                }
                double v;
                try {
                    v = Double.parseDouble(kv[1].trim());
                } catch (NumberFormatException e) {
                    throw HotpathException.invalidArgument("budget value '" + kv[1] + "' is not a number");
                }
                switch (kv[0].trim()) {
                    case "cosine", "cosine_mean" -> mean = v;
                    case "cosine_min" -> min = v;
                    default -> throw HotpathException.invalidArgument("unknown budget metric '" + kv[0] + "'; use cosine or cosine_min");
                }
            }
            return new Budget(mean, min, maxErr);
        }

        boolean holds(Accuracy a) {
            return a.within(cosineMean, cosineMin) && a.maxAbsErr() <= maxAbsErr;
        }

        @Override
        public String toString() {
            return "cosine>=" + cosineMean + ",cosine_min>=" + cosineMin + (Double.isInfinite(maxAbsErr) ? "" : ",max_abs_err<=" + maxAbsErr);
        }
    }

    /**
     * One measured variant. The speeds are medians over {@code rounds} interleaved rounds (every
     * variant timed once per round, in turn), with the lowest and highest round beside them.
     */
    public record Variant(String name, String precision, String calibration, Path file, Accuracy accuracy, double p50UsBatch1,
            double throughputPerSecondBatch8, boolean batchInvariant, double batchDependence, boolean passed,
            List<QdqQuantizer.KeptFloat> keptFloat, Speed speed) {
        public Variant {
            keptFloat = List.copyOf(keptFloat);
        }

        /** A variant timed once (no spread). */
        public Variant(String name, String precision, String calibration, Path file, Accuracy accuracy, double p50UsBatch1,
                double throughputPerSecondBatch8, boolean batchInvariant, double batchDependence, boolean passed,
                List<QdqQuantizer.KeptFloat> keptFloat) {
            this(name, precision, calibration, file, accuracy, p50UsBatch1, throughputPerSecondBatch8, batchInvariant, batchDependence,
                    passed, keptFloat, Speed.single(p50UsBatch1, throughputPerSecondBatch8));
        }

        Variant timed(Speed sp) {
            return new Variant(name, precision, calibration, file, accuracy, sp.p50Median(), sp.throughputMedian(), batchInvariant,
                    batchDependence, passed, keptFloat, sp);
        }
    }

    /** Interleaved timing of one variant: medians, and the lowest and highest of the rounds. */
    public record Speed(int rounds, double p50Median, double p50Min, double p50Max, double throughputMedian, double throughputMin,
            double throughputMax) {
        static Speed single(double p50, double throughput) {
            return new Speed(1, p50, p50, p50, throughput, throughput, throughput);
        }

        /** The throughput spread relative to the median, in percent. */
        public double throughputSpreadPercent() {
            return throughputMedian == 0 ? 0 : 100 * (throughputMax - throughputMin) / throughputMedian;
        }
    }

    /** All variants, the chosen one, peers measured the same way, and the graph passes that changed the model. */
    public record Report(String model, Budget budget, int seq, List<Variant> variants, Variant chosen, List<Variant> peers,
            Path calibrationStats, List<String> graphPasses, String cpu, CpuFeatures.Int8Scheme int8Scheme, int rounds) {
        /** A report without the CPU and timing facts (tests that build one by hand). */
        public Report(String model, Budget budget, int seq, List<Variant> variants, Variant chosen, List<Variant> peers,
                Path calibrationStats, List<String> graphPasses) {
            this(model, budget, seq, variants, chosen, peers, calibrationStats, graphPasses, CpuFeatures.detect().summary(),
                    CpuFeatures.detect().int8Scheme(), 1);
        }

        /** Why this INT8 scheme: the CPU's integer dot-product support. */
        public String int8SchemeReason() {
            return int8Scheme == CpuFeatures.Int8Scheme.U8S7
                    ? "7-bit weights (reduce range): this CPU has no VNNI/AMX int8 dot product, and ONNX Runtime's AVX2 u8 x s8 kernel "
                            + "saturates 16-bit sums of two 8-bit products"
                    : "8-bit weights: this CPU accumulates u8 x s8 products in 32 bits (VNNI or AMX)";
        }
    }

    /**
     * The model after Hotpath's transformer fusions ({@link AttentionFusion}, then
     * {@link SkipLayerNormFusion}), at opset 13 or later, and one line per pass that changed it.
     */
    public record Fused(OnnxModel model, List<String> passes) {
        public boolean changed() {
            return !passes.isEmpty();
        }
    }

    public static Fused fuseTransformer(OnnxModel model) {
        OnnxModel m = model.opset() < 13 ? OpsetUpgrade.to13(model) : model;
        List<String> passes = new ArrayList<>();
        AttentionFusion.Result a = AttentionFusion.fuse(m);
        if (!a.fused().isEmpty()) {
            m = OnnxModel.of(a.model());
            passes.add("attention fusion: " + a.fused().size() + " self-attention blocks -> com.microsoft.Attention"
                    + (a.skipped() > 0 ? " (" + a.skipped() + " Softmax blocks did not match and stay as they were)" : ""));
        }
        SkipLayerNormFusion.Result s = SkipLayerNormFusion.fuse(m);
        if (!s.fused().isEmpty()) {
            m = OnnxModel.of(s.model());
            passes.add("skip layer normalization: " + s.fused().size() + " (bias + residual + LayerNorm) -> com.microsoft.SkipLayerNormalization");
        }
        return new Fused(m, passes);
    }

    /**
     * Options: which precisions and methods, the benchmark's sequence length and run counts,
     * statistics to reuse, whether only batch-invariant variants may pass, and whether Hotpath's
     * transformer fusions (ONNX Runtime contrib operators: for engine-cpu) may be used; without
     * them every variant uses standard ONNX operators only (for TensorRT or another runtime).
     */
    public record Config(List<String> precisions, List<CalibrationStats.Method> methods, int seq, int benchRuns, Budget budget, Path reuseStats,
            boolean requireBatchInvariance, boolean transformerFusions, int rounds, CpuFeatures.Int8Scheme int8Scheme) {
        public Config {
            precisions = List.copyOf(precisions);
            methods = List.copyOf(methods);
            for (String p : precisions) {
                if (!List.of("fp32", "fp16", "int8").contains(p)) {
                    throw HotpathException.invalidArgument("precision '" + p + "' is not one of fp32, fp16, int8");
                }
            }
            if (precisions.isEmpty()) {
                throw HotpathException.invalidArgument("no precision to try: give at least one of fp32, fp16, int8");
            }
            if (seq < 1 || seq > 1 << 16) {
                throw HotpathException.invalidArgument("sequence length " + seq + " outside [1, 65536]");
            }
            if (benchRuns < 1 || benchRuns > 1_000_000) {
                throw HotpathException.invalidArgument("runs " + benchRuns + " outside [1, 1000000]");
            }
            if (rounds < 1 || rounds > 100) {
                throw HotpathException.invalidArgument("timing rounds " + rounds + " outside [1, 100]");
            }
            java.util.Objects.requireNonNull(budget, "budget");
            java.util.Objects.requireNonNull(int8Scheme, "int8Scheme");
        }

        public Config(List<String> precisions, List<CalibrationStats.Method> methods, int seq, int benchRuns, Budget budget, Path reuseStats,
                boolean requireBatchInvariance, boolean transformerFusions) {
            this(precisions, methods, seq, benchRuns, budget, reuseStats, requireBatchInvariance, transformerFusions, DEFAULT_ROUNDS,
                    CpuFeatures.detect().int8Scheme());
        }

        /** The same configuration with {@code n} interleaved timing rounds. */
        public Config withRounds(int n) {
            return new Config(precisions, methods, seq, benchRuns, budget, reuseStats, requireBatchInvariance, transformerFusions, n, int8Scheme);
        }

        /** The same configuration with INT8 weights stored per {@code scheme} (default: this CPU's). */
        public Config withInt8Scheme(CpuFeatures.Int8Scheme scheme) {
            return new Config(precisions, methods, seq, benchRuns, budget, reuseStats, requireBatchInvariance, transformerFusions, rounds, scheme);
        }

        public Config(List<String> precisions, List<CalibrationStats.Method> methods, int seq, int benchRuns, Budget budget, Path reuseStats,
                boolean requireBatchInvariance) {
            this(precisions, methods, seq, benchRuns, budget, reuseStats, requireBatchInvariance, true);
        }

        /** Calibrating afresh; only variants whose rows do not depend on their batch can pass. */
        public Config(List<String> precisions, List<CalibrationStats.Method> methods, int seq, int benchRuns, Budget budget) {
            this(precisions, methods, seq, benchRuns, budget, null, true, true);
        }

        public static Config defaults() {
            return new Config(List.of("fp32", "fp16", "int8"), List.of(CalibrationStats.Method.values()), 128, 30, new Budget(0.99, 0.97));
        }
    }

    /** Interleaved timing rounds by default (each variant timed once per round, in turn). */
    public static final int DEFAULT_ROUNDS = 5;

    private Optimizer() {
    }

    /** Builds, validates and times every variant of {@code model}, writing them under {@code outDir}. */
    public static Report run(Path model, String label, Data calibration, Data validation, List<Path> peerModels, Config cfg, Path outDir) {
        try {
            Files.createDirectories(outDir.resolve("variants"));
        } catch (java.io.IOException e) {
            throw HotpathException.invalidArgument("cannot create " + outDir + ": " + e.getMessage());
        }
        OnnxModel original = OnnxModel.load(model);
        float[][] reference = outputs(model, GraphOptimization.ALL, validation);
        List<Variant> variants = new ArrayList<>();
        Path statsFile = null;
        if (cfg.precisions().contains("fp32")) {
            variants.add(measure("fp32-opt-none", "fp32", "none", model, GraphOptimization.NONE, reference, validation, cfg));
            variants.add(measure("fp32", "fp32", "none", model, GraphOptimization.ALL, reference, validation, cfg));
        }
        if (cfg.precisions().contains("fp16")) {
            Path f = outDir.resolve("variants/fp16.onnx");
            OnnxModel.of(Fp16Converter.convert(original, Fp16Converter.Options.defaults()).model()).save(f);
            variants.add(measure("fp16", "fp16", "none", f, GraphOptimization.ALL, reference, validation, cfg));
        }
        Fused fused = cfg.transformerFusions() ? fuseTransformer(original)
                : new Fused(original.opset() < 13 ? OpsetUpgrade.to13(original) : original, List.of());
        if (fused.changed() && cfg.precisions().contains("fp32")) {
            Path f = outDir.resolve("variants/fp32-fused.onnx");
            fused.model().save(f);
            variants.add(measure("fp32-fused", "fp32", "none", f, GraphOptimization.ALL, reference, validation, cfg));
        }
        if (cfg.precisions().contains("int8")) {
            // static INT8 starts from the fused graph: its Attention nodes become QAttention (one integer QKV GEMM)
            OnnxModel base = fused.model();
            CalibrationStats stats = cfg.reuseStats() != null ? CalibrationStats.load(cfg.reuseStats())
                    : Calibrator.collect(base, QdqQuantizer.activationsToCalibrate(base, QdqQuantizer.Options.defaults(CalibrationStats.Method.MINMAX)),
                            feeds(calibration, original));
            statsFile = outDir.resolve("calibration-stats.txt");
            stats.save(statsFile);
            for (CalibrationStats.Method method : cfg.methods()) {
                String name = "int8-" + method.name().toLowerCase(Locale.ROOT);
                Path f = outDir.resolve("variants/" + name + ".onnx");
                QdqQuantizer.Result q = QdqQuantizer.quantize(base, stats, QdqQuantizer.Options.defaults(method).withScheme(cfg.int8Scheme()));
                OnnxModel.of(q.model()).save(f);
                variants.add(measure(name, "int8", method.name().toLowerCase(Locale.ROOT), f, GraphOptimization.ALL, reference, validation, cfg,
                        q.keptFloat()));
            }
            GeluFusion.Result approx = cfg.transformerFusions() ? GeluFusion.approximate(base) : new GeluFusion.Result(base.proto(), List.of());
            if (!approx.fused().isEmpty() && cfg.methods().contains(CalibrationStats.Method.MINMAX)) {
                // the tanh GELU is an approximation: a variant of its own, judged by the same budget
                Path f = outDir.resolve("variants/int8-minmax-fastgelu.onnx");
                QdqQuantizer.Result q = QdqQuantizer.quantize(OnnxModel.of(approx.model()), stats,
                        QdqQuantizer.Options.defaults(CalibrationStats.Method.MINMAX).withScheme(cfg.int8Scheme()));
                OnnxModel.of(q.model()).save(f);
                variants.add(measure("int8-minmax-fastgelu", "int8", "minmax, tanh GELU", f, GraphOptimization.ALL, reference, validation, cfg,
                        q.keptFloat()));
            }
            Path dyn = outDir.resolve("variants/int8-dynamic.onnx");
            OnnxModel.of(DynamicQuantizer.quantize(original).model()).save(dyn);
            variants.add(measure("int8-dynamic", "int8", "dynamic (weights only)", dyn, GraphOptimization.ALL, reference, validation, cfg));
        }
        List<Variant> peers = new ArrayList<>();
        for (Path p : peerModels) {
            String name = p.getFileName().toString().replace(".onnx", "");
            peers.add(measure(name, "int8 (dynamic)", "dynamic", p, GraphOptimization.ALL, reference, validation, cfg));
        }
        // every variant and peer timed in turn, round after round: a VM's drift over a minute is
        // larger than the differences being chosen between, and it hits all of them alike this way
        List<Variant> all = new ArrayList<>(variants);
        all.addAll(peers);
        List<Variant> timed = timeInterleaved(all, validation, cfg);
        List<Variant> tv = timed.subList(0, variants.size());
        List<Variant> tp = timed.subList(variants.size(), timed.size());
        return new Report(label, cfg.budget(), cfg.seq(), List.copyOf(tv), choose(tv), List.copyOf(tp), statsFile, fused.passes(),
                CpuFeatures.detect().summary(), cfg.int8Scheme(), cfg.rounds());
    }

    /**
     * The fastest variant within the budget (median throughput at batch 8). Variants whose
     * measured spread reaches the fastest one's (their best round at least its worst), or within
     * 3% of its median, count as equally fast: the difference is timing noise on a shared
     * machine. Among those the most accurate (highest mean cosine) wins. Null when none passed.
     */
    static Variant choose(List<Variant> variants) {
        Variant fastest = null;
        for (Variant v : variants) {
            if (v.passed() && (fastest == null || v.throughputPerSecondBatch8() > fastest.throughputPerSecondBatch8())) {
                fastest = v;
            }
        }
        if (fastest == null) {
            return null;
        }
        Variant chosen = null;
        for (Variant v : variants) {
            boolean tie = v.throughputPerSecondBatch8() >= 0.97 * fastest.throughputPerSecondBatch8()
                    || v.speed().throughputMax() >= fastest.speed().throughputMin();
            if (v.passed() && tie && (chosen == null || v.accuracy().cosineMean() > chosen.accuracy().cosineMean())) {
                chosen = v;
            }
        }
        return chosen;
    }

    /** A static INT8 (MinMax, Q/DQ, after the transformer fusions) version of {@code model} calibrated on {@code calibration}, written to {@code out}. */
    public static Path int8(Path model, Data calibration, Path out) {
        OnnxModel original = OnnxModel.load(model);
        OnnxModel base = fuseTransformer(original).model();
        QdqQuantizer.Options o = QdqQuantizer.Options.defaults(CalibrationStats.Method.MINMAX);   // this CPU's INT8 scheme
        CalibrationStats stats = Calibrator.collect(base, QdqQuantizer.activationsToCalibrate(base, o), feeds(calibration, original));
        OnnxModel.of(QdqQuantizer.quantize(base, stats, o).model()).save(out);
        return out;
    }

    private static Variant measure(String name, String precision, String calibration, Path file, GraphOptimization level, float[][] reference,
            Data validation, Config cfg) {
        return measure(name, precision, calibration, file, level, reference, validation, cfg, List.of());
    }

    private static Variant measure(String name, String precision, String calibration, Path file, GraphOptimization level, float[][] reference,
            Data validation, Config cfg, List<QdqQuantizer.KeptFloat> keptFloat) {
        float[][] got = outputs(file, level, validation);
        Accuracy a = Accuracy.compare(reference, got);
        double dependence = batchDependence(file, level, validation);
        boolean invariant = dependence <= 1e-5;
        // a row whose answer moves with the rest of its batch breaks dynamic batching and exact caching: not eligible unless allowed
        boolean passed = cfg.budget().holds(a) && (invariant || !cfg.requireBatchInvariance());
        // timed later, interleaved with every other variant (timeInterleaved)
        return new Variant(name, precision, calibration, file, a, 0, 0, invariant, dependence, passed, keptFloat);
    }

    /** The graph optimization level a variant runs at: the unoptimized FP32 baseline runs at NONE, every other at ALL. */
    private static GraphOptimization levelOf(Variant v) {
        return v.name().endsWith("-opt-none") ? GraphOptimization.NONE : GraphOptimization.ALL;
    }

    private static OrtCpuEngine open(Path file, GraphOptimization level, int batch, int seq) {
        return OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(level).maxBatchSize(batch).defaultMaxDimension(seq).build());
    }

    /** One output row per validation sample: text models' mean-pooled first output, other models' first output row. */
    static float[][] outputs(Path file, GraphOptimization level, Data data) {
        if (data instanceof Text t) {
            float[][] out = new float[t.sentences().size()][];
            try (OrtCpuEngine e = open(file, level, 1, 128)) {
                Batch b = e.newBatch();
                for (int s = 0; s < out.length; s++) {
                    int n = fillText(b, t.tokenizer(), List.of(t.sentences().get(s)), -1);
                    e.run(b);
                    Tensor h = b.output(0);
                    int width = (int) (h.elementCount() / n);
                    out[s] = new float[width];
                    for (int tok = 0; tok < n; tok++) {
                        for (int d = 0; d < width; d++) {
                            out[s][d] += h.getAsFloat((long) tok * width + d) / n;
                        }
                    }
                }
            }
            return out;
        }
        Rows r = (Rows) data;
        float[][] out = new float[r.rows().size()][];
        try (OrtCpuEngine e = open(file, level, 1, 1)) {
            Batch b = e.newBatch();
            for (int i = 0; i < out.length; i++) {
                fillRows(b, r.rows().subList(i, i + 1));
                e.run(b);
                Tensor y = b.output(0);
                out[i] = new float[(int) y.elementCount()];
                for (int k = 0; k < out[i].length; k++) {
                    out[i][k] = y.getAsFloat(k);
                }
            }
        }
        return out;
    }

    /** Largest difference between rows run alone and the same rows in one batch of (up to) 8. */
    static double batchDependence(Path file, GraphOptimization level, Data data) {
        int rows = 8;
        int seq = 32;
        try (OrtCpuEngine e = open(file, level, rows, seq)) {
            Batch b = e.newBatch();
            if (data instanceof Text t) {
                List<String> s = t.sentences().subList(0, Math.min(rows, t.sentences().size()));
                fillText(b, t.tokenizer(), s, seq);
                e.run(b);
                float[] all = floats(b.output(0));
                int per = all.length / s.size();
                double max = 0;
                for (int r = 0; r < s.size(); r++) {
                    fillText(b, t.tokenizer(), List.of(s.get(r)), seq);
                    e.run(b);
                    float[] one = floats(b.output(0));
                    for (int i = 0; i < per; i++) {
                        max = Math.max(max, Math.abs(one[i] - all[r * per + i]));
                    }
                }
                return max;
            }
            List<float[]> s = ((Rows) data).rows().subList(0, Math.min(rows, ((Rows) data).rows().size()));
            fillRows(b, s);
            e.run(b);
            float[] all = floats(b.output(0));
            int per = all.length / s.size();
            double max = 0;
            for (int r = 0; r < s.size(); r++) {
                fillRows(b, s.subList(r, r + 1));
                e.run(b);
                float[] one = floats(b.output(0));
                for (int i = 0; i < per; i++) {
                    max = Math.max(max, Math.abs(one[i] - all[r * per + i]));
                }
            }
            return max;
        }
    }

    /**
     * Times every variant at batch 1 (p50) and batch 8 (rows per second), interleaved: each round
     * times each variant once, in turn (A B C, A B C, ...), and a variant's figures are the medians
     * of its rounds, with their lowest and highest. Each turn first runs a few unmeasured warm-up
     * runs, which also absorb the previous engine's thread pool winding down. Engines stay open
     * across rounds.
     */
    static List<Variant> timeInterleaved(List<Variant> variants, Data data, Config cfg) {
        int n = variants.size();
        int rounds = cfg.rounds();
        // the measured runs per turn: the old single-shot minimum spread over the rounds, at least 3
        int runsPerTurn = Math.max(3, (cfg.benchRuns() + rounds - 1) / rounds);
        long turnNanos = Math.max(100_000_000L, 500_000_000L / rounds);
        OrtCpuEngine[][] engines = new OrtCpuEngine[n][2];
        Batch[][] batches = new Batch[n][2];
        int[] sizes = {1, 8};
        double[][][] results = new double[n][2][rounds];
        try {
            for (int v = 0; v < n; v++) {
                GraphOptimization level = levelOf(variants.get(v));
                for (int k = 0; k < 2; k++) {
                    engines[v][k] = open(variants.get(v).file(), level, sizes[k], cfg.seq());
                    batches[v][k] = engines[v][k].newBatch();
                    fillRandom(batches[v][k], sizes[k], cfg.seq(), 17);
                    engines[v][k].run(batches[v][k]);     // first run: allocations, kernel choice
                }
            }
            for (int round = 0; round < rounds; round++) {
                for (int v = 0; v < n; v++) {
                    for (int k = 0; k < 2; k++) {
                        results[v][k][round] = timeTurn(engines[v][k], batches[v][k], sizes[k], k == 0, runsPerTurn, turnNanos);
                    }
                }
            }
        } finally {
            for (OrtCpuEngine[] pair : engines) {
                for (OrtCpuEngine e : pair) {
                    if (e != null) {
                        e.close();
                    }
                }
            }
        }
        List<Variant> out = new ArrayList<>(n);
        for (int v = 0; v < n; v++) {
            double[] p50 = results[v][0].clone();
            double[] thr = results[v][1].clone();
            java.util.Arrays.sort(p50);
            java.util.Arrays.sort(thr);
            out.add(variants.get(v).timed(new Speed(rounds, median(p50), p50[0], p50[rounds - 1], median(thr), thr[0], thr[rounds - 1])));
        }
        return out;
    }

    private static double median(double[] sorted) {
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    /** One turn: warm-up, then at least {@code runs} runs and {@code nanos}; p50 microseconds, or rows per second. */
    private static double timeTurn(OrtCpuEngine e, Batch b, int rows, boolean latency, int runs, long nanos) {
        long warmEnd = System.nanoTime() + 20_000_000L;
        for (int i = 0; i < 2 || System.nanoTime() < warmEnd; i++) {
            e.run(b);
        }
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        long start = System.nanoTime();
        long end = start + nanos;
        int n = 0;
        while (n < runs || System.nanoTime() < end) {
            long t0 = System.nanoTime();
            e.run(b);
            h.recordValue(System.nanoTime() - t0);
            n++;
        }
        long wall = System.nanoTime() - start;
        return latency ? h.getValueAtPercentile(50) / 1e3 : (double) rows * n / (wall / 1e9);
    }

    private static float[] floats(Tensor t) {
        float[] f = new float[(int) t.elementCount()];
        for (int i = 0; i < f.length; i++) {
            f[i] = t.getAsFloat(i);
        }
        return f;
    }

    /** Fills a text batch; {@code seq < 0}: the one sentence at its own length. Returns the sequence length used. */
    static int fillText(Batch b, WordPieceTokenizer tok, List<String> sentences, int seq) {
        int[][] ids = new int[sentences.size()][];
        int len = seq;
        for (int r = 0; r < ids.length; r++) {
            ids[r] = tok.encode(sentences.get(r), seq < 0 ? 128 : seq);
            if (seq < 0) {
                len = ids[r].length;
            }
        }
        for (TensorSpec spec : List.of(b.input("input_ids").spec(), b.input("attention_mask").spec())) {
            if (spec.dtype() != DType.INT64) {
                throw HotpathException.invalidArgument("text models need int64 " + spec.name());
            }
        }
        Tensor in = b.input("input_ids").reshape(ids.length, len);
        Tensor mask = b.input("attention_mask").reshape(ids.length, len);
        Tensor types = b.input("token_type_ids").reshape(ids.length, len);
        for (int r = 0; r < ids.length; r++) {
            for (int c = 0; c < len; c++) {
                boolean real = c < ids[r].length;
                in.putLong((long) r * len + c, real ? ids[r][c] : 0);
                mask.putLong((long) r * len + c, real ? 1 : 0);
                types.putLong((long) r * len + c, 0);
            }
        }
        return len;
    }

    static void fillRows(Batch b, List<float[]> rows) {
        Tensor in = b.input(0);
        long[] shape = in.spec().shape().toArray();
        shape[0] = rows.size();
        in = in.reshape(shape);
        int width = rows.get(0).length;
        for (int r = 0; r < rows.size(); r++) {
            for (int i = 0; i < width; i++) {
                in.putFloat((long) r * width + i, rows.get(r)[i]);
            }
        }
    }

    /** Random valid inputs: token ids below 30522 with full masks, or uniform floats in [-1, 1). */
    static void fillRandom(Batch b, int rows, int seq, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < b.inputCount(); i++) {
            Tensor t = b.input(i);
            long[] shape = t.spec().shape().toArray();
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0) {
                    shape[d] = d == 0 ? rows : seq;
                }
            }
            t = t.reshape(shape);
            long n = t.elementCount();
            String name = t.name();
            for (long k = 0; k < n; k++) {
                switch (t.dtype()) {
                    case INT64 -> t.putLong(k, name.contains("mask") ? 1 : name.contains("type") ? 0 : r.nextLong(30522));
                    case FLOAT32 -> t.putFloat(k, (float) r.nextDouble(-1, 1));
                    default -> throw HotpathException.invalidArgument("random inputs of type " + t.dtype() + " are not supported");
                }
            }
        }
    }

    /** Calibration feeds: one sentence (natural length) or one row per sample. */
    static List<List<Calibrator.Feed>> feeds(Data data, OnnxModel model) {
        List<List<Calibrator.Feed>> out = new ArrayList<>();
        if (data instanceof Text t) {
            for (String s : t.sentences()) {
                int[] ids = t.tokenizer().encode(s, 128);
                ByteBuffer bi = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer bm = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (int id : ids) {
                    bi.putLong(id);
                    bm.putLong(1);
                }
                long[] dims = {1, ids.length};
                out.add(List.of(new Calibrator.Feed("input_ids", 7, dims, bi.array()), new Calibrator.Feed("attention_mask", 7, dims, bm.array()),
                        new Calibrator.Feed("token_type_ids", 7, dims, new byte[ids.length * 8])));
            }
            return out;
        }
        String input = model.graph().getInput(0).getName();
        for (float[] row : ((Rows) data).rows()) {
            ByteBuffer b = ByteBuffer.allocate(row.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : row) {
                b.putFloat(f);
            }
            long[] dims = model.graph().getInput(0).getType().getTensorType().getShape().getDimList().stream()
                    .mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1).toArray();
            dims[0] = 1;
            out.add(List.of(new Calibrator.Feed(input, 1, dims, b.array())));
        }
        return out;
    }
}
