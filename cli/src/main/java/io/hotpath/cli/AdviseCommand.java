package io.hotpath.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hotpath.core.Batch;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.models.CalibrationSentences;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.VocabularyProbe;
import io.hotpath.optimizer.OnnxModel;
import io.hotpath.optimizer.Optimizer;
import io.hotpath.engine.tensorrt.Engines;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
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

/**
 * {@code hotpath advise}: cost per 1000 inferences on each engine and precision this machine has
 * (and on machines whose saved {@code hotpath bench --json} results are given), at the highest
 * throughput that meets the p99 latency objective, with the cheapest recommended.
 */
@Command(name = "advise", mixinStandardHelpOptions = true,
        description = {"Measures the model on every engine and precision available here (ONNX Runtime CPU FP32 and INT8; TensorRT when "
                + "present is measured with `hotpath bench --engine tensorrt` and given with --results), reads saved results from other "
                + "machines, and prints the cost per 1000 inferences at the highest throughput whose p99 meets --slo-p99-ms.",
                "Prices are yours: --price cpu=0.10,gpu=2.50 means USD per hour for this machine and for the machine that produced the "
                + "GPU results. Example prices in the docs are labelled as examples."})
final class AdviseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    ModelOption modelOption;

    /** --model, from {@link #modelOption} (set first thing in call()). */
    String model;

    @Option(names = "--price", required = true, split = ",", paramLabel = "KIND=USD_PER_HOUR",
            description = "Price per hour of each kind of machine: cpu (this one) and optionally gpu.")
    Map<String, Double> prices;

    @Option(names = "--slo-p99-ms", description = "Latency objective: p99 of one run (one batch) in milliseconds (default: none).")
    Double sloP99Ms;

    @Option(names = "--results", split = ",", paramLabel = "FILE", description = "Saved `hotpath bench --json` results from other machines.")
    List<Path> results;

    @Option(names = "--batch", defaultValue = "1,8", split = ",", description = "Batch sizes to measure here (default ${DEFAULT-VALUE}).")
    int[] batches;

    @Option(names = "--seq", defaultValue = "128", description = "Size of the other dynamic dimensions (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--seconds", defaultValue = "2", description = "Measured seconds per configuration (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the table as JSON.")
    Path json;

    /** Interleaved timing rounds for the rows measured here. */
    static final int ROUNDS = 5;

    /** One measured configuration. */
    record Row(String hardware, String engine, String precision, int batch, double p50Us, double p99Us, double throughput, double pricePerHour,
            String source) {
        double costPer1000() {
            return throughput <= 0 ? Double.POSITIVE_INFINITY : pricePerHour / 3600.0 / throughput * 1000.0;
        }

        boolean meets(Double sloMs) {
            return sloMs == null || p99Us / 1000.0 <= sloMs;
        }
    }

    /** The most a price per hour may be (USD): far above any machine's, low enough to catch a typo. */
    static final double MAX_PRICE = 1_000_000;

    @Override
    public Integer call() throws IOException {
        model = modelOption.model;
        PrintStream out = System.out;
        Checks c = new Checks(spec);
        for (var e : prices.entrySet()) {
            c.oneOf("--price", e.getKey(), "cpu", "gpu");
            if (e.getValue() == null || !Double.isFinite(e.getValue()) || e.getValue() < 0 || e.getValue() > MAX_PRICE) {
                throw c.fail("--price " + e.getKey() + "=" + e.getValue() + ": must be a number of USD per hour between 0 and " + (long) MAX_PRICE);
            }
        }
        if (!prices.containsKey("cpu")) {
            throw c.fail("--price needs cpu=USD_PER_HOUR for this machine");
        }
        if (results != null && !prices.containsKey("gpu")) {
            throw c.fail("--results given: --price needs gpu=USD_PER_HOUR too");
        }
        if (sloP99Ms != null) {
            c.positive("--slo-p99-ms", sloP99Ms, Checks.MAX_SECONDS * 1000);
        }
        c.each("--batch", batches, 1, Checks.MAX_BATCH);
        c.range("--seq", seq, 1, Checks.MAX_SEQ);
        c.positive("--seconds", seconds, Checks.MAX_SECONDS);
        if (results != null) {
            results.forEach(f -> c.inputFile("--results", f));
        }
        c.outputFile("--json", json);
        Path file = ModelCatalog.resolve(model);
        int maxBatch = java.util.Arrays.stream(batches).max().orElse(1);
        String sized = "--batch " + maxBatch + " at --seq " + seq;
        try (OrtCpuEngine probe = c.opening(sized, () -> OrtCpuEngine.open(file, CpuEngineOptions.builder()
                .graphOptimization(GraphOptimization.NONE).maxBatchSize(maxBatch).defaultMaxDimension(seq).build()))) {
            // the buffers of the engines timed below, checked before any calibration or timing
            c.memory(sized, Checks.batchBytes(
                    java.util.stream.Stream.concat(probe.inputs().stream(), probe.outputs().stream()).toList(), maxBatch, seq));
        }
        List<Row> rows = new ArrayList<>(measureHere(file, out));
        rows.addAll(measureTensorRtHere(file, out));
        if (results != null) {
            for (Path r : results) {
                rows.addAll(readResults(r, prices.get("gpu")));
            }
        }
        rows.sort(Comparator.comparingDouble(Row::costPer1000));
        Row best = rows.stream().filter(r -> r.meets(sloP99Ms)).findFirst().orElse(null);
        out.println();
        out.printf("  %-32s %-16s %-9s %6s %10s %12s %9s %12s %s%n", "hardware", "engine", "precision", "batch", "p99 ms", "inferences/s",
                "USD/h", "USD/1000", "meets SLO");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "  %-32s %-16s %-9s %6d %10.3f %12.1f %9.3f %12.4g %s%s%n", r.hardware(), r.engine(), r.precision(), r.batch(),
                    r.p99Us() / 1000, r.throughput(), r.pricePerHour(), r.costPer1000(), r.meets(sloP99Ms) ? "yes" : "no",
                    r == best ? "   <- cheapest within the objective" : "");
        }
        out.println();
        out.println(best == null ? "  no configuration meets p99 <= " + sloP99Ms + " ms"
                : String.format(Locale.ROOT, "  recommendation: %s %s %s at batch %d: USD %.4g per 1000 inferences (p99 %.3f ms%s)", best.hardware(),
                        best.engine(), best.precision(), best.batch(), best.costPer1000(), best.p99Us() / 1000,
                        sloP99Ms == null ? ", no latency objective given" : " <= " + sloP99Ms + " ms"));
        if (json != null) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("model", model);
            j.put("prices_usd_per_hour", prices);
            j.put("slo_p99_ms", sloP99Ms);
            List<Map<String, Object>> list = new ArrayList<>();
            for (Row r : rows) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("hardware", r.hardware());
                m.put("engine", r.engine());
                m.put("precision", r.precision());
                m.put("batch", r.batch());
                m.put("p99_ms", r.p99Us() / 1000);
                m.put("throughput_per_s", r.throughput());
                m.put("usd_per_hour", r.pricePerHour());
                m.put("usd_per_1000", r.costPer1000());
                m.put("meets_slo", r.meets(sloP99Ms));
                m.put("source", r.source());
                list.add(m);
            }
            j.put("rows", list);
            j.put("recommendation", best == null ? null : best.hardware() + " " + best.engine() + " " + best.precision() + " batch " + best.batch());
            if (json.toAbsolutePath().getParent() != null) {
                Files.createDirectories(json.toAbsolutePath().getParent());
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), j);
            out.println("\n  wrote " + json);
        }
        return best == null ? 3 : 0;
    }

    /** ONNX Runtime CPU, FP32 and INT8 (static Q/DQ, MinMax, calibrated on built-in sentences or random rows), at each batch size. */
    private List<Row> measureHere(Path file, PrintStream out) {
        double price = prices.get("cpu");
        String hw = "cpu";
        out.println("hotpath advise: " + model + " on " + SystemInfo.detect().summary());
        out.println("  TensorRT here: " + Engines.decide().reason());
        Path int8;
        try {
            Path dir = Files.createTempDirectory("hotpath-advise");
            OnnxModel m = OnnxModel.load(file);
            boolean text = m.graph().getInputList().stream().anyMatch(v -> v.getName().equals("input_ids"));
            Optimizer.Data cal;
            if (text) {
                cal = new Optimizer.Text(ModelCatalog.minilmTokenizer(), CalibrationSentences.all().subList(0, 64));
            } else {
                int width = ModelRows.width(m, file, true);
                SplittableRandom r = new SplittableRandom(1);
                List<float[]> rows = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    float[] row = new float[width];
                    for (int k = 0; k < width; k++) {
                        row[k] = (float) r.nextDouble(-1, 1);
                    }
                    rows.add(row);
                }
                cal = new Optimizer.Rows(rows);
            }
            int8 = Optimizer.int8(file, cal, dir.resolve("int8.onnx"));
        } catch (IOException e) {
            throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.INTERNAL, "temporary directory: " + e.getMessage(), e);
        }
        List<Row> rows = new ArrayList<>();
        int maxBatch = java.util.Arrays.stream(batches).max().orElse(1);
        long vocab = VocabularyProbe.vocabularySize(file, "input_ids").orElse(BenchCommand.DEFAULT_VOCAB);
        List<OrtCpuEngine> engines = new ArrayList<>();
        try {
            // every (precision, batch) row timed interleaved, round after round, so the VM's drift hits them alike
            List<Measurement.Turn> turns = new ArrayList<>();
            List<String[]> labels = new ArrayList<>();
            for (String precision : List.of("fp32", "int8")) {
                Path f = precision.equals("fp32") ? file : int8;
                OrtCpuEngine e = OrtCpuEngine.open(f, CpuEngineOptions.builder().maxBatchSize(maxBatch).defaultMaxDimension(seq).build());
                engines.add(e);
                Batch b = e.newBatch();
                for (int bs : batches) {
                    turns.add(new Measurement.Turn(e, b, bs, () -> RandomInputs.fill(b, bs, seq, vocab, 1)));
                    labels.add(new String[] {precision, Integer.toString(bs)});
                }
            }
            List<Measurement.Interleaved> measured = Measurement.interleaved(turns, ROUNDS, seconds, 10);
            for (int i = 0; i < turns.size(); i++) {
                Measurement.Interleaved m = measured.get(i);
                String precision = labels.get(i)[0];
                int bs = Integer.parseInt(labels.get(i)[1]);
                out.printf(Locale.ROOT, "  measured cpu onnxruntime %s batch %d: p99 %.3f ms, %.1f inferences/s (median of %d interleaved rounds, %.1f-%.1f)%n",
                        precision, bs, m.latency().p99Us() / 1000, m.throughputMedian(), m.rounds(), m.throughputMin(), m.throughputMax());
                rows.add(new Row(hw, "onnxruntime-cpu", precision, bs, m.latency().p50Us(), m.latency().p99Us(), m.throughputMedian(), price,
                        "measured here"));
            }
        } finally {
            engines.forEach(OrtCpuEngine::close);
        }
        return rows;
    }

    /** TensorRT FP16 and INT8-free precisions (FP32 strict, FP16) at each batch size, when TensorRT is usable here; priced as gpu. */
    private List<Row> measureTensorRtHere(Path file, PrintStream out) {
        List<Row> rows = new ArrayList<>();
        if (Engines.decide().kind() != Engines.Kind.TENSORRT) {
            return rows;
        }
        if (!prices.containsKey("gpu")) {
            out.println("  TensorRT is usable here but --price has no gpu=USD_PER_HOUR: not measured");
            return rows;
        }
        for (io.hotpath.engine.tensorrt.Precision p : List.of(io.hotpath.engine.tensorrt.Precision.FP32, io.hotpath.engine.tensorrt.Precision.FP16)) {
            try (io.hotpath.engine.tensorrt.TensorRtEngine e = io.hotpath.engine.tensorrt.TensorRtEngine.open(file,
                    io.hotpath.engine.tensorrt.TensorRtOptions.builder().precision(p).batchBuckets(batches).maxDimension(seq).cudaGraphs(true).build())) {
                Batch b = e.newBatch();
                for (int bs : batches) {
                    RandomInputs.fill(b, bs, seq, BenchCommand.DEFAULT_VOCAB, 1);
                    LatencyStats st = Measurement.timed(e, b, bs, Math.min(1, seconds / 4), seconds, 10);
                    out.printf(Locale.ROOT, "  measured gpu tensorrt %s batch %d: p99 %.3f ms, %.1f inferences/s%n", p.label(), bs, st.p99Us() / 1000,
                            st.itemsPerSecond());
                    rows.add(new Row("gpu (" + e.device().name() + ")", "tensorrt", p.label(), bs, st.p50Us(), st.p99Us(), st.itemsPerSecond(),
                            prices.get("gpu"), "measured here"));
                }
            }
        }
        return rows;
    }

    /** Rows from a saved {@code hotpath bench --json} file (one result or a {@code results} array). */
    static List<Row> readResults(Path file, double price) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw io.hotpath.core.HotpathException.invalidArgument(file + " is not a hotpath bench JSON file: " + e.getMessage());
        }
        List<JsonNode> items = new ArrayList<>();
        if (root.has("results")) {
            root.get("results").forEach(items::add);
        } else {
            items.add(root);
        }
        List<Row> rows = new ArrayList<>();
        for (JsonNode n : items) {
            if (!n.has("throughput_per_s") || !n.has("p99_us") || !n.has("batch")) {
                throw io.hotpath.core.HotpathException.invalidArgument(file + ": a result lacks throughput_per_s, p99_us or batch");
            }
            String engine = n.path("engine").asText("?");
            String hw = n.has("gpu") ? "gpu (" + n.get("gpu").asText() + ")" : engine.equals("tensorrt") ? "gpu" : "other";
            rows.add(new Row(hw, engine, n.path("precision").asText("fp32"), n.get("batch").asInt(), n.path("p50_us").asDouble(n.get("p99_us").asDouble()),
                    n.get("p99_us").asDouble(),
                    n.get("throughput_per_s").asDouble(), price, file.getFileName().toString()));
        }
        return rows;
    }
}
