package io.hotpath.batcher;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real (if tiny) batch computation for batcher tests: each row is {@code width} longs; the
 * output row is every value doubled. It can fail whole batches on request, and records the batch
 * sizes it ran.
 */
final class DoublingProcessor implements BatchProcessor {
    final int width;
    final int maxBatch;
    final MemorySegment in;
    final MemorySegment out;
    volatile boolean failNext;
    volatile double failureRate;
    final java.util.SplittableRandom random = new java.util.SplittableRandom(7);
    final AtomicInteger runs = new AtomicInteger();
    final AtomicInteger maxRowsSeen = new AtomicInteger();
    volatile long runDelayNanos;
    /** Runs at the start of every run (to block on a latch, or to throw). */
    volatile Runnable beforeRun;
    /** Thrown (once) by the next stage. */
    volatile Error stageError;
    /** Thrown (once) by the next moveRow. */
    volatile Error moveError;
    /** Returned (once) by the next bucketOf, when not null. */
    volatile Integer badBucket;

    DoublingProcessor(int width, int maxBatch) {
        this.width = width;
        this.maxBatch = maxBatch;
        this.in = Arena.ofAuto().allocate((long) width * 8 * maxBatch, 64);
        this.out = Arena.ofAuto().allocate((long) width * 8 * maxBatch, 64);
    }

    @Override
    public void stage(int bucket, int row, MemorySegment src, long offset, int length, int lengthKey) {
        Error e = stageError;
        if (e != null) {
            stageError = null;
            throw e;
        }
        if (length != width * 8) {
            throw new IllegalArgumentException("row of " + length + " bytes, expected " + width * 8);
        }
        MemorySegment.copy(src, offset, in, (long) row * width * 8, length);
    }

    @Override
    public void moveRow(int bucket, int from, int to) {
        Error e = moveError;
        if (e != null) {
            moveError = null;
            throw e;
        }
        MemorySegment.copy(in, (long) from * width * 8, in, (long) to * width * 8, (long) width * 8);
    }

    @Override
    public int bucketOf(int lengthKey) {
        Integer b = badBucket;
        if (b != null) {
            badBucket = null;
            return b;
        }
        return 0;
    }

    @Override
    public void run(int bucket, int rows) {
        Runnable r = beforeRun;
        if (r != null) {
            r.run();
        }
        runs.incrementAndGet();
        maxRowsSeen.accumulateAndGet(rows, Math::max);
        if (runDelayNanos > 0) {
            long end = System.nanoTime() + runDelayNanos;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }
        if (failNext || (failureRate > 0 && random.nextDouble() < failureRate)) {
            failNext = false;
            throw new IllegalStateException("injected engine failure");
        }
        for (long i = 0; i < (long) rows * width; i++) {
            out.setAtIndex(ValueLayout.JAVA_LONG, i, in.getAtIndex(ValueLayout.JAVA_LONG, i) * 2);
        }
    }

    @Override
    public void output(int bucket, int row, BatchRequest request) {
        MemorySegment.copy(out, (long) row * width * 8, request.output(), 0, (long) width * 8);
    }
}
