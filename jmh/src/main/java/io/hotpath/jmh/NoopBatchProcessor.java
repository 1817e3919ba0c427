package io.hotpath.jmh;

import io.hotpath.batcher.BatchProcessor;
import io.hotpath.batcher.BatchRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The engine stand-in of {@code BatcherBenchmark}: it does what a batcher's processor must do
 * with bytes (copy each request's row into the batch, copy each output row back) and nothing
 * else, so the benchmark measures the batcher's own overhead. Shared by all three queue variants.
 */
final class NoopBatchProcessor implements BatchProcessor {
    static final int ROW_BYTES = 256;      // 64 float features, like the mlp model
    static final int OUTPUT_BYTES = 16;

    final MemorySegment rows;
    final MemorySegment outputs;
    long batches;

    NoopBatchProcessor(int maxBatch) {
        this.rows = Arena.ofAuto().allocate((long) ROW_BYTES * maxBatch, 64);
        this.outputs = Arena.ofAuto().allocate((long) OUTPUT_BYTES * maxBatch, 64);
    }

    @Override
    public void stage(int bucket, int row, MemorySegment src, long offset, int length, int lengthKey) {
        MemorySegment.copy(src, offset, rows, (long) row * ROW_BYTES, length);
    }

    @Override
    public void moveRow(int bucket, int from, int to) {
        MemorySegment.copy(rows, (long) from * ROW_BYTES, rows, (long) to * ROW_BYTES, ROW_BYTES);
    }

    @Override
    public void run(int bucket, int rows) {
        batches++;
    }

    @Override
    public void output(int bucket, int row, BatchRequest request) {
        MemorySegment.copy(outputs, (long) row * OUTPUT_BYTES, request.output(), 0, OUTPUT_BYTES);
    }

    /** The same output copy for the peers' request objects. */
    void output(int row, MemorySegment dest) {
        MemorySegment.copy(outputs, (long) row * OUTPUT_BYTES, dest, 0, OUTPUT_BYTES);
    }
}
