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

    /**
     * @param slots the most rows in flight at once for this model (every wire request takes one per row)
     * @param maxRowsPerCall the largest batch one wire request may carry (Triton's max_batch_size)
     * @param config the model's config as the config endpoint returns it (protobuf JSON field names)
     * @param requestTimeoutNanos a default deadline for every request, 0 for none
     */
    public ServedModel(String name, String version, InferenceService service, int slots, int maxRowsPerCall, Map<String, Object> config,
            long requestTimeoutNanos) {
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
