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
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
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
 * <p><b>Threads.</b> The work loop is an Agrona {@link Agent} ({@code doWork} returns the work
 * done; {@code roleName} is the thread name). Where it runs is chosen in {@link BatcherConfig}
 * ({@link BatcherConfig.Threading}): on the batcher's own daemon thread (the default), on a thread
 * from the application's {@link ThreadFactory}, both through Agrona's {@link AgentRunner} with
 * any {@link IdleStrategy}; or on no thread of its own, the application calling
 * {@link #invoker()}{@code .invoke()} from its duty cycle. "The batcher thread" below is
 * whichever thread runs the agent.
 *
 * <p><b>Idling.</b> With nothing staged the batcher idles with the configured strategy; a parking
 * strategy (any but busy-spin, no-op and yielding) is unparked by the next producer's commit.
 * With rows staged and waiting for company it never hands control to the strategy: it waits on
 * its own until the oldest row's {@code maxQueueDelay} passes (parking for long waits where the
 * strategy parks, yielding where it yields, spinning where it spins), so the delay holds whatever
 * the strategy. A strategy that sleeps without being unparkable ({@code SleepingMillisIdleStrategy})
 * delays the first request that arrives while it sleeps by up to its period.
 *
 * <p><b>Counters.</b> Agrona counters ({@link BatcherMetrics}), in a memory-mapped file another
 * process reads when configured ({@link BatcherCountersDescriptor}, {@code hotpath stat}).
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

    /** Ends the agent's runner or invoker once the batcher has finished: expected, not reported, no stack trace. */
    private static final AgentTerminationException FINISHED =
            new AgentTerminationException("the batcher has finished", null, false, false, true);

    private final BatcherConfig config;
    private final BatchProcessor processor;
    private final BatcherCounters counters;
    private final BatcherMetrics metrics;
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
    private final BatcherAgent agent = new BatcherAgent();
    /** The thread the batcher started (own thread or from the factory); null with an invoker. */
    private final Thread thread;
    /** The application's invoker; null when the batcher runs on a thread. */
    private final AgentInvoker invoker;
    /** With an invoker only: one thread at a time does the batcher's work (invoke, or a close that finishes it). */
    private final ReentrantLock workLock;
    /** The thread that last ran the agent's duty cycle (the batcher thread; with an invoker, the last invoker). */
    private volatile Thread workerThread;
    /** Everything accepted was answered and the memory released: the processor is not touched again. */
    private volatile boolean terminated;
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
    /** Requests answered so far (for the in-flight gauge). */
    private long answered;
    /** Set once the batcher has seen the close: the rings' producer positions it must drain to. */
    private boolean closeSeen;
    private long finalTail0;
    private long finalTail1;
    private final MessageHandler handler = this::onRecord;
    // how the wait for company behaves, from the kind of idle strategy
    private final boolean spinOnly;
    private final boolean mayPark;

    /**
     * A batcher as {@code config} says: by default it starts its own thread now; with
     * {@link BatcherConfig.Builder#threadFactory} a thread from that factory; with
     * {@link BatcherConfig.Builder#agentInvoker()} none (drive {@link #invoker()}).
     */
    public DynamicBatcher(BatcherConfig config, BatchProcessor processor) {
        this.config = java.util.Objects.requireNonNull(config, "config");
        this.processor = java.util.Objects.requireNonNull(processor, "processor");
        int buckets = processor.bucketCount();
        if (buckets < 1) {
            throw new IllegalArgumentException("processor.bucketCount() must be >= 1, was " + buckets);
        }
        IdleStrategy idle = config.threading == BatcherConfig.Threading.INVOKER ? null : config.newIdleStrategy(MAX_PARK_NANOS);
        this.spinOnly = idle instanceof BusySpinIdleStrategy || idle instanceof NoOpIdleStrategy;
        this.mayPark = idle != null && !spinOnly && !(idle instanceof YieldingIdleStrategy);
        this.counters = config.publishCounters ? BatcherCounters.mapped(config.countersFile, config.threadName)
                : BatcherCounters.inMemory(config.threadName);
        this.metrics = new BatcherMetrics(counters);
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
        if (idle == null) {
            this.thread = null;
            this.workLock = new ReentrantLock();
            this.invoker = new AgentInvoker(this::reportErrorSafely, null, agent);
            this.invoker.start();
            return;
        }
        this.invoker = null;
        this.workLock = null;
        ThreadFactory factory = config.threading == BatcherConfig.Threading.THREAD_FACTORY ? config.threadFactory : r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        };
        AgentRunner runner = new AgentRunner(new DutyCycleIdle(idle), this::reportErrorSafely, null, agent);
        try {
            this.thread = AgentRunner.startOnThread(runner, factory);     // names it config.threadName (the agent's roleName)
        } catch (Throwable t) {
            // no batcher thread will ever free them
            memory.close();
            counters.close();
            throw t;
        }
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
            counters.rejected.increment();
        }
        return s;
    }

    private int submit(BatchRequest request, Completion callback) {
        int s = trySubmit(request, callback);
        if (s == BatchStatus.REJECTED) {
            counters.rejected.increment();
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
        counters.submitted.increment();     // before the commit: the batcher cannot answer it before it is counted
        ring.commit(index);
        if (batcherSleeping) {
            LockSupport.unpark(thread);
        }
        return BatchStatus.PENDING;
    }

    private int rejectAfterClose(BatchRequest r) {
        counters.shutdown.increment();
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
     * Refuses a blocking call on the batcher thread (from a callback), or with an invoker on the
     * thread that drives it: it would wait for the thread that has to answer it, for ever.
     */
    public void checkNotBatcherThread() {
        Thread t = Thread.currentThread();
        if (t == thread || t == workerThread || (workLock != null && workLock.isHeldByCurrentThread())) {     // the last: a close finishing the work
            throw new IllegalStateException(invoker == null
                    ? "a blocking infer/await on the batcher thread (inside a callback) would wait for itself for ever; use inferAsync from callbacks"
                    : "a blocking infer/await on the thread that drives the batcher's invoker would wait for itself for ever; "
                            + "use submit/inferAsync there and keep invoking");
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

    /** Whether an interrupt of the batcher's thread has been reported (once is enough); the batcher thread's own. */
    private boolean interruptReported;

    /**
     * On the batcher's own thread (a runner's), an interrupt is not a close: Agrona's runner
     * would stop on it, and libraries set the flag on the thread that calls them (a test
     * harness's output channel did, from inside an error log), which answered a live service's
     * callers SHUTDOWN. The flag is cleared; the first time is reported to the error handler.
     * {@link #close()} stops the batcher.
     */
    private void clearInterrupt() {
        if (Thread.interrupted() && !interruptReported) {
            interruptReported = true;
            reportErrorSafely(new IllegalStateException("batcher " + config.threadName + ": its thread was interrupted; an interrupt "
                    + "does not stop the batcher (close() does), the flag is cleared (reported once)"));
            Thread.interrupted();       // reporting may have set it again
        }
    }

    /** The batcher's work loop as an Agrona agent; with an invoker, one thread at a time runs it (the others get 0). */
    private final class BatcherAgent implements Agent {

        @Override
        public void onStart() {
            if (invoker == null) {
                workerThread = Thread.currentThread();
            }
        }

        @Override
        public int doWork() {
            if (workLock == null) {
                try {
                    return workOrFinish(duty(true));
                } finally {
                    clearInterrupt();
                }
            }
            if (!workLock.tryLock()) {
                return 0;       // another thread is invoking, or a close is finishing the batcher
            }
            try {
                if (workLock.getHoldCount() > 1) {
                    return 0;   // an invoke from a callback inside an invoke: the outer one is mid-batch and goes on after it
                }
                return workOrFinish(duty(true));
            } finally {
                workLock.unlock();
            }
        }

        private int workOrFinish(int work) {
            if (work < 0) {
                throw FINISHED;     // the runner or invoker stops and calls onClose, which has nothing left to do
            }
            return work;
        }

        /**
         * The runner or invoker is closing the agent. Normally the batcher has finished by then;
         * if not (the application closed its invoker, or interrupted the batcher thread) this is a
         * close of the batcher: what was accepted is answered as the close mode says.
         */
        @Override
        public void onClose() {
            if (terminated) {
                return;
            }
            if (invoker != null) {
                close();
            } else {
                beginClose(closeMode);
                duty(false);
            }
        }

        @Override
        public String roleName() {
            return config.threadName;
        }
    }

    /**
     * One duty cycle: drain, dispatch what is due. Once the close is seen it runs to the end (drain
     * to the snapshot, finish the staged rows, free the memory) and returns -1; also -1 when the
     * batcher has already finished. Catches every Throwable: an error handler that throws ends the
     * batcher with everything pending answered.
     */
    private int duty(boolean markWorker) {
        if (terminated) {
            return -1;
        }
        if (markWorker) {
            Thread t = Thread.currentThread();
            if (workerThread != t) {
                workerThread = t;
            }
        }
        try {
            int work = workOnce();
            if (!closeSeen && state.get() != RUNNING) {
                // Every record claimed before this read is in the snapshot; later claims see the
                // state and abort themselves (see trySubmit).
                finalTail0 = rings[0].producerPosition();
                finalTail1 = rings[1].producerPosition();
                failQueued = closeMode == BatcherConfig.CloseMode.FAIL_PENDING;
                closeSeen = true;
            }
            if (!closeSeen) {
                if (work > 0) {
                    updateGauges();
                }
                return work;
            }
            while (rings[0].consumerPosition() < finalTail0 || rings[1].consumerPosition() < finalTail1) {
                if (workOnce() == 0) {
                    Thread.onSpinWait();    // a producer between its claim and its commit: a few instructions
                }
            }
            finishPending();
            updateGauges();
            releaseMemory();
        } catch (Throwable t) {
            // the error handler itself threw: the batcher cannot go on
            try {
                logError(t);
                failEverything();
                updateGauges();
            } finally {
                releaseMemory();
            }
        }
        terminated = true;
        return -1;
    }

    /** Drains the rings once and dispatches what is due; a Throwable goes to the error handler (which may throw). */
    private int workOnce() {
        try {
            return drainOnce() + dispatchDue(System.nanoTime());
        } catch (Throwable t) {
            reportError(t);
            return 1;
        }
    }

    private void updateGauges() {
        counters.inFlight.setRelease(counters.submitted.get() - answered);
        counters.stagedRows.setRelease(stagedTotal);
    }

    /**
     * The batcher thread's idle strategy around the configured one: rows waiting for company never
     * wait on the configured strategy (see {@link #waitForCompany()}), and a strategy that may park
     * does so only after telling producers to unpark it.
     */
    private final class DutyCycleIdle implements IdleStrategy {
        private final IdleStrategy strategy;

        DutyCycleIdle(IdleStrategy strategy) {
            this.strategy = strategy;
        }

        @Override
        public void idle(int workCount) {
            try {
                if (workCount > 0) {
                    strategy.reset();
                } else if (stagedTotal > 0) {
                    waitForCompany();
                } else if (mayPark) {
                    batcherSleeping = true;
                    VarHandle.fullFence();
                    try {
                        if (rings[0].size() == 0 && rings[1].size() == 0 && state.get() == RUNNING) {
                            idleSafely();
                        }
                    } finally {
                        batcherSleeping = false;
                    }
                } else {
                    idleSafely();
                }
            } finally {
                clearInterrupt();     // the runner would stop on it after idle (see clearInterrupt)
            }
        }

        /** The application's strategy may throw: report it, never end the runner (which would strand requests). */
        private void idleSafely() {
            try {
                strategy.idle(0);
            } catch (Throwable t) {
                reportErrorSafely(t);
            }
        }

        @Override
        public void idle() {
            idleSafely();
        }

        @Override
        public void reset() {
            strategy.reset();
        }

        @Override
        public String alias() {
            return strategy.alias();
        }
    }

    /**
     * Rows are staged and waiting for company: never sleep past the oldest row's deadline of
     * {@code maxQueueDelay}. A long wait parks (a producer's commit unparks it) where the strategy
     * may park; otherwise yield, or spin for a busy-spinning strategy.
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
        if (remaining > 1_000_000 && mayPark) {
            batcherSleeping = true;
            VarHandle.fullFence();
            if (rings[0].size() == 0 && rings[1].size() == 0 && state.get() == RUNNING) {
                LockSupport.parkNanos(this, remaining - 200_000);
            }
            batcherSleeping = false;
        } else if (remaining > 5_000 && !spinOnly) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    private int drainOnce() {
        return drain(rings[1]) + drain(rings[0]);
    }

    /**
     * Reads up to a batch of records. A read stops at the buffer's end, so when the next record is the padding that
     * fills the end before a wrap, that read consumes only the padding and returns 0 with a record waiting after the
     * wrap: read again. (A batcher thread would find it on its next pass; an invoker whose application idles when an
     * invoke returns 0 would leave it queued.)
     */
    private int drain(RingBuffer ring) {
        int n = ring.read(handler, config.maxBatchSize);
        if (n == 0 && ring.size() > 0) {
            n = ring.read(handler, config.maxBatchSize);
        }
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
            counters.failed.incrementRelease();
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
                    counters.failed.incrementRelease();
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
        counters.batches.incrementRelease();
        counters.batchRows.getAndAddRelease(rows);
        try {
            processor.run(b, rows);
        } catch (Throwable t) {
            if (t instanceof Error) {
                reportError(t);     // an engine's Exception is the batch's answer; an Error is also news for the handler
            }
            long end = System.nanoTime();
            counters.failedBatches.incrementRelease();
            counters.failed.getAndAddRelease(rows);
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
                counters.failed.incrementRelease();
                complete(req, BatchStatus.FAILED, e, end);
                continue;
            }
            ok++;
            complete(req, BatchStatus.OK, null, end);
        }
        counters.completed.getAndAddRelease(ok);
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
                counters.timedOut.incrementRelease();
            } else if (status == BatchStatus.SHUTDOWN) {
                counters.shutdown.increment();      // producers count refusals after close on this counter too
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
            answered++;
            r.complete(status);
            Thread waiter = r.waiter;
            if (waiter != null) {
                LockSupport.unpark(waiter);
            }
        }
    }

    /** Counts {@code t} and hands it to the error handler; a handler that throws ends the batcher thread. */
    private void reportError(Throwable t) {
        counters.errors.increment();
        errorHandler.onError(t);
    }

    /** For the runner and the invoker: reports {@code t}; a handler that throws is logged, never propagated into them. */
    private void reportErrorSafely(Throwable t) {
        if (t == FINISHED) {
            return;     // the end of the batcher, not an error (some Agrona versions report even an expected termination)
        }
        try {
            reportError(t);
        } catch (Throwable h) {
            logError(h);
        }
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

    /**
     * Frees the rings' memory once no producer is inside submit (bounded wait; on time-out the
     * memory stays), and closes the counters (their file is deleted).
     */
    private void releaseMemory() {
        state.set(CLOSED);
        long end = System.nanoTime() + config.closeTimeoutNanos;
        boolean free = true;
        while (producers.get() != 0) {
            if (System.nanoTime() - end > 0) {
                free = false;     // a producer is stuck inside submit: leave the memory to it
                break;
            }
            Thread.onSpinWait();
        }
        if (free) {
            memory.close();
        }
        counters.close();
    }

    /** Closes with the configured {@link BatcherConfig.CloseMode} (DRAIN by default). */
    @Override
    public void close() {
        close(config.closeMode);
    }

    /**
     * Stops accepting requests, then drains or fails what was accepted (as {@code mode} says), and
     * waits for the batcher to finish (unless called from the batcher thread, for example in a
     * callback; the batcher then finishes when the callback returns). Idempotent.
     *
     * <p>With an invoker ({@link BatcherConfig.Builder#agentInvoker()}) there is no batcher thread
     * to wait for: close finishes the work itself, on the calling thread, one thread at a time
     * with the application's {@code invoke()} (an invoke that runs meanwhile does nothing, and
     * after the end the invoker closes itself). If an invoke is inside a run for longer than
     * {@code closeTimeout} (a stuck engine), close returns and that invoke finishes the work when
     * the run returns. Called from a callback inside an invoke, it only starts the close; that
     * invoke finishes it. Either way every accepted request is answered exactly once and the
     * memory is freed once.
     */
    public void close(BatcherConfig.CloseMode mode) {
        beginClose(mode);
        if (invoker != null) {
            finishInvoked();
            return;
        }
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            boolean interrupted = false;
            long end = System.nanoTime() + config.closeTimeoutNanos;
            while (thread.isAlive() && !terminated) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    warnStillRunning();
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

    private void beginClose(BatcherConfig.CloseMode mode) {
        synchronized (state) {
            if (state.get() == RUNNING) {
                closeMode = mode;           // written before the state the batcher thread reads first
                state.set(CLOSING);
            }
        }
    }

    /** Invoker mode: finish the batcher's work on this thread, unless an invoke holds the work (a callback, or a stuck run). */
    private void finishInvoked() {
        if (terminated || workLock.isHeldByCurrentThread()) {
            return;     // done, or called inside an invoke (a callback): that invoke finishes it
        }
        boolean interrupted = false;
        long end = System.nanoTime() + config.closeTimeoutNanos;
        boolean locked = false;
        while (!locked) {
            try {
                locked = workLock.tryLock(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (!locked) {
                    warnStillRunning();
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (locked) {
            try {
                duty(false);
            } finally {
                workLock.unlock();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void warnStillRunning() {
        System.getLogger(DynamicBatcher.class.getName()).log(System.Logger.Level.WARNING, "batcher " + config.threadName
                + ": still running after closeTimeout (a stuck engine run?); close returns, the batcher finishes on its own");
    }

    /**
     * True once the batcher has finished: everything accepted answered, the memory freed, the
     * processor no longer used.
     */
    public boolean isTerminated() {
        return terminated;
    }

    /**
     * The invoker the application drives the batcher with, from its own duty cycle, when the config
     * says {@link BatcherConfig.Builder#agentInvoker()}: already started; each {@code invoke()} does
     * one duty cycle and returns the work done (0: nothing to do; idle as you like). The thread that
     * invokes must not block in {@link #infer}/{@link #await} (refused). Its agent
     * ({@code invoker().agent()}) may also be composed into the application's own Agrona agents;
     * one thread at a time runs it. Closing the invoker closes the batcher.
     *
     * @throws IllegalStateException when the batcher runs on a thread of its own
     */
    public AgentInvoker invoker() {
        if (invoker == null) {
            throw new IllegalStateException("batcher " + config.threadName + " runs on its own thread (" + config.threading
                    + "); an invoker exists only with BatcherConfig.Builder.agentInvoker()");
        }
        return invoker;
    }
}
