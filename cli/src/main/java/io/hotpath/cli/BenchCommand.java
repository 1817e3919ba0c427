package io.hotpath.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.engine.tensorrt.CalibrationData;
import io.hotpath.engine.tensorrt.Engines;
import io.hotpath.engine.tensorrt.TensorRtEngine;
import io.hotpath.engine.tensorrt.TensorRtOptions;
import io.hotpath.service.InferenceService;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.VocabularyProbe;
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
                "Token-id inputs are drawn below --vocab; attention masks are ones; recurrent state (state, h0, c0, hidden) zeros; "
                        + "an integer scalar sample rate (sr) 16000; float inputs are uniform in [-1,1).",
                "--input NAME=VALUE|@FILE.npy and --shape NAME=D0,D1,... set an input's values and shape (--shape: direct mode)."})
final class BenchCommand implements Callable<Integer> {
    /** Token ids are drawn below this when the model does not show its vocabulary (BERT's). */
    static final long DEFAULT_VOCAB = 30522;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "FILE|ALIAS",
            description = "An ONNX file or a built-in alias: ${COMPLETION-CANDIDATES}.", completionCandidates = Aliases.class)
    String model;

    @Option(names = "--batch", defaultValue = "1", split = ",", paramLabel = "N[,N...]",
            description = "Rows per run, 1..65536; a list (1,8,64) measures each in turn on one engine (default ${DEFAULT-VALUE}).")
    int[] batches;

    int batch;

    /** Capacity of the dynamic dimensions after the batch: --seq, or more when --shape or an .npy file asks for it. */
    private int capacity;

    @Option(names = "--engine", defaultValue = "cpu", description = "cpu (ONNX Runtime), tensorrt, or best (TensorRT when a GPU and "
            + "its libraries are present, else cpu) (default ${DEFAULT-VALUE}).")
    String engineKind;

    @Option(names = "--precision", description = "TensorRT: fp32 (strict, TF32 off), tf32, fp16 or int8 (default tf32). "
            + "int8 calibrates with TensorRT's calibrator on built-in sentences (minilm) or random rows unless the model has Q/DQ nodes.")
    String precision;

    @Option(names = "--calibration", defaultValue = "entropy", description = "TensorRT int8 calibrator: entropy or minmax (default ${DEFAULT-VALUE}).")
    String calibration;

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

    @Option(names = "--concurrency", split = ",", paramLabel = "N[,N...]", description = "Client threads (1..1024) sending single-row requests through the dynamic batcher; a list sweeps them "
            + "(closed loop). Giving this, --max-batch or --max-delay-us selects the batcher path.")
    int[] concurrency;

    @Option(names = "--rate", split = ",", paramLabel = "R[,R...]", description = "Batcher path, open loop: requests per second "
            + "(Poisson arrivals), one step per rate; latency from each request's intended send time (coordinated omission corrected).")
    double[] rates;

    @Option(names = "--duration-s", defaultValue = "5", description = "Open loop: seconds per rate step (default ${DEFAULT-VALUE}).")
    double durationS;

    @Option(names = "--max-in-flight", defaultValue = "256", description = "Open loop: most requests outstanding at once, 1..65536 (default ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--csv", paramLabel = "FILE", description = "Batcher path: also write one CSV row per step.")
    Path csv;

    @Option(names = "--hdr-log", paramLabel = "FILE", description = "Batcher path: also write each step's latency histogram to an "
            + "HdrHistogram log (tagged by step; HistogramLogAnalyzer reads it).")
    Path hdrLog;

    @Option(names = "--max-batch", description = "Batcher: largest batch, 1..65536; 1 = no batching (default 8 on the batcher path).")
    Integer maxBatch;

    @Option(names = "--cache-mb", description = "Batcher path: put an off-heap prediction cache of N MiB in front of the batcher (at most half the physical memory).")
    Long cacheMb;

    @Option(names = "--repeat-fraction", defaultValue = "0", description = "Batcher path: share of requests that repeat an earlier input of their client, 0..1 (default ${DEFAULT-VALUE}).")
    double repeatFraction;

    @Option(names = "--idle", defaultValue = "backoff-park",
            description = "Batcher: how the batcher thread and waiting clients wait: busy-spin, yield, backoff-park (default ${DEFAULT-VALUE}).")
    String idle;

    @Option(names = "--max-delay-us", description = "Batcher: longest the oldest request waits for company, microseconds; 0 = run what is there (default 100).")
    Long maxDelayUs;

    private io.hotpath.engine.tensorrt.Engines.Kind kind;
    private GraphOptimization level;

    /** Whether the options select the batcher path (load generator) rather than direct runs. */
    private boolean batcherPath() {
        return concurrency != null || rates != null || maxBatch != null || maxDelayUs != null || cacheMb != null || repeatFraction > 0;
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
        kind = c.parse("--engine", engineKind, io.hotpath.engine.tensorrt.Engines.Kind::parse);
        level = c.parse("--opt", opt, GraphOptimization::parse);
        if (precision != null) {
            c.parse("--precision", precision, io.hotpath.engine.tensorrt.Precision::parse);
        }
        c.oneOf("--calibration", calibration, "entropy", "minmax");
        c.each("--trt-buckets", trtBuckets, 1, Checks.MAX_BATCH);
        c.range("--builder-level", builderLevel, 0, 5);
        c.each("--concurrency", concurrency, 1, Checks.MAX_CONCURRENCY);
        c.positive("--duration-s", durationS, Checks.MAX_SECONDS);
        if (rates != null) {
            for (double r : rates) {
                c.positive("--rate", r, Checks.MAX_RATE);
                if (r * durationS > Integer.MAX_VALUE) {
                    throw c.fail("--rate " + r + " with --duration-s " + durationS + ": " + (long) (r * durationS)
                            + " requests per step; at most " + Integer.MAX_VALUE);
                }
            }
        }
        c.range("--max-in-flight", maxInFlight, 1, Checks.MAX_IN_FLIGHT);
        if (maxBatch != null) {
            c.range("--max-batch", maxBatch, 1, Checks.MAX_BATCH);
        }
        if (cacheMb != null) {
            c.range("--cache-mb", cacheMb, 1, Checks.memoryLimitBytes() >> 20, Checks.memoryLimitWhy());
        }
        c.between("--repeat-fraction", repeatFraction, 0, 1);
        c.oneOf("--idle", idle, "busy-spin", "yield", "backoff-park");
        if (maxDelayUs != null) {
            c.range("--max-delay-us", maxDelayUs, 0, Checks.MAX_DELAY_US, "the batcher's limit");
        }
        if (concurrency != null && java.util.Arrays.stream(concurrency).asLongStream().sum() > Checks.MAX_IN_FLIGHT) {
            throw c.fail("--concurrency " + java.util.Arrays.toString(concurrency) + ": " + java.util.Arrays.stream(concurrency).asLongStream().sum()
                    + " client threads over the sweep; at most " + Checks.MAX_IN_FLIGHT);
        }
        var parsed = spec.commandLine().getParseResult();
        if (batcherPath()) {
            if (rates != null && concurrency != null) {
                throw c.fail("give --rate (open loop) or --concurrency (closed loop), not both");
            }
            if (precision != null || kind != io.hotpath.engine.tensorrt.Engines.Kind.CPU || batches.length > 1) {
                throw c.fail("the batcher path runs on --engine cpu with one --max-batch; use direct mode for --engine/--precision/--batch lists");
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
            if (ortProfile != null && kind != io.hotpath.engine.tensorrt.Engines.Kind.CPU) {
                throw c.fail("--ort-profile applies to --engine cpu");
            }
        }
        if (rates == null) {
            for (String o : new String[] {"--duration-s", "--max-in-flight"}) {
                if (parsed != null && parsed.hasMatchedOption(o)) {
                    throw c.fail(o + " applies to the open loop (--rate)");
                }
            }
        }
        if (kind == io.hotpath.engine.tensorrt.Engines.Kind.CPU) {
            for (String o : new String[] {"--calibration", "--cuda-graphs", "--trt-buckets", "--builder-level", "--trt-cache"}) {
                if (parsed != null && parsed.hasMatchedOption(o)) {
                    throw c.fail(o + " applies to --engine tensorrt or best");
                }
            }
        }
        if (trtBuckets != null && java.util.Arrays.stream(trtBuckets).max().orElse(0) < java.util.Arrays.stream(batches).max().orElse(0)) {
            throw c.fail("--trt-buckets must reach the largest --batch (" + java.util.Arrays.stream(batches).max().orElse(0) + ")");
        }
        c.outputFile("--json", json);
        c.outputFile("--csv", csv);
        c.outputFile("--hdr-log", hdrLog);
        c.outputFile("--ort-profile", ortProfile);
        c.outputDir("--trt-cache", trtCache);
    }

    /** The state pairs --state asks for: found by name (auto), none, or given as OUT=IN pairs. */
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
        PrintStream out = System.out;
        Checks checks = new Checks(spec);
        validate(checks);
        batch = java.util.Arrays.stream(batches).max().orElse(0);
        Path file = ModelCatalog.resolve(model);
        if (batcherPath()) {
            return serviceBench(out, file, level, checks);
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
        Engines.Choice choice = checks.opening(sized, () -> Engines.open(file, kind,
                kind == io.hotpath.engine.tensorrt.Engines.Kind.CPU ? null : trtOptions(file), options));
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
            java.util.List<Map<String, Object>> rows = new java.util.ArrayList<>();
            java.util.List<LatencyStats> stats = new java.util.ArrayList<>();
            Batch b = loop != null ? loop.batch() : engine.newBatch();
            Runnable step = loop != null ? loop::step : () -> engine.run(b);
            for (int bs : batches) {
                given.fill(b, bs, seq, v, seed);
                LatencyStats s = Measurement.run(step, bs, warmup, iterations, "bench b" + bs, System.err);
                stats.add(s);
                Map<String, Object> j = baseJson(file, engine, sys, s, s.itemsPerSecond());
                j.put("batch", bs);
                rows.add(j);
            }
            out.println();
            out.printf("  %-10s %10s %10s %10s %10s %10s %14s%n", "batch", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "items/s");
            for (int i = 0; i < batches.length; i++) {
                LatencyStats s = stats.get(i);
                out.printf("  %-10d %10.1f %10.1f %10.1f %10.1f %10.1f %14.1f%n", batches[i], s.p50Us(), s.p90Us(), s.p99Us(),
                        s.p999Us(), s.maxUs(), s.itemsPerSecond());
            }
            if (json != null) {
                if (rows.size() == 1) {
                    writeJson(json, rows.get(0));
                } else {
                    Map<String, Object> all = new LinkedHashMap<>();
                    all.put("model", model);
                    all.put("engine", engine.name());
                    all.put("results", rows);
                    writeJson(json, all);
                }
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
            var alg = switch (calibration.toLowerCase(java.util.Locale.ROOT)) {
                case "entropy" -> io.hotpath.nativebindings.trt.Int8Calibrators.Algorithm.ENTROPY;
                case "minmax" -> io.hotpath.nativebindings.trt.Int8Calibrators.Algorithm.MINMAX;
                default -> throw new IllegalStateException("--calibration was checked: " + calibration);
            };
            CalibrationData data = TrtCalibration.forModel(model, file, seq, vocab == null ? DEFAULT_VOCAB : vocab, seed);
            if (data != null) {
                b.calibration(data, alg);
            }
        }
        return b.build();
    }

    private int serviceBench(PrintStream out, Path file, GraphOptimization level, Checks checks) throws IOException {
        int[] concs = concurrency == null ? new int[] {1} : concurrency;
        int mb = maxBatch == null ? 8 : maxBatch;
        long delay = maxDelayUs == null ? 100 : maxDelayUs;
        boolean open = rates != null;
        // closed-loop clients take new request handles each step; the open loop reuses one pool
        int slots = open ? maxInFlight : java.util.Arrays.stream(concs).sum();
        io.hotpath.batcher.IdleStrategyKind idleKind =
                io.hotpath.batcher.IdleStrategyKind.valueOf(idle.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        SystemInfo sys = SystemInfo.detect();
        String sized = "--max-batch " + mb + " with " + (open ? "--max-in-flight " + maxInFlight : "--concurrency " + java.util.Arrays.toString(concs))
                + " at --seq " + seq;
        BenchInputs given = BenchInputs.parse(checks, inputValues, null);
        OrtCpuEngine engine = checks.opening(sized, () -> OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(level)
                .intraOpThreads(threads).spinWait(spinWait != null && spinWait).maxBatchSize(mb).defaultMaxDimension(seq).build()));
        long v;
        InferenceService svc;
        try {
            // the engine's batch (max-batch rows), one row in and out per request handle, and each closed-loop client's inputs to repeat
            var tensors = java.util.stream.Stream.concat(engine.inputs().stream(), engine.outputs().stream()).toList();
            long row = Checks.batchBytes(tensors, 1, seq);
            long need = Checks.saturatingAdd(Checks.saturatingMultiply(row, (long) mb + slots),
                    open ? 0 : Checks.saturatingMultiply(Checks.batchBytes(engine.inputs(), 1, seq), (long) ServiceBench.REPEAT_POOL * slots));
            checks.memory(sized, need);
            v = vocab != null ? vocab : vocabulary(file, engine);
            given.bind(checks, engine.inputs(), null);
            // a model that cannot batch (a scalar input, a fixed batch of 1) runs batches of one unless --max-batch asked for more
            int batchRows = maxBatch == null ? Math.min(mb, engine.maxBatchSize()) : mb;
            if (batchRows < mb) {
                out.println("  note    the model runs batches of at most " + engine.maxBatchSize() + " (an input without a dynamic batch dimension)");
            }
            InferenceService.Builder sb = InferenceService.builder(engine).batching(c -> c.maxBatchSize(batchRows).maxQueueDelayMicros(delay)
                    .batcherIdle(idleKind).callerIdle(idleKind).maxRequests(slots));
            if (cacheMb != null) {
                sb.cache(c -> c.budgetBytes(cacheMb << 20));   // cacheMb was checked against the memory limit: no overflow
            }
            try {
                svc = sb.build();
            } catch (IllegalArgumentException e) {
                // the batcher's and the cache's own checks: this model with these options does not fit them
                throw checks.fail("the batcher path cannot run " + model + " with these options: " + e.getMessage());
            }
            try {
                given.requestShapes(checks, svc.maxLength() > 1 ? Math.min(seq, svc.maxLength()) : 1);
            } catch (Throwable e) {
                svc.close();
                throw e;
            }
        } catch (Throwable e) {
            engine.close();
            throw e;
        }
        String failedStep = null;   // the first step none of whose requests was answered OK
        try (svc) {
            out.println("hotpath bench (dynamic batcher, " + (open ? "open loop" : "closed loop") + "): " + model + " (" + file + ")");
            out.println("  engine  " + engine.describe());
            given.describe(v).forEach(out::println);
            out.println("  system  " + sys.summary());
            out.println("  run     " + (open ? "rates=" + java.util.Arrays.toString(rates) + "/s duration=" + durationS + "s/step max-in-flight="
                    + maxInFlight : "concurrency=" + java.util.Arrays.toString(concs) + " iterations=" + iterations + " (total per step)")
                    + " max-batch=" + mb + " max-delay-us=" + delay + " idle=" + idle
                    + (svc.maxLength() > 1 ? " seq=" + Math.min(seq, svc.maxLength()) : "") + " warmup=" + warmup
                    + (cacheMb != null ? " cache-mb=" + cacheMb : "") + " repeat-fraction=" + repeatFraction);
            out.println();
            java.util.List<Map<String, Object>> steps = new java.util.ArrayList<>();
            java.util.List<org.HdrHistogram.Histogram> hists = new java.util.ArrayList<>();
            java.util.List<String> tags = new java.util.ArrayList<>();
            int n = open ? rates.length : concs.length;
            io.hotpath.service.Request[] pool = open ? OpenLoop.pool(svc, maxInFlight, seq) : null;
            StringBuilder table = new StringBuilder();   // printed after the progress bar is done, so the two do not interleave
            me.tongfei.progressbar.ProgressBar bar = Measurement.progress(open ? "open-loop steps" : "closed-loop steps", n, System.err);
            for (int k = 0; k < n; k++) {
                svc.metrics().intervalBatchSize(null);
                svc.metrics().intervalQueueWait(null);
                svc.metrics().intervalEngineTime(null);
                long hits0 = svc.cache() == null ? 0 : svc.cache().hits();
                long miss0 = svc.cache() == null ? 0 : svc.cache().misses();
                org.HdrHistogram.Histogram latency;
                org.HdrHistogram.Histogram batchSizes = null;
                org.HdrHistogram.Histogram queue = null;
                org.HdrHistogram.Histogram engineTime = null;
                double throughput;
                long okN;
                long bad;
                Map<String, Object> j;
                try {
                    if (open) {
                        int requests = Math.max(1, (int) (rates[k] * durationS));
                        OpenLoop.Result r = OpenLoop.run(svc, pool, rates[k], (int) Math.min(10L * warmup, requests), requests, v, seed + k, given);
                        latency = r.corrected();
                        throughput = r.throughput();
                        okN = r.ok();
                        bad = r.notOk();
                        j = baseJson(file, engine, sys, LatencyStats.of(latency, r.wallNanos(), 1), throughput);
                        j.put("rate_per_s", rates[k]);
                        j.put("uncorrected_p99_us", r.uncorrected().getValueAtPercentile(99) / 1e3);
                        j.put("uncorrected_p999_us", r.uncorrected().getValueAtPercentile(99.9) / 1e3);
                        tags.add("rate=" + rates[k]);
                    } else {
                        int perThread = Math.max(1, iterations / concs[k]);
                        ServiceBench.Result r = ServiceBench.run(svc, concs[k], warmup, perThread, seq, v, seed + k, repeatFraction, given);
                        latency = r.latencyHistogram();
                        throughput = r.throughput();
                        okN = r.ok();
                        bad = r.failed();
                        j = baseJson(file, engine, sys, r.latency(), throughput);
                        j.put("concurrency", concs[k]);
                        // the closed loop reads the batcher's recorders itself, for its measured phase only
                        batchSizes = r.batchSizes();
                        queue = r.queueWait();
                        engineTime = r.engineTime();
                        tags.add("concurrency=" + concs[k]);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.SHUTDOWN, "interrupted while measuring", e);
                }
                if (batchSizes == null) {
                    batchSizes = svc.metrics().intervalBatchSize(null);
                    queue = svc.metrics().intervalQueueWait(null);
                    engineTime = svc.metrics().intervalEngineTime(null);
                }
                double hitRate = 0;
                if (svc.cache() != null) {
                    long h = svc.cache().hits() - hits0;
                    long m = svc.cache().misses() - miss0;
                    hitRate = h + m == 0 ? 0 : (double) h / (h + m);
                }
                table.append(String.format(java.util.Locale.ROOT, "  %-12s %9.1f %9.1f %9.1f %9.1f %10.1f %10.1f %12.1f %9.1f %9.1f %8.2f %6.1f%%%n",
                        open ? String.format(java.util.Locale.ROOT, "%.0f", rates[k]) : Integer.toString(concs[k]),
                        latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(90) / 1e3, latency.getValueAtPercentile(95) / 1e3,
                        latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3, throughput,
                        queue.getValueAtPercentile(99) / 1e3, engineTime.getValueAtPercentile(50) / 1e3,
                        batchSizes.getTotalCount() == 0 ? 0 : batchSizes.getMean(), 100 * hitRate));
                Map<Long, Long> dist = new LinkedHashMap<>();
                for (var bv : batchSizes.recordedValues()) {
                    dist.put(bv.getValueIteratedTo(), bv.getCountAtValueIteratedTo());
                }
                table.append(String.format(java.util.Locale.ROOT, "  %12s batch size: mean %.2f, distribution %s; queue wait: p50 %.1f us, p99 %.1f us; engine per batch: p50 %.1f us, p99 %.1f us%n",
                        "", batchSizes.getTotalCount() == 0 ? 0 : batchSizes.getMean(), dist, queue.getValueAtPercentile(50) / 1e3,
                        queue.getValueAtPercentile(99) / 1e3, engineTime.getValueAtPercentile(50) / 1e3, engineTime.getValueAtPercentile(99) / 1e3));
                j.put("p95_us", latency.getValueAtPercentile(95) / 1e3);
                j.put("max_batch", mb);
                j.put("max_delay_us", delay);
                j.put("mean_batch_size", batchSizes.getTotalCount() == 0 ? 0 : batchSizes.getMean());
                j.put("batch_size_distribution", dist);
                j.put("queue_p50_us", queue.getValueAtPercentile(50) / 1e3);
                j.put("queue_p99_us", queue.getValueAtPercentile(99) / 1e3);
                j.put("engine_p50_us", engineTime.getValueAtPercentile(50) / 1e3);
                j.put("engine_p99_us", engineTime.getValueAtPercentile(99) / 1e3);
                j.put("requests_ok", okN);
                j.put("requests_not_ok", bad);
                j.put("repeat_fraction", repeatFraction);
                j.put("cache_mb", cacheMb);
                j.put("cache_hit_rate", hitRate);
                steps.add(j);
                if (okN == 0 && bad > 0 && failedStep == null) {
                    failedStep = tags.get(tags.size() - 1) + ": all " + bad + " measured requests were answered not OK";
                }
                hists.add(latency);
                bar.step();
            }
            bar.close();
            out.printf("  %-12s %9s %9s %9s %9s %10s %10s %12s %9s %9s %8s %7s%n", open ? "rate/s" : "concurrency", "p50 us", "p90 us",
                    "p95 us", "p99 us", "p99.9 us", "max us", "requests/s", "queue p99", "engine p50", "batch", "hits");
            out.print(table);
            if (json != null) {
                if (steps.size() == 1) {
                    writeJson(json, steps.get(0));
                } else {
                    Map<String, Object> all = new LinkedHashMap<>();
                    all.put("model", model);
                    all.put("mode", open ? "open-loop" : "closed-loop");
                    all.put("steps", steps);
                    writeJson(json, all);
                }
                out.println("\n  wrote " + json);
            }
            if (csv != null) {
                LoadReports.writeCsv(csv, steps);
                out.println("  wrote " + csv);
            }
            if (hdrLog != null) {
                LoadReports.writeHdrLog(hdrLog, hists, tags);
                out.println("  wrote " + hdrLog);
            }
        }
        if (failedStep != null) {
            // the figures above measure failures, not the model: say so and exit non-zero
            throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.ENGINE_FAILURE,
                    "step " + failedStep + " (the engine's own error, if any, is in its log above)");
        }
        return 0;
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

    private Map<String, Object> baseJson(Path modelFile, Engine engine, SystemInfo sys, LatencyStats s, double throughput) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", model);
        j.put("model_file", modelFile.toString());
        j.put("engine", engine.name());
        j.put("engine_options", engine instanceof OrtCpuEngine o ? o.options().toString()
                : engine instanceof TensorRtEngine t ? t.options().toString() : engine.describe());
        j.put("engine_description", engine.describe());
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
        j.put("throughput_per_s", throughput);
        j.put("runs_per_s", s.runsPerSecond());
        j.put("cpu_model", sys.cpuModel());
        j.put("cpu_flags", sys.cpuFlags());
        j.put("cores", sys.cores());
        j.put("jdk", sys.jdk());
        j.put("os", sys.os());
        if (engine instanceof OrtCpuEngine) {
            j.put("onnxruntime_version", OrtCpuEngine.runtimeVersion());
        }
        if (engine instanceof TensorRtEngine t) {
            j.put("precision", t.options().precision().label());
            j.put("cuda_graphs", t.options().cudaGraphs());
            j.put("gpu", t.device().name());
            j.put("compute_capability", t.device().computeCapability());
            j.put("tensorrt_version", io.hotpath.nativebindings.trt.TensorRt.status().version());
            j.put("cuda_runtime", io.hotpath.nativebindings.cuda.Cuda.status().runtime());
            j.put("cuda_driver", io.hotpath.nativebindings.cuda.Cuda.status().driver());
            j.put("plan_built_now", t.builtNow());
            j.put("build_seconds", t.buildNanos() / 1e9);
            j.put("plan_file", t.planFile().toString());
        }
        return j;
    }

    private static void writeJson(Path file, Map<String, Object> j) throws IOException {
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
