package io.hotpath.batcher;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reusable request handle: its own off-heap input memory (written by the caller, copied into
 * the ring on submit), its own off-heap output memory (written by the batcher thread), and its
 * status. Made once by {@link DynamicBatcher#newRequest()} and reused for every inference, so the
 * hot path makes no per-request object. One inference at a time per handle.
 */
public final class BatchRequest {
    /** Regular priority (the default). */
    public static final int PRIORITY_NORMAL = 0;
    /** Served before any normal-priority request that is still queued. */
    public static final int PRIORITY_HIGH = 1;

    private static final VarHandle STATUS;

    static {
        try {
            STATUS = MethodHandles.lookup().findVarHandle(BatchRequest.class, "status", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int id;
    final DynamicBatcher owner;
    private final MemorySegment input;
    private final MemorySegment output;
    int inputLength;
    int lengthKey;
    int priority = PRIORITY_NORMAL;
    long deadlineNanos;
    long enqueueNanos;
    long completeNanos;
    Completion callback;
    volatile Thread waiter;
    Throwable error;
    private volatile int status;

    BatchRequest(int id, DynamicBatcher owner, MemorySegment input, MemorySegment output) {
        this.id = id;
        this.owner = owner;
        this.input = input;
        this.output = output;
    }

    /** This handle's number (unique within its batcher). */
    public int id() {
        return id;
    }

    /** The input memory: write the payload here, then {@link #inputLength(int)}. */
    public MemorySegment input() {
        return input;
    }

    /** The output memory, valid after the request completed with {@link BatchStatus#OK}. */
    public MemorySegment output() {
        return output;
    }

    /** How many bytes of {@link #input()} form the payload of the next submission. */
    public BatchRequest inputLength(int bytes) {
        if (bytes < 0 || bytes > input.byteSize()) {
            throw new IllegalArgumentException("input length " + bytes + " outside [0, " + input.byteSize() + "] (maxPayloadBytes)");
        }
        this.inputLength = bytes;
        return this;
    }

    public int inputLength() {
        return inputLength;
    }

    /** A key the processor buckets by (for example the sequence length); 0 when unused. */
    public BatchRequest lengthKey(int key) {
        this.lengthKey = key;
        return this;
    }

    public int lengthKey() {
        return lengthKey;
    }

    /** {@link #PRIORITY_NORMAL} or {@link #PRIORITY_HIGH}. */
    public BatchRequest priority(int p) {
        if (p != PRIORITY_NORMAL && p != PRIORITY_HIGH) {
            throw new IllegalArgumentException("priority must be PRIORITY_NORMAL (0) or PRIORITY_HIGH (1), was " + p);
        }
        this.priority = p;
        return this;
    }

    /** Absolute deadline in {@link System#nanoTime()} terms; 0 = none. Past it, the request answers TIMEOUT without running. */
    public BatchRequest deadlineNanos(long nanoTime) {
        this.deadlineNanos = nanoTime;
        return this;
    }

    /** The current status ({@link BatchStatus}). */
    public int status() {
        return status;
    }

    /** Why the request FAILED (the engine's exception), else null. */
    public Throwable error() {
        return error;
    }

    /** When it was enqueued and completed ({@code System.nanoTime()}), for the caller's own metrics. */
    public long enqueueNanos() {
        return enqueueNanos;
    }

    public long completeNanos() {
        return completeNanos;
    }

    boolean isPending() {
        return (int) STATUS.getAcquire(this) == BatchStatus.PENDING;
    }

    void pending() {
        STATUS.setRelease(this, BatchStatus.PENDING);
    }

    void complete(int s) {
        status = s;     // volatile: pairs with the waiter's volatile write of 'waiter'
    }
}
