package io.hotpath.jmh;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.redis.RedisServer;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 * One request through an {@code InferenceService} (direct mode: the caller's thread) answered
 * three ways, same model, same input, same run: from the off-heap cache ({@code l1-hit}, a
 * shared tier configured behind it), from the shared tier on a real {@code redis-server} on
 * loopback ({@code l2-hit}: the local entry expires at once, so every request asks Redis), and by
 * the engine ({@code engine}, no cache: the peer). {@code mlp} is a model Redis cannot beat;
 * {@code minilm-q} (MiniLM INT8, 128 tokens) one it beats by far. Each fork starts its own
 * {@code redis-server} on a free port (Debian's {@code redis-server} must be installed).
 *
 * <p>{@code ./hotpath jmh SharedCacheBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class SharedCacheBenchmark {
    @Param({"mlp", "minilm-q"})
    public String model;

    @Param({"l1-hit", "l2-hit", "engine"})
    public String path;

    RedisServer redis;
    InferenceService svc;
    Request req;

    @Setup(Level.Trial)
    public void open() throws Exception {
        boolean text = model.startsWith("minilm");
        OrtCpuEngine e = OrtCpuEngine.open(ModelCatalog.resolve(model), text
                ? CpuEngineOptions.builder().maxBatchSize(1).maxDimension("sequence_length", BenchmarkInputs.MINILM_SEQ).spinWait(false).build()
                : CpuEngineOptions.builder().maxBatchSize(1).intraOpThreads(1).build());
        InferenceService.Builder b = InferenceService.builder(e).direct();
        if (!path.equals("engine")) {
            redis = RedisServer.start();
            b.cache(c -> {
                c.budgetBytes(64L << 20).redis(redis.uri(), Duration.ofHours(1), Duration.ofMillis(50));
                if (path.equals("l2-hit")) {
                    c.ttlNanos(1);      // the local entry expires at once: every request goes to Redis
                }
            });
        }
        svc = b.build();
        req = svc.newRequest();
        if (svc.sharedCache() != null) {
            // the tier connects, warms up and closes its breaker on a probe: ask with fresh inputs until it has
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int k = 1; svc.sharedCache().breakerOpen(); k++) {
                fill(k);
                svc.infer(req);
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("the shared tier did not connect to " + redis.uri());
                }
            }
        }
        fill(0);
        if (svc.infer(req) != BatchStatus.OK) {
            throw new IllegalStateException("the first request failed");
        }
        if (svc.sharedCache() != null) {
            while (svc.sharedCache().writesInFlight() > 0) {
                Thread.sleep(1);
            }
        }
    }

    /** The benchmark's input; {@code variant} > 0 makes a different one (for the connect probes). */
    private void fill(int variant) {
        if (model.startsWith("minilm")) {
            BenchmarkInputs in = BenchmarkInputs.minilm(1);
            req.length(BenchmarkInputs.MINILM_SEQ);
            for (int i = 0; i < BenchmarkInputs.MINILM_SEQ; i++) {
                req.input("input_ids").putLong(i, i == 1 ? in.inputIds[i] + variant : in.inputIds[i]);
                req.input("attention_mask").putLong(i, in.attentionMask[i]);
                req.input("token_type_ids").putLong(i, in.tokenTypeIds[i]);
            }
        } else {
            float[] f = BenchmarkInputs.mlp(1).features;
            for (int i = 0; i < f.length; i++) {
                req.input("features").putFloat(i, i == 0 ? f[i] + variant : f[i]);
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        if (svc.sharedCache() != null) {
            var t = svc.sharedCache();
            System.out.printf("%n  shared tier: %d hits, %d misses, %d abandoned, %d errors, %d skipped; breaker %s%n", t.hits(), t.misses(),
                    t.abandoned(), t.errors(), t.skippedOpen() + t.skippedBusy(), t.breakerOpen() ? "open" : "closed");
        }
        svc.close();
        if (redis != null) {
            redis.close();
        }
    }

    @Benchmark
    public int infer() {
        return svc.infer(req);
    }
}
