package io.hotpath.jmh;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.redis.RedisServer;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a Redis fault costs requests, against the engine alone, interleaved in one run: each
 * invocation sends one fresh input (a local-cache miss) to a service with the shared tier and the
 * same input to an identical service without it, timing each into its own histogram, so the VM's
 * drift hits both alike. A background thread injects the fault for 2 s of every 4 s (Redis killed
 * and restarted, paused with SIGSTOP, or blocked by {@code DEBUG SLEEP 2}); {@code down} points the
 * tier at a port where nothing listens; {@code none} is a healthy Redis that never has the answer
 * (the cost of a miss). The tear-down prints both services' percentiles and the bound the tier
 * promises: p99 with the tier &lt;= the engine's p99 + the lookup budget.
 *
 * <p>{@code ./hotpath jmh SharedCacheFaultBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 4)
@Measurement(iterations = 4, time = 4)
public class SharedCacheFaultBenchmark {
    @Param({"none", "down", "killed", "paused", "slowed"})
    public String fault;

    /** mlp, or minilm-q (MiniLM INT8, 128 tokens; run it with a budget of 2000 µs or so on these VMs). */
    @Param({"mlp"})
    public String model;

    /** The lookup budget, µs (the default 300). */
    @Param({"300"})
    public long budgetUs;

    RedisServer redis;
    InferenceService withTier;
    InferenceService engineOnly;
    Request a;
    Request b;
    final Histogram tierTimes = new Histogram(60_000_000_000L, 3);
    final Histogram engineTimes = new Histogram(60_000_000_000L, 3);
    final SplittableRandom rnd = new SplittableRandom(7);
    Thread injector;
    volatile boolean stop;

    @Setup(Level.Trial)
    public void open() throws Exception {
        String uri;
        if (fault.equals("down")) {
            uri = "redis://127.0.0.1:" + RedisServer.freePort();
        } else {
            redis = RedisServer.start();
            uri = redis.uri();
        }
        withTier = service(uri);
        engineOnly = service(null);
        a = withTier.newRequest();
        b = engineOnly.newRequest();
        if (redis != null) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (withTier.sharedCache().breakerOpen()) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("the shared tier did not connect to " + uri);
                }
                Thread.sleep(5);
            }
            injector = new Thread(this::inject, "fault-injector");
            injector.setDaemon(true);
            injector.start();
        }
    }

    private boolean text() {
        return model.startsWith("minilm");
    }

    private InferenceService service(String uri) {
        OrtCpuEngine e = OrtCpuEngine.open(ModelCatalog.resolve(model), text()
                ? CpuEngineOptions.builder().maxBatchSize(1).maxDimension("sequence_length", BenchmarkInputs.MINILM_SEQ).spinWait(false).build()
                : CpuEngineOptions.builder().maxBatchSize(1).intraOpThreads(1).build());
        InferenceService.Builder sb = InferenceService.builder(e).direct();
        if (uri != null) {
            sb.cache(c -> c.budgetBytes(64L << 20).redis(uri, Duration.ofMinutes(10), Duration.ofNanos(budgetUs * 1000)));
        }
        return sb.build();
    }

    /** 2 s healthy, 2 s of the fault, again and again. */
    private void inject() {
        try {
            while (!stop) {
                Thread.sleep(2000);
                if (stop) {
                    return;
                }
                switch (fault) {
                    case "killed" -> {
                        redis.kill();
                        Thread.sleep(2000);
                        redis.restart();
                    }
                    case "paused" -> {
                        redis.pause();
                        Thread.sleep(2000);
                        redis.resume();
                    }
                    case "slowed" -> redis.debugSleep(2.0).join();
                    default -> Thread.sleep(2000);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("fault injection failed", e);
        }
    }

    /** Only the measurement iterations count: each warm-up iteration starts the histograms afresh. */
    @Setup(Level.Iteration)
    public void startIteration(org.openjdk.jmh.infra.IterationParams p) {
        if (p.getType() == org.openjdk.jmh.runner.IterationType.WARMUP) {
            tierTimes.reset();
            engineTimes.reset();
        }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        stop = true;
        if (injector != null) {
            injector.join(10_000);
            if (fault.equals("paused")) {
                redis.resume();
            }
        }
        var t = withTier.sharedCache();
        long bound = engineTimes.getValueAtPercentile(99) / 1000 + budgetUs;
        long p99 = tierTimes.getValueAtPercentile(99) / 1000;
        System.out.printf("%n  fault=%s, %d request pairs, lookup budget %d us%n", fault, tierTimes.getTotalCount(), budgetUs);
        System.out.printf("  with the shared tier: p50 %d us, p99 %d us, p99.9 %d us, max %d us%n", tierTimes.getValueAtPercentile(50) / 1000,
                p99, tierTimes.getValueAtPercentile(99.9) / 1000, tierTimes.getMaxValue() / 1000);
        System.out.printf("  engine only:          p50 %d us, p99 %d us, p99.9 %d us, max %d us%n", engineTimes.getValueAtPercentile(50) / 1000,
                engineTimes.getValueAtPercentile(99) / 1000, engineTimes.getValueAtPercentile(99.9) / 1000, engineTimes.getMaxValue() / 1000);
        System.out.printf("  bound (engine p99 + budget) %d us: %s; tier: %d hits, %d misses, %d abandoned, %d errors, %d skipped, %d breaker openings;"
                + " a request's wait for it p99 %d us, max %d us%n", bound, p99 <= bound ? "within" : "OVER", t.hits(), t.misses(), t.abandoned(),
                t.errors(), t.skippedOpen() + t.skippedBusy(), t.breakerOpenings(), t.waitMicros().getValueAtPercentile(99), t.waitMicros().getMaxValue());
        withTier.close();
        engineOnly.close();
        if (redis != null) {
            redis.close();
        }
    }

    /** A fresh input for both services: mlp features, or MiniLM token ids ([CLS], 126 random word pieces, [SEP]). */
    private void fill() {
        if (text()) {
            int n = BenchmarkInputs.MINILM_SEQ;
            for (Request r : new Request[] {a, b}) {
                r.length(n);
            }
            for (int i = 0; i < n; i++) {
                long id = i == 0 ? 101 : i == n - 1 ? 102 : 1000 + rnd.nextInt(28000);
                for (Request r : new Request[] {a, b}) {
                    r.input("input_ids").putLong(i, id);
                    r.input("attention_mask").putLong(i, 1);
                    r.input("token_type_ids").putLong(i, 0);
                }
            }
            return;
        }
        float base = (float) rnd.nextDouble();
        for (int i = 0; i < 64; i++) {
            float v = i == 0 ? base : (float) (i * 0.01);
            a.input(0).putFloat(i, v);
            b.input(0).putFloat(i, v);
        }
    }

    /** One fresh input to each service, tier first, each timed into its own histogram; the answers must agree bit for bit. */
    @Benchmark
    public int pair() {
        fill();
        long t0 = System.nanoTime();
        int s = withTier.infer(a);
        long t1 = System.nanoTime();
        int e = engineOnly.infer(b);
        long t2 = System.nanoTime();
        if (s != BatchStatus.OK || e != BatchStatus.OK) {
            throw new IllegalStateException("a request failed: " + BatchStatus.name(s) + ", " + BatchStatus.name(e));
        }
        if (a.output(0).data().mismatch(b.output(0).data()) != -1) {
            throw new IllegalStateException("the tier's answer is not the engine's, bit for bit");
        }
        tierTimes.recordValue(t1 - t0);
        engineTimes.recordValue(t2 - t1);
        return s + e;
    }
}
