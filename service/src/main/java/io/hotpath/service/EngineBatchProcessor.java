package io.hotpath.service;

import io.hotpath.core.Tensor;
import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.batcher.BatchProcessor;
import io.hotpath.batcher.BatchRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The batcher's view of an {@link Engine}: requests' rows are staged per length bucket, and at run
 * time copied into the engine's batch tensors, padded with zeros to the longest row of the batch
 * (for BERT-style inputs, zero is the padding token, a zero attention mask and token type 0).
 * Outputs are copied back row by row, cut to each request's own length.
 */
final class EngineBatchProcessor implements BatchProcessor {
    private final Engine engine;
    private final Batch batch;
    private final RowLayout in;
    private final RowLayout out;
    private final int[] bucketLimits;
    private final int maxBatch;
    private final MemorySegment[][] staging;    // [bucket][input]
    private final int[][] rowLength;            // [bucket][row]
    private final int[] runLength;              // length the last run of each bucket was padded to
    private final Request[] requestsById;
    private final MemorySegment zeros;
    /** For the JFR events: what the model is called in them, and when each bucket's last run started (System.nanoTime). */
    private final String label;
    private final long[] runStart;
    private final int[] runRows;
    /** When each bucket's last run was assembled and when its engine run returned; 0 when no recording took the batch event. */
    private final long[] runAssembled;
    private final long[] runEngineDone;

    EngineBatchProcessor(Engine engine, Batch batch, RowLayout in, RowLayout out, int[] bucketLimits, int maxBatch,
                         Request[] requestsById, Arena arena) {
        this.engine = engine;
        this.batch = batch;
        this.in = in;
        this.out = out;
        this.bucketLimits = bucketLimits;
        this.maxBatch = maxBatch;
        this.requestsById = requestsById;
        this.staging = new MemorySegment[bucketLimits.length][in.count];
        this.rowLength = new int[bucketLimits.length][maxBatch];
        this.runLength = new int[bucketLimits.length];
        this.runStart = new long[bucketLimits.length];
        this.runRows = new int[bucketLimits.length];
        this.runAssembled = new long[bucketLimits.length];
        this.runEngineDone = new long[bucketLimits.length];
        this.label = engine.name();
        long widest = 8;
        for (int i = 0; i < in.count; i++) {
            widest = Math.max(widest, in.capacityBytes[i]);
        }
        this.zeros = arena.allocate(widest, 64);
        for (int b = 0; b < bucketLimits.length; b++) {
            for (int i = 0; i < in.count; i++) {
                staging[b][i] = arena.allocate(Math.max(8, in.capacityBytes[i] * maxBatch), 64);
            }
        }
    }

    @Override
    public int bucketCount() {
        return bucketLimits.length;
    }

    @Override
    public int bucketOf(int length) {
        for (int b = 0; b < bucketLimits.length; b++) {
            if (length <= bucketLimits[b]) {
                return b;
            }
        }
        return bucketLimits.length - 1;
    }

    @Override
    public void stage(int bucket, int row, MemorySegment src, long offset, int length, int lengthKey) {
        for (int i = 0; i < in.count; i++) {
            MemorySegment.copy(src, offset + in.offset[i], staging[bucket][i], row * in.capacityBytes[i], in.rowBytes(i, lengthKey));
        }
        rowLength[bucket][row] = lengthKey;
    }

    @Override
    public void moveRow(int bucket, int from, int to) {
        for (int i = 0; i < in.count; i++) {
            MemorySegment s = staging[bucket][i];
            MemorySegment.copy(s, from * in.capacityBytes[i], s, to * in.capacityBytes[i], in.rowBytes(i, rowLength[bucket][from]));
        }
        rowLength[bucket][to] = rowLength[bucket][from];
    }

    @Override
    public void run(int bucket, int rows) {
        io.hotpath.service.events.BatchEvent ev = null;
        if (io.hotpath.service.events.HotpathEvents.ON) {
            runStart[bucket] = System.nanoTime();      // the requests' queue wait ends here (their events read it)
            runRows[bucket] = rows;
            ev = new io.hotpath.service.events.BatchEvent();
            if (ev.isEnabled()) {
                ev.begin();
            } else {
                ev = null;
            }
        }
        int longest = 1;
        for (int r = 0; r < rows; r++) {
            longest = Math.max(longest, rowLength[bucket][r]);
        }
        runLength[bucket] = longest;
        for (int i = 0; i < in.count; i++) {
            Tensor t = batch.input(i);
            reshape(t, rows, in.variable[i] ? longest : -1);
            MemorySegment dst = t.data();
            long padded = in.rowBytes(i, longest);
            for (int r = 0; r < rows; r++) {
                long have = in.rowBytes(i, rowLength[bucket][r]);
                MemorySegment.copy(staging[bucket][i], r * in.capacityBytes[i], dst, r * padded, have);
                if (have < padded) {
                    MemorySegment.copy(zeros, 0, dst, r * padded + have, padded - have);
                }
            }
        }
        long assembled = ev != null ? System.nanoTime() : 0;
        runAssembled[bucket] = 0;       // set again below only when this run is recorded
        engine.run(batch);
        if (ev != null) {
            long done = System.nanoTime();
            runAssembled[bucket] = assembled;
            runEngineDone[bucket] = done;
            ev.end();
            if (ev.shouldCommit()) {
                ev.engine = label;
                ev.rows = rows;
                ev.length = longest;
                ev.assemblyNanos = assembled - runStart[bucket];
                ev.engineNanos = done - assembled;
                ev.commit();
            }
        }
    }

    static void reshape(Tensor t, int rows, int length) {
        if (t.rank() == 0) {
            return;     // a scalar: the engine cannot batch (its capacity is one row), nothing to shape
        }
        // a fixed dimension 0 is not a batch: the engine runs one request, carried whole, at a time
        long d0 = t.spec().shape().isDynamic(0) ? rows : t.spec().shape().dim(0);
        switch (t.rank()) {
            case 1 -> t.reshape(d0);
            case 2 -> t.reshape(d0, length > 0 ? length : t.dim(1));
            case 3 -> t.reshape(d0, length > 0 ? length : t.dim(1), t.dim(2));
            default -> {
                long[] d = t.shape();
                d[0] = d0;
                if (length > 0) {
                    d[1] = length;
                }
                t.reshape(d);
            }
        }
    }

    @Override
    public void output(int bucket, int row, BatchRequest request) {
        int own = rowLength[bucket][row];
        int padded = runLength[bucket];
        Request r = requestsById[request.id()];
        for (int o = 0; o < out.count; o++) {
            Tensor t = batch.output(o);
            long rowBytes = out.rowBytes(o, padded);
            long keep = out.rowBytes(o, own);
            // a whole output (scalar or fixed dimension 0) is every request's answer, not one row of it
            MemorySegment.copy(t.data(), out.whole[o] ? 0 : row * rowBytes, request.output(), out.offset[o], keep);
            r.outputShaped(o, own);
        }
        if (io.hotpath.service.events.HotpathEvents.ON) {
            io.hotpath.service.events.RequestEvent ev = new io.hotpath.service.events.RequestEvent();
            if (ev.shouldCommit()) {
                long now = System.nanoTime();
                ev.engine = label;
                ev.totalNanos = now - request.enqueueNanos();
                ev.queueNanos = runStart[bucket] - request.enqueueNanos();
                ev.batchRows = runRows[bucket];
                ev.scatterNanos = runAssembled[bucket] != 0 ? now - runEngineDone[bucket] : 0;
                ev.commit();
                if (runAssembled[bucket] != 0) {
                    r.stages.stamp(request.enqueueNanos(), runStart[bucket], runAssembled[bucket], runEngineDone[bucket], now, runRows[bucket]);
                }
            }
        }
    }

    /** The engine batch's capacity check for a request length. */
    int maxBatch() {
        return maxBatch;
    }
}
