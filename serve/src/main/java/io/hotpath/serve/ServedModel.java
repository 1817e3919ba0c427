package io.hotpath.serve;

import io.hotpath.core.TensorSpec;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

/**
 * One model version that the server answers for: its {@link InferenceService}, a bounded pool of
 * request slots (the server's back-pressure: when every slot is in flight a new call is refused at
 * once, 429 / RESOURCE_EXHAUSTED), a pool of {@link InferCall}s, its statistics and its config as
 * the protocol's metadata and config endpoints return it.
 */
public final class ServedModel implements AutoCloseable {
    private final String name;
    private final String version;
    private final String platform;
    private final InferenceService service;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final List<String> inputNames;
    private final List<String> outputNames;
    private final boolean batched;
    private final int maxRowsPerCall;
    private final int slots;
    private final AtomicInteger made = new AtomicInteger();
    private final ManyToManyConcurrentArrayQueue<Request> free;
    private final ManyToManyConcurrentArrayQueue<InferCall> calls;
    private final ModelStats stats;
    private volatile Map<String, Object> config;
    private final System.Logger log = System.getLogger(ServedModel.class.getName());
    private final long requestTimeoutNanos;
    /** The batcher's invoker when the event loop runs the batcher's work; null when the batcher has its own thread. */
    private final org.agrona.concurrent.AgentInvoker loopInvoker;
    /** Whether a drain task is queued on the event loop: one per pass over the sockets, however many calls it read. */
    private final java.util.concurrent.atomic.AtomicBoolean drainQueued = new java.util.concurrent.atomic.AtomicBoolean();
    /** The event loop that runs this model's batches: the first that submitted a call. */
    private volatile io.netty.util.concurrent.EventExecutor home;
    private final Runnable drainTask = () -> {
        // a volatile write before draining: a submit that then finds the flag set knows this drain reads its rows after
        drainQueued.set(false);
        if (!drain(BATCHES_PER_TASK)) {
            queueDrain(home);       // more than a task's share queued: the loop reads its sockets and runs its tasks in between
        }
    };
    /** Batches one drain task runs at most before it queues the next, so one loop never runs batches only. */
    private static final int BATCHES_PER_TASK = 4;
    /** Serializes drains: one that found the batcher busy in another drain could return and leave rows behind. */
    private final Object drainLock = new Object();

    /**
     * @param slots the most rows in flight at once for this model (every wire request takes one per row)
     * @param maxRowsPerCall the largest batch one wire request may carry (Triton's max_batch_size)
     * @param config the model's config as the config endpoint returns it (protobuf JSON field names)
     * @param requestTimeoutNanos a default deadline for every request, 0 for none
     */
    public ServedModel(String name, String version, InferenceService service, int slots, int maxRowsPerCall, Map<String, Object> config,
            long requestTimeoutNanos) {
        this(name, version, service, slots, maxRowsPerCall, config, requestTimeoutNanos, false);
    }

    /**
     * As the other constructor; with {@code batcherOnEventLoop} the service's batcher has no thread (it was built with
     * {@code batching(b -> b.agentInvoker())}) and the model's home event loop runs its batches, in a task after its
     * pass over the sockets ({@link #afterSubmit}). Meant for a server with one event loop: with more, the calls read
     * on the others are handed to the home loop and back, as they would be to a batcher thread.
     */
    public ServedModel(String name, String version, InferenceService service, int slots, int maxRowsPerCall, Map<String, Object> config,
            long requestTimeoutNanos, boolean batcherOnEventLoop) {
        if (slots < 1 || maxRowsPerCall < 1) {
            throw io.hotpath.core.HotpathException.invalidArgument("model '" + name + "': slots " + slots + " and max rows per request "
                    + maxRowsPerCall + " must be at least 1");
        }
        this.name = name;
        this.version = version;
        this.platform = "onnxruntime_onnx";
        this.service = service;
        this.inputs = service.engine().inputs();
        this.outputs = service.engine().outputs();
        this.inputNames = inputs.stream().map(TensorSpec::name).toList();
        this.outputNames = outputs.stream().map(TensorSpec::name).toList();
        this.batched = inputs.stream().allMatch(t -> t.shape().rank() > 0 && t.shape().isDynamic(0));
        this.maxRowsPerCall = batched ? maxRowsPerCall : 1;
        this.slots = slots;
        this.free = new ManyToManyConcurrentArrayQueue<>(Math.max(2, slots));
        this.calls = new ManyToManyConcurrentArrayQueue<>(Math.max(2, slots));
        this.stats = new ModelStats(service.metrics(), service.cache() != null);
        this.config = config;
        this.requestTimeoutNanos = requestTimeoutNanos;
        this.loopInvoker = batcherOnEventLoop ? service.invoker() : null;
    }

    /**
     * Whether the event loop runs this model's batcher. The answers of the calls read on the model's home loop are then
     * written inside the batch, from its callbacks, as a loop writes the answers of a model without batching (those
     * read on another loop go back to it as a task); writing one may start the connection's next pipelined request,
     * whose rows go to the next drain. (It cannot take a slot the batch has not yet published: the batcher publishes
     * each row once its callback returns, and a call frees its slots only after its answer is written.)
     */
    public boolean batchesOnEventLoop() {
        return loopInvoker != null;
    }

    /**
     * Called after a call's rows were offered to the service. With the batcher on the event loop, makes sure one drain
     * task is queued on the model's home loop (the first loop that submitted to it): on the caller's own loop it runs
     * after the current pass over the sockets, so the calls read in that pass go to the engine together; calls read on
     * another loop hand it over (Netty wakes the home loop). Each task runs a few batches at most and queues the next if
     * rows remain. Off any loop before a home exists ({@code loop} null), or when the home loop refuses the task (shut
     * down), drains here. Does nothing when the batcher has its own thread.
     */
    void afterSubmit(io.netty.util.concurrent.EventExecutor loop) {
        if (loopInvoker == null) {
            return;
        }
        io.netty.util.concurrent.EventExecutor h = home;
        if (h == null) {
            if (loop == null) {
                drain(Integer.MAX_VALUE);
                return;
            }
            synchronized (drainLock) {
                if (home == null) {
                    home = loop;
                }
                h = home;
            }
        }
        queueDrain(h);
    }

    private void queueDrain(io.netty.util.concurrent.EventExecutor h) {
        // getAndSet, a full fence: the rows offered before it are visible to a drain that cleared the flag and found it set
        if (!drainQueued.getAndSet(true)) {
            try {
                h.execute(drainTask);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                drainQueued.set(false);
                drain(Integer.MAX_VALUE);
            }
        }
    }

    /**
     * Runs the batcher for at most {@code maxBatches} batches, one drain at a time (a second waits for the first, then
     * looks for its own rows). Returns true when the batcher had nothing left. An invoke from a callback inside a drain
     * on this thread does nothing (the batcher refuses to re-enter itself; the outer drain goes on). The invoker reports
     * a batch's failure to the service's error handler itself; anything else that escapes is logged.
     */
    private boolean drain(int maxBatches) {
        synchronized (drainLock) {
            try {
                for (int b = 0; b < maxBatches; b++) {
                    if (loopInvoker.invoke() == 0) {
                        return true;
                    }
                }
                return false;
            } catch (Throwable t) {
                reportError("running model '" + name + "' on the event loop", t);
                return true;
            }
        }
    }

    public String name() {
        return name;
    }

    public String version() {
        return version;
    }

    public String platform() {
        return platform;
    }

    /**
     * The model's service. When its batcher runs on the event loop ({@link #batchesOnEventLoop()}) only the server's
     * loops drive it: a blocking {@code infer} from another thread would wait for a batch nobody runs; use a model
     * opened without {@code batcherOnEventLoop} for that.
     */
    public InferenceService service() {
        return service;
    }

    public List<TensorSpec> inputs() {
        return inputs;
    }

    public List<TensorSpec> outputs() {
        return outputs;
    }

    List<String> inputNames() {
        return inputNames;
    }

    List<String> outputNames() {
        return outputNames;
    }

    /** Whether every input's dimension 0 is the batch: a wire request carries 1 to {@link #maxRowsPerCall()} rows. */
    public boolean batched() {
        return batched;
    }

    public int maxRowsPerCall() {
        return maxRowsPerCall;
    }

    /** The longest variable length (dimension 1, such as tokens) a row may have; 1 when the model has none. */
    public int maxLength() {
        return service.maxLength();
    }

    /** Rows in flight at most. */
    public int slots() {
        return slots;
    }

    public ModelStats stats() {
        return stats;
    }

    public Map<String, Object> config() {
        return config;
    }

    /** Sets the config the config endpoint returns; returns this. */
    public ServedModel withConfig(Map<String, Object> c) {
        this.config = c;
        return this;
    }

    /** The default deadline applied to requests that carry none, in nanoseconds (0: none). */
    public long requestTimeoutNanos() {
        return requestTimeoutNanos;
    }

    /** A call from the pool (allocates only while the pool grows to its steady size). */
    public InferCall newCall() {
        InferCall c = calls.poll();
        if (c == null) {
            c = new InferCall(this);
        }
        c.begin();
        return c;
    }

    void recycle(InferCall c) {
        calls.offer(c);         // a full pool drops it to the garbage collector
    }

    /** A free request slot, or null when all {@link #slots()} are in flight. */
    Request claim() {
        Request r = free.poll();
        if (r != null) {
            awaitPublished(r);
            return r;
        }
        if (made.incrementAndGet() > slots) {
            made.decrementAndGet();
            return free.poll();
        }
        try {
            return service.newRequest();
        } catch (RuntimeException e) {
            made.decrementAndGet();
            reportError("making a request slot for model '" + name + "'", e);
            return null;
        }
    }

    /**
     * The batcher runs a request's callback before it publishes the request's final status, so the
     * slot of a call answered a moment ago may still read PENDING for the few instructions left in
     * that callback: wait them out (spinning, then yielding, should the batcher thread be descheduled).
     */
    private static void awaitPublished(Request r) {
        for (int i = 0; r.status() == io.hotpath.batcher.BatchStatus.PENDING; i++) {
            if (i < 1000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    void unclaim(Request r) {
        r.attach(null);
        if (!free.offer(r)) {
            reportError("returning a request slot of model '" + name + "'", new IllegalStateException("slot pool overflow"));
        }
    }

    void reportError(String what, Throwable t) {
        log.log(System.Logger.Level.ERROR, what + ": " + t, t);
    }

    @Override
    public void close() {
        service.close();
    }
}
