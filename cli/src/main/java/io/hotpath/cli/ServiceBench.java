package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.InferenceService;
import io.hotpath.core.Request;
import io.hotpath.core.Tensor;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    record Result(LatencyStats latency, long ok, long failed, double throughput, Histogram batchSizes, Histogram queueWait,
                  Histogram engineTime, double cacheHitRate) {
        double meanBatchSize() {
            return batchSizes.getTotalCount() == 0 ? 0 : batchSizes.getMean();
        }

        Map<Long, Long> batchSizeCounts() {
            Map<Long, Long> m = new LinkedHashMap<>();
            for (var v : batchSizes.recordedValues()) {
                m.put(v.getValueIteratedTo(), v.getCountAtValueIteratedTo());
            }
            return m;
        }
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
        return new Result(stats, ok.get(), failed.get(), all.getTotalCount() / (wall / 1e9),
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

    static void print(PrintStream out, Result r, int concurrency, int maxBatch, long delayUs) {
        LatencyStats s = r.latency();
        out.printf("  %-6s %-6s %-8s %9s %9s %9s %10s %9s %13s%n", "conc", "batch", "delay us", "p50 us", "p90 us", "p99 us",
                "p99.9 us", "max us", "requests/s");
        out.printf("  %-6d %-6d %-8d %9.1f %9.1f %9.1f %10.1f %9.1f %13.1f%n", concurrency, maxBatch, delayUs, s.p50Us(),
                s.p90Us(), s.p99Us(), s.p999Us(), s.maxUs(), r.throughput());
        out.printf("  batch size: mean %.2f, distribution %s%n", r.meanBatchSize(), r.batchSizeCounts());
        out.printf("  queue wait: p50 %.1f us, p90 %.1f us, p99 %.1f us; engine per batch: p50 %.1f us, p99 %.1f us%n",
                r.queueWait().getValueAtPercentile(50) / 1e3, r.queueWait().getValueAtPercentile(90) / 1e3,
                r.queueWait().getValueAtPercentile(99) / 1e3, r.engineTime().getValueAtPercentile(50) / 1e3,
                r.engineTime().getValueAtPercentile(99) / 1e3);
        if (r.cacheHitRate() > 0) {
            out.printf("  cache hit rate: %.2f%%%n", r.cacheHitRate() * 100);
        }
        if (r.failed() > 0) {
            out.printf("  %d requests did not answer OK%n", r.failed());
        }
    }
}
