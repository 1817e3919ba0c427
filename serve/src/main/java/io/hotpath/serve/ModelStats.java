package io.hotpath.serve;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.BatcherMetrics;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One model's serving statistics, in the units Triton reports them (counts, cumulative
 * nanoseconds; {@code /metrics} turns them into microseconds), plus an HdrHistogram of request
 * durations for Hotpath's own percentiles. Counting is wait-free and allocation-free on the
 * request path; the batcher's queue and engine times are folded in when statistics are read.
 */
public final class ModelStats {
    private final LongAdder started = new LongAdder();
    private final LongAdder finished = new LongAdder();
    private final LongAdder success = new LongAdder();
    private final LongAdder successNanos = new LongAdder();
    private final LongAdder failure = new LongAdder();
    private final LongAdder failureNanos = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder bad = new LongAdder();
    private final LongAdder inferences = new LongAdder();
    private final LongAdder cacheHits = new LongAdder();
    private final LongAdder cacheMisses = new LongAdder();
    private volatile long lastInferenceMillis;
    private final Recorder requestMicros = new Recorder(1, 3_600_000_000L, 3);

    // folded in from the batcher's recorders by snapshot(), under the lock
    private final BatcherMetrics batcher;
    private final boolean cached;
    private Histogram queueRecycle;
    private Histogram engineRecycle;
    private Histogram batchRecycle;
    private Histogram requestRecycle;
    private final Histogram requestTotal = new Histogram(1, 3_600_000_000L, 3);
    private long queueNanos;
    private long queueCount;
    private long computeNanos;
    private long executions;

    ModelStats(BatcherMetrics batcher, boolean cached) {
        this.batcher = batcher;
        this.cached = cached;
    }

    void started() {
        started.increment();
    }

    /** A request refused before it was submitted: a malformed body (400) or no free slot (429). */
    public void refused(boolean busy) {
        (busy ? rejected : bad).increment();
        failure.increment();
    }

    void finished(InferCall call) {
        long nanos = call.elapsedNanos();
        int s = call.status();
        if (s == BatchStatus.OK) {
            success.increment();
            successNanos.add(nanos);
            int rows = call.rows();
            inferences.add(rows);
            if (cached) {
                int hits = 0;
                for (int r = 0; r < rows; r++) {
                    if (call.row(r).fromCache()) {
                        hits++;
                    }
                }
                cacheHits.add(hits);
                cacheMisses.add(rows - hits);
            }
        } else {
            failure.increment();
            failureNanos.add(nanos);
            if (s == BatchStatus.REJECTED) {
                rejected.increment();
            } else if (s == BatchStatus.TIMEOUT) {
                timedOut.increment();
            }
        }
        finished.increment();
        lastInferenceMillis = System.currentTimeMillis();
        requestMicros.recordValue(Math.min(3_600_000_000L, Math.max(1, nanos / 1000)));
    }

    /** Requests submitted and not yet answered (cheap; no snapshot). */
    public long pendingNow() {
        return Math.max(0, started.sum() - finished.sum());
    }

    /** A consistent reading of every figure (allocates; for the stats and metrics endpoints). */
    public synchronized Snapshot snapshot() {
        queueRecycle = batcher.intervalQueueWait(queueRecycle);
        queueNanos += (long) (queueRecycle.getMean() * queueRecycle.getTotalCount());
        queueCount += queueRecycle.getTotalCount();
        engineRecycle = batcher.intervalEngineTime(engineRecycle);
        computeNanos += (long) (engineRecycle.getMean() * engineRecycle.getTotalCount());
        batchRecycle = batcher.intervalBatchSize(batchRecycle);
        executions += batchRecycle.getTotalCount();
        requestRecycle = requestMicros.getIntervalHistogram(requestRecycle);
        requestTotal.add(requestRecycle);
        long ok = success.sum();
        long fail = failure.sum();
        return new Snapshot(ok, successNanos.sum(), fail, failureNanos.sum(), rejected.sum(), timedOut.sum(), bad.sum(),
                inferences.sum(), executions, queueCount, queueNanos, computeNanos, cacheHits.sum(), cacheMisses.sum(),
                Math.max(0, started.sum() - finished.sum()),
                lastInferenceMillis, requestTotal.copy());
    }

    /**
     * Starts the statistics over, as if the model had just loaded: what {@code /metrics} and the
     * statistics endpoints report afterwards leaves out every request answered before (a warm-up's).
     * Requests still pending stay counted as pending. Meant for a moment with no traffic; a request
     * finishing during the reset may be counted in part.
     */
    public synchronized void reset() {
        snapshot();                     // folds the batcher's and the recorder's intervals in, to be dropped below
        success.reset();
        successNanos.reset();
        failure.reset();
        failureNanos.reset();
        rejected.reset();
        timedOut.reset();
        bad.reset();
        inferences.reset();
        cacheHits.reset();
        cacheMisses.reset();
        lastInferenceMillis = 0;
        queueNanos = 0;
        queueCount = 0;
        computeNanos = 0;
        executions = 0;
        requestTotal.reset();
    }

    /** The figures at one moment; durations in nanoseconds, cumulative since the model loaded. */
    public record Snapshot(long success, long successNanos, long failure, long failureNanos, long rejected, long timedOut, long bad,
            long inferences, long executions, long queued, long queueNanos, long computeNanos, long cacheHits, long cacheMisses,
            long pending, long lastInferenceMillis, Histogram requestMicros) {
    }
}
