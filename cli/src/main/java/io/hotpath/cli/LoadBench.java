package io.hotpath.cli;

import io.hotpath.core.Engine;
import io.hotpath.service.InferenceService;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code hotpath bench} on the batcher path: a load generator that sends single-row requests
 * through an {@link InferenceService} (dynamic batcher, optional prediction cache) on the CPU
 * engine, closed loop ({@link ServiceBench}, one step per --concurrency) or open loop
 * ({@link OpenLoop}, one step per --rate), and reports each step's latency, throughput and what
 * the batcher did. {@link BenchCommand} has validated every option before this runs.
 */
final class LoadBench {
    private final String model;
    private final int batch;
    private final int seq;
    private final int threads;
    private final Boolean spinWait;
    private final String opt;
    private final int warmup;
    private final int iterations;
    private final Long vocab;
    private final long seed;
    private final java.util.List<String> inputValues;
    private final Path json;
    private final int[] concurrency;
    private final double[] rates;
    private final double durationS;
    private final int maxInFlight;
    private final Path csv;
    private final Path hdrLog;
    private final Integer maxBatch;
    private final Long cacheMb;
    private final String redis;
    private final long redisBudgetUs;
    private final long redisTtlS;
    private final double repeatFraction;
    private final String idle;
    private final Long maxDelayUs;
    /** --engine jvm: the JVM engine behind the batcher instead of ONNX Runtime. */
    private final boolean jvm;

    /** The bench's shared options (batch: the largest --batch) and its load-generator options. */
    LoadBench(BenchCommand bench, int batch, LoadGeneratorOptions load) {
        this.jvm = bench.jvmEngine;
        this.model = bench.model;
        this.batch = batch;
        this.seq = bench.seq;
        this.threads = bench.threads;
        this.spinWait = bench.spinWait;
        this.opt = bench.opt;
        this.warmup = bench.warmup;
        this.iterations = bench.iterations;
        this.vocab = bench.vocab;
        this.seed = bench.seed;
        this.inputValues = bench.inputValues;
        this.json = bench.json;
        this.concurrency = load.concurrency;
        this.rates = load.rates;
        this.durationS = load.durationS;
        this.maxInFlight = load.maxInFlight;
        this.csv = load.csv;
        this.hdrLog = load.hdrLog;
        this.maxBatch = load.maxBatch;
        this.cacheMb = load.cacheMb;
        this.redis = load.redis;
        this.redisBudgetUs = load.redisBudgetUs;
        this.redisTtlS = load.redisTtlS;
        this.repeatFraction = load.repeatFraction;
        this.idle = load.idle;
        this.maxDelayUs = load.maxDelayUs;
    }

    /** Runs every step and writes the reports; ENGINE_FAILURE when a step had no request answered OK. */
    int run(PrintStream out, Path file, GraphOptimization level, Checks checks) throws IOException {
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
        io.hotpath.core.Engine engine = checks.opening(sized, () -> jvm
                ? io.hotpath.engine.jvm.JvmEngine.open(file, io.hotpath.engine.jvm.JvmEngineOptions.builder().maxBatchSize(mb).build())
                : OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(level)
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
            v = vocab != null ? vocab : BenchCommand.vocabulary(file, engine);
            given.bind(checks, engine.inputs(), null);
            // a model that cannot batch (a scalar input, a fixed batch of 1) runs batches of one unless --max-batch asked for more
            int batchRows = maxBatch == null ? Math.min(mb, engine.maxBatchSize()) : mb;
            if (batchRows < mb) {
                out.println("  note    the model runs batches of at most " + engine.maxBatchSize() + " (an input without a dynamic batch dimension)");
            }
            InferenceService.Builder sb = InferenceService.builder(engine).batching(c -> c.maxBatchSize(batchRows).maxQueueDelayMicros(delay)
                    .batcherIdle(idleKind).callerIdle(idleKind).maxRequests(slots));
            if (cacheMb != null || redis != null) {
                sb.cache(c -> {
                    if (cacheMb != null) {
                        c.budgetBytes(cacheMb << 20);   // cacheMb was checked against the memory limit: no overflow
                    }
                    if (redis != null) {
                        c.redis(redis, java.time.Duration.ofSeconds(redisTtlS), java.time.Duration.ofNanos(redisBudgetUs * 1000));
                    }
                });
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
            java.util.List<LoadStepResult> steps = new java.util.ArrayList<>();
            java.util.List<org.HdrHistogram.Histogram> hists = new java.util.ArrayList<>();
            java.util.List<String> tags = new java.util.ArrayList<>();
            int n = open ? rates.length : concs.length;
            io.hotpath.service.Request[] pool = open ? OpenLoop.pool(svc, maxInFlight, seq) : null;
            StringBuilder table = new StringBuilder();   // printed after the progress bar is done, so the two do not interleave
            me.tongfei.progressbar.ProgressBar bar = Measurement.progress(open ? "open-loop steps" : "closed-loop steps", n, System.err);
            if (!SharedCacheWarmup.await(svc, 30_000)) {
                out.println("  note    the shared cache at " + svc.sharedCache().describe() + " is not answering: the run goes to the engine");
            }
            for (int k = 0; k < n; k++) {
                svc.metrics().intervalBatchSize(null);
                svc.metrics().intervalQueueWait(null);
                svc.metrics().intervalEngineTime(null);
                long hits0 = svc.cache() == null ? 0 : svc.cache().hits();
                long miss0 = svc.cache() == null ? 0 : svc.cache().misses();
                io.hotpath.service.SharedCacheTier l2 = svc.sharedCache();
                long l2Hits0 = l2 == null ? 0 : l2.hits();
                org.HdrHistogram.Histogram l2Times0 = l2 == null ? null : l2.latencyMicros();
                org.HdrHistogram.Histogram l2Waits0 = l2 == null ? null : l2.waitMicros();
                org.HdrHistogram.Histogram latency;
                org.HdrHistogram.Histogram batchSizes = null;
                org.HdrHistogram.Histogram queue = null;
                org.HdrHistogram.Histogram engineTime = null;
                double throughput;
                long okN;
                long bad;
                BenchResult base;
                Double ratePerSecond = null;
                Double uncorrectedP99 = null;
                Double uncorrectedP999 = null;
                Integer concurrencyStep = null;
                try {
                    if (open) {
                        int requests = Math.max(1, (int) (rates[k] * durationS));
                        OpenLoop.Result r = OpenLoop.run(svc, pool, rates[k], (int) Math.min(10L * warmup, requests), requests, v, seed + k, given);
                        latency = r.corrected();
                        throughput = r.throughput();
                        okN = r.ok();
                        bad = r.notOk();
                        base = result(file, engine, sys, LatencyStats.of(latency, r.wallNanos(), 1), throughput);
                        ratePerSecond = rates[k];
                        uncorrectedP99 = r.uncorrected().getValueAtPercentile(99) / 1e3;
                        uncorrectedP999 = r.uncorrected().getValueAtPercentile(99.9) / 1e3;
                        tags.add("rate=" + rates[k]);
                    } else {
                        int perThread = Math.max(1, iterations / concs[k]);
                        ServiceBench.Result r = ServiceBench.run(svc, concs[k], warmup, perThread, seq, v, seed + k, repeatFraction, given);
                        latency = r.latencyHistogram();
                        throughput = r.throughput();
                        okN = r.ok();
                        bad = r.failed();
                        base = result(file, engine, sys, r.latency(), throughput);
                        concurrencyStep = concs[k];
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
                Double l2HitRate = null;
                Double l2P50 = null;
                Double l2P99 = null;
                Double l2WaitP99 = null;
                Double l2WaitMax = null;
                if (l2 != null) {
                    org.HdrHistogram.Histogram waited = l2.waitMicros();
                    waited.subtract(l2Waits0);
                    l2WaitP99 = waited.getTotalCount() == 0 ? 0.0 : (double) waited.getValueAtPercentile(99);
                    l2WaitMax = waited.getTotalCount() == 0 ? 0.0 : (double) waited.getMaxValue();
                    long localMisses = svc.cache().misses() - miss0;
                    l2HitRate = localMisses == 0 ? 0.0 : (double) (l2.hits() - l2Hits0) / localMisses;
                    org.HdrHistogram.Histogram times = l2.latencyMicros();
                    times.subtract(l2Times0);
                    l2P50 = times.getTotalCount() == 0 ? 0.0 : (double) times.getValueAtPercentile(50);
                    l2P99 = times.getTotalCount() == 0 ? 0.0 : (double) times.getValueAtPercentile(99);
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
                steps.add(new LoadStepResult(base, ratePerSecond, uncorrectedP99, uncorrectedP999, concurrencyStep,
                        latency.getValueAtPercentile(95) / 1e3, mb, delay, batchSizes.getTotalCount() == 0 ? 0 : batchSizes.getMean(), dist,
                        queue.getValueAtPercentile(50) / 1e3, queue.getValueAtPercentile(99) / 1e3, engineTime.getValueAtPercentile(50) / 1e3,
                        engineTime.getValueAtPercentile(99) / 1e3, okN, bad, repeatFraction, cacheMb, hitRate, l2HitRate, l2P50, l2P99,
                        l2WaitP99, l2WaitMax));
                if (l2 != null) {
                    table.append(String.format(java.util.Locale.ROOT, "  %12s shared cache %s: %.1f%% of local misses answered; lookup p50 %.0f us, p99 %.0f us;"
                            + " a request's wait for it p99 %.0f us, max %.0f us; %d abandoned at the %d us budget, %d errors, %d skipped, %d corrupt; breaker %s%n",
                            "", l2.describe(), 100 * l2HitRate, l2P50, l2P99, l2WaitP99, l2WaitMax, l2.abandoned(), redisBudgetUs, l2.errors(),
                            l2.skippedOpen() + l2.skippedBusy(), l2.corrupt(), l2.breakerOpen() ? "open" : "closed"));
                }
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
                BenchJson.writeLoad(json, model, open, steps);
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

    private BenchResult result(Path modelFile, Engine engine, SystemInfo sys, LatencyStats s, double throughput) {
        return new BenchResult(model, modelFile, BenchResult.EngineFacts.of(engine), batch, seq, threads,
                opt.toLowerCase(java.util.Locale.ROOT), warmup, iterations, s, throughput, sys);
    }
}
