package io.hotpath.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hotpath.models.CalibrationSentences;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.ValidationSentences;
import io.hotpath.optimizer.CalibrationStats;
import io.hotpath.optimizer.OnnxModel;
import io.hotpath.optimizer.Optimizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code hotpath optimize}: builds FP32, FP16 and INT8 variants, validates and times each, keeps the fastest within the budget. */
@Command(name = "optimize", mixinStandardHelpOptions = true,
        description = {"Builds the variants of a model (graph optimization none/all, FP16, INT8 Q/DQ with MinMax, Percentile and Entropy "
                + "calibration), checks each against the float32 original on held-out inputs, times each on ONNX Runtime (p50 at batch 1, "
                + "throughput at batch 8) and writes the fastest within the accuracy budget to OUT/model.onnx with OUT/report.md and "
                + "OUT/report.json.",
                "Data files: for text models (inputs input_ids, attention_mask, token_type_ids), one sentence per line; for models with "
                + "one float input, one row per line as comma-separated numbers. Without --calibration/--validation, text models use Hotpath's "
                + "built-in sentences (256 + 128, disjoint) and other models 256 + 128 samples made like hotpath bench's inputs.",
                "Other models: --input NAME=VALUE|@FILE.npy and --shape NAME=D0,D1,... set inputs as in hotpath bench; the rows of .npy "
                + "files are the samples (the first two thirds calibrate, the last third validates)."})
final class OptimizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    ModelOption modelOption;

    /** --model, from {@link #modelOption} (set first thing in call()). */
    String model;

    @Option(names = "--calibration", paramLabel = "FILE", description = "Calibration data (see above).")
    Path calibration;

    @Option(names = "--validation", paramLabel = "FILE", description = "Held-out validation data (see above).")
    Path validation;

    @Option(names = "--budget", defaultValue = "cosine>=0.99,cosine_min>=0.97",
            description = "Accuracy budget over output rows (text models: mean-pooled embeddings) (default ${DEFAULT-VALUE}).")
    String budget;

    @Option(names = "--engine", defaultValue = "cpu", description = "Target engine for the timing: cpu (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--precisions", defaultValue = "fp32,fp16,int8", split = ",", description = "Precisions to build (default ${DEFAULT-VALUE}).")
    List<String> precisions;

    @Option(names = "--methods", defaultValue = "minmax,percentile,entropy", split = ",",
            description = "INT8 calibration methods (default ${DEFAULT-VALUE}).")
    List<String> methods;

    @Option(names = "--calibration-stats", paramLabel = "FILE",
            description = "Reuse calibration statistics saved by an earlier run (OUT/calibration-stats.txt) instead of calibrating.")
    Path reuseStats;

    @Option(names = "--allow-batch-dependent", description = "Let variants whose rows depend on the rest of their batch (dynamic "
            + "quantization) be chosen; by default they are measured but not eligible, since batching and the prediction cache assume they do not.")
    boolean allowBatchDependent;

    @Option(names = "--no-fusions", description = "Standard ONNX operators only: skip Hotpath's transformer fusions (Attention/QAttention, "
            + "SkipLayerNormalization, FastGelu are ONNX Runtime contrib operators), for models meant for TensorRT or another runtime.")
    boolean noFusions;

    @Option(names = "--seq", defaultValue = "128", description = "Sequence length of the timed runs (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--runs", defaultValue = "30", description = "Timed runs per variant and batch size (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--rounds", defaultValue = "5", description = "Interleaved timing rounds: every variant timed once per round, in turn; "
            + "speeds are the medians (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--int8-scheme", defaultValue = "auto", paramLabel = "auto|u8s8|u8s7", description = "INT8 weights: u8s8 (8-bit, for CPUs "
            + "with VNNI/AMX), u8s7 (7-bit, where ONNX Runtime's AVX2 kernel would saturate), auto (this CPU's; default).")
    String int8Scheme;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the chosen model and the reports go.")
    Path out;

    @Option(names = "--input", paramLabel = "NAME=VALUE|NAME=@FILE.npy", description = "Models that are not text: feed input NAME the "
            + "constant VALUE or the values of a NumPy .npy file, as hotpath bench does; a file's rows (dimension 0) are the samples. "
            + "Inputs not given get hotpath bench's defaults. Repeatable.")
    List<String> inputValues;

    @Option(names = "--shape", paramLabel = "NAME=D0,D1,...", description = "Models that are not text: the shape of input NAME in each "
            + "sample (dimension 0 is the sample's rows, 1 where the model batches), as hotpath bench takes it. Repeatable.")
    List<String> shapeValues;

    /** Most timed runs per variant and batch size. */
    static final int MAX_RUNS = 1_000_000;

    @Override
    public Integer call() throws IOException {
        model = modelOption.model;
        Checks c = new Checks(spec);
        if (!engine.equalsIgnoreCase("cpu")) {
            throw c.fail("--engine " + engine + ": the optimizer times variants on the CPU engine in this version (TensorRT builds Q/DQ models as they are)");
        }
        List<String> precs = c.eachOneOf("--precisions", precisions, "fp32", "fp16", "int8");
        List<CalibrationStats.Method> ms = c.eachOneOf("--methods", methods, "minmax", "percentile", "entropy").stream()
                .map(s -> CalibrationStats.Method.valueOf(s.toUpperCase(Locale.ROOT))).toList();
        c.range("--seq", seq, 1, Checks.MAX_SEQ);
        c.range("--runs", runs, 1, MAX_RUNS);
        c.range("--rounds", rounds, 1, 100);
        io.hotpath.optimizer.CpuFeatures.Int8Scheme scheme;
        try {
            scheme = io.hotpath.optimizer.CpuFeatures.Int8Scheme.parse(int8Scheme);
        } catch (io.hotpath.core.HotpathException e) {
            throw c.fail("--int8-scheme '" + int8Scheme + "': must be one of auto, u8s8, u8s7");
        }
        Optimizer.Budget b = c.parse("--budget", budget, Optimizer.Budget::parse);
        if (!(b.cosineMean() >= -1 && b.cosineMean() <= 1 && b.cosineMin() >= -1 && b.cosineMin() <= 1) || !(b.maxAbsErr() >= 0)) {
            throw c.fail("--budget '" + budget + "': cosine bounds must be numbers in [-1, 1] and max_abs_err a number >= 0");
        }
        c.inputFile("--calibration", calibration);
        c.inputFile("--validation", validation);
        c.inputFile("--calibration-stats", reuseStats);
        c.outputDir("--out", out);
        BenchInputs given = BenchInputs.parse(c, inputValues, shapeValues);
        PrintStream o = System.out;
        Path file = ModelCatalog.resolve(model);
        OnnxModel m = OnnxModel.load(file);
        ModelRows.requireInputs(m, file);
        boolean text = m.graph().getInputList().stream().anyMatch(v -> v.getName().equals("input_ids"));
        if (given.any() && text) {
            throw c.fail("--input/--shape apply to models that are not text; this one takes input_ids: give sentences with --calibration/--validation");
        }
        if (given.any() && (calibration != null || validation != null)) {
            throw c.fail("give --calibration/--validation row files or --input/--shape, not both");
        }
        Optimizer.Data cal;
        Optimizer.Data val;
        String data;
        if (text) {
            var tok = ModelCatalog.minilmTokenizer();
            cal = new Optimizer.Text(tok, calibration != null ? lines(calibration) : CalibrationSentences.all());
            val = new Optimizer.Text(tok, validation != null ? lines(validation) : ValidationSentences.all().subList(0, 128));
            data = "sentences: " + (calibration != null ? calibration : "built-in calibration") + ", " + (validation != null ? validation : "built-in validation")
                    + " (MiniLM's WordPiece tokenizer)";
        } else if (calibration != null || validation != null) {
            int width = ModelRows.width(m, file, false);
            cal = new Optimizer.Rows(calibration != null ? rows(calibration, width) : random(256, width, 1));
            val = new Optimizer.Rows(validation != null ? rows(validation, width) : random(128, width, 2));
            data = "rows: " + (calibration != null ? calibration : "256 random") + ", " + (validation != null ? validation : "128 random");
        } else {
            OptimizeSamples.Split split = OptimizeSamples.build(c, file, given, seq, 256, 128);
            cal = split.calibration();
            val = split.validation();
            data = split.description();
        }
        Optimizer.Config cfg = new Optimizer.Config(precs, ms, seq, runs, b, reuseStats,
                !allowBatchDependent, !noFusions).withRounds(rounds).withInt8Scheme(scheme);
        List<Path> peers = model.equals("minilm") ? List.of(ModelCatalog.resolve("minilm-q")) : List.of();
        o.println("hotpath optimize: " + model + " (" + file + "), budget " + cfg.budget() + ", timing at seq " + seq + " in " + rounds
                + " interleaved rounds, INT8 scheme " + scheme.label() + " on " + io.hotpath.optimizer.CpuFeatures.detect().summary());
        o.println("  data: " + data);
        Optimizer.Report r = Optimizer.run(file, model, cal, val, peers, cfg, out);
        String md = markdown(r);
        Files.writeString(out.resolve("report.md"), md);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("report.json").toFile(), json(r));
        if (r.chosen() != null) {
            Files.copy(r.chosen().file(), out.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        }
        o.println(md);
        o.println("wrote " + out.resolve("report.md") + ", " + out.resolve("report.json")
                + (r.chosen() != null ? ", " + out.resolve("model.onnx") : "") + (r.calibrationStats() != null ? ", " + r.calibrationStats() : ""));
        return r.chosen() != null ? 0 : 3;
    }

    private static List<String> lines(Path f) throws IOException {
        List<String> l = Files.readAllLines(f).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (l.isEmpty()) {
            throw io.hotpath.core.HotpathException.invalidArgument(f + " holds no sentence");
        }
        return l;
    }

    private static List<float[]> rows(Path f, int width) throws IOException {
        List<float[]> out = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(f)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split(",");
            if (parts.length != width) {
                throw io.hotpath.core.HotpathException.invalidArgument(f + " line " + n + ": " + parts.length + " values, the model takes " + width);
            }
            float[] row = new float[width];
            for (int i = 0; i < width; i++) {
                try {
                    row[i] = Float.parseFloat(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw io.hotpath.core.HotpathException.invalidArgument(f + " line " + n + ": '" + parts[i] + "' is not a number");
                }
                if (!Float.isFinite(row[i])) {
                    throw io.hotpath.core.HotpathException.invalidArgument(f + " line " + n + ": value " + (i + 1) + " is not finite");
                }
            }
            out.add(row);
        }
        if (out.isEmpty()) {
            throw io.hotpath.core.HotpathException.invalidArgument(f + " holds no row");
        }
        return out;
    }

    private static List<float[]> random(int n, int width, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] row = new float[width];
            for (int k = 0; k < width; k++) {
                row[k] = (float) r.nextDouble(-1, 1);
            }
            out.add(row);
        }
        return out;
    }

    static String markdown(Optimizer.Report r) {
        StringBuilder sb = new StringBuilder();
        sb.append("# hotpath optimize: ").append(r.model()).append("\n\n");
        sb.append("Budget: ").append(r.budget()).append("; a variant must also give each row the same answer alone as in a batch")
                .append(" (batch invariant, within 1e-5) unless --allow-batch-dependent. Timing on ONNX Runtime CPU, ").append(SystemInfo.detect().summary())
                .append(", seq ").append(r.seq()).append(" for text models. Accuracy against the float32 model on the validation data")
                .append(" (text models: mean-pooled embeddings per sentence).\n\n");
        if (!r.graphPasses().isEmpty()) {
            sb.append("Graph passes before INT8 (and in `fp32-fused`):\n\n");
            r.graphPasses().forEach(p -> sb.append("- ").append(p).append('\n'));
            sb.append('\n');
        }
        sb.append("INT8 scheme: ").append(r.int8Scheme().label()).append(" (").append(r.int8SchemeReason()).append(").\n\n");
        sb.append("Speeds are medians of ").append(r.rounds()).append(" interleaved rounds (every variant timed once per round, in turn);")
                .append(" the spread column is the lowest and highest round's rows/s. Variants whose spread reaches the fastest one's")
                .append(" count as equally fast, and the more accurate of them is chosen.\n\n");
        if (r.throughputBatch() == 1) {
            sb.append("This model runs one sample at a time (no batch dimension 0, or samples that differ in shape): rows/s is at batch 1")
                    .append(" and batch invariance does not apply (n/a).\n\n");
        }
        sb.append("| variant | precision | calibration | cosine mean | cosine min | max abs err | p50 us (b1) | rows/s (b").append(r.throughputBatch())
                .append(") | rows/s spread | batch invariant | passed |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Optimizer.Variant v : r.variants()) {
            row(sb, v, r.chosen() == v);
        }
        for (Optimizer.Variant v : r.peers()) {
            row(sb, v, false);
        }
        for (Optimizer.Variant v : r.variants()) {
            if (!v.keptFloat().isEmpty()) {
                sb.append("\n`").append(v.name()).append("` keeps ").append(v.keptFloat().size())
                        .append(" node(s) of quantizable kinds in float32:\n\n");
                v.keptFloat().forEach(k -> sb.append("- ").append(k).append('\n'));
            }
        }
        if (!r.skipped().isEmpty()) {
            sb.append("\nNot built or not measured:\n\n");
            r.skipped().forEach(k -> sb.append("- `").append(k.name()).append("`: ").append(k.reason()).append('\n'));
        }
        sb.append("\nChosen: ").append(r.chosen() != null ? r.chosen().name() : r.variants().isEmpty() ? "none: no variant could be built"
                : r.variants().stream().anyMatch(v -> r.budget().holds(v.accuracy()))
                        ? "none: the variants within the budget depend on their batch (--allow-batch-dependent lets them be chosen)"
                        : "none: no variant is within the budget").append('\n');
        if (!r.peers().isEmpty()) {
            sb.append("Peers (not eligible, measured the same way): ").append(r.peers().stream().map(Optimizer.Variant::name).toList()).append('\n');
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, Optimizer.Variant v, boolean chosen) {
        sb.append(String.format(Locale.ROOT, "| %s%s | %s | %s | %.6f | %.6f | %.4g | %.0f | %.1f | %.1f-%.1f | %s | %s |%n", v.name(),
                chosen ? " **(chosen)**" : "", v.precision(), v.calibration(), v.accuracy().cosineMean(), v.accuracy().cosineMin(),
                v.accuracy().maxAbsErr(), v.p50UsBatch1(), v.throughputPerSecondBatch8(), v.speed().throughputMin(), v.speed().throughputMax(),
                Double.isNaN(v.batchDependence()) ? "n/a" : v.batchInvariant() ? "yes" : String.format(Locale.ROOT, "no (%.2g)", v.batchDependence()),
                v.passed() ? "yes" : "no"));
    }

    private static Map<String, Object> json(Optimizer.Report r) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", r.model());
        j.put("budget", r.budget().toString());
        j.put("seq", r.seq());
        j.put("system", SystemInfo.detect().summary());
        j.put("cpu", r.cpu());
        j.put("int8_scheme", r.int8Scheme().label());
        j.put("int8_scheme_reason", r.int8SchemeReason());
        j.put("timing_rounds", r.rounds());
        j.put("variants", r.variants().stream().map(OptimizeCommand::variant).toList());
        j.put("chosen", r.chosen() == null ? null : r.chosen().name());
        j.put("graph_passes", r.graphPasses());
        j.put("peers", r.peers().stream().map(OptimizeCommand::variant).toList());
        j.put("skipped", r.skipped().stream().map(k -> Map.of("name", k.name(), "reason", k.reason())).toList());
        j.put("throughput_batch", r.throughputBatch());
        return j;
    }

    private static Map<String, Object> variant(Optimizer.Variant v) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", v.name());
        j.put("precision", v.precision());
        j.put("calibration", v.calibration());
        j.put("cosine_mean", v.accuracy().cosineMean());
        j.put("cosine_min", v.accuracy().cosineMin());
        j.put("max_abs_err", v.accuracy().maxAbsErr());
        j.put("mean_abs_err", v.accuracy().meanAbsErr());
        j.put("top1_agreement", v.accuracy().top1Agreement());
        j.put("kept_float", v.keptFloat().stream().map(k -> Map.of("node", k.node(), "op_type", k.opType(), "reason", k.reason())).toList());
        j.put("p50_us_batch1", v.p50UsBatch1());
        j.put("throughput_per_s_batch8", v.throughputPerSecondBatch8());
        j.put("throughput_per_s_batch8_min", v.speed().throughputMin());
        j.put("throughput_per_s_batch8_max", v.speed().throughputMax());
        j.put("p50_us_batch1_min", v.speed().p50Min());
        j.put("p50_us_batch1_max", v.speed().p50Max());
        j.put("timing_rounds", v.speed().rounds());
        j.put("batch_invariant", v.batchInvariant());
        j.put("batch_dependence_max_abs", Double.isNaN(v.batchDependence()) ? null : v.batchDependence());   // null: one sample per run
        j.put("passed", v.passed());
        j.put("file", v.file().toString());
        return j;
    }
}
