package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.HotpathException;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicReference;
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
        return run(svc, concurrency, warmupPerThread, measuredPerThread, seq, vocab, seed, repeatFraction, BenchInputs.defaults());
    }

    /** As above, each request's inputs filled by {@code inputs} (given constants and one-row files, else the defaults). */
    static Result run(InferenceService svc, int concurrency, int warmupPerThread, int measuredPerThread, int seq, long vocab,
                      long seed, double repeatFraction, BenchInputs inputs) throws InterruptedException {
        // three rendezvous (warmed up, start, end) of the clients and this thread; a client that fails
        // terminates the phaser, which releases everyone at once and makes every later wait return
        Phaser phases = new Phaser(concurrency + 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<String> failedThread = new AtomicReference<>();
        Histogram[] latencies = new Histogram[concurrency];
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int t = 0; t < concurrency; t++) {
                int id = t;
                latencies[t] = new Histogram(3_600_000_000_000L, 3);
                Thread th = new Thread(() -> {
                    try {
                        client(svc, phases, latencies[id], ok, failed, id, warmupPerThread, measuredPerThread, seq, vocab, seed, repeatFraction, inputs);
                    } catch (Throwable e) {
                        // never die silently: record the first failure (later ones as suppressed) and stop the run
                        if (failure.compareAndSet(null, e)) {
                            failedThread.set(Thread.currentThread().getName());
                        } else {
                            failure.get().addSuppressed(e);
                        }
                        phases.forceTermination();
                    }
                }, "bench-client-" + t);
                th.setDaemon(true);
                threads.add(th);
                th.start();
            }
        } catch (Throwable e) {
            phases.forceTermination();
            throw e;
        }
        long hits0 = 0;
        long misses0 = 0;
        long t0 = 0;
        long wall;
        try {
            phases.arriveAndAwaitAdvance();
            // every client has finished its warm-up: discard what the warm-up recorded, then start the clock
            svc.metrics().intervalBatchSize(null);
            svc.metrics().intervalQueueWait(null);
            svc.metrics().intervalEngineTime(null);
            hits0 = svc.cache() == null ? 0 : svc.cache().hits();
            misses0 = svc.cache() == null ? 0 : svc.cache().misses();
            t0 = System.nanoTime();
            phases.arriveAndAwaitAdvance();
            phases.arriveAndAwaitAdvance();
            wall = System.nanoTime() - t0;
        } catch (Throwable e) {
            phases.forceTermination();   // the clients must not wait for this thread forever
            throw e;
        } finally {
            for (Thread th : threads) {
                th.join();
            }
        }
        if (failure.get() != null) {
            throw clientFailure(failedThread.get(), failure.get());
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

    /** One client: its own request, warm-up, then the measured loop; returns early once the run is terminated. */
    private static void client(InferenceService svc, Phaser phases, Histogram h, AtomicLong ok, AtomicLong failed, int id, int warmupPerThread,
                               int measuredPerThread, int seq, long vocab, long seed, double repeatFraction,
                               BenchInputs given) {
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
        java.lang.foreign.MemorySegment pool = java.lang.foreign.Arena.ofAuto().allocate(Math.multiplyExact(rowBytes, REPEAT_POOL), 64);
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
                    given.fill(in, rnd, vocab);
                    java.lang.foreign.MemorySegment.copy(in.data(), 0, pool, at, in.byteSize());
                    at += in.byteSize();
                }
                remembered[0]++;
            }
        };
        nextInput.run();
        for (int i = 0; i < warmupPerThread && !phases.isTerminated(); i++) {
            svc.infer(r);
            nextInput.run();
        }
        phases.arriveAndAwaitAdvance();   // warmed up
        phases.arriveAndAwaitAdvance();   // start
        long good = 0;
        long bad = 0;
        for (int i = 0; i < measuredPerThread && !phases.isTerminated(); i++) {
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
        phases.arriveAndAwaitAdvance();   // end
    }

    /** A client's failure as this thread's exception: its category kept when it is a HotpathException, an Error as it is. */
    private static RuntimeException clientFailure(String thread, Throwable e) {
        if (e instanceof Error err) {
            throw err;
        }
        String where = "benchmark client " + thread + " failed, the run was stopped: ";
        if (e instanceof HotpathException h) {
            return new HotpathException(h.category(), where + HotpathCommand.withoutCategory(h), e);
        }
        return new HotpathException(HotpathException.Category.INTERNAL, where + e.getClass().getSimpleName()
                + (e.getMessage() != null ? ": " + e.getMessage() : ""), e);
    }
}
