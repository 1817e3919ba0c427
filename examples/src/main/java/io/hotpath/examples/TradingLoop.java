package io.hotpath.examples;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.IdleStrategyKind;
import io.hotpath.core.Tensor;
import io.hotpath.embed.Hotpath;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.nio.file.Path;
import org.agrona.concurrent.BusySpinIdleStrategy;

/**
 * A trading-style service: a small model ({@code mlp}: 64 features to one score) behind the
 * batcher, whose thread is pinned to its own core by the application's {@code ThreadFactory}
 * ({@link CorePinning}) and busy-spins; a market-data thread (the calling thread here) scores
 * every event through the service, writing features in place into its reusable request. It
 * counts the heap bytes the market-data thread allocates over the events: none.
 */
public final class TradingLoop {
    private TradingLoop() {
    }

    /**
     * What happened: events scored, a checksum, heap bytes per event on the market-data thread,
     * the mean round trip, which engine ran, and whether the batcher's thread was pinned (and to
     * which CPUs the kernel then allowed it).
     */
    public record Result(long events, double checksum, double bytesPerEvent, double nanosPerEvent, String engine, int pinnedThreads,
            java.util.BitSet batcherAffinity) {
    }

    public static Result run(Path model, long events) {
        int cpus = Runtime.getRuntime().availableProcessors();
        CorePinning.Factory scorer = CorePinning.onCore(cpus - 1, "scorer");   // the last core: the batcher's alone
        try (InferenceService svc = Hotpath.service(model)
                .batching(b -> b.maxBatchSize(8)
                        .maxQueueDelayMicros(0)                                 // a lone event is not held back
                        .threadFactory(scorer)                                  // pinned by the application
                        .idleStrategy(new BusySpinIdleStrategy())               // the batcher spins on its core
                        .callerIdle(IdleStrategyKind.BUSY_SPIN))                // and so does the caller
                .build()) {
            Request req = svc.newRequest();                 // the market-data thread's slot, reused for every event
            Tensor features = req.input("features");
            double checksum = 0;
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            for (int block = 0; block < 50; block++) {      // warm-up until the JIT has compiled the path: a block that allocates nothing
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20_000; i++) {
                    checksum += score(svc, req, features, i);
                }
                if (mx.getCurrentThreadAllocatedBytes() - before < 1_024) {
                    break;
                }
            }
            long bytes = mx.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();
            for (long i = 0; i < events; i++) {
                checksum += score(svc, req, features, i);
            }
            long nanos = System.nanoTime() - start;
            long allocated = mx.getCurrentThreadAllocatedBytes() - bytes;
            return new Result(events, checksum, allocated / (double) events, nanos / (double) events, svc.engine().name(), scorer.pinned(),
                    scorer.lastAffinity());
        }
    }

    /** One market event: its 64 features (a deterministic function of the event number here), then its score. */
    private static float score(InferenceService svc, Request req, Tensor features, long event) {
        for (int f = 0; f < 64; f++) {
            features.putFloat(f, (float) ((event * 31 + f * 17) % 1000) / 1000f - 0.5f);
        }
        int status = svc.infer(req);
        if (status != BatchStatus.OK) {
            throw new IllegalStateException("event " + event + ": " + BatchStatus.name(status));
        }
        return req.output("score").getFloat(0);
    }

    public static void main(String[] args) {
        long events = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        Result r = run(ModelCatalog.resolve("mlp"), events);
        System.out.printf("%d events through the %s engine, %.0f ns per round trip, %.4f heap bytes per event on the market-data thread, "
                + "batcher pinned: %s (allowed CPUs %s)%n", r.events(), r.engine(), r.nanosPerEvent(), r.bytesPerEvent(), r.pinnedThreads() > 0,
                r.batcherAffinity());
        if (r.bytesPerEvent() > 0.01) {
            System.err.println("the market-data thread allocated on the Java heap: " + r.bytesPerEvent() + " bytes per event");
            System.exit(1);
        }
    }
}
