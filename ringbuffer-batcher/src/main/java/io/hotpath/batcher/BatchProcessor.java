package io.hotpath.batcher;

import java.lang.foreign.MemorySegment;

/**
 * What the batcher drives: it owns the batch memory (an engine's tensors), knows how to place one
 * request's payload in a row, runs a batch, and copies a row's output to its request. Called only
 * from the batcher thread.
 *
 * <p>Rows are grouped in buckets (for example by sequence length, so short requests are not padded
 * to long ones); a processor without buckets has one.
 */
public interface BatchProcessor {
    /** Number of buckets; at least 1 (default: one bucket). */
    default int bucketCount() {
        return 1;
    }

    /** The bucket of a request with this length key (default: the only bucket). */
    default int bucketOf(int lengthKey) {
        return 0;
    }

    /** Copies {@code length} payload bytes at {@code offset} of {@code src} into {@code row} of {@code bucket}. */
    void stage(int bucket, int row, MemorySegment src, long offset, int length, int lengthKey);

    /** Moves row {@code from} to row {@code to} (to drop a request that timed out while waiting). */
    void moveRow(int bucket, int from, int to);

    /** Runs the first {@code rows} rows of {@code bucket}. An exception fails exactly those requests. */
    void run(int bucket, int rows) throws Exception;

    /** Copies the output of {@code row} into {@code request}'s output memory. */
    void output(int bucket, int row, BatchRequest request);
}
