package io.hotpath.engine.tensorrt;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.cuda.PinnedMemory;
import io.hotpath.nativebindings.trt.TensorRt;
import io.hotpath.nativebindings.trt.TrtPlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * TensorRT behind core's {@link Engine} SPI.
 *
 * <p>{@link #open} gets the plan from {@link PlanLoader} (built, or loaded from the plan cache)
 * with each output's largest shape ({@link PlanTensors}). Each {@link Batch} from {@link #newBatch()} owns pinned host
 * buffers (its tensors: callers write inputs straight into them), device buffers, a CUDA stream
 * and, per optimization profile, an execution context with its own scratch memory, all made
 * once. {@link #run} selects the profile for the batch's shapes, copies the used bytes of each
 * input to the device, enqueues the network (or replays a captured CUDA graph), copies the outputs
 * back and synchronizes once. Shapes are set on a context only when they change; in steady state a
 * run allocates nothing on the Java heap. A batch must not be run by two threads at once; distinct
 * batches run concurrently on their own streams. The per-batch GPU side is
 * {@link BatchState}; this class owns the plan and the list of batch states, and frees them on
 * {@link #close()}.
 */
public final class TensorRtEngine implements Engine {
    private final Path modelPath;
    private final TensorRtOptions options;
    private final TrtPlan plan;
    private final PlanCacheKey key;
    private final Path planFile;
    private final boolean builtNow;
    private final long buildNanos;
    private final boolean explicitQuantization;
    private final List<ShapeProfiles.Profile> profiles;
    private final PlanTensors tensors;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final int maxBatch;
    private final Cuda.Device device;
    private final String layersJson;
    private final List<BatchState> states = new ArrayList<>();
    /** Runs and batch creation enter it; close waits (bounded) for them before freeing device and pinned memory. */
    private final io.hotpath.core.CloseGuard guard = new io.hotpath.core.CloseGuard();
    private static final long CLOSE_TIMEOUT_NANOS = 30_000_000_000L;

    private TensorRtEngine(Path modelPath, TensorRtOptions options, PlanLoader.Loaded loaded) {
        this.modelPath = modelPath;
        this.options = options;
        this.plan = loaded.plan();
        this.key = loaded.key();
        this.planFile = loaded.planFile();
        this.builtNow = loaded.builtNow();
        this.buildNanos = loaded.buildNanos();
        this.explicitQuantization = loaded.explicitQuantization();
        this.profiles = loaded.profiles();
        this.device = loaded.device();
        this.tensors = loaded.tensors();
        this.inputs = tensors.inputs();
        this.outputs = tensors.outputs();
        this.maxBatch = tensors.maxBatch();
        this.layersJson = loaded.layersJson();
    }

    /**
     * Element types a TensorRT engine takes as inputs and outputs. TensorRT has no float64, int16,
     * uint16, uint32 or uint64; its ONNX parser would cast a float64 input to float32 on its own.
     */
    static final java.util.Set<DType> IO_TYPES = java.util.Collections.unmodifiableSet(java.util.EnumSet.of(
            DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16, DType.INT8, DType.UINT8, DType.INT32, DType.INT64, DType.BOOL));

    /**
     * Why TensorRT cannot take {@code model}'s inputs and outputs as the model declares them, naming
     * the first such tensor and its type (a type no Hotpath engine supports gets core's
     * {@link DType#unsupportedMessage}), or null when it can, or when the file cannot be read here
     * (TensorRT's parser then says what is wrong).
     */
    public static String ioTypeRefusal(Path model) {
        List<OnnxIoTypes.Io> io;
        try {
            io = OnnxIoTypes.read(model);
        } catch (java.io.IOException e) {
            return null;
        }
        for (OnnxIoTypes.Io t : io) {
            String kind = t.input() ? "input" : "output";
            DType d = DType.fromOnnxCode(t.elemType());
            if (t.elemType() != 0 && d == null) {
                return DType.unsupportedMessage(kind, t.name(), t.elemType());
            }
            if (d != null && !IO_TYPES.contains(d)) {
                return kind + " '" + t.name() + "' has element type " + d + ", which TensorRT does not take as an engine input or output (it takes "
                        + IO_TYPES.stream().map(DType::toString).collect(java.util.stream.Collectors.joining(", "))
                        + "); ONNX Runtime on the CPU runs it";
            }
        }
        return null;
    }

    /**
     * Opens {@code model} with the given options; builds and caches the plan when the cache has none
     * for this key. UNSUPPORTED when an input or output has a type TensorRT lacks ({@link #ioTypeRefusal}).
     */
    public static TensorRtEngine open(Path model, TensorRtOptions options) {
        TensorRt.requireAvailable();
        String refusal = ioTypeRefusal(model);
        if (refusal != null) {
            throw new HotpathException(Category.UNSUPPORTED, refusal);
        }
        return new TensorRtEngine(model, options, PlanLoader.load(model, options));
    }

    @Override
    public String name() {
        return "tensorrt";
    }

    @Override
    public String describe() {
        return "tensorrt " + TensorRt.status().version() + " " + options.precision().label()
                + (explicitQuantization ? " (explicit Q/DQ)" : "") + " on " + device.name() + " " + device.computeCapability()
                + " cuda " + Cuda.status().runtime() + " plan " + key.id().substring(0, 12)
                + (builtNow ? " built in " + String.format(java.util.Locale.ROOT, "%.1f s", buildNanos / 1e9) : " from cache")
                + " profiles=" + profiles.size() + " " + options;
    }

    public TensorRtOptions options() {
        return options;
    }

    /** The plan-cache key this engine was built or loaded under. */
    public PlanCacheKey planKey() {
        return key;
    }

    /** Where the plan lives; the layer report is beside it ({@code .layers.json}). */
    public Path planFile() {
        return planFile;
    }

    /** True when this open built the plan, false when it came from the cache. */
    public boolean builtNow() {
        return builtNow;
    }

    public long buildNanos() {
        return buildNanos;
    }

    public boolean explicitQuantization() {
        return explicitQuantization;
    }

    /** The engine inspector's JSON report: layers, fusions, precisions, tactics. */
    public String layerReportJson() {
        return layersJson;
    }

    public List<ShapeProfiles.Profile> profiles() {
        return profiles;
    }

    public Cuda.Device device() {
        return device;
    }

    @Override
    public long modelIdentity() {
        long id = new java.math.BigInteger(key.id().substring(0, 15), 16).longValue();
        return id == 0 ? 1 : id;
    }

    @Override
    public List<TensorSpec> inputs() {
        return inputs;
    }

    @Override
    public List<TensorSpec> outputs() {
        return outputs;
    }

    @Override
    public int maxBatchSize() {
        return maxBatch;
    }

    /** A batch over pinned host memory, with its own stream, device buffers and contexts. */
    @Override
    public Batch newBatch() {
        enter();
        try {
            return allocateBatch();
        } finally {
            guard.exit();
        }
    }

    private Batch allocateBatch() {
        PinnedMemory[] pinned = new PinnedMemory[inputs.size() + outputs.size()];
        List<Tensor> in = new ArrayList<>();
        List<Tensor> out = new ArrayList<>();
        try {
            for (int i = 0; i < inputs.size(); i++) {
                pinned[i] = new PinnedMemory(tensors.inputBytes(i));
                in.add(new Tensor(inputs.get(i), pinned[i].segment()));
            }
            for (int o = 0; o < outputs.size(); o++) {
                pinned[inputs.size() + o] = new PinnedMemory(tensors.outputBytes(o));
                out.add(new Tensor(outputs.get(o), pinned[inputs.size() + o].segment()));
            }
        } catch (RuntimeException e) {
            for (PinnedMemory m : pinned) {
                if (m != null) {
                    m.close();
                }
            }
            throw e;
        }
        Batch batch = Batch.of(in, out);
        BatchState state = newState(batch, pinned);
        batch.engineState(this, state);
        return batch;
    }

    /** A batch's GPU state, registered so that {@link #close()} frees it. */
    private BatchState newState(Batch batch, PinnedMemory[] pinned) {
        BatchState state = new BatchState(plan, profiles, tensors, options.cudaGraphs(), batch, pinned);
        synchronized (states) {
            states.add(state);
        }
        return state;
    }

    @Override
    public void run(Batch batch) {
        enter();
        try {
            state(batch).run();
        } finally {
            guard.exit();
        }
    }

    private BatchState state(Batch batch) {
        Object st = batch.engineState(this);
        if (st instanceof BatchState b) {
            return b;
        }
        BatchState b = newState(batch, null);
        batch.engineState(this, b);
        return b;
    }

    private void enter() {
        if (!guard.tryEnter()) {
            throw new IllegalStateException("engine tensorrt for " + modelPath.getFileName() + " is closed");
        }
    }

    /**
     * Frees every batch's buffers, streams and contexts once no run is in flight (waiting at most
     * 30 s; past that they are left allocated and a warning logged). Pinned memory's segments
     * become invalid: a tensor touched after close throws IllegalStateException instead of
     * reading freed memory. Idempotent.
     */
    @Override
    public void close() {
        int outcome = guard.close(CLOSE_TIMEOUT_NANOS);
        if (outcome == io.hotpath.core.CloseGuard.ALREADY_CLOSED) {
            return;
        }
        if (outcome == io.hotpath.core.CloseGuard.TIMED_OUT) {
            System.getLogger(TensorRtEngine.class.getName()).log(System.Logger.Level.WARNING, "engine tensorrt for " + modelPath.getFileName()
                    + ": a run is still in flight after 30 s; its device and pinned memory are left allocated");
            return;
        }
        synchronized (states) {
            for (BatchState s : states) {
                s.close();
            }
            states.clear();
        }
        plan.close();
    }

    @Override
    public String toString() {
        return describe();
    }
}
