package io.hotpath.batcher;

import static io.hotpath.batcher.RequestRecordDescriptor.DEADLINE_OFFSET;
import static io.hotpath.batcher.RequestRecordDescriptor.ENQUEUE_TIME_OFFSET;
import static io.hotpath.batcher.RequestRecordDescriptor.HEADER_LENGTH;
import static io.hotpath.batcher.RequestRecordDescriptor.LENGTH_KEY_OFFSET;
import static io.hotpath.batcher.RequestRecordDescriptor.MSG_TYPE_REQUEST;
import static io.hotpath.batcher.RequestRecordDescriptor.REQUEST_ID_OFFSET;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * A dynamic batcher: many caller threads submit requests; one batcher thread forms batches and
 * runs them through a {@link BatchProcessor}.
 *
 * <p><b>Queue.</b> Two Agrona {@link ManyToOneRingBuffer}s in off-heap memory, one per priority.
 * Submitting claims a record, copies the request's input into it in place and commits; a full
 * ring refuses at once with {@link BatchStatus#REJECTED}. The high-priority ring is always
 * drained first.
 *
 * <p><b>Batch formation.</b> The batcher thread stages records into the processor's rows and runs
 * a bucket's batch when it is full ({@code maxBatchSize}), when it reaches a preferred size, or
 * when its oldest request has waited {@code maxQueueDelay} ({@code 0}: whatever is there, now).
 * A request whose deadline has passed is answered TIMEOUT and never runs.
 *
 * <p><b>Completion.</b> Each output row is copied to its request's output memory, then the
 * request's status is published; a blocked {@link #infer} returns, or the request's
 * {@link Completion} runs. An engine exception fails exactly that batch's requests.
 *
 * <p><b>Close.</b> {@link #close()} stops accepting, then drains (runs what was accepted) or
 * fails it with SHUTDOWN, as configured; every accepted request is answered exactly once and no
 * caller is left waiting. It waits at most {@code closeTimeout} for the batcher thread (an engine
 * run may be stuck); the thread then finishes on its own. The rings' memory is freed by the
 * batcher thread as it exits, once no producer is inside {@code submit}; request handles keep
 * theirs (a submit after close answers SHUTDOWN) until they are unreachable.
 *
 * <p><b>Failures.</b> Every Throwable on the batcher thread (a callback's, the processor's, the
 * loop's) is caught and handed to the configured error handler; the request concerned is
 * answered FAILED and the batcher goes on. If the thread dies anyway (the error handler itself
 * threw), the batcher turns closed and answers everything pending, so no caller waits forever.
 */
public final class DynamicBatcher implements AutoCloseable {
    private static final int RUNNING = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;
    private static final int SPIN_TRIES = 200;
    private static final long YIELD_NANOS = 500_000L;
    private static final long MAX_PARK_NANOS = 1_000_000L;

    private final BatcherConfig config;
    private final BatchProcessor processor;
    private final BatcherMetrics metrics = new BatcherMetrics();
    private final RingBuffer[] rings = new RingBuffer[2];
    private final MemorySegment[] ringMemory = new MemorySegment[2];
    private final BatchRequest[] requests;
    private final AtomicInteger requestCount = new AtomicInteger();
    /** Ring memory, freed by the batcher thread as it exits (see {@link #releaseMemory()}). */
    private final Arena memory = Arena.ofShared();
    /**
     * Request handles' memory: callers keep their handles and may write to them after a close (a
     * submit then answers SHUTDOWN), so it lives as long as the handles (garbage collected).
     */
    private final Arena requestArena = Arena.ofAuto();
    /** Producers inside {@link #trySubmit}: the ring memory is freed only when none is. */
    private final AtomicInteger producers = new AtomicInteger();
    private final org.agrona.ErrorHandler errorHandler;
    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(RUNNING);
    private volatile boolean batcherSleeping;
    private volatile BatcherConfig.CloseMode closeMode;

    // batcher-thread state, per bucket
    private final int[] pending;
    private final long[] oldestEnqueue;
    private final int[][] rowRequest;
    private final long[][] rowDeadline;
    private final long[][] rowEnqueue;
    private final boolean[] preferred;
    private int largestPreferred;
    private boolean failQueued;
    private int stagedTotal;
    private final MessageHandler handler = this::onRecord;

    public DynamicBatcher(BatcherConfig config, BatchProcessor processor) {
        this.config = java.util.Objects.requireNonNull(config, "config");
        this.processor = java.util.Objects.requireNonNull(processor, "processor");
        int buckets = processor.bucketCount();
        if (buckets < 1) {
            throw new IllegalArgumentException("processor.bucketCount() must be >= 1, was " + buckets);
        }
        for (int p = 0; p < 2; p++) {
            int bytes = config.queueCapacityBytes + RingBufferDescriptor.TRAILER_LENGTH;
            ringMemory[p] = memory.allocate(bytes, 64);
            rings[p] = new ManyToOneRingBuffer(new UnsafeBuffer(ringMemory[p].address(), bytes));
        }
        this.requests = new BatchRequest[config.maxRequests];
        int max = config.maxBatchSize;
        this.pending = new int[buckets];
        this.oldestEnqueue = new long[buckets];
        this.rowRequest = new int[buckets][max];
        this.rowDeadline = new long[buckets][max];
        this.rowEnqueue = new long[buckets][max];
        this.preferred = new boolean[max + 1];
        for (int s : config.preferredBatchSizes) {
            preferred[s] = true;
            largestPreferred = Math.max(largestPreferred, s);
        }
        this.closeMode = config.closeMode;
        this.errorHandler = config.errorHandler != null ? config.errorHandler : this::logError;
        this.thread = new Thread(this::loop, config.threadName);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public BatcherConfig config() {
        return config;
    }

    public BatcherMetrics metrics() {
        return metrics;
    }

    /** True until {@link #close()} starts. */
    public boolean isRunning() {
        return state.get() == RUNNING;
    }

    /**
     * A new reusable request handle with its own input and output memory. Allocates; make one per
     * caller thread (or pool them) and reuse it. At most {@code maxRequests} handles per batcher.
     */
    public BatchRequest newRequest() {
        int id = requestCount.getAndIncrement();
        if (id >= requests.length) {
            requestCount.decrementAndGet();
            throw new IllegalStateException("this batcher already has maxRequests=" + requests.length + " request handles; reuse them");
        }
        BatchRequest r = new BatchRequest(id, this,
                requestArena.allocate(config.maxPayloadBytes, 64),
                requestArena.allocate(Math.max(1, config.maxOutputBytes), 64));
        synchronized (requests) {
            requests[id] = r;     // published to the batcher thread by the ring's commit (release) before it is ever read
        }
        return r;
    }

    /**
     * Queues {@code request} without waiting. Returns {@link BatchStatus#PENDING} when accepted,
     * {@link BatchStatus#REJECTED} when the queue is full, {@link BatchStatus#SHUTDOWN} when closed.
     * Allocation-free.
     */
    public int submit(BatchRequest request) {
        return submit(request, null);
    }

    /** As {@link #submit(BatchRequest)}, with {@code callback} run on the batcher thread when it is answered. */
    public int inferAsync(BatchRequest request, Completion callback) {
        return submit(request, callback);
    }

    /**
     * Queues {@code request}, waiting up to {@code maxWaitNanos} for room when the queue is full
     * (the caller asked for a bounded wait), then returns as {@link #submit(BatchRequest)}.
     */
    public int submit(BatchRequest request, Completion callback, long maxWaitNanos) {
        int s = submit(request, callback);
        if (s != BatchStatus.REJECTED || maxWaitNanos <= 0) {
            return s;
        }
        long end = System.nanoTime() + maxWaitNanos;
        int spins = 0;
        do {
            if (++spins < SPIN_TRIES) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
            s = trySubmit(request, callback);
        } while (s == BatchStatus.REJECTED && System.nanoTime() < end);
        if (s == BatchStatus.REJECTED) {
            metrics.rejected.incrementAndGet();
        }
        return s;
    }

    private int submit(BatchRequest request, Completion callback) {
        int s = trySubmit(request, callback);
        if (s == BatchStatus.REJECTED) {
            metrics.rejected.incrementAndGet();
        }
        return s;
    }

    private int trySubmit(BatchRequest r, Completion callback) {
        if (r.owner != this) {
            throw new IllegalArgumentException("request " + r.id + " belongs to another batcher");
        }
        if (r.isPending()) {
            throw new IllegalStateException("request " + r.id + " is still pending; one inference at a time per request handle");
        }
        // Registered before the state is read (both full fences): the exiting batcher thread sets
        // CLOSED, then frees the ring only when no producer is registered, so a producer that saw
        // RUNNING finishes with the ring before it goes.
        producers.getAndIncrement();
        try {
            return claimAndCommit(r, callback);
        } finally {
            producers.getAndDecrement();
        }
    }

    private int claimAndCommit(BatchRequest r, Completion callback) {
        if (state.get() != RUNNING) {
            return rejectAfterClose(r);
        }
        RingBuffer ring = rings[r.priority];
        int length = HEADER_LENGTH + r.inputLength;
        int index = ring.tryClaim(MSG_TYPE_REQUEST, length);
        if (index < 0) {
            return BatchStatus.REJECTED;
        }
        if (state.get() != RUNNING) {
            // close() started between our check and our claim: the batcher may already have taken
            // its final snapshot of the ring, so this record must not be committed.
            ring.abort(index);
            return rejectAfterClose(r);
        }
        MutableDirectBuffer buf = ring.buffer();
        long now = System.nanoTime();
        buf.putInt(index + REQUEST_ID_OFFSET, r.id);
        buf.putInt(index + LENGTH_KEY_OFFSET, r.lengthKey);
        buf.putLong(index + DEADLINE_OFFSET, r.deadlineNanos);
        buf.putLong(index + ENQUEUE_TIME_OFFSET, now);
        MemorySegment.copy(r.input(), 0, ringMemory[r.priority], index + HEADER_LENGTH, r.inputLength);
        r.enqueueNanos = now;
        r.callback = callback;
        r.error = null;
        r.pending();
        ring.commit(index);
        if (batcherSleeping) {
            LockSupport.unpark(thread);
        }
        return BatchStatus.PENDING;
    }

    private int rejectAfterClose(BatchRequest r) {
        metrics.shutdown.incrementAndGet();
        return BatchStatus.SHUTDOWN;
    }

    /**
     * Submits {@code request} and waits for its answer (spinning, then yielding, then parking, as
     * {@code callerIdle} allows). Returns the final status: OK, TIMEOUT, FAILED, SHUTDOWN, or
     * REJECTED when the queue was full. Allocation-free.
     */
    public int infer(BatchRequest request) {
        checkNotBatcherThread();
        int s = submit(request, null);
        if (s != BatchStatus.PENDING) {
            return s;
        }
        return await(request);
    }

    /**
     * Refuses a blocking call on the batcher thread (from a callback): it would wait for the
     * thread that has to answer it, for ever.
     */
    public void checkNotBatcherThread() {
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("a blocking infer/await on the batcher thread (inside a callback) would wait for itself "
                    + "for ever; use inferAsync from callbacks");
        }
    }

    /**
     * Waits until {@code request} is answered and returns its status. A request whose deadline
     * passes before it runs is answered TIMEOUT by the batcher, without running; one already in
     * an engine run is answered when the run ends. A caller that must not wait for that uses
     * {@link #await(BatchRequest, long)}. An interrupt does not end the wait (the handle is still
     * in use) and is not lost: the wait stays parked, and the interrupt status is set again when
     * this returns. Refused on the batcher thread, where it would wait for itself.
     */
    public int await(BatchRequest r) {
        return await(r, Long.MAX_VALUE);
    }

    /**
     * As {@link #await(BatchRequest)}, waiting at most {@code maxWaitNanos}: returns
     * {@link BatchStatus#PENDING} when the request is still unanswered then. The handle stays
     * busy until it is answered (await it again, or poll {@link BatchRequest#status()}).
     */
    public int await(BatchRequest r, long maxWaitNanos) {
        checkNotBatcherThread();
        IdleStrategyKind idle = config.callerIdle;
        for (int i = 0; i < SPIN_TRIES; i++) {
            int s = r.status();
            if (s != BatchStatus.PENDING) {
                return s;
            }
            Thread.onSpinWait();
        }
        long start = System.nanoTime();
        boolean bounded = maxWaitNanos != Long.MAX_VALUE;
        if (idle == IdleStrategyKind.BUSY_SPIN) {
            int s;
            while ((s = r.status()) == BatchStatus.PENDING) {
                if (bounded && System.nanoTime() - start > maxWaitNanos) {
                    return BatchStatus.PENDING;
                }
                Thread.onSpinWait();
            }
            return s;
        }
        // Yield for a while before parking: a batch usually answers within the queue delay plus one
        // engine run, and waking a parked thread costs the batcher a system call per request.
        long yieldUntil = start + YIELD_NANOS;
        while (idle == IdleStrategyKind.YIELD || System.nanoTime() - yieldUntil < 0) {
            int s = r.status();
            if (s != BatchStatus.PENDING) {
                return s;
            }
            if (bounded && System.nanoTime() - start > maxWaitNanos) {
                return BatchStatus.PENDING;
            }
            Thread.yield();
        }
        r.waiter = Thread.currentThread();
        boolean interrupted = false;
        try {
            int s;
            while ((s = r.status()) == BatchStatus.PENDING) {
                long park = MAX_PARK_NANOS;
                if (bounded) {
                    long left = maxWaitNanos - (System.nanoTime() - start);
                    if (left < 0) {
                        return BatchStatus.PENDING;
                    }
                    park = Math.min(park, left + 1);
                }
                LockSupport.parkNanos(this, park);
                if (Thread.interrupted()) {
                    // parkNanos returns at once while the flag is set: clear it so the wait parks, restore it after
                    interrupted = true;
                }
            }
            return s;
        } finally {
            r.waiter = null;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- batcher thread

    private void loop() {
        boolean clean = false;
        try {
            runLoop();
            clean = true;
        } catch (Throwable t) {
            // the error handler itself threw: the thread cannot go on
            logError(t);
        } finally {
            if (!clean) {
                failEverything();
            }
            releaseMemory();
        }
    }

    private void runLoop() {
        IdleStrategy idle = config.batcherIdle.newBatcherStrategy(MAX_PARK_NANOS);
        long[] finalTail = null;
        while (true) {
            int work;
            try {
                work = drainOnce();
                work += dispatchDue(System.nanoTime());
            } catch (Throwable t) {
                reportError(t);     // the loop goes on; a handler that throws ends it (see loop)
                work = 1;
            }
            if (finalTail == null && state.get() != RUNNING) {
                // Every record claimed before this read is in the snapshot; later claims see the
                // state and abort themselves (see trySubmit).
                finalTail = new long[] {rings[0].producerPosition(), rings[1].producerPosition()};
                failQueued = closeMode == BatcherConfig.CloseMode.FAIL_PENDING;
            }
            if (finalTail != null && rings[0].consumerPosition() >= finalTail[0] && rings[1].consumerPosition() >= finalTail[1]) {
                finishPending();
                return;     // loop() frees the memory and sets CLOSED
            }
            if (work > 0) {
                idle.reset();
            } else if (stagedTotal > 0) {
                waitForCompany();
            } else if (config.batcherIdle == IdleStrategyKind.BACKOFF_PARK) {
                batcherSleeping = true;
                VarHandle.fullFence();
                if (rings[0].size() == 0 && rings[1].size() == 0 && state.get() == RUNNING) {
                    idle.idle(0);
                }
                batcherSleeping = false;
            } else {
                idle.idle(0);
            }
        }
    }

    /**
     * Rows are staged and waiting for company: never sleep past the oldest row's deadline of
     * {@code maxQueueDelay}. A long wait parks (a producer's commit unparks it); a short one spins.
     */
    private void waitForCompany() {
        long due = Long.MAX_VALUE;
        for (int b = 0; b < pending.length; b++) {
            if (pending[b] > 0) {
                due = Math.min(due, oldestEnqueue[b] + config.maxQueueDelayNanos);
            }
        }
        long remaining = due - System.nanoTime();
        // A timed park oversleeps by the kernel's timer slack (~50 us on Linux), and waking it
        // costs every producer a system call: park only for long waits, yield through short ones.
        if (remaining > 1_000_000 && config.batcherIdle == IdleStrategyKind.BACKOFF_PARK) {
            batcherSleeping = true;
            VarHandle.fullFence();
            if (rings[0].size() == 0 && rings[1].size() == 0 && state.get() == RUNNING) {
                LockSupport.parkNanos(this, remaining - 200_000);
            }
            batcherSleeping = false;
        } else if (remaining > 5_000 && config.batcherIdle != IdleStrategyKind.BUSY_SPIN) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    private int drainOnce() {
        int n = rings[1].read(handler, config.maxBatchSize);
        n += rings[0].read(handler, config.maxBatchSize);
        return n;
    }

    private void onRecord(int msgType, MutableDirectBuffer buffer, int index, int length) {
        // a record that is read is consumed: whatever happens, its request must be answered
        int id = buffer.getInt(index + REQUEST_ID_OFFSET);
        BatchRequest r = requests[id];
        try {
            stageRecord(r, id, buffer, index, length);
        } catch (Throwable t) {
            reportError(t);
            metrics.failed.incrementAndGet();
            complete(r, BatchStatus.FAILED, t, System.nanoTime());
        }
    }

    private void stageRecord(BatchRequest r, int id, MutableDirectBuffer buffer, int index, int length) {
        int key = buffer.getInt(index + LENGTH_KEY_OFFSET);
        long deadline = buffer.getLong(index + DEADLINE_OFFSET);
        long enqueued = buffer.getLong(index + ENQUEUE_TIME_OFFSET);
        if (failQueued) {
            complete(r, BatchStatus.SHUTDOWN, null, System.nanoTime());
            return;
        }
        if (deadline != 0) {
            long now = System.nanoTime();
            if (now - deadline > 0) {
                complete(r, BatchStatus.TIMEOUT, null, now);
                return;
            }
        }
        int b = processor.bucketOf(key);
        if (b < 0 || b >= pending.length) {
            throw new IllegalStateException("processor.bucketOf(" + key + ") returned " + b + ", outside [0, " + pending.length + ")");
        }
        if (pending[b] == config.maxBatchSize) {
            dispatch(b, System.nanoTime());
        }
        int row = pending[b];
        MemorySegment ring = buffer == rings[0].buffer() ? ringMemory[0] : ringMemory[1];
        processor.stage(b, row, ring, index + HEADER_LENGTH, length - HEADER_LENGTH, key);     // a throw fails this request (onRecord)
        rowRequest[b][row] = id;
        rowDeadline[b][row] = deadline;
        rowEnqueue[b][row] = enqueued;
        if (row == 0) {
            oldestEnqueue[b] = enqueued;
        }
        pending[b] = row + 1;
        stagedTotal++;
        if (row + 1 == config.maxBatchSize || (row + 1 == largestPreferred)) {
            dispatch(b, System.nanoTime());
        }
    }

    private int dispatchDue(long now) {
        int dispatched = 0;
        // When every request handle that exists is already staged, no more company can come:
        // a handle carries one request at a time. Waiting longer would only add latency.
        boolean noneCanArrive = stagedTotal > 0 && stagedTotal >= requestCount.get();
        for (int b = 0; b < pending.length; b++) {
            int n = pending[b];
            if (n == 0) {
                continue;
            }
            if (config.maxQueueDelayNanos == 0 || preferred[n] || now - oldestEnqueue[b] >= config.maxQueueDelayNanos
                    || noneCanArrive || state.get() != RUNNING) {
                dispatch(b, now);
                dispatched++;
            }
        }
        return dispatched;
    }

    private void dispatch(int b, long now) {
        int n = pending[b];
        pending[b] = 0;
        stagedTotal -= n;
        int[] ids = rowRequest[b];
        long[] deadlines = rowDeadline[b];
        long[] enq = rowEnqueue[b];
        int rows = 0;
        for (int r = 0; r < n; r++) {
            if (deadlines[r] != 0 && now - deadlines[r] > 0) {
                complete(requests[ids[r]], BatchStatus.TIMEOUT, null, now);
                continue;
            }
            if (rows != r) {
                try {
                    processor.moveRow(b, r, rows);
                } catch (Throwable t) {
                    // this request cannot be placed: it fails; the rows already placed stay as they are
                    reportError(t);
                    metrics.failed.incrementAndGet();
                    complete(requests[ids[r]], BatchStatus.FAILED, t, now);
                    continue;
                }
                ids[rows] = ids[r];
                enq[rows] = enq[r];
                deadlines[rows] = deadlines[r];
            }
            rows++;
        }
        if (rows == 0) {
            return;
        }
        long start = System.nanoTime();
        for (int r = 0; r < rows; r++) {
            metrics.queueWaitNanos.recordValue(Math.min(Math.max(0, start - enq[r]), BatcherMetrics.MAX_NANOS));
        }
        metrics.batchSize.recordValue(rows);
        metrics.batches.incrementAndGet();
        try {
            processor.run(b, rows);
        } catch (Throwable t) {
            if (t instanceof Error) {
                reportError(t);     // an engine's Exception is the batch's answer; an Error is also news for the handler
            }
            long end = System.nanoTime();
            metrics.failedBatches.incrementAndGet();
            metrics.failed.addAndGet(rows);
            for (int r = 0; r < rows; r++) {
                complete(requests[ids[r]], BatchStatus.FAILED, t, end);
            }
            return;
        }
        long end = System.nanoTime();
        metrics.engineNanos.recordValue(Math.min(Math.max(0, end - start), BatcherMetrics.MAX_NANOS));
        int ok = 0;
        for (int r = 0; r < rows; r++) {
            BatchRequest req = requests[ids[r]];
            try {
                processor.output(b, r, req);
            } catch (Throwable e) {
                reportError(e);
                metrics.failed.incrementAndGet();
                complete(req, BatchStatus.FAILED, e, end);
                continue;
            }
            ok++;
            complete(req, BatchStatus.OK, null, end);
        }
        metrics.completed.addAndGet(ok);
    }

    /** At close: pending rows run (DRAIN) or are answered SHUTDOWN (FAIL_PENDING). */
    private void finishPending() {
        for (int b = 0; b < pending.length; b++) {
            if (pending[b] == 0) {
                continue;
            }
            if (failQueued) {
                long now = System.nanoTime();
                for (int r = 0; r < pending[b]; r++) {
                    complete(requests[rowRequest[b][r]], BatchStatus.SHUTDOWN, null, now);
                }
                stagedTotal -= pending[b];
                pending[b] = 0;
            } else {
                dispatch(b, System.nanoTime());
            }
        }
    }

    private void complete(BatchRequest r, int status, Throwable error, long now) {
        try {
            if (status == BatchStatus.TIMEOUT) {
                metrics.timedOut.incrementAndGet();
            } else if (status == BatchStatus.SHUTDOWN) {
                metrics.shutdown.incrementAndGet();
            }
            metrics.endToEndNanos.recordValue(Math.min(Math.max(0, now - r.enqueueNanos), BatcherMetrics.MAX_NANOS));
            Completion cb = r.callback;
            r.error = error;
            r.completeNanos = now;
            if (cb != null) {
                // The callback runs before the status is published: once a caller sees the request
                // answered, nobody (not even its callback) still reads it, so it may be reused at once.
                try {
                    cb.onComplete(r, status);
                } catch (Throwable t) {
                    // a callback's failure (even an Error) must not stop the batcher or other callbacks
                    reportError(t);
                }
            }
        } finally {
            r.complete(status);
            Thread waiter = r.waiter;
            if (waiter != null) {
                LockSupport.unpark(waiter);
            }
        }
    }

    /** Counts {@code t} and hands it to the error handler; a handler that throws ends the batcher thread. */
    private void reportError(Throwable t) {
        metrics.errors.incrementAndGet();
        errorHandler.onError(t);
    }

    private void logError(Throwable t) {
        System.getLogger(DynamicBatcher.class.getName()).log(System.Logger.Level.WARNING,
                "batcher " + config.threadName + ": caught on the batcher thread", t);
    }

    /**
     * The batcher thread is dying (its error handler threw): turn closed and answer everything
     * pending (staged rows FAILED, queued records SHUTDOWN) so no caller waits for ever.
     */
    private void failEverything() {
        synchronized (state) {
            state.set(CLOSING);
        }
        failQueued = true;
        long now = System.nanoTime();
        for (int b = 0; b < pending.length; b++) {
            for (int r = 0; r < pending[b]; r++) {
                try {
                    complete(requests[rowRequest[b][r]], BatchStatus.FAILED, null, now);
                } catch (Throwable t) {
                    // complete() published the status in its finally; what failed was its bookkeeping or the
                    // (failing) error handler: log it directly, the handler is what brought the thread down
                    logError(t);
                }
            }
            pending[b] = 0;
        }
        stagedTotal = 0;
        // producers that claimed before seeing CLOSING commit or abort within a few instructions
        long[] tail = {rings[0].producerPosition(), rings[1].producerPosition()};
        long end = System.nanoTime() + 1_000_000_000L;
        while ((rings[0].consumerPosition() < tail[0] || rings[1].consumerPosition() < tail[1]) && System.nanoTime() - end < 0) {
            try {
                drainOnce();
            } catch (Throwable t) {
                // onRecord answers each record before anything can throw; log and keep draining
                logError(t);
            }
        }
    }

    /** Frees the rings' memory once no producer is inside submit (bounded wait; on time-out the memory stays). */
    private void releaseMemory() {
        state.set(CLOSED);
        long end = System.nanoTime() + config.closeTimeoutNanos;
        while (producers.get() != 0) {
            if (System.nanoTime() - end > 0) {
                return;     // a producer is stuck inside submit: leave the memory to it
            }
            Thread.onSpinWait();
        }
        memory.close();
    }

    /** Closes with the configured {@link BatcherConfig.CloseMode} (DRAIN by default). */
    @Override
    public void close() {
        close(config.closeMode);
    }

    /**
     * Stops accepting requests, then drains or fails what was accepted, and waits for the batcher
     * thread to finish (unless called from it, for example in a callback). Idempotent.
     */
    public void close(BatcherConfig.CloseMode mode) {
        synchronized (state) {
            if (state.get() == RUNNING) {
                closeMode = mode;           // written before the state the batcher thread reads first
                state.set(CLOSING);
            }
        }
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            boolean interrupted = false;
            long end = System.nanoTime() + config.closeTimeoutNanos;
            while (thread.isAlive()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    System.getLogger(DynamicBatcher.class.getName()).log(System.Logger.Level.WARNING, "batcher " + config.threadName
                            + ": still running after closeTimeout (a stuck engine run?); close returns, the thread finishes on its own");
                    break;
                }
                try {
                    thread.join(Math.max(1, left / 1_000_000L));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** True once the batcher thread has finished (everything accepted answered, memory freed). */
    public boolean isTerminated() {
        return !thread.isAlive();
    }
}
