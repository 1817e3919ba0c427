package io.hotpath.examples;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;

/**
 * A trading-style scoring loop: a small model (the built-in {@code mlp}, 64 features to one score)
 * scores every event on the thread that receives it, writing the features in place into memory
 * bound to ONNX Runtime once. It checks what the loop allocates on the Java heap: nothing.
 */
public final class ScoringLoop {
    private ScoringLoop() {
    }

    /** Result of {@link #run}: events scored, a checksum of the scores, heap bytes allocated per event, nanoseconds per event. */
    public record Result(long events, double checksum, double bytesPerEvent, double nanosPerEvent) {
    }

    /** Scores {@code events} synthetic market events (after a warm-up) and measures the calling thread's allocation. */
    public static Result run(long events) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (OrtCpuEngine engine = OrtCpuEngine.open(ModelCatalog.resolve("mlp"), CpuEngineOptions.builder().intraOpThreads(1).build())) {
            Batch batch = engine.newBatch();
            Tensor features = batch.input("features").reshape(1, 64);
            Tensor score = batch.output("score");
            double checksum = 0;
            for (int i = 0; i < 20_000; i++) {                  // warm-up: JIT, ONNX Runtime's arena
                checksum += score(engine, batch, features, score, i);
            }
            long bytes = mx.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();
            for (long i = 0; i < events; i++) {
                checksum += score(engine, batch, features, score, i);
            }
            long nanos = System.nanoTime() - start;
            long allocated = mx.getCurrentThreadAllocatedBytes() - bytes;
            return new Result(events, checksum, allocated / (double) events, nanos / (double) events);
        }
    }

    /** One event: its 64 features (a price, a size, a spread... here a deterministic function of the event number), then the score. */
    private static float score(OrtCpuEngine engine, Batch batch, Tensor features, Tensor score, long event) {
        for (int f = 0; f < 64; f++) {
            features.putFloat(f, (float) ((event * 31 + f * 17) % 1000) / 1000f - 0.5f);
        }
        engine.run(batch);
        return score.getFloat(0);
    }

    public static void main(String[] args) {
        long events = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        Result r = run(events);
        System.out.printf("%d events scored, %.1f ns per event, %.4f bytes allocated per event on this thread (checksum %.3f)%n",
                r.events(), r.nanosPerEvent(), r.bytesPerEvent(), r.checksum());
        if (r.bytesPerEvent() > 0.01) {
            System.err.println("the scoring loop allocated on the Java heap: " + r.bytesPerEvent() + " bytes per event");
            System.exit(1);
        }
    }
}
