package io.hotpath.cli;

import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.onnx.WordPieceTokenizer;
import io.hotpath.service.InferenceService;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code hotpath profile}: runs the user's workload through an {@link InferenceService} under a
 * JFR recording and answers on one screen where a request's time goes (each stage's share of the
 * typical and of the tail request), which operators the engine spends its time in (ONNX Runtime's
 * profiler, in a separate phase since it slows every run), which Java frames are hottest (JFR's
 * execution samples), and a plain-language verdict.
 */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = {"Profiles a model's request path: the share of each stage (pre-processing, cache lookup, submit, queue wait, "
                + "batch assembly, engine run, scatter, hand-off) for the typical (p45-p55) and the p99 (p98.5-p99.5) request, the engine's top "
                + "operators, the hottest Java frames, and a verdict.",
                "Closed loop: --concurrency callers, each sending its next request when the last is answered. The recording costs "
                        + "a little time per request; the figures are the profile's, not a benchmark's (use hotpath bench for those)."})
final class ProfileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Option(names = "--engine", defaultValue = "cpu", description = "cpu (ONNX Runtime) or jvm (small models compiled for the JVM) (default ${DEFAULT-VALUE}).")
    String engineKind;

    @Option(names = "--concurrency", defaultValue = "1", description = "Caller threads, 1..1024 (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--max-batch", defaultValue = "8", description = "Batcher: largest batch, 1..65536 (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-delay-us", defaultValue = "100", description = "Batcher: longest the oldest request waits for company, µs (default ${DEFAULT-VALUE}).")
    long maxDelayUs;

    @Option(names = "--idle", defaultValue = "backoff-park", description = "How the batcher and waiting callers wait: busy-spin, yield, backoff-park (default ${DEFAULT-VALUE}).")
    String idle;

    @Option(names = "--direct", description = "No batcher: each caller runs its own request on its own thread (the single-caller, lowest-latency mode).")
    boolean direct;

    @Option(names = "--cache-mb", description = "An off-heap prediction cache of N MiB in front of the batcher.")
    Long cacheMb;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 = one per core (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--seq", defaultValue = "128", description = "Longest variable length (sequence) a request may have (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--inputs", defaultValue = "auto", paramLabel = "auto|random|text", description = "How each request's inputs are made: "
            + "random valid values, or text (a built-in sentence tokenized on the caller's thread with the BERT uncased WordPiece vocabulary, "
            + "for models with input_ids and attention_mask); auto = text when the model has those inputs (default ${DEFAULT-VALUE}).")
    String inputs;

    @Option(names = "--duration-s", defaultValue = "10", description = "Seconds recorded (default ${DEFAULT-VALUE}).")
    double durationS;

    @Option(names = "--warmup-s", defaultValue = "3", description = "Seconds run first, not recorded (default ${DEFAULT-VALUE}).")
    double warmupS;

    @Option(names = "--operators", defaultValue = "10", description = "CPU engine: how many of the engine's operator types to list from "
            + "ONNX Runtime's profiler (run afterwards, in a short phase of its own); 0 skips it (default ${DEFAULT-VALUE}).")
    int operators;

    @Option(names = "--frames", defaultValue = "12", description = "How many of the hottest Java frames to list (default ${DEFAULT-VALUE}).")
    int frames;

    @Option(names = "--sample-ms", defaultValue = "2", description = "JFR execution sampling period, ms, 1..1000 (default ${DEFAULT-VALUE}).")
    int sampleMs;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write a self-contained HTML page: the stage waterfall and the flame graph.")
    Path html;

    @Option(names = "--jfr", paramLabel = "FILE", description = "Keep the JFR recording (Hotpath's events and the samples) at FILE (open it in JDK Mission Control).")
    Path jfr;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the inputs (default ${DEFAULT-VALUE}).")
    long seed;

    private void validate(Checks c) {
        c.range("--concurrency", concurrency, 1, Checks.MAX_CONCURRENCY);
        c.range("--max-batch", maxBatch, 1, Checks.MAX_BATCH);
        c.range("--max-delay-us", maxDelayUs, 0, Checks.MAX_DELAY_US, "the batcher's limit");
        idle = c.oneOf("--idle", idle, "busy-spin", "yield", "backoff-park");
        engineKind = c.oneOf("--engine", engineKind, "cpu", "jvm");
        inputs = c.oneOf("--inputs", inputs, "auto", "random", "text");
        c.range("--threads", threads, 0, Checks.MAX_THREADS);
        c.range("--seq", seq, 1, Checks.MAX_SEQ);
        c.positive("--duration-s", durationS, Checks.MAX_SECONDS);
        c.between("--warmup-s", warmupS, 0, Checks.MAX_SECONDS);
        c.range("--operators", operators, 0, 1000);
        c.range("--frames", frames, 0, 1000);
        c.range("--sample-ms", sampleMs, 1, 1000);
        if (cacheMb != null) {
            c.range("--cache-mb", cacheMb, 1, Checks.memoryLimitBytes() >> 20, Checks.memoryLimitWhy());
        }
        var parsed = spec.commandLine().getParseResult();
        if (direct && parsed != null) {
            for (String o : new String[] {"--max-batch", "--max-delay-us"}) {
                if (parsed.hasMatchedOption(o)) {
                    throw c.fail(o + " applies to the batcher; --direct runs each request on its caller's thread");
                }
            }
        }
        if (!io.hotpath.service.events.HotpathEvents.ON) {
            throw c.fail("-Dhotpath.jfr=false turns off the events the profile reads; run without it");
        }
        c.outputFile("--html", html);
        c.outputFile("--jfr", jfr);
    }

    @Override
    public Integer call() throws IOException {
        String model = modelOption.model;
        PrintStream out = System.out;
        Checks checks = new Checks(spec);
        validate(checks);
        Path file = ModelCatalog.resolve(model);
        boolean jvm = engineKind.equalsIgnoreCase("jvm");
        int mb = direct ? 1 : maxBatch;
        String sized = (direct ? "--direct" : "--max-batch " + mb) + " with --concurrency " + concurrency + " at --seq " + seq;
        Engine engine = checks.opening(sized, () -> jvm
                ? io.hotpath.engine.jvm.JvmEngine.open(file, io.hotpath.engine.jvm.JvmEngineOptions.builder().maxBatchSize(mb).build())
                : OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL).intraOpThreads(threads)
                        .spinWait(false).maxBatchSize(mb).defaultMaxDimension(seq).build()));
        InferenceService svc;
        boolean textInputs;
        try {
            var tensors = java.util.stream.Stream.concat(engine.inputs().stream(), engine.outputs().stream()).toList();
            checks.memory(sized, Checks.saturatingMultiply(Checks.batchBytes(tensors, 1, seq), (long) mb + concurrency));
            boolean bert = engine.inputs().stream().anyMatch(t -> t.name().equals("input_ids"))
                    && engine.inputs().stream().anyMatch(t -> t.name().equals("attention_mask"));
            if (inputs.equals("text") && !bert) {
                throw checks.fail("--inputs text needs a model with input_ids and attention_mask inputs; " + model + " has "
                        + engine.inputs().stream().map(t -> t.name()).toList());
            }
            textInputs = bert && !inputs.equals("random");
            if (textInputs && seq < 2) {
                throw checks.fail("--seq " + seq + ": a tokenized sentence needs at least 2 tokens ([CLS] and [SEP])");
            }
            int batchRows = Math.min(mb, engine.maxBatchSize());
            io.hotpath.batcher.IdleStrategyKind idleKind =
                    io.hotpath.batcher.IdleStrategyKind.valueOf(idle.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            InferenceService.Builder b = InferenceService.builder(engine).batching(c -> c.maxBatchSize(batchRows).maxQueueDelayMicros(maxDelayUs)
                    .batcherIdle(idleKind).callerIdle(idleKind).maxRequests(concurrency));
            if (direct) {
                b.direct();
            }
            if (cacheMb != null) {
                b.cache(c -> c.budgetBytes(cacheMb << 20));
            }
            try {
                svc = b.build();
            } catch (IllegalArgumentException e) {
                throw checks.fail("cannot run " + model + " with these options: " + e.getMessage());
            }
        } catch (Throwable e) {
            engine.close();
            throw e;
        }
        SystemInfo sys = SystemInfo.detect();
        StageProfile.Summary summary;
        StageProfile.Setup setup;
        ProfileRun.Result result;
        JfrSamples.Read samples;
        Path recordingFile = null;
        double meanBatch;
        int typicalLength;
        try (svc) {
            recordingFile = jfr != null ? jfr : Files.createTempFile("hotpath-profile", ".jfr");
            long vocab = BenchCommand.vocabulary(file, engine);
            WordPieceTokenizer tok = textInputs ? ModelCatalog.minilmTokenizer() : null;
            List<String> sentences = io.hotpath.models.ValidationSentences.all();
            ProfileRun.Inputs in = textInputs ? ProfileRun.text(svc, tok, sentences, seq) : ProfileRun.random(svc, seq, vocab);
            typicalLength = textInputs ? medianLength(tok, sentences, Math.min(seq, svc.maxLength())) : svc.maxLength() > 1 ? Math.min(seq, svc.maxLength()) : 1;
            out.println("hotpath profile: " + model + " (" + file + ")");
            out.println("  engine  " + engine.describe());
            out.println("  system  " + sys.summary());
            out.println("  run     concurrency=" + concurrency + (direct ? " direct (no batcher)" : " max-batch=" + mb + " max-delay-us=" + maxDelayUs)
                    + " idle=" + idle + (cacheMb != null ? " cache-mb=" + cacheMb : "") + " inputs=" + (textInputs
                    ? "text (" + sentences.size() + " built-in sentences, tokenized per request; median " + typicalLength + " tokens)" : "random")
                    + " warmup=" + warmupS + "s duration=" + durationS + "s");
            // about 60 bytes per request and stage; enough rows for the run's requests up to a cap (the ring keeps the newest)
            StageProfile profile = new StageProfile(concurrency, Math.max(1024, (1 << 20) / concurrency));
            // the recording and the batch-size recorder start when the measured phase does: the warm-up is in neither
            jdk.jfr.Recording[] rec = new jdk.jfr.Recording[1];
            try {
                result = ProfileRun.run(svc, concurrency, in, (long) (warmupS * 1e9), (long) (durationS * 1e9), profile, seed, () -> {
                    svc.metrics().intervalBatchSize(null);
                    rec[0] = JfrSamples.start(sampleMs);
                });
                var batches = svc.metrics().intervalBatchSize(null);
                meanBatch = direct ? 1 : batches.getTotalCount() == 0 ? 0 : batches.getMean();
                if (rec[0] != null) {
                    rec[0].stop();
                    rec[0].dump(recordingFile);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HotpathException(HotpathException.Category.SHUTDOWN, "interrupted while profiling", e);
            } finally {
                if (rec[0] != null) {
                    rec[0].close();
                }
            }
            if (profile.recorded() == 0) {
                throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "no request was answered OK in the " + durationS
                        + " s measured (" + result.notOk() + " were not): raise --duration-s, or see why they failed with hotpath bench");
            }
            summary = profile.summarize();
            setup = new StageProfile.Setup(direct, concurrency, mb, maxDelayUs, idle, meanBatch, Runtime.getRuntime().availableProcessors());
            samples = JfrSamples.read(recordingFile, frames);
        } finally {
            if (jfr == null && recordingFile != null) {
                Files.deleteIfExists(recordingFile);
            }
        }
        out.printf(Locale.ROOT, "  done    %d requests answered OK, %d not, %.0f requests/s; mean batch %.2f rows%n", result.ok(), result.notOk(),
                result.throughput(), meanBatch);
        out.println();
        out.println("Where a request's time goes");
        StageProfile.print(out, summary, setup);
        if (operators > 0) {
            out.println();
            if (jvm) {
                out.println("The engine's operators: the JVM engine has no operator profiler (its run is one compiled Java method; see the frames below)");
            } else {
                int rows = Math.max(1, (int) Math.round(meanBatch));
                out.println("The engine's operators (ONNX Runtime's profiler, batches of " + rows + " rows at length " + typicalLength + ", run after the profile)");
                operatorPhase(out, file, rows, typicalLength, vocab(file, engine));
            }
        }
        if (frames > 0) {
            out.println();
            out.println("The hottest Java frames (JFR execution samples every " + sampleMs + " ms, native-method samples every "
                    + Math.max(sampleMs, 10) + " ms)");
            JfrSamples.print(out, samples);
        }
        if (jfr != null) {
            out.println("\n  wrote " + jfr + " (" + samples.hotpathEvents() + " Hotpath events; open it in JDK Mission Control, category Hotpath)");
        }
        if (html != null) {
            Files.writeString(html, ProfileHtml.render("hotpath profile: " + model, sys.summary(), summary, StageProfile.verdict(summary, setup), samples));
            out.println("  wrote " + html);
        }
        if (result.ok() == 0) {
            throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "no request was answered OK during the profile ("
                    + result.notOk() + " were not)");
        }
        return 0;
    }

    private static long vocab(Path file, Engine engine) {
        return BenchCommand.vocabulary(file, engine);
    }

    /** The median token count of {@code sentences} (capped at {@code cap}): the length the operator phase runs. */
    static int medianLength(WordPieceTokenizer tok, List<String> sentences, int cap) {
        int[] lens = sentences.stream().mapToInt(s -> tok.encode(s, cap).length).sorted().toArray();
        return lens[lens.length / 2];
    }

    /** ONNX Runtime's profiler on a second session of the model: a short run of batches, summarised per operator type. */
    private void operatorPhase(PrintStream out, Path file, int rows, int length, long vocab) throws IOException {
        Path dir = Files.createTempDirectory("hotpath-ort-profile");
        try {
            Path prefix = dir.resolve("ort");
            try (OrtCpuEngine e = OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL).intraOpThreads(threads)
                    .maxBatchSize(rows).defaultMaxDimension(length).profilePrefix(prefix).build())) {
                var b = e.newBatch();
                BenchInputs.defaults().fill(b, rows, length, vocab, seed);
                long until = System.nanoTime() + 2_000_000_000L;
                for (int i = 0; i < 500 && (i < 5 || System.nanoTime() < until); i++) {
                    e.run(b);
                }
            }
            Path trace = OrtProfileSummary.newest(prefix);
            OrtProfileSummary.read(trace).print(out, Path.of("(a temporary trace)"), operators);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }
}
