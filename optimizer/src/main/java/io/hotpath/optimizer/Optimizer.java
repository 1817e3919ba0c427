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
import java.util.Set;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * Variant selection: builds the variants of a model (graph optimization level × precision ×
 * calibration method), checks each against the float32 original on held-out inputs, times each
 * on ONNX Runtime (p50 at batch 1, throughput at batch 8), checks that a row's answer does not
 * depend on the rest of its batch, and picks the fastest variant within the accuracy budget.
 */
public final class Optimizer {
    /** What the model reads: sentences through a tokenizer (text models), rows of one float input, or complete samples of every input. */
    public sealed interface Data permits Text, Rows, Samples {
    }

    /** Sentences for a BERT-style model (inputs input_ids, attention_mask, token_type_ids). */
    public record Text(WordPieceTokenizer tokenizer, List<String> sentences) implements Data {
    }

    /** Rows of the model's single float input, each {@code width} values. */
    public record Rows(List<float[]> rows) implements Data {
    }

    /**
     * Samples for any model: each feeds every input its element type, shape and bytes (one run
     * each). Samples of one row each whose inputs agree in shape also run stacked, as a batch,
     * where the model batches on dimension 0; a sample's answer is all its outputs, one after the other.
     */
    public record Samples(List<List<Calibrator.Feed>> samples) implements Data {
        public Samples {
            if (samples.isEmpty()) {
                throw HotpathException.invalidArgument("no samples: the optimizer needs at least one input sample");
            }
            samples = List.copyOf(samples);
        }
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

        /** Whether {@code a} is within this budget. */
        public boolean holds(Accuracy a) {
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

    /** A variant that could not be built or measured, and why, in one line. */
    public record Skipped(String name, String reason) {
        static Skipped of(String name, RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName()
                    : (e instanceof HotpathException || e instanceof NotApplicable ? "" : e.getClass().getSimpleName() + ": ") + e.getMessage();
            return new Skipped(name, m.strip().replaceAll("\\s*\\R\\s*", " "));
        }
    }

    /**
     * All variants, the chosen one, peers measured the same way, the graph passes that changed the
     * model, the variants that could not be built (and why), and the rows per run of the throughput
     * timing: 8, or 1 where the model runs one sample at a time (no batch dimension 0, or samples that do not stack).
     */
    public record Report(String model, Budget budget, int seq, List<Variant> variants, Variant chosen, List<Variant> peers,
            Path calibrationStats, List<String> graphPasses, String cpu, CpuFeatures.Int8Scheme int8Scheme, int rounds,
            List<Skipped> skipped, int throughputBatch) {
        public Report {
            skipped = List.copyOf(skipped);
        }

        /** A report without the CPU and timing facts (tests that build one by hand). */
        public Report(String model, Budget budget, int seq, List<Variant> variants, Variant chosen, List<Variant> peers,
                Path calibrationStats, List<String> graphPasses) {
            this(model, budget, seq, variants, chosen, peers, calibrationStats, graphPasses, CpuFeatures.detect().summary(),
                    CpuFeatures.detect().int8Scheme(), 1, List.of(), TIMING_BATCH);
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

    /** Rows per run of the throughput timing and of the batch-invariance check. */
    static final int TIMING_BATCH = 8;

    private Optimizer() {
    }

    /**
     * Builds, validates and times every variant of {@code model}, writing them under {@code outDir}.
     * A variant that cannot be built or run (an operator without a float16 kernel, a graph the
     * quantizer cannot handle, calibration that fails) is left out and named in
     * {@link Report#skipped()} with its reason; the original model itself must run (its failure is thrown).
     */
    public static Report run(Path model, String label, Data calibration, Data validation, List<Path> peerModels, Config cfg, Path outDir) {
        try {
            Files.createDirectories(outDir.resolve("variants"));
        } catch (java.io.IOException e) {
            throw HotpathException.invalidArgument("cannot create " + outDir + ": " + e.getMessage());
        }
        OnnxModel original = OnnxModel.load(model);
        Data cal = samplesOf(calibration, original);
        Data val = samplesOf(validation, original);
        float[][] reference = outputs(model, GraphOptimization.ALL, val);
        List<Variant> variants = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        Path statsFile = null;
        if (cfg.precisions().contains("fp32")) {
            attempt("fp32-opt-none", variants, skipped, () -> measure("fp32-opt-none", "fp32", "none", model, GraphOptimization.NONE, reference, val, cfg));
            attempt("fp32", variants, skipped, () -> measure("fp32", "fp32", "none", model, GraphOptimization.ALL, reference, val, cfg));
        }
        if (cfg.precisions().contains("fp16")) {
            attempt("fp16", variants, skipped, () -> {
                Path f = outDir.resolve("variants/fp16.onnx");
                Fp16Converter.Result h = Fp16Converter.convert(original, Fp16Converter.Options.defaults());
                if (h.convertedInitializers() == 0 && h.casts() == 0) {
                    throw new NotApplicable("nothing to convert: every float operator of the main graph is kept in float32 ("
                            + h.blockedNodeTypes() + ") and subgraphs are not converted");
                }
                OnnxModel.of(h.model()).save(f);
                return measure("fp16", "fp16", "none", f, GraphOptimization.ALL, reference, val, cfg);
            });
        }
        Fused fused;
        try {
            fused = cfg.transformerFusions() ? fuseTransformer(original)
                    : new Fused(original.opset() < 13 ? OpsetUpgrade.to13(original) : original, List.of());
        } catch (RuntimeException e) {
            // the graph passes cannot read this model: the static INT8 variants start from it as it is
            skipped.add(Skipped.of("fp32-fused", e));
            fused = new Fused(original, List.of());
        }
        if (fused.changed() && cfg.precisions().contains("fp32")) {
            OnnxModel m = fused.model();
            attempt("fp32-fused", variants, skipped, () -> {
                Path f = outDir.resolve("variants/fp32-fused.onnx");
                m.save(f);
                return measure("fp32-fused", "fp32", "none", f, GraphOptimization.ALL, reference, val, cfg);
            });
        }
        if (cfg.precisions().contains("int8")) {
            // static INT8 starts from the fused graph: its Attention nodes become QAttention (one integer QKV GEMM)
            OnnxModel base = fused.model();
            CalibrationStats stats = null;
            Set<String> activations = QdqQuantizer.activationsToCalibrate(base, QdqQuantizer.Options.defaults(CalibrationStats.Method.MINMAX));
            if (activations.isEmpty()) {
                for (CalibrationStats.Method method : cfg.methods()) {
                    skipped.add(new Skipped("int8-" + method.name().toLowerCase(Locale.ROOT), "nothing to quantize: no " + new java.util.TreeSet<>(QdqQuantizer.DEFAULT_OP_TYPES)
                            + " node with a float32 weight initializer in the main graph (subgraphs are not quantized)"));
                }
            } else {
                try {
                    stats = cfg.reuseStats() != null ? CalibrationStats.load(cfg.reuseStats()) : Calibrator.collect(base, activations, feeds(cal, original));
                    statsFile = outDir.resolve("calibration-stats.txt");
                    stats.save(statsFile);
                } catch (RuntimeException e) {
                    for (CalibrationStats.Method method : cfg.methods()) {
                        Skipped why = Skipped.of("int8-" + method.name().toLowerCase(Locale.ROOT), e);
                        skipped.add(new Skipped(why.name(), "calibration failed: " + why.reason()));
                    }
                }
            }
            for (CalibrationStats.Method method : stats == null ? List.<CalibrationStats.Method>of() : cfg.methods()) {
                String name = "int8-" + method.name().toLowerCase(Locale.ROOT);
                CalibrationStats st = stats;
                attempt(name, variants, skipped, () -> {
                    Path f = outDir.resolve("variants/" + name + ".onnx");
                    QdqQuantizer.Result q = QdqQuantizer.quantize(base, st, QdqQuantizer.Options.defaults(method).withScheme(cfg.int8Scheme()));
                    OnnxModel.of(q.model()).save(f);
                    return measure(name, "int8", method.name().toLowerCase(Locale.ROOT), f, GraphOptimization.ALL, reference, val, cfg, q.keptFloat());
                });
            }
            GeluFusion.Result approx = cfg.transformerFusions() && stats != null ? GeluFusion.approximate(base) : new GeluFusion.Result(base.proto(), List.of());
            if (!approx.fused().isEmpty() && cfg.methods().contains(CalibrationStats.Method.MINMAX)) {
                // the tanh GELU is an approximation: a variant of its own, judged by the same budget
                CalibrationStats st = stats;
                attempt("int8-minmax-fastgelu", variants, skipped, () -> {
                    Path f = outDir.resolve("variants/int8-minmax-fastgelu.onnx");
                    QdqQuantizer.Result q = QdqQuantizer.quantize(OnnxModel.of(approx.model()), st,
                            QdqQuantizer.Options.defaults(CalibrationStats.Method.MINMAX).withScheme(cfg.int8Scheme()));
                    OnnxModel.of(q.model()).save(f);
                    return measure("int8-minmax-fastgelu", "int8", "minmax, tanh GELU", f, GraphOptimization.ALL, reference, val, cfg, q.keptFloat());
                });
            }
            attempt("int8-dynamic", variants, skipped, () -> {
                Path dyn = outDir.resolve("variants/int8-dynamic.onnx");
                DynamicQuantizer.Result d = DynamicQuantizer.quantize(original);
                if (d.quantizedNodes().isEmpty()) {
                    throw new NotApplicable("nothing to quantize: no MatMul with a float32 weight initializer in the main graph "
                            + "(subgraphs are not quantized)");
                }
                OnnxModel.of(d.model()).save(dyn);
                return measure("int8-dynamic", "int8", "dynamic (weights only)", dyn, GraphOptimization.ALL, reference, val, cfg);
            });
        }
        List<Variant> peers = new ArrayList<>();
        for (Path p : peerModels) {
            String name = p.getFileName().toString().replace(".onnx", "");
            attempt(name, peers, skipped, () -> measure(name, "int8 (dynamic)", "dynamic", p, GraphOptimization.ALL, reference, val, cfg));
        }
        // every variant and peer timed in turn, round after round: a VM's drift over a minute is
        // larger than the differences being chosen between, and it hits all of them alike this way
        List<Variant> all = new ArrayList<>(variants);
        all.addAll(peers);
        int throughputRows = timingRows(model, val);
        List<Variant> timed = timeInterleaved(all, val, cfg, throughputRows);
        List<Variant> tv = timed.subList(0, variants.size());
        List<Variant> tp = timed.subList(variants.size(), timed.size());
        return new Report(label, cfg.budget(), cfg.seq(), List.copyOf(tv), choose(tv), List.copyOf(tp), statsFile, fused.passes(),
                CpuFeatures.detect().summary(), cfg.int8Scheme(), cfg.rounds(), skipped, throughputRows);
    }

    /** A variant that would be the original model again (nothing for its pass to change): left out, with the reason. */
    private static final class NotApplicable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotApplicable(String why) {
            super(why, null, false, false);
        }
    }

    /** Builds and measures one variant; a failure leaves it out, named in {@code skipped} with its reason. */
    private static void attempt(String name, List<Variant> into, List<Skipped> skipped, java.util.function.Supplier<Variant> build) {
        try {
            into.add(build.get());
        } catch (RuntimeException e) {
            skipped.add(Skipped.of(name, e));
        }
    }

    /** Row data as samples of the model's input; sentences and samples as they are. */
    static Data samplesOf(Data d, OnnxModel model) {
        return d instanceof Rows r ? SampleFeeds.fromRows(r, model) : d;
    }

    /** Rows per run of the throughput timing: {@link #TIMING_BATCH}, or 1 when the samples cannot run stacked on this model. */
    static int timingRows(Path file, Data data) {
        if (data instanceof Text) {
            return TIMING_BATCH;
        }
        List<List<Calibrator.Feed>> s = stack(((Samples) data).samples(), TIMING_BATCH);
        if (!SampleFeeds.stackable(s, TIMING_BATCH)) {
            return 1;
        }
        try (OrtCpuEngine e = open(file, GraphOptimization.ALL, TIMING_BATCH, SampleFeeds.maxDim(s))) {
            return e.maxBatchSize() >= TIMING_BATCH ? TIMING_BATCH : 1;
        }
    }

    /** The first {@code rows} samples, repeated when there are fewer. */
    private static List<List<Calibrator.Feed>> stack(List<List<Calibrator.Feed>> samples, int rows) {
        List<List<Calibrator.Feed>> out = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            out.add(samples.get(i % samples.size()));
        }
        return out;
    }

    /**
     * The fastest variant within the budget (median throughput at batch 8). Variants whose
     * measured spread reaches the fastest one's (their best round at least its worst), or within
     * 3% of its median, count as equally fast: the difference is timing noise on a shared
     * machine. Among those the most accurate (highest mean cosine) wins. Null when none passed.
     */
    public static Variant choose(List<Variant> variants) {
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
        boolean invariant = Double.isNaN(dependence) || dependence <= 1e-5;   // NaN: one sample per run, nothing to depend on
        // a row whose answer moves with the rest of its batch breaks dynamic batching and exact caching: not eligible unless allowed
        boolean passed = cfg.budget().holds(a) && (invariant || !cfg.requireBatchInvariance());
        // timed later, interleaved with every other variant (timeInterleaved)
        return new Variant(name, precision, calibration, file, a, 0, 0, invariant, dependence, passed, keptFloat);
    }

    /** The graph optimization level a variant runs at: the unoptimized FP32 baseline runs at NONE, every other at ALL. */
    private static GraphOptimization levelOf(Variant v) {
        return v.name().endsWith("-opt-none") ? GraphOptimization.NONE : GraphOptimization.ALL;
    }

    private static OrtCpuEngine open(Path file, GraphOptimization level, int batch, long maxDimension) {
        return OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(level).maxBatchSize(batch).defaultMaxDimension(maxDimension).build());
    }

    /** One output row per validation sample: text models' mean-pooled first output, other models' outputs, one after the other. */
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
        List<List<Calibrator.Feed>> samples = ((Samples) data).samples();
        float[][] out = new float[samples.size()][];
        try (OrtCpuEngine e = open(file, level, SampleFeeds.maxRows(samples), SampleFeeds.maxDim(samples))) {
            Batch b = e.newBatch();
            for (int i = 0; i < out.length; i++) {
                SampleFeeds.feed(b, samples.subList(i, i + 1));
                e.run(b);
                out[i] = SampleFeeds.row(b, 0, 1);
            }
        }
        return out;
    }

    /**
     * Largest difference between rows run alone and the same rows in one batch of (up to) 8; NaN
     * when the samples cannot run as one batch (the model has no batch dimension 0, or they differ in shape).
     */
    static double batchDependence(Path file, GraphOptimization level, Data data) {
        int rows = TIMING_BATCH;
        if (data instanceof Text t) {
            int seq = 32;
            try (OrtCpuEngine e = open(file, level, rows, seq)) {
                Batch b = e.newBatch();
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
        }
        List<List<Calibrator.Feed>> all = ((Samples) data).samples();
        List<List<Calibrator.Feed>> s = all.subList(0, Math.min(rows, all.size()));
        if (!SampleFeeds.stackable(s, rows)) {
            return Double.NaN;      // one sample per run: nothing for a row to depend on
        }
        try (OrtCpuEngine e = open(file, level, rows, SampleFeeds.maxDim(s))) {
            if (e.maxBatchSize() < s.size()) {
                return Double.NaN;
            }
            Batch b = e.newBatch();
            SampleFeeds.feed(b, s);
            e.run(b);
            float[][] together = new float[s.size()][];
            for (int r = 0; r < s.size(); r++) {
                together[r] = SampleFeeds.row(b, r, s.size());
                if (together[r] == null) {
                    return Double.NaN;   // an output without the batch in dimension 0: rows cannot be told apart
                }
            }
            double max = 0;
            for (int r = 0; r < s.size(); r++) {
                SampleFeeds.feed(b, s.subList(r, r + 1));
                e.run(b);
                float[] one = SampleFeeds.row(b, 0, 1);
                for (int i = 0; i < one.length; i++) {
                    max = Math.max(max, Math.abs(one[i] - together[r][i]));
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
    static List<Variant> timeInterleaved(List<Variant> variants, Data data, Config cfg, int throughputRows) {
        int n = variants.size();
        int rounds = cfg.rounds();
        // the measured runs per turn: the old single-shot minimum spread over the rounds, at least 3
        int runsPerTurn = Math.max(3, (cfg.benchRuns() + rounds - 1) / rounds);
        long turnNanos = Math.max(100_000_000L, 500_000_000L / rounds);
        OrtCpuEngine[][] engines = new OrtCpuEngine[n][2];
        Batch[][] batches = new Batch[n][2];
        int[] sizes = {1, throughputRows};
        double[][][] results = new double[n][2][rounds];
        try {
            for (int v = 0; v < n; v++) {
                GraphOptimization level = levelOf(variants.get(v));
                for (int k = 0; k < 2; k++) {
                    if (data instanceof Samples s) {
                        // the validation samples themselves: one alone, and the first rows stacked (timingRows says they stack)
                        List<List<Calibrator.Feed>> feed = sizes[k] == 1 ? s.samples().subList(0, 1) : stack(s.samples(), sizes[k]);
                        engines[v][k] = open(variants.get(v).file(), level, Math.max(sizes[k], SampleFeeds.maxRows(feed)), SampleFeeds.maxDim(feed));
                        batches[v][k] = engines[v][k].newBatch();
                        SampleFeeds.feed(batches[v][k], feed);
                    } else {
                        engines[v][k] = open(variants.get(v).file(), level, sizes[k], cfg.seq());
                        batches[v][k] = engines[v][k].newBatch();
                        fillRandom(batches[v][k], sizes[k], cfg.seq(), 17);
                    }
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
        Tensor types = hasInput(b, "token_type_ids") ? b.input("token_type_ids").reshape(ids.length, len) : null;   // DistilBERT has none
        for (int r = 0; r < ids.length; r++) {
            for (int c = 0; c < len; c++) {
                boolean real = c < ids[r].length;
                in.putLong((long) r * len + c, real ? ids[r][c] : 0);
                mask.putLong((long) r * len + c, real ? 1 : 0);
                if (types != null) {
                    types.putLong((long) r * len + c, 0);
                }
            }
        }
        return len;
    }

    private static boolean hasInput(Batch b, String name) {
        for (int i = 0; i < b.inputCount(); i++) {
            if (b.input(i).name().equals(name)) {
                return true;
            }
        }
        return false;
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

    /** Calibration feeds: one sentence (natural length) per sample, or the samples (rows as samples of the one input). */
    static List<List<Calibrator.Feed>> feeds(Data data, OnnxModel model) {
        List<List<Calibrator.Feed>> out = new ArrayList<>();
        if (data instanceof Text t) {
            boolean types = SampleFeeds.fedInputs(model).stream().anyMatch(v -> v.getName().equals("token_type_ids"));
            for (String s : t.sentences()) {
                int[] ids = t.tokenizer().encode(s, 128);
                ByteBuffer bi = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer bm = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (int id : ids) {
                    bi.putLong(id);
                    bm.putLong(1);
                }
                long[] dims = {1, ids.length};
                Calibrator.Feed in = new Calibrator.Feed("input_ids", 7, dims, bi.array());
                Calibrator.Feed mask = new Calibrator.Feed("attention_mask", 7, dims, bm.array());
                out.add(types ? List.of(in, mask, new Calibrator.Feed("token_type_ids", 7, dims, new byte[ids.length * 8])) : List.of(in, mask));
            }
            return out;
        }
        return ((Samples) samplesOf(data, model)).samples();
    }
}
