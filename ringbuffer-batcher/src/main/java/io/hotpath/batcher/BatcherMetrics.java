package io.hotpath.batcher;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * The batcher's measurements: HdrHistogram {@link SingleWriterRecorder}s (the batcher thread is
 * the only writer; wait-free and allocation-free on record) for queue wait, batch size, engine time and end-to-end latency, and counters. Read an
 * interval with {@link #intervalQueueWait(Histogram)} and friends, recycling the histogram you
 * got last time so reading allocates nothing either.
 *
 * <p>The counters are Agrona counters ({@link BatcherConfig.Builder#countersFile}): the accessors
 * here read the same values another process reads from the counters file.
 */
public final class BatcherMetrics {
    static final long MAX_NANOS = 3_600_000_000_000L;

    // Only the batcher thread records, so the cheaper single-writer recorders suffice.
    final SingleWriterRecorder queueWaitNanos = new SingleWriterRecorder(1, MAX_NANOS, 3);
    final SingleWriterRecorder batchSize = new SingleWriterRecorder(1, 1 << 20, 3);
    final SingleWriterRecorder engineNanos = new SingleWriterRecorder(1, MAX_NANOS, 3);
    final SingleWriterRecorder endToEndNanos = new SingleWriterRecorder(1, MAX_NANOS, 3);

    final BatcherCounters counters;

    BatcherMetrics(BatcherCounters counters) {
        this.counters = counters;
    }

    /** Enqueue to the start of the batch's engine run, per request, in nanoseconds, since the last call. */
    public Histogram intervalQueueWait(Histogram recycle) {
        return queueWaitNanos.getIntervalHistogram(recycle);
    }

    /** Rows per batch run since the last call. */
    public Histogram intervalBatchSize(Histogram recycle) {
        return batchSize.getIntervalHistogram(recycle);
    }

    /** Engine time per batch, in nanoseconds, since the last call. */
    public Histogram intervalEngineTime(Histogram recycle) {
        return engineNanos.getIntervalHistogram(recycle);
    }

    /** Enqueue to completion per request (OK, TIMEOUT, FAILED or SHUTDOWN), in nanoseconds, since the last call. */
    public Histogram intervalEndToEnd(Histogram recycle) {
        return endToEndNanos.getIntervalHistogram(recycle);
    }

    /** Refused because the queue was full. */
    public long rejected() {
        return counters.rejected.get();
    }

    /** Answered OK. */
    public long completed() {
        return counters.completed.get();
    }

    public long timedOut() {
        return counters.timedOut.get();
    }

    public long failed() {
        return counters.failed.get();
    }

    /** Answered SHUTDOWN (queued when the batcher closed with FAIL_PENDING, or submitted after close). */
    public long shutdown() {
        return counters.shutdown.get();
    }

    public long batches() {
        return counters.batches.get();
    }

    /** Throwables caught on the batcher thread and handed to the error handler (callbacks, processors, the loop itself). */
    public long errors() {
        return counters.errors.get();
    }

    public long failedBatches() {
        return counters.failedBatches.get();
    }

    /** Requests accepted (submit answered PENDING). */
    public long submitted() {
        return counters.submitted.get();
    }

    /** Rows run through the engine, over all batches. */
    public long batchRows() {
        return counters.batchRows.get();
    }

    /** Accepted and not yet answered, as of the batcher's last duty cycle that did work. */
    public long inFlight() {
        return counters.inFlight.get();
    }

    /** The counters file other processes read, or null when the counters are in this process's memory only. */
    public java.nio.file.Path countersFile() {
        return counters.file();
    }
}
