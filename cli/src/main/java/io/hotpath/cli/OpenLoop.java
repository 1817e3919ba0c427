package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.service.RequestCallback;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * Open-loop load: requests arrive at a fixed mean rate with exponentially distributed gaps (a
 * Poisson process), whatever the service is doing. Latency is measured from each request's
 * <em>intended</em> arrival time, so a stall that delays the sender is charged to every request
 * that should have been sent during it (coordinated omission corrected). The uncorrected
 * histogram, from the moment each request was actually handed over, is kept beside it to show
 * what a naive generator would report. At most {@code maxInFlight} requests are outstanding;
 * when all are, the sender waits for one (and the corrected latencies grow, as they should).
 */
final class OpenLoop {
    /** One step's outcome. */
    record Result(double ratePerSecond, Histogram corrected, Histogram uncorrected, long ok, long notOk, long wallNanos) {
        double throughput() {
            return (ok + notOk) / (wallNanos / 1e9);
        }
    }

    private OpenLoop() {
    }

    /**
     * Sends {@code requests} requests at {@code ratePerSecond} on average (after {@code warmup}
     * unrecorded ones at the same rate) and waits for every answer.
     */
    static Result run(InferenceService svc, double ratePerSecond, int warmup, int requests, int maxInFlight, int seq, long vocab, long seed)
            throws InterruptedException {
        return run(svc, pool(svc, maxInFlight, seq), ratePerSecond, warmup, requests, vocab, seed);
    }

    /** Requests to reuse across steps (a service hands out a fixed number of request handles). */
    static Request[] pool(InferenceService svc, int maxInFlight, int seq) {
        Request[] p = new Request[maxInFlight];
        for (int i = 0; i < maxInFlight; i++) {
            p[i] = svc.newRequest();
            if (svc.maxLength() > 1) {
                p[i].length(Math.min(seq, svc.maxLength()));
            }
        }
        return p;
    }

    /** As above, with the in-flight requests taken from {@code pool}. */
    static Result run(InferenceService svc, Request[] pool, double ratePerSecond, int warmup, int requests, long vocab, long seed)
            throws InterruptedException {
        return run(svc, pool, ratePerSecond, warmup, requests, vocab, seed, BenchInputs.defaults());
    }

    /** As above, each request's inputs filled by {@code inputs} (given constants and one-row files, else the defaults). */
    static Result run(InferenceService svc, Request[] pool, double ratePerSecond, int warmup, int requests, long vocab, long seed,
                      BenchInputs inputs) throws InterruptedException {
        int count = svc.engine().inputs().size();
        return run(svc, pool, ratePerSecond, warmup, requests, seed, (r, rnd) -> {
            for (int k = 0; k < count; k++) {
                inputs.fill(r.input(k), rnd, vocab);
            }
        });
    }

    /** As above, each request's inputs written by {@code inputs} (which may set its length). */
    static Result run(InferenceService svc, Request[] pool, double ratePerSecond, int warmup, int requests, long seed,
                      ProfileRun.Inputs inputs) throws InterruptedException {
        int maxInFlight = pool.length;
        if (ratePerSecond <= 0 || requests < 1 || maxInFlight < 1) {
            throw new IllegalArgumentException("rate, requests and in-flight limit must be positive");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        Slot[] slots = new Slot[maxInFlight];
        ManyToOneConcurrentArrayQueue<Slot> free = new ManyToOneConcurrentArrayQueue<>(maxInFlight);
        Histogram corrected = new Histogram(3_600_000_000_000L, 3);
        Histogram uncorrected = new Histogram(3_600_000_000_000L, 3);
        long[] counts = new long[2];   // ok, not ok: written by the callback thread(s) under the lock below
        Object lock = new Object();
        for (int i = 0; i < maxInFlight; i++) {
            slots[i] = new Slot(pool[i]);
            free.offer(slots[i]);
        }
        int total = warmup + requests;
        int[] done = {0};
        Throwable[] callbackFailure = {null};   // under the lock
        RequestCallback onDone = (req, status) -> {
            long now = System.nanoTime();
            Slot s = (Slot) req.attachment();
            synchronized (lock) {
                try {
                    if (s.measured) {
                        corrected.recordValue(Math.max(0, now - s.intended));
                        uncorrected.recordValue(Math.max(0, now - s.sent));
                        counts[status == BatchStatus.OK ? 0 : 1]++;
                    }
                } catch (Throwable e) {
                    // recorded and rethrown by the sender: an answer is always counted, so the sender never waits for it forever
                    if (callbackFailure[0] == null) {
                        callbackFailure[0] = e;
                    }
                } finally {
                    done[0]++;
                    lock.notifyAll();
                }
            }
            free.offer(s);
        };
        double meanGapNanos = 1e9 / ratePerSecond;
        long start = System.nanoTime();
        long next = start;
        long measuredStart = 0;
        for (int i = 0; i < total; i++) {
            next += (long) (-Math.log(1 - rnd.nextDouble()) * meanGapNanos);
            if (i == warmup) {
                measuredStart = next;
            }
            long wait;
            while ((wait = next - System.nanoTime()) > 0) {
                if (wait > 200_000) {
                    LockSupport.parkNanos(wait - 100_000);
                } else {
                    Thread.onSpinWait();
                }
            }
            Slot s;
            while ((s = free.poll()) == null) {
                Thread.onSpinWait();
            }
            while (s.request.status() == BatchStatus.PENDING) {
                Thread.onSpinWait();    // the callback runs just before the batcher publishes the status
            }
            inputs.next(s.request, rnd);
            s.intended = next;
            s.measured = i >= warmup;
            s.request.attach(s);
            s.sent = System.nanoTime();
            int st = svc.inferAsync(s.request, onDone);
            if (st != BatchStatus.PENDING && st != BatchStatus.OK) {
                // refused at once (queue full, shut down): answered now, with that status
                onDone.onComplete(s.request, st);
            }
        }
        synchronized (lock) {
            while (done[0] < total) {
                lock.wait(1000);
            }
            if (callbackFailure[0] != null) {
                throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.INTERNAL,
                        "recording an answer failed: " + callbackFailure[0], callbackFailure[0]);
            }
        }
        long wall = System.nanoTime() - measuredStart;
        return new Result(ratePerSecond, corrected, uncorrected, counts[0], counts[1], Math.max(1, wall));
    }

    /** One reusable request and the times of its current use. */
    private static final class Slot {
        final Request request;
        long intended;
        long sent;
        boolean measured;

        Slot(Request request) {
            this.request = request;
        }
    }
}
