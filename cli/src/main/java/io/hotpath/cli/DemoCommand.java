package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.SampleSentences;
import io.hotpath.onnx.WordPieceTokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hotpath demo}: MiniLM on this machine. First it shows the model works (paraphrases score
 * higher than unrelated sentences, on real English tokenized with the model's own tokenizer),
 * then it measures latency and throughput at batch 1 and 8 with graph optimization none and all.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs all-MiniLM-L6-v2 on real sentences, measures it at batch 1 and 8 with graph optimization none and all, then "
                + "measures each optimization in turn (graph optimization, FP16, INT8, dynamic batching, the cache) and writes an HTML report.")
final class DemoCommand implements Callable<Integer> {
    /** Sentence pairs that mean the same thing. */
    static final List<String[]> PARAPHRASES = List.of(
            new String[] {"The central bank raised interest rates by a quarter point.",
                    "The policy rate was lifted by twenty-five basis points."},
            new String[] {"A cat is sleeping on the warm windowsill.",
                    "A kitten naps in the sun by the window."},
            new String[] {"The flight was delayed because of heavy snow.",
                    "Snowstorms held up the plane's departure."},
            new String[] {"He fixed the bug that crashed the server at night.",
                    "The programmer repaired the fault behind the nightly server crashes."});
    /** Sentence pairs about unrelated things. */
    static final List<String[]> UNRELATED = List.of(
            new String[] {"The central bank raised interest rates by a quarter point.",
                    "A kitten naps in the sun by the window."},
            new String[] {"A cat is sleeping on the warm windowsill.",
                    "The programmer repaired the fault behind the nightly server crashes."},
            new String[] {"The flight was delayed because of heavy snow.",
                    "The policy rate was lifted by twenty-five basis points."},
            new String[] {"He fixed the bug that crashed the server at night.",
                    "Snowstorms held up the plane's departure."});
    @Option(names = "--seq", defaultValue = "128", description = "Sequence length of the timed runs, 1..512 (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--seconds", defaultValue = "4", description = "Measured seconds per configuration (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default: the number of cores).")
    Integer threads;

    @Option(names = "--redis", paramLabel = "URI", description = "Adds a row for the shared cache tier on this Redis (redis://host:port): "
            + "one service computes a workload, a second service with its own empty local cache asks the same inputs.")
    String redis;

    /** MiniLM's longest input (its position embeddings). */
    static final int MAX_SEQ = 512;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Checks c = new Checks(spec);
        c.range("--seq", seq, 1, MAX_SEQ);
        c.positive("--seconds", seconds, Checks.MAX_SECONDS);
        if (threads != null) {
            c.range("--threads", threads, 1, Checks.MAX_THREADS);
        }
        if (results != null) {
            results.forEach(f -> c.inputFile("--results", f));
        }
        c.outputDir("--report-dir", reportDir);
        if (redis != null && !redis.matches("(?i)rediss?://\\S+")) {
            throw c.fail("--redis: expected redis://host:port or rediss://host:port (TLS)");
        }
        PrintStream out = System.out;
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        SystemInfo sys = SystemInfo.detect();
        Path model = ModelCatalog.resolve("minilm");
        out.println("Hotpath demo: all-MiniLM-L6-v2 (FP32, 6-layer BERT encoder, 384-dim) on ONNX Runtime "
                + OrtCpuEngine.runtimeVersion() + " CPU");
        out.println("  model   " + model);
        out.println("  system  " + sys.summary());
        out.println();

        boolean works = similarities(model, t, out);
        out.println();
        timings(model, t, out);
        out.println();
        story(model, out, sys);
        return works ? 0 : 1;
    }

    @Option(names = "--results", split = ",", paramLabel = "FILE", description = "Saved `hotpath bench --json` results from other machines "
            + "(a GPU run, say) to show beside this machine's in the report.")
    List<java.nio.file.Path> results;

    @Option(names = "--report-dir", defaultValue = "hotpath-report", description = "Where the HTML report and the optimizer's files go (default ${DEFAULT-VALUE}).")
    java.nio.file.Path reportDir;

    /** Each optimization in turn, then all combined; printed next to the commonly quoted gains, and written as an HTML report. */
    private void story(Path model, PrintStream out, SystemInfo sys) {
        out.println("3. What each optimization buys on this machine (MiniLM, sequence length " + seq + "):");
        io.hotpath.onnx.WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        io.hotpath.optimizer.Optimizer.Config cfg = new io.hotpath.optimizer.Optimizer.Config(List.of("fp32", "fp16", "int8"),
                List.of(io.hotpath.optimizer.CalibrationStats.Method.MINMAX), seq, 5, new io.hotpath.optimizer.Optimizer.Budget(0.99, 0.97));
        io.hotpath.optimizer.Optimizer.Report rep = io.hotpath.optimizer.Optimizer.run(model, "minilm",
                new io.hotpath.optimizer.Optimizer.Text(tok, io.hotpath.models.CalibrationSentences.all().subList(0, 64)),
                new io.hotpath.optimizer.Optimizer.Text(tok, io.hotpath.models.ValidationSentences.all().subList(0, 32)),
                List.of(ModelCatalog.resolve("minilm-q")), cfg, reportDir.resolve("optimize"));
        java.util.Map<String, io.hotpath.optimizer.Optimizer.Variant> v = new java.util.LinkedHashMap<>();
        rep.variants().forEach(x -> v.put(x.name(), x));
        double base = 1e6 / v.get("fp32-opt-none").p50UsBatch1();
        double graph = 1e6 / v.get("fp32").p50UsBatch1();
        double fp16 = 1e6 / v.get("fp16").p50UsBatch1();
        io.hotpath.optimizer.Optimizer.Variant fusedVariant = v.get("fp32-fused");       // absent when the model has no attention block
        Path int8File = v.get("int8-minmax").file();
        double int8 = 1e6 / v.get("int8-minmax").p50UsBatch1();
        // the serving path: INT8 through the dynamic batcher, then with the prediction cache in front
        List<double[]> fp32Curve = new ArrayList<>();
        List<double[]> int8Curve = new ArrayList<>();
        org.HdrHistogram.Histogram spectrumFp32 = null;
        org.HdrHistogram.Histogram spectrumInt8 = null;
        double batched = 0;
        double cached = 0;
        double cacheHitRate = 0;
        double cacheHitP50Us = 0;
        for (Path f : List.of(model, int8File)) {
            boolean isInt8 = f.equals(int8File);
            for (int conc : new int[] {1, 2, 4, 8}) {
                ServiceBench.Result r = serve(f, conc, 0, false);
                (isInt8 ? int8Curve : fp32Curve).add(new double[] {r.throughput(), r.latencyHistogram().getValueAtPercentile(99) / 1e6});
                if (conc == 8) {
                    if (isInt8) {
                        spectrumInt8 = r.latencyHistogram();
                        batched = r.throughput();
                    } else {
                        spectrumFp32 = r.latencyHistogram();
                    }
                }
            }
        }
        ServiceBench.Result withCache = serve(int8File, 8, 0.5, true);
        cached = withCache.throughput();
        cacheHitRate = withCache.cacheHitRate();
        // cache hits take microseconds: enough of them to warm the JIT and give a stable median
        ServiceBench.Result allHits = serve(int8File, 1, 1.0, true, 5_000, 50_000);
        cacheHitP50Us = allHits.latencyHistogram().getValueAtPercentile(50) / 1e3;
        out.printf("   %-48s %12s %9s   %s%n", "step", "sequences/s", "vs base", "commonly quoted (context differs: read the labels)");
        row(out, "baseline: FP32, graph optimization off", base, base, "-");
        row(out, "+ graph optimization (ONNX Runtime all)", graph, base, "20-50% (fusions; more on GPUs)");
        if (fusedVariant != null) {
            row(out, "+ Hotpath's fusions (Attention, SkipLayerNorm)", 1e6 / fusedVariant.p50UsBatch1(), base, "what ORT's Python transformer optimizer does offline");
        }
        row(out, "FP16 instead of FP32 (CPU)", fp16, base, "1.5-3x on GPUs with tensor cores; no fast FP16 path on this CPU");
        row(out, "+ INT8 (static Q/DQ, MinMax, QAttention)", int8, base, "2-4x on GPUs");
        row(out, "+ dynamic batching (8 clients, batch <= 8)", batched, base, "5-10x throughput on GPUs; little on 2 CPU cores");
        row(out, "+ prediction cache (half the requests repeat)", cached, base, "sub-millisecond cache hits");
        out.printf("   all combined: %.2fx the baseline's sequences/s; cache hit rate %.0f%%; a cached answer's p50 %.1f us (the engine's INT8 p50: %.0f us)%n",
                cached / base, 100 * cacheHitRate, cacheHitP50Us, v.get("int8-minmax").p50UsBatch1());
        SharedRun shared = redis == null ? null : sharedCache(int8File);
        if (shared != null) {
            row(out, "+ shared cache (Redis: another instance computed)", shared.second().throughput(), base, "Redis in front: sub-ms hits");
            out.printf(java.util.Locale.ROOT, "   shared cache %s: %.0f%% of the second instance's requests answered by Redis; lookup p50 %d us, p99 %d us;"
                    + " request p50 %.0f us, p99 %.0f us against the engine's %.0f us and %.0f us (INT8, 1 client)%n", shared.where(),
                    100 * shared.hitRate(), shared.lookupP50Us(), shared.lookupP99Us(), shared.second().latencyHistogram().getValueAtPercentile(50) / 1e3,
                    shared.second().latencyHistogram().getValueAtPercentile(99) / 1e3, shared.first().latencyHistogram().getValueAtPercentile(50) / 1e3,
                    shared.first().latencyHistogram().getValueAtPercentile(99) / 1e3);
        }
        out.println("   The quoted ranges are what vendors and papers commonly report, mostly for GPUs and large batches; the measured");
        out.println("   column is this machine, this model, this run.");
        List<ReportHtml.Series> curves = List.of(series("FP32, dynamic batching", fp32Curve), series("INT8, dynamic batching", int8Curve));
        List<ReportHtml.Series> spectrum = List.of(spectrum("FP32, 8 clients", spectrumFp32), spectrum("INT8, 8 clients", spectrumInt8));
        List<ReportHtml.Bar> bars = new ArrayList<>(List.of(new ReportHtml.Bar("baseline (FP32, no graph opt)", 1, ""),
                new ReportHtml.Bar("+ graph optimization", graph / base, "")));
        if (fusedVariant != null) {
            bars.add(new ReportHtml.Bar("+ Hotpath's fusions", 1e6 / fusedVariant.p50UsBatch1() / base, "Attention, SkipLayerNorm"));
        }
        bars.addAll(List.of(
                new ReportHtml.Bar("+ INT8", int8 / base, ""),
                new ReportHtml.Bar("+ dynamic batching", batched / base, "8 clients"),
                new ReportHtml.Bar("+ cache", cached / base, String.format(java.util.Locale.ROOT, "%.0f%% hits", 100 * cacheHitRate)),
                new ReportHtml.Bar("all combined", cached / base, "")));
        if (shared != null) {
            bars.add(new ReportHtml.Bar("+ shared cache (Redis)", shared.second().throughput() / base,
                    String.format(java.util.Locale.ROOT, "%.0f%% answered by Redis", 100 * shared.hitRate())));
        }
        bars.addAll(tensorRtBars(model, base, out));
        List<List<String>> acc = new ArrayList<>();
        List<io.hotpath.optimizer.Optimizer.Variant> all = new ArrayList<>(rep.variants());
        all.addAll(rep.peers());
        for (var x : all) {
            acc.add(List.of(x.name(), x.precision(), String.format(java.util.Locale.ROOT, "%.6f", x.accuracy().cosineMean()),
                    String.format(java.util.Locale.ROOT, "%.6f", x.accuracy().cosineMin()), String.format(java.util.Locale.ROOT, "%.4g", x.accuracy().maxAbsErr()),
                    String.format(java.util.Locale.ROOT, "%.0f", x.p50UsBatch1()), String.format(java.util.Locale.ROOT, "%.1f", x.throughputPerSecondBatch8()),
                    x.batchInvariant() ? "yes" : "no", x.passed() ? "yes" : "no"));
        }
        ReportHtml.Content content = new ReportHtml.Content("Hotpath: MiniLM on this machine", sys.summary() + ", sequence length " + seq,
                curves, spectrum, bars, List.of("variant", "precision", "cosine mean", "cosine min", "max abs err", "p50 us (b1)", "rows/s (b8)",
                        "batch invariant", "within budget"), acc,
                List.of("Speedups are sequences per second against FP32 with graph optimization off at batch 1 (single-request latency "
                        + "for the first three bars, serving throughput for the rest). Figures from a shared VM drift 15-20% between runs."));
        try {
            java.nio.file.Files.createDirectories(reportDir);
            Path html = reportDir.resolve("report.html");
            java.nio.file.Files.writeString(html, ReportHtml.render(content));
            out.println("   report: " + html.toAbsolutePath());
        } catch (java.io.IOException e) {
            out.println("   could not write the report: " + e.getMessage());
        }
    }

    /**
     * TensorRT bars: measured here when TensorRT is usable (FP16, batch 1 and 8), and from saved
     * {@code hotpath bench --json} results of other machines; each against this machine's baseline.
     */
    private List<ReportHtml.Bar> tensorRtBars(Path model, double base, PrintStream out) {
        List<ReportHtml.Bar> bars = new ArrayList<>();
        io.hotpath.engine.tensorrt.Engines.Decision d = io.hotpath.engine.tensorrt.Engines.decide();
        if (d.kind() == io.hotpath.engine.tensorrt.Engines.Kind.TENSORRT) {
            try (io.hotpath.engine.tensorrt.TensorRtEngine trt = io.hotpath.engine.tensorrt.TensorRtEngine.open(model,
                    io.hotpath.engine.tensorrt.TensorRtOptions.builder().precision(io.hotpath.engine.tensorrt.Precision.FP16).batchBuckets(1, 8)
                            .maxDimension(seq).build())) {
                Batch b = trt.newBatch();
                for (int bs : new int[] {1, 8}) {
                    RandomInputs.fill(b, bs, seq, 30522, 1);
                    LatencyStats st = Measurement.timed(trt, b, bs, 1.0, seconds, 10);
                    double perSecond = bs == 1 ? 1e6 / st.p50Us() : st.itemsPerSecond();
                    row(out, "TensorRT FP16 here, batch " + bs + " (" + trt.device().name() + ")", perSecond, base, "FP16 1.5-3x over FP32 on GPUs");
                    bars.add(new ReportHtml.Bar("TensorRT FP16, batch " + bs, perSecond / base, "this machine's GPU"));
                }
            }
        } else {
            out.println("   TensorRT: not measured here (" + d.reason() + ")");
        }
        if (results != null) {
            for (Path f : results) {
                try {
                    for (AdviseCommand.Row r : AdviseCommand.readResults(f, 0)) {
                        double perSecond = r.batch() == 1 ? 1e6 / Math.max(1, r.p50Us()) : r.throughput();
                        row(out, r.engine() + " " + r.precision() + " batch " + r.batch() + " (saved: " + r.hardware() + ")", perSecond, base,
                                "another machine: compare with care");
                        bars.add(new ReportHtml.Bar(r.engine() + " " + r.precision() + ", batch " + r.batch(), perSecond / base, "saved, " + r.hardware()));
                    }
                } catch (java.io.IOException e) {
                    out.println("   cannot read " + f + ": " + e.getMessage());
                }
            }
        }
        return bars;
    }

    private static void row(PrintStream out, String step, double perSecond, double base, String quoted) {
        out.printf(java.util.Locale.ROOT, "   %-48s %12.1f %8.2fx   %s%n", step, perSecond, perSecond / base, quoted);
    }

    private ServiceBench.Result serve(Path f, int conc, double repeat, boolean cache) {
        return serve(f, conc, repeat, cache, 2, Math.max(4, (int) Math.ceil(seconds * 8 / conc)));
    }

    private ServiceBench.Result serve(Path f, int conc, double repeat, boolean cache, int warmup, int per) {
        OrtCpuEngine e = OrtCpuEngine.open(f, CpuEngineOptions.builder().maxBatchSize(8).defaultMaxDimension(seq).spinWait(false).build());
        io.hotpath.service.InferenceService.Builder b = io.hotpath.service.InferenceService.builder(e)
                .batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(2000).maxRequests(conc));
        if (cache) {
            b.cache(c -> c.budgetBytes(64L << 20));
        }
        try (io.hotpath.service.InferenceService svc = b.build()) {
            return ServiceBench.run(svc, conc, warmup, per, seq, 30522, 3, repeat);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** The shared tier's row: the first service's run (the engine answers, and writes Redis), the second's (Redis answers). */
    record SharedRun(String where, ServiceBench.Result first, ServiceBench.Result second, double hitRate, long lookupP50Us, long lookupP99Us) {
    }

    private SharedRun sharedCache(Path f) {
        int per = (int) Math.max(50, Math.ceil(seconds * 50));
        ServiceBench.Result first = null;
        for (int round = 0; round < 2; round++) {
            OrtCpuEngine e = OrtCpuEngine.open(f, CpuEngineOptions.builder().maxBatchSize(1).defaultMaxDimension(seq).spinWait(false).build());
            io.hotpath.service.InferenceService.Builder b = io.hotpath.service.InferenceService.builder(e).direct()
                    .cache(c -> c.budgetBytes(64L << 20).redis(redis, java.time.Duration.ofMinutes(10), java.time.Duration.ofMillis(2)));
            try (io.hotpath.service.InferenceService svc = b.build()) {
                SharedCacheWarmup.await(svc, 30_000);
                io.hotpath.service.SharedCacheTier t = svc.sharedCache();
                long hits0 = t.hits();
                org.HdrHistogram.Histogram times0 = t.latencyMicros();
                ServiceBench.Result r = ServiceBench.run(svc, 1, 0, per, seq, 30522, 17, 0);     // the same seed: the same inputs both rounds
                while (t.writesInFlight() > 0) {
                    Thread.onSpinWait();
                }
                if (round == 0) {
                    first = r;
                    continue;
                }
                org.HdrHistogram.Histogram times = t.latencyMicros();
                times.subtract(times0);
                return new SharedRun(t.describe(), first, r, (double) (t.hits() - hits0) / per,
                        times.getValueAtPercentile(50), times.getValueAtPercentile(99));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(ex);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private static ReportHtml.Series series(String name, List<double[]> pts) {
        double[] x = new double[pts.size()];
        double[] y = new double[pts.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = pts.get(i)[0];
            y[i] = pts.get(i)[1];
        }
        return new ReportHtml.Series(name, x, y);
    }

    private static ReportHtml.Series spectrum(String name, org.HdrHistogram.Histogram h) {
        double[] ps = {0, 50, 75, 90, 95, 99, 99.5, 99.9};
        double[] y = new double[ps.length];
        for (int i = 0; i < ps.length; i++) {
            y[i] = h == null ? 0 : h.getValueAtPercentile(ps[i]) / 1e6;
        }
        return new ReportHtml.Series(name, ps, y);
    }

    private boolean similarities(Path model, int t, PrintStream out) {
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        out.println("1. Does the model work? Cosine similarity of mean-pooled sentence embeddings:");
        try (OrtCpuEngine engine = OrtCpuEngine.open(model, CpuEngineOptions.builder().intraOpThreads(t)
                .maxBatchSize(8).maxDimension("sequence_length", 128).build())) {
            Batch b = engine.newBatch();
            List<Double> para = score(engine, b, tok, PARAPHRASES, "paraphrase", out);
            List<Double> unrel = score(engine, b, tok, UNRELATED, "unrelated ", out);
            double minPara = para.stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double maxUnrel = unrel.stream().mapToDouble(Double::doubleValue).max().orElse(0);
            double meanPara = para.stream().mapToDouble(Double::doubleValue).average().orElse(0);
            double meanUnrel = unrel.stream().mapToDouble(Double::doubleValue).average().orElse(0);
            boolean ok = minPara > maxUnrel;
            out.printf("   mean paraphrase %.3f vs mean unrelated %.3f; every paraphrase pair above every unrelated pair: %s%n",
                    meanPara, meanUnrel, ok ? "yes" : "NO (the model or the tokenizer is wrong)");
            return ok;
        }
    }

    private static List<Double> score(OrtCpuEngine engine, Batch b, WordPieceTokenizer tok, List<String[]> pairs, String label, PrintStream out) {
        List<Double> scores = new ArrayList<>();
        for (String[] p : pairs) {
            float[][] e = Embeddings.embed(engine, b, tok, List.of(p[0], p[1]));
            double c = Embeddings.cosine(e[0], e[1]);
            scores.add(c);
            out.printf("   %s %.3f  \"%s\" ~ \"%s\"%n", label, c, p[0], p[1]);
        }
        return scores;
    }

    /** Interleaved timing rounds of step 2. */
    private static final int ROUNDS = 4;

    private void timings(Path model, int t, PrintStream out) {
        out.printf("2. Latency and throughput at sequence length %d (%d intra-op threads, %.0f s per row after warm-up):%n", seq, t, seconds);
        out.printf("   %-6s %-6s %10s %10s %10s %10s %14s%n", "opt", "batch", "p50 ms", "p90 ms", "p99 ms", "max ms", "sequences/s");
        double[][] thr = new double[2][2];
        double[][] p50 = new double[2][2];
        GraphOptimization[] levels = {GraphOptimization.NONE, GraphOptimization.ALL};
        int[] batches = {1, 8};
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        // the four rows timed interleaved (none b1, none b8, all b1, all b8, then again): the ratios
        // below compare rows that lived through the same drift of the VM's speed
        List<OrtCpuEngine> engines = new ArrayList<>();
        List<Measurement.Turn> turns = new ArrayList<>();
        try {
            for (GraphOptimization level : levels) {
                OrtCpuEngine engine = OrtCpuEngine.open(model, CpuEngineOptions.builder().graphOptimization(level)
                        .intraOpThreads(t).maxBatchSize(8).maxDimension("sequence_length", seq).build());
                engines.add(engine);
                Batch b = engine.newBatch();
                for (int bs : batches) {
                    turns.add(new Measurement.Turn(engine, b, bs, () -> Embeddings.fill(b, tok, SampleSentences.WORKLOAD.subList(0, bs), seq)));
                }
            }
            List<Measurement.Interleaved> m = Measurement.interleaved(turns, ROUNDS, seconds, 10);
            for (int li = 0; li < levels.length; li++) {
                for (int bi = 0; bi < batches.length; bi++) {
                    Measurement.Interleaved r = m.get(li * batches.length + bi);
                    LatencyStats s = r.latency();
                    thr[li][bi] = r.throughputMedian();
                    p50[li][bi] = s.p50Us();
                    out.printf("   %-6s %-6d %10.2f %10.2f %10.2f %10.2f %14.1f   (%d runs, %d rounds: %.1f-%.1f)%n",
                            levels[li].name().toLowerCase(java.util.Locale.ROOT), batches[bi], s.p50Us() / 1e3, s.p90Us() / 1e3, s.p99Us() / 1e3,
                            s.maxUs() / 1e3, r.throughputMedian(), s.count(), r.rounds(), r.throughputMin(), r.throughputMax());
                }
            }
        } finally {
            engines.forEach(OrtCpuEngine::close);
        }
        out.printf("   graph optimization all vs none: p50 %.2fx faster at batch 1, %.2fx at batch 8%n",
                p50[0][0] / p50[1][0], p50[0][1] / p50[1][1]);
        out.printf("   batching on CPU: batch 8 gives %.2fx the sequences/s of batch 1 (opt all)%n", thr[1][1] / thr[1][0]);
        out.println("   Rows are timed in " + ROUNDS + " interleaved rounds (throughput: median, lowest-highest round); figures from a shared "
                + "2-core VM drift about 15-20% between runs: compare rows of one run, not runs.");
    }
}
