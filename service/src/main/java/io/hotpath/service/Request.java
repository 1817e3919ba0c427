package io.hotpath.service;

import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.batcher.BatchRequest;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.Completion;
import java.util.List;

/**
 * One caller's reusable request to an {@link InferenceService}: one row of every model input,
 * written in place in off-heap memory, and one row of every output, filled in when the request
 * completes {@link BatchStatus#OK}. Made once with {@link InferenceService#newRequest()} and reused;
 * one inference at a time per request.
 *
 * <p>For a model with a variable length (such as {@code sequence_length}), set it with
 * {@link #length(int)} before writing the inputs; each output's length follows the request's own,
 * not the batch's padded one.
 */
public final class Request {
    private Object attachment;
    final BatchRequest handle;
    private final Tensor[] inputs;
    private final Tensor[] outputs;
    private final RowLayout outLayout;
    private final int maxLength;
    private final boolean hasLength;
    private int length = 1;
    RequestCallback callback;
    final Completion adapter;
    /** The cache key: model inputs' current bytes, contiguous (made once; null without a cache). */
    final java.lang.foreign.MemorySegment key;
    int keyLength;
    /** Status of the last inference when the cache answered it (the batcher never saw it), else 0. */
    int cachedStatus;
    /** The service, set when it has a cache, so async answers are offered to it. */
    InferenceService service;
    /** Direct mode: this request's own engine batch, and the status and error of its last run (0 and null otherwise). */
    io.hotpath.core.Batch directBatch;
    int directStatus;
    Throwable directError;
    /** The shared tier's key of the current inputs (made by its lookup, reused by its write), or null. */
    byte[] sharedKey;
    /** Whether the last inference was answered by the shared tier (L2). */
    boolean sharedHit;
    /** An async inference's way through the shared tier: see {@link #SHARED_NONE} and the others. */
    volatile int sharedState;
    /** The status when the shared tier's continuation answered without the batcher (a hit, or the batcher refusing). */
    int sharedStatus;
    /** A caller waiting in {@link InferenceService#await} while the shared tier decides. */
    volatile Thread sharedWaiter;
    /** The engine's name, for the callback event. */
    String engineName;
    /** When the last inference passed each stage, while a recording takes Hotpath's events. */
    final StageTimes stages = new StageTimes();
    /** Not through the shared tier, or handed on to the batcher (its status is the handle's). */
    static final int SHARED_NONE = 0;
    /** A lookup is in flight: the status is PENDING. */
    static final int SHARED_LOOKUP = 1;
    /** Answered by the continuation: the status is {@code sharedStatus}. */
    static final int SHARED_ANSWERED = 2;

    Request(BatchRequest handle, List<TensorSpec> inSpecs, RowLayout inLayout, List<TensorSpec> outSpecs, RowLayout outLayout,
            int maxLength, boolean hasLength, java.lang.foreign.MemorySegment key) {
        this.handle = handle;
        this.key = key;
        this.outLayout = outLayout;
        this.maxLength = maxLength;
        this.hasLength = hasLength;
        this.inputs = new Tensor[inSpecs.size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = new Tensor(inSpecs.get(i), handle.input().asSlice(inLayout.offset[i], inLayout.capacityBytes[i]));
        }
        this.outputs = new Tensor[outSpecs.size()];
        for (int o = 0; o < outputs.length; o++) {
            outputs[o] = new Tensor(outSpecs.get(o), handle.output().asSlice(outLayout.offset[o], Math.max(1, outLayout.capacityBytes[o])));
        }
        this.adapter = (h, status) -> {
            if (status == BatchStatus.OK && service != null) {
                service.remember(this);
            }
            RequestCallback cb = callback;
            if (cb != null) {
                InferenceService.callBack(cb, this, status, engineName);
            }
        };
        length(1);
    }

    /**
     * Input {@code name}: one row, shape {@code [1, ...]}, or the whole tensor when its dimension 0
     * is fixed (a model without a batch dimension); unknown names are an INVALID_ARGUMENT listing the known ones.
     */
    public Tensor input(String name) {
        for (Tensor t : inputs) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw HotpathException.invalidArgument("unknown input '" + name + "'; the model's inputs are " + names(inputs));
    }

    public Tensor input(int index) {
        return inputs[index];
    }

    /** Output {@code name}, valid after the request completed OK. */
    public Tensor output(String name) {
        for (Tensor t : outputs) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw HotpathException.invalidArgument("unknown output '" + name + "'; the model's outputs are " + names(outputs));
    }

    public Tensor output(int index) {
        return outputs[index];
    }

    private static List<String> names(Tensor[] ts) {
        return java.util.Arrays.stream(ts).map(Tensor::name).toList();
    }

    /**
     * Sets the variable length (for example the number of tokens) of this request's inputs.
     * Between 1 and the service's maximum; for models without one, only 1 is allowed.
     */
    public Request length(int n) {
        if (n < 1 || n > maxLength) {
            throw HotpathException.invalidArgument("length " + n + " outside [1, " + maxLength + "]"
                    + (hasLength ? " (the engine's capacity for the variable dimension)" : " (the model has no variable length)"));
        }
        this.length = n;
        for (Tensor t : inputs) {
            Shape s = t.spec().shape();
            long d0 = s.rank() == 0 || s.isDynamic(0) ? 1 : s.dim(0);     // a fixed dimension 0 is carried whole
            switch (t.rank()) {
                case 0 -> {
                    // a scalar input: one value per request, no batch dimension
                }
                case 1 -> t.reshape(d0);
                case 2 -> t.reshape(d0, s.isDynamic(1) ? n : s.dim(1));
                default -> {
                    long[] d = s.toArray();
                    d[0] = d0;
                    if (d[1] < 0) {
                        d[1] = n;
                    }
                    t.reshape(d);
                }
            }
        }
        return this;
    }

    public int length() {
        return length;
    }

    /** {@link BatchRequest#PRIORITY_NORMAL} or {@link BatchRequest#PRIORITY_HIGH}. */
    public Request priority(int priority) {
        handle.priority(priority);
        return this;
    }

    /** Absolute deadline in {@link System#nanoTime()} terms, 0 for none; past it the request answers TIMEOUT without running. */
    public Request deadlineNanos(long nanoTime) {
        handle.deadlineNanos(nanoTime);
        return this;
    }

    /** The status of the last inference ({@link BatchStatus}). */
    public int status() {
        if (cachedStatus != 0) {
            return cachedStatus;
        }
        if (directStatus != 0) {
            return directStatus;
        }
        int shared = sharedState;
        if (shared == SHARED_LOOKUP) {
            return BatchStatus.PENDING;
        }
        return shared == SHARED_ANSWERED ? sharedStatus : handle.status();
    }

    /** Whether the last inference was answered from the prediction cache (either tier). */
    public boolean fromCache() {
        return cachedStatus != 0 || (sharedState == SHARED_ANSWERED && sharedHit);
    }

    /** Whether the last inference was answered by the shared tier (L2, another process's earlier answer). */
    public boolean fromSharedCache() {
        return sharedHit && (cachedStatus != 0 || sharedState == SHARED_ANSWERED);
    }

    /** Why the last inference FAILED, or null. */
    public Throwable error() {
        return directBatch != null ? directError : handle.error();
    }

    /** Enqueue and completion times of the last inference ({@code System.nanoTime()}). */
    public long enqueueNanos() {
        return handle.enqueueNanos();
    }

    public long completeNanos() {
        return handle.completeNanos();
    }

    /**
     * When the last inference passed each stage (lookup, queue, assembly, engine, scatter), stamped
     * only while a JFR recording takes Hotpath's events; read it after the inference is answered.
     */
    public StageTimes stages() {
        return stages;
    }

    /** Attaches the caller's own context (for example to find it again in an {@link InferenceService#inferAsync} callback). */
    public Request attach(Object context) {
        this.attachment = context;
        return this;
    }

    /** What {@link #attach} last attached, or null. */
    public Object attachment() {
        return attachment;
    }

    /** Output {@code o} now holds a row of length {@code own} (batcher thread, or the caller on a cache hit). */
    void outputShaped(int o, int own) {
        Tensor t = outputs[o];
        if (outLayout.variable[o]) {
            switch (t.rank()) {
                case 2 -> t.reshape(1, own);
                case 3 -> t.reshape(1, own, t.dim(2));
                default -> {
                    long[] d = t.shape();
                    d[1] = own;
                    t.reshape(d);
                }
            }
        }
    }
}
