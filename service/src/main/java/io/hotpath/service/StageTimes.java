package io.hotpath.service;

/**
 * When a request's last inference passed each stage ({@code System.nanoTime()}), stamped only
 * while a JFR recording takes Hotpath's events ({@code hotpath.Request} and {@code hotpath.Batch}
 * enabled; {@code hotpath profile} starts one): then a caller that timed its own call can split it
 * into consecutive stages, per request. Without such a recording nothing is stamped and
 * {@link #stamped()} is false: the hot path pays one field write per inference for it.
 *
 * <pre>
 *  caller ──lookup──▶ enqueued ──queue──▶ batchStarted ──assembly──▶ assembled ──engine──▶ engineDone ──scatter──▶ answered ──hand-off, store──▶ caller
 * </pre>
 *
 * In direct mode (no batcher) the caller's thread copies its inputs into its own batch and runs it:
 * {@code enqueued == batchStarted == assembled}, taken after the copy (which falls in the time before them).
 * A cache hit has the lookup only ({@link #lookupNanos()}); the other stamps are 0.
 */
public final class StageTimes {
    long lookupNanos;
    long enqueued;
    long batchStarted;
    long assembled;
    long engineDone;
    long answered;
    long storeNanos;
    int batchRows;
    volatile boolean stamped;

    StageTimes() {
    }

    /** Whether the last inference was stamped (a recording took Hotpath's events while it ran). */
    public boolean stamped() {
        return stamped;
    }

    /** Time spent looking the request up in the prediction cache and the shared tier (0 without them). */
    public long lookupNanos() {
        return lookupNanos;
    }

    /** When it entered the batcher's queue (direct mode: when its own run began); 0 when it never did (a cache hit). */
    public long enqueued() {
        return enqueued;
    }

    /** When the batch holding it began to be assembled: the end of its queue wait. */
    public long batchStarted() {
        return batchStarted;
    }

    /** When the batch's rows had been copied (and padded) into the engine's tensors. */
    public long assembled() {
        return assembled;
    }

    /** When the engine's run of that batch returned. */
    public long engineDone() {
        return engineDone;
    }

    /** When its answer had been copied out of the batch. */
    public long answered() {
        return answered;
    }

    /** Time the caller's thread spent storing the answer in the prediction cache after the batcher answered (0 without a cache). */
    public long storeNanos() {
        return storeNanos;
    }

    /** Rows in the batch it ran in. */
    public int batchRows() {
        return batchRows;
    }

    /** Forgets the last inference's stamps (at the start of the next). */
    void reset() {
        if (stamped) {
            stamped = false;
            lookupNanos = 0;
            enqueued = 0;
            batchStarted = 0;
            assembled = 0;
            engineDone = 0;
            answered = 0;
            storeNanos = 0;
            batchRows = 0;
        }
    }

    /** The batcher path's stamps, published by the volatile write (the caller reads them after its answer). */
    void stamp(long enqueued, long batchStarted, long assembled, long engineDone, long answered, int rows) {
        this.enqueued = enqueued;
        this.batchStarted = batchStarted;
        this.assembled = assembled;
        this.engineDone = engineDone;
        this.answered = answered;
        this.batchRows = rows;
        this.stamped = true;
    }

    /** The cache store's time (the caller's own thread, after the answer). */
    void store(long nanos) {
        storeNanos = nanos;
    }

    /** A lookup's time (the caller's own thread), added to any earlier tier's in this inference. */
    void lookup(long nanos) {
        lookupNanos += nanos;
        stamped = true;
    }
}
