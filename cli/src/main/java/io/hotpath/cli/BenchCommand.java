package io.hotpath.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hotpath.core.Batch;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.onnx.ModelCatalog;
import io.hotpath.onnx.VocabularyProbe;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code hotpath bench}: latency percentiles and throughput of one model on one engine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Runs a model in a closed loop on random valid inputs and reports latency percentiles and throughput.",
                "Token-id inputs are drawn below --vocab; attention masks are ones; float inputs are uniform in [-1,1)."})
final class BenchCommand implements Callable<Integer> {
    /** Token ids are drawn below this when the model does not show its vocabulary (BERT's). */
    static final long DEFAULT_VOCAB = 30522;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE|ALIAS",
            description = "An ONNX file or a built-in alias: ${COMPLETION-CANDIDATES}.", completionCandidates = Aliases.class)
    String model;

    @Option(names = "--batch", defaultValue = "1", description = "Rows per run (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "128", description = "Size of every dynamic dimension after the batch, e.g. sequence length (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 = one per core (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--opt", defaultValue = "all", description = "Graph optimization: none, basic, extended, all (default ${DEFAULT-VALUE}).")
    String opt;

    @Option(names = "--iterations", defaultValue = "200", description = "Measured runs (default ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--warmup", defaultValue = "20", description = "Unmeasured runs first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--vocab", description = "Token ids are drawn below this (default: read from the model, else " + DEFAULT_VOCAB + ").")
    Long vocab;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random inputs (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON to FILE.")
    Path json;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        if (batch < 1 || seq < 1 || iterations < 1 || warmup < 0 || threads < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--batch, --seq and --iterations must be >= 1; --warmup and --threads >= 0");
        }
        Path file = ModelCatalog.resolve(model);
        GraphOptimization level = GraphOptimization.parse(opt);
        CpuEngineOptions options = CpuEngineOptions.builder().graphOptimization(level).intraOpThreads(threads)
                .maxBatchSize(batch).defaultMaxDimension(seq).build();
        SystemInfo sys = SystemInfo.detect();
        try (OrtCpuEngine engine = OrtCpuEngine.open(file, options)) {
            long v = vocab != null ? vocab : vocabulary(file, engine);
            Batch b = engine.newBatch();
            RandomInputs.fill(b, batch, seq, v, seed);
            out.println("hotpath bench: " + model + " (" + file + ")");
            out.println("  engine  " + engine.describe());
            out.println("  inputs  " + engine.inputs().stream().map(TensorSpec::toString).toList());
            out.println("  system  " + sys.summary());
            out.println("  run     batch=" + batch + " seq=" + seq + " warmup=" + warmup + " iterations=" + iterations);
            LatencyStats s = Measurement.run(engine, b, batch, warmup, iterations, "bench", System.err);
            out.println();
            out.printf("  %-10s %10s %10s %10s %10s %10s %14s%n", "batch", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "items/s");
            out.printf("  %-10d %10.1f %10.1f %10.1f %10.1f %10.1f %14.1f%n", batch, s.p50Us(), s.p90Us(), s.p99Us(),
                    s.p999Us(), s.maxUs(), s.itemsPerSecond());
            if (json != null) {
                writeJson(json, file, engine, sys, s);
                out.println("\n  wrote " + json);
            }
        }
        return 0;
    }

    private static long vocabulary(Path file, OrtCpuEngine engine) {
        for (TensorSpec t : engine.inputs()) {
            if (t.dtype() == io.hotpath.core.DType.INT64 || t.dtype() == io.hotpath.core.DType.INT32) {
                var v = VocabularyProbe.vocabularySize(file, t.name());
                if (v.isPresent()) {
                    return v.getAsLong();
                }
            }
        }
        return DEFAULT_VOCAB;
    }

    private void writeJson(Path file, Path modelFile, OrtCpuEngine engine, SystemInfo sys, LatencyStats s) throws IOException {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", model);
        j.put("model_file", modelFile.toString());
        j.put("engine", engine.name());
        j.put("engine_options", engine.options().toString());
        j.put("batch", batch);
        j.put("seq", seq);
        j.put("threads", threads);
        j.put("opt", opt.toLowerCase(java.util.Locale.ROOT));
        j.put("warmup", warmup);
        j.put("iterations", iterations);
        j.put("p50_us", s.p50Us());
        j.put("p90_us", s.p90Us());
        j.put("p99_us", s.p99Us());
        j.put("p999_us", s.p999Us());
        j.put("max_us", s.maxUs());
        j.put("mean_us", s.meanUs());
        j.put("throughput_per_s", s.itemsPerSecond());
        j.put("runs_per_s", s.runsPerSecond());
        j.put("cpu_model", sys.cpuModel());
        j.put("cpu_flags", sys.cpuFlags());
        j.put("cores", sys.cores());
        j.put("jdk", sys.jdk());
        j.put("os", sys.os());
        j.put("onnxruntime_version", OrtCpuEngine.runtimeVersion());
        if (file.toAbsolutePath().getParent() != null) {
            java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), j);
    }

    /** Completion candidates for --model. */
    static final class Aliases implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelCatalog.ALIASES.iterator();
        }
    }
}
