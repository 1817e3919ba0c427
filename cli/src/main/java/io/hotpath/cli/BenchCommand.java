package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.engine.tensorrt.CalibrationData;
import io.hotpath.engine.tensorrt.Engines;
import io.hotpath.engine.tensorrt.TensorRtEngine;
import io.hotpath.engine.tensorrt.TensorRtOptions;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.VocabularyProbe;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code hotpath bench}: latency percentiles and throughput of one model on one engine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Runs a model in a closed loop on random valid inputs and reports latency percentiles and throughput.",
                "Token-id inputs are drawn below --vocab; attention masks are ones; recurrent state (state, h0, c0, hidden) zeros; "
                        + "an integer scalar sample rate (sr) 16000; float inputs are uniform in [-1,1).",
                "--input NAME=VALUE|@FILE.npy and --shape NAME=D0,D1,... set an input's values and shape (--shape: direct mode)."})
final class BenchCommand implements Callable<Integer> {
    /** Token ids are drawn below this when the model does not show its vocabulary (BERT's). */
    static final long DEFAULT_VOCAB = 30522;

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    ModelOption modelOption;

    /** --model, from {@link #modelOption} (set first thing in call()). */
    String model;

    @Option(names = "--batch", defaultValue = "1", split = ",", paramLabel = "N[,N...]",
            description = "Rows per run, 1..65536; a list (1,8,64) measures each in turn on one engine (default ${DEFAULT-VALUE}).")
    int[] batches;

    int batch;

    /** Capacity of the dynamic dimensions after the batch: --seq, or more when --shape or an .npy file asks for it. */
    private int capacity;

    @Option(names = "--engine", defaultValue = "cpu", description = "cpu (ONNX Runtime), jvm (small models compiled for the JVM), "
            + "tensorrt, or best (jvm when the model compiles and is under its small-model threshold, else TensorRT when a GPU and "
            + "its libraries are present, else cpu) (default ${DEFAULT-VALUE}).")
    String engineKind;

    @Option(names = "--precision", description = "TensorRT: fp32 (strict, TF32 off), tf32, fp16 or int8 (default tf32). "
            + "int8 calibrates with TensorRT's calibrator on built-in sentences (minilm) or random rows unless the model has Q/DQ nodes.")
    String precision;

    @Option(names = "--calibration-method", defaultValue = "entropy", paramLabel = "entropy|minmax",
            description = "TensorRT int8 calibration algorithm: entropy or minmax (default ${DEFAULT-VALUE}).")
    String calibrationMethod;

    /** The old spelling of --calibration-method, kept for scripts: in optimize, --calibration names a data file. */
    @Option(names = "--calibration", hidden = true)
    String deprecatedCalibration;

    @Option(names = "--cuda-graphs", description = "TensorRT: capture each shape as a CUDA graph and replay it.")
    boolean cudaGraphs;

    @Option(names = "--trt-buckets", split = ",", paramLabel = "N[,N...]", description = "TensorRT: batch buckets, one optimization "
            + "profile each (default: the --batch values). Fewer profiles build faster; a batch runs on the smallest bucket that holds it.")
    int[] trtBuckets;

    @Option(names = "--builder-level", defaultValue = "3", description = "TensorRT builder optimization level 0..5 (default ${DEFAULT-VALUE}; lower builds faster).")
    int builderLevel;

    @Option(names = "--trt-cache", paramLabel = "DIR", description = "TensorRT plan cache directory (default ~/.cache/hotpath/tensorrt or $HOTPATH_CACHE/tensorrt).")
    Path trtCache;

    @Option(names = "--seq", defaultValue = "128", description = "Size of every dynamic dimension after the batch, e.g. sequence length (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--input", paramLabel = "NAME=VALUE|NAME=@FILE.npy", description = "Feed input NAME the constant VALUE "
            + "(parsed for its type; bool takes true/false/0/1) or the values and shape of a NumPy .npy file (its dimension 0 must equal --batch; "
            + "on the batcher path one row, every request's). "
            + "Repeatable. Inputs not given get a default chosen from their name, printed at the start.")
    java.util.List<String> inputValues;

    @Option(names = "--shape", paramLabel = "NAME=D0,D1,...", description = "Direct mode: the shape of input NAME for the run (fixed dimensions as "
            + "declared, dimension 0 = --batch); overrides --seq for it and for the same-named dynamic dimensions of other inputs. Repeatable.")
    java.util.List<String> shapeValues;

    @Option(names = "--state", defaultValue = "auto", paramLabel = "auto|none|OUT=IN[,OUT=IN...]", description = "Direct mode, stateful models: "
            + "feed each run's output OUT back as the next run's input IN without a copy (Hotpath's StateLoop); auto (default) pairs an output named "
            + "like an input plus n or N (hn -> h), or plus _out, out or _new when the input is named like state (state_out -> state); the state starts at zeros.")
    String state;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 = one per core (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--spin-wait", arity = "1", description = "ONNX Runtime worker threads spin between operators: true or false "
            + "(default true; false on the batcher path, where spinning pool threads starve the serving threads).")
    Boolean spinWait;

    @Option(names = "--ort-profile", paramLabel = "PREFIX", description = "Direct mode, CPU engine: turn on ONNX Runtime's "
            + "profiler, write its trace to PREFIX_<time>.json and print the operator time per operator type (profiling slows every run).")
    Path ortProfile;

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

    @Mixin
    LoadGeneratorOptions load;

    @Option(names = "--url", paramLabel = "http://HOST:PORT|grpc://HOST:PORT", description = "Load a running Open Inference Protocol server (hotpath serve, "
            + "Triton, KServe) instead of an engine in this process; --model then names the served model. Closed loop per --concurrency, "
            + "open loop per --rate.")
    java.net.URI url;

    @Option(names = "--wire", defaultValue = "binary", paramLabel = "binary|json", description = "With an http:// --url: tensors in the binary "
            + "extension or as JSON (default ${DEFAULT-VALUE}).")
    String wire;

    @Option(names = "--request-timeout-s", defaultValue = "30", description = "With --url: a request unanswered this long counts as "
            + "'timeout' and its connection is closed (that client's later requests count as timeouts too), so a stalled server ends the "
            + "run instead of hanging it; 1..3600 (default ${DEFAULT-VALUE}).")
    int requestTimeoutS;

    @Option(names = "--distinct", defaultValue = "1", description = "With binary tensors to a --url (http:// with --wire binary, or grpc://): each client cycles through N "
            + "different inputs made from --seed (the same N in every run with that seed), so a server's caches see N inputs; 1..100000 "
            + "(default ${DEFAULT-VALUE}: every request the same).")
    int distinct;

    private io.hotpath.engine.tensorrt.Engines.Kind kind;
    /** --engine jvm (kind is then CPU for the option checks that concern TensorRT). */
    boolean jvmEngine;
    private GraphOptimization level;

    /** Whether the options select the batcher path (load generator) rather than direct runs. */
    private boolean batcherPath() {
        return load.selected();
    }

    /** Every option, before any work: values and caps first, then combinations, then the output paths (see {@link Checks}). */
    private void validate(Checks c) {
        c.each("--batch", batches, 1, Checks.MAX_BATCH);
        c.range("--seq", seq, 1, Checks.MAX_SEQ);
        c.range("--threads", threads, 0, Checks.MAX_THREADS);
        c.range("--iterations", iterations, 1, Integer.MAX_VALUE);
        c.range("--warmup", warmup, 0, Integer.MAX_VALUE);
        if (vocab != null) {
            c.range("--vocab", vocab, 1, Integer.MAX_VALUE, null);
        }
        jvmEngine = engineKind.trim().equalsIgnoreCase("jvm");
        kind = jvmEngine ? io.hotpath.engine.tensorrt.Engines.Kind.CPU : c.parse("--engine", engineKind, BenchCommand::engineKind);
        level = c.parse("--opt", opt, GraphOptimization::parse);
        if (precision != null) {
            c.parse("--precision", precision, io.hotpath.engine.tensorrt.Precision::parse);
        }
        if (deprecatedCalibration != null) {
            if (calibrationMethod != null && spec.commandLine().getParseResult() != null
                    && spec.commandLine().getParseResult().hasMatchedOption("--calibration-method")) {
                throw c.fail("give --calibration-method only (--calibration is its deprecated spelling)");
            }
            spec.commandLine().getErr().println("hotpath: bench --calibration is deprecated; use --calibration-method "
                    + "(optimize's --calibration names a calibration data file)");
            calibrationMethod = deprecatedCalibration;
        }
        c.oneOf("--calibration-method", calibrationMethod, "entropy", "minmax");
        c.each("--trt-buckets", trtBuckets, 1, Checks.MAX_BATCH);
        c.range("--builder-level", builderLevel, 0, 5);
        c.each("--concurrency", load.concurrency, 1, Checks.MAX_CONCURRENCY);
        c.positive("--duration-s", load.durationS, Checks.MAX_SECONDS);
        if (load.rates != null) {
            for (double r : load.rates) {
                c.positive("--rate", r, Checks.MAX_RATE);
                if (r * load.durationS > Integer.MAX_VALUE) {
                    throw c.fail("--rate " + r + " with --duration-s " + load.durationS + ": " + (long) (r * load.durationS)
                            + " requests per step; at most " + Integer.MAX_VALUE);
                }
            }
        }
        c.range("--max-in-flight", load.maxInFlight, 1, Checks.MAX_IN_FLIGHT);
        if (load.maxBatch != null) {
            c.range("--max-batch", load.maxBatch, 1, Checks.MAX_BATCH);
        }
        if (load.cacheMb != null) {
            c.range("--cache-mb", load.cacheMb, 1, Checks.memoryLimitBytes() >> 20, Checks.memoryLimitWhy());
        }
        c.between("--repeat-fraction", load.repeatFraction, 0, 1);
        c.range("--redis-budget-us", load.redisBudgetUs, 1, 60_000_000, null);
        c.range("--redis-ttl-s", load.redisTtlS, 1, 315_360_000, null);
        if (load.redis != null && !load.redis.matches("(?i)rediss?://\\S+")) {
            throw c.fail("--redis: expected redis://host:port or rediss://host:port (TLS)");
        }
        c.oneOf("--idle", load.idle, "busy-spin", "yield", "backoff-park");
        if (load.maxDelayUs != null) {
            c.range("--max-delay-us", load.maxDelayUs, 0, Checks.MAX_DELAY_US, "the batcher's limit");
        }
        if (load.concurrency != null && java.util.Arrays.stream(load.concurrency).asLongStream().sum() > Checks.MAX_IN_FLIGHT) {
            throw c.fail("--concurrency " + java.util.Arrays.toString(load.concurrency) + ": " + java.util.Arrays.stream(load.concurrency).asLongStream().sum()
                    + " client threads over the sweep; at most " + Checks.MAX_IN_FLIGHT);
        }
        var parsed = spec.commandLine().getParseResult();
        if (batcherPath()) {
            if (load.rates != null && load.concurrency != null) {
                throw c.fail("give --rate (open loop) or --concurrency (closed loop), not both");
            }
            if (precision != null || kind != io.hotpath.engine.tensorrt.Engines.Kind.CPU || batches.length > 1) {
                throw c.fail("the batcher path runs on --engine cpu or jvm with one --max-batch; use direct mode for --engine/--precision/--batch lists");
            }
            if (shapeValues != null) {
                throw c.fail("--shape applies to direct mode (without --concurrency, --rate, --max-batch, --max-delay-us, --cache-mb); "
                        + "on the batcher path each request is one row and its dynamic dimension --seq");
            }
            if (ortProfile != null) {
                throw c.fail("--ort-profile applies to direct mode (without --concurrency, --rate, --max-batch, --max-delay-us, --cache-mb)");
            }
        } else {
            for (String o : new String[] {"--csv", "--hdr-log", "--idle"}) {
                if (parsed != null && parsed.hasMatchedOption(o)) {
                    throw c.fail(o + " applies to the batcher path (--concurrency, --rate, --max-batch, --max-delay-us or --cache-mb)");
                }
            }
            if (precision != null && kind == io.hotpath.engine.tensorrt.Engines.Kind.CPU) {
                throw c.fail("--precision applies to --engine tensorrt or best; "
                        + "the CPU engine runs the model's own precision (quantize it with the optimizer)");
            }
            if (ortProfile != null && (kind != io.hotpath.engine.tensorrt.Engines.Kind.CPU || jvmEngine)) {
                throw c.fail("--ort-profile applies to --engine cpu");
            }
        }
        if (load.rates == null) {
            for (String o : new String[] {"--duration-s", "--max-in-flight"}) {
                if (parsed != null && parsed.hasMatchedOption(o)) {
                    throw c.fail(o + " applies to the open loop (--rate)");
                }
            }
        }
        if (kind == io.hotpath.engine.tensorrt.Engines.Kind.CPU) {
            for (String o : new String[] {"--calibration-method", "--calibration", "--cuda-graphs", "--trt-buckets", "--builder-level", "--trt-cache"}) {
                if (parsed != null && parsed.hasMatchedOption(o)) {
                    throw c.fail(o + " applies to --engine tensorrt or best");
                }
            }
        }
        if (trtBuckets != null && java.util.Arrays.stream(trtBuckets).max().orElse(0) < java.util.Arrays.stream(batches).max().orElse(0)) {
            throw c.fail("--trt-buckets must reach the largest --batch (" + java.util.Arrays.stream(batches).max().orElse(0) + ")");
        }
        c.outputFile("--json", json);
        c.outputFile("--csv", load.csv);
        c.outputFile("--hdr-log", load.hdrLog);
        c.outputFile("--ort-profile", ortProfile);
        c.outputDir("--trt-cache", trtCache);
    }

    /** The state pairs --state asks for: found by name (auto), none, or given as OUT=IN pairs. */
    /** --engine: jvm asked for, best (the JVM engine when it takes the model, else TensorRT or the CPU), or the TensorRT module's choice. */
    private Engines.Choice open(Path file, CpuEngineOptions options) {
        int mb = java.util.Arrays.stream(batches).max().orElse(1);
        if (jvmEngine) {
            return new Engines.Choice(io.hotpath.engine.jvm.JvmEngine.open(file, io.hotpath.engine.jvm.JvmEngineOptions.builder().maxBatchSize(mb).build()),
                    "the JVM engine: asked for");
        }
        if (kind == io.hotpath.engine.tensorrt.Engines.Kind.BEST) {
            var jvm = new io.hotpath.engine.jvm.JvmEngineProvider().availability(file);
            if (jvm.usable()) {
                return new Engines.Choice(io.hotpath.engine.jvm.JvmEngine.open(file, io.hotpath.engine.jvm.JvmEngineOptions.builder().maxBatchSize(mb)
                        .build()), jvm.reason());
            }
            Engines.Choice c = Engines.open(file, kind, trtOptions(file), options);
            return new Engines.Choice(c.engine(), c.reason() + "; not the JVM engine: " + jvm.reason());
        }
        return Engines.open(file, kind, kind == io.hotpath.engine.tensorrt.Engines.Kind.CPU ? null : trtOptions(file), options);
    }

    static io.hotpath.engine.tensorrt.Engines.Kind engineKind(String s) {
        try {
            return io.hotpath.engine.tensorrt.Engines.Kind.parse(s);
        } catch (io.hotpath.core.HotpathException e) {
            throw io.hotpath.core.HotpathException.invalidArgument("unknown engine '" + s + "'; use best, jvm, cpu or tensorrt");
        }
    }

    private Map<String, String> statePairs(Checks checks, Engine engine) {
        if ("auto".equals(state)) {
            return io.hotpath.core.StateLoop.findPairs(engine);
        }
        if ("none".equals(state)) {
            return Map.of();
        }
        Map<String, String> pairs = new java.util.LinkedHashMap<>();
        for (String p : state.split(",")) {
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw checks.fail("--state " + state + ": '" + p + "' is not OUT=IN (an output name, '=', an input name); or auto, or none");
            }
            pairs.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim());
        }
        return pairs;
    }

    @Override
    public Integer call() throws IOException {
        model = modelOption.model;
        PrintStream out = System.out;
        Checks checks = new Checks(spec);
        validate(checks);
        if (url != null) {
            if (!("http".equals(url.getScheme()) || "grpc".equals(url.getScheme())) || url.getHost() == null) {
                throw checks.fail("--url " + url + ": give http://HOST:PORT (the server's HTTP port) or grpc://HOST:PORT (its gRPC port)");
            }
            checks.oneOf("--wire", wire, "binary", "json");
            checks.range("--distinct", distinct, 1, 100_000, null);
            if (distinct > 1 && "http".equals(url.getScheme()) && !wire.equals("binary")) {
                throw checks.fail("--distinct applies to binary tensors: an http:// --url with --wire binary, or grpc://");
            }
            checks.range("--request-timeout-s", requestTimeoutS, 1, 3600);
            try {
                return new RemoteBench(url, model, wire, seq, seed, warmup, iterations, load, json).distinct(distinct).requestTimeout(requestTimeoutS).run(out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.SHUTDOWN, "interrupted while measuring", e);
            }
        }
        batch = java.util.Arrays.stream(batches).max().orElse(0);
        Path file = ModelCatalog.resolve(model);
        if (batcherPath()) {
            return new LoadBench(this, batch, load).run(out, file, level, checks);
        }
        BenchInputs given = BenchInputs.parse(checks, inputValues, shapeValues);
        // the buffers of every dynamic dimension after the batch hold --seq and any larger size a --shape or .npy gives
        capacity = (int) Math.max(seq, given.largestDimension());
        if (ortProfile != null && ortProfile.toAbsolutePath().getParent() != null) {
            java.nio.file.Files.createDirectories(ortProfile.toAbsolutePath().getParent());   // ONNX Runtime does not create it
        }
        CpuEngineOptions options = CpuEngineOptions.builder().graphOptimization(level).intraOpThreads(threads)
                .spinWait(spinWait == null || spinWait).maxBatchSize(batch).defaultMaxDimension(capacity).profilePrefix(ortProfile).build();
        SystemInfo sys = SystemInfo.detect();
        String sized = "--batch " + batch + " at --seq " + seq + (capacity > seq ? " (dimensions up to " + capacity + " from --shape/--input)" : "");
        Engines.Choice choice = checks.opening(sized, () -> open(file, options));
        try (Engine engine = choice.engine()) {
            checks.memory(sized, Checks.batchBytes(
                    java.util.stream.Stream.concat(engine.inputs().stream(), engine.outputs().stream()).toList(), batch, capacity));
            given.bind(checks, engine.inputs(), batches);
            Map<String, String> pairs = statePairs(checks, engine);
            io.hotpath.core.StateLoop loop = pairs.isEmpty() ? null : checks.opening("--state " + state, () -> io.hotpath.core.StateLoop.of(engine, pairs));
            given.stateInputs(pairs.values());
            long v = vocab != null ? vocab : vocabulary(file, engine);
            out.println("hotpath bench: " + model + " (" + file + ")");
            out.println("  engine  " + engine.describe());
            out.println("  chosen  " + choice.reason());
            out.println("  inputs  " + engine.inputs().stream().map(TensorSpec::toString).toList());
            given.describe(v).forEach(out::println);
            if (loop != null) {
                out.println("  state   " + pairs.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue()).collect(java.util.stream.Collectors.joining(", "))
                        + " (each run's state output is the next run's input, without a copy; --state none to feed zeros every run)");
            }
            out.println("  system  " + sys.summary());
            if (engine instanceof TensorRtEngine trt) {
                out.println("  layers  " + LayerReport.summary(trt.layerReportJson()) + " (report: "
                        + trt.planFile().toString().replace(".plan", ".layers.json") + ")");
            }
            out.println("  run     batch=" + java.util.Arrays.toString(batches) + " seq=" + seq + " warmup=" + warmup + " iterations=" + iterations);
            java.util.List<BenchResult> rows = new java.util.ArrayList<>();
            java.util.List<LatencyStats> stats = new java.util.ArrayList<>();
            Batch b = loop != null ? loop.batch() : engine.newBatch();
            Runnable step = loop != null ? loop::step : () -> engine.run(b);
            for (int bs : batches) {
                given.fill(b, bs, seq, v, seed);
                LatencyStats s = Measurement.run(step, bs, warmup, iterations, "bench b" + bs, System.err);
                stats.add(s);
                rows.add(result(file, engine, sys, bs, s, s.itemsPerSecond()));
            }
            out.println();
            out.printf("  %-10s %10s %10s %10s %10s %10s %14s%n", "batch", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "items/s");
            for (int i = 0; i < batches.length; i++) {
                LatencyStats s = stats.get(i);
                out.printf("  %-10d %10.1f %10.1f %10.1f %10.1f %10.1f %14.1f%n", batches[i], s.p50Us(), s.p90Us(), s.p99Us(),
                        s.p999Us(), s.maxUs(), s.itemsPerSecond());
            }
            if (json != null) {
                BenchJson.writeDirect(json, model, engine.name(), rows);
                out.println("\n  wrote " + json);
            }
        }
        if (ortProfile != null) {
            // ONNX Runtime writes the trace when the session is released (engine closed above)
            Path trace = OrtProfileSummary.newest(ortProfile);
            out.println();
            OrtProfileSummary.read(trace).print(out, trace, 15);
        }
        return 0;
    }

    private TensorRtOptions trtOptions(Path file) {
        io.hotpath.engine.tensorrt.Precision p = precision == null ? io.hotpath.engine.tensorrt.Precision.TF32
                : io.hotpath.engine.tensorrt.Precision.parse(precision);
        int[] buckets = trtBuckets != null ? trtBuckets : batches;
        TensorRtOptions.Builder b = TensorRtOptions.builder().precision(p).batchBuckets(buckets).maxDimension(capacity).cudaGraphs(cudaGraphs)
                .optimizationLevel(builderLevel);
        if (trtCache != null) {
            b.cacheDirectory(trtCache);
        }
        if (p == io.hotpath.engine.tensorrt.Precision.INT8 && io.hotpath.nativebindings.trt.TensorRt.status().available()) {
            var alg = switch (calibrationMethod.toLowerCase(java.util.Locale.ROOT)) {
                case "entropy" -> io.hotpath.nativebindings.trt.Int8Calibrators.Algorithm.ENTROPY;
                case "minmax" -> io.hotpath.nativebindings.trt.Int8Calibrators.Algorithm.MINMAX;
                default -> throw new IllegalStateException("--calibration-method was checked: " + calibrationMethod);
            };
            CalibrationData data = TrtCalibration.forModel(model, file, seq, vocab == null ? DEFAULT_VOCAB : vocab, seed);
            if (data != null) {
                b.calibration(data, alg);
            }
        }
        return b.build();
    }


    /** Token ids are drawn below this: the vocabulary of the model's first integer input that shows one, else {@link #DEFAULT_VOCAB}. */
    static long vocabulary(Path file, Engine engine) {
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

    private BenchResult result(Path modelFile, Engine engine, SystemInfo sys, int rows, LatencyStats s, double throughput) {
        return new BenchResult(model, modelFile, BenchResult.EngineFacts.of(engine), rows, seq, threads,
                opt.toLowerCase(java.util.Locale.ROOT), warmup, iterations, s, throughput, sys);
    }

    /** Completion candidates for --model. */
    static final class Aliases implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelCatalog.ALIASES.iterator();
        }
    }
}
