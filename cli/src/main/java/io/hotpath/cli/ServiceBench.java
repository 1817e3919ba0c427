package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.InferenceService;
import io.hotpath.core.Request;
import io.hotpath.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop load through an {@link InferenceService}: {@code concurrency} client threads, each
 * with its own request, each sending its next request as soon as the last is answered. Latency
 * is the client's view (submit to answer); the batcher's own recorders give batch sizes, queue
 * wait and engine time for the measured phase only.
 */
final class ServiceBench {
    record Result(LatencyStats latency, Histogram latencyHistogram, long ok, long failed, double throughput, Histogram batchSizes,
                  Histogram queueWait, Histogram engineTime, double cacheHitRate) {
    }

    private ServiceBench() {
    }

    /** Distinct inputs each client remembers for repeats. */
    static final int REPEAT_POOL = 256;

    static Result run(InferenceService svc, int concurrency, int warmupPerThread, int measuredPerThread, int seq, long vocab,
                      long seed, double repeatFraction) throws InterruptedException {
        CyclicBarrier warmed = new CyclicBarrier(concurrency + 1);
        CyclicBarrier start = new CyclicBarrier(concurrency + 1);
        CyclicBarrier end = new CyclicBarrier(concurrency + 1);
        Histogram[] latencies = new Histogram[concurrency];
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            int id = t;
            latencies[t] = new Histogram(3_600_000_000_000L, 3);
            Thread th = new Thread(() -> {
                Request r = svc.newRequest();
                if (svc.maxLength() > 1) {
                    r.length(Math.min(seq, svc.maxLength()));
                }
                SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + id);
                int inputs = svc.engine().inputs().size();
                long bytes = 0;
                for (int i = 0; i < inputs; i++) {
                    bytes += r.input(i).byteSize();
                }
                long rowBytes = bytes;
                java.lang.foreign.MemorySegment pool = java.lang.foreign.Arena.ofAuto().allocate(rowBytes * REPEAT_POOL, 64);
                int[] remembered = {0};
                Runnable nextInput = () -> {
                    if (repeatFraction > 0 && remembered[0] > 0 && rnd.nextDouble() < repeatFraction) {
                        long at = rowBytes * rnd.nextInt(Math.min(remembered[0], REPEAT_POOL));
                        for (int i = 0; i < inputs; i++) {
                            Tensor in = r.input(i);
                            java.lang.foreign.MemorySegment.copy(pool, at, in.data(), 0, in.byteSize());
                            at += in.byteSize();
                        }
                    } else {
                        long at = rowBytes * (remembered[0] % REPEAT_POOL);
                        for (int i = 0; i < inputs; i++) {
                            Tensor in = r.input(i);
                            RandomInputs.fill(in, rnd, vocab);
                            java.lang.foreign.MemorySegment.copy(in.data(), 0, pool, at, in.byteSize());
                            at += in.byteSize();
                        }
                        remembered[0]++;
                    }
                };
                nextInput.run();
                for (int i = 0; i < warmupPerThread; i++) {
                    svc.infer(r);
                    nextInput.run();
                }
                await(warmed);
                await(start);
                Histogram h = latencies[id];
                long good = 0;
                long bad = 0;
                for (int i = 0; i < measuredPerThread; i++) {
                    long t0 = System.nanoTime();
                    int s = svc.infer(r);
                    h.recordValue(System.nanoTime() - t0);
                    nextInput.run();
                    if (s == BatchStatus.OK) {
                        good++;
                    } else {
                        bad++;
                    }
                }
                ok.addAndGet(good);
                failed.addAndGet(bad);
                await(end);
            }, "bench-client-" + t);
            threads.add(th);
            th.start();
        }
        await(warmed);
        // every client has finished its warm-up: discard what it recorded, then start the clock
        // discard what the warm-up recorded
        svc.metrics().intervalBatchSize(null);
        svc.metrics().intervalQueueWait(null);
        svc.metrics().intervalEngineTime(null);
        long hits0 = svc.cache() == null ? 0 : svc.cache().hits();
        long misses0 = svc.cache() == null ? 0 : svc.cache().misses();
        long t0 = System.nanoTime();
        await(start);
        await(end);
        long wall = System.nanoTime() - t0;
        for (Thread th : threads) {
            th.join();
        }
        Histogram all = new Histogram(3_600_000_000_000L, 3);
        for (Histogram h : latencies) {
            all.add(h);
        }
        LatencyStats stats = LatencyStats.of(all, wall, 1);
        double hitRate = 0;
        if (svc.cache() != null) {
            long h = svc.cache().hits() - hits0;
            long m = svc.cache().misses() - misses0;
            hitRate = h + m == 0 ? 0 : (double) h / (h + m);
        }
        return new Result(stats, all, ok.get(), failed.get(), all.getTotalCount() / (wall / 1e9),
                svc.metrics().intervalBatchSize(null), svc.metrics().intervalQueueWait(null), svc.metrics().intervalEngineTime(null),
                hitRate);
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await();
        } catch (Exception e) {
            throw new IllegalStateException("benchmark clients could not synchronise", e);
        }
    }
}
