package io.hotpath.engine.tensorrt;

import io.hotpath.core.Batch;
import io.hotpath.core.BatchMatch;
import io.hotpath.core.DType;
import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.cuda.CudaGraph;
import io.hotpath.nativebindings.cuda.CudaStream;
import io.hotpath.nativebindings.cuda.DeviceMemory;
import io.hotpath.nativebindings.cuda.HostRegion;
import io.hotpath.nativebindings.cuda.PinnedMemory;
import io.hotpath.nativebindings.trt.Int8Calibrators;
import io.hotpath.nativebindings.trt.TensorRt;
import io.hotpath.nativebindings.trt.TrtBuildSpec;
import io.hotpath.nativebindings.trt.TrtBuilder;
import io.hotpath.nativebindings.trt.TrtContext;
import io.hotpath.nativebindings.trt.TrtLog;
import io.hotpath.nativebindings.trt.TrtPlan;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * TensorRT behind core's {@link Engine} SPI.
 *
 * <p>{@link #open} builds the plan (or loads it from the plan cache), deserializes it and works out
 * each output's largest shape. Each {@link Batch} from {@link #newBatch()} owns pinned host
 * buffers (its tensors: callers write inputs straight into them), device buffers, a CUDA stream
 * and, per optimization profile, an execution context with its own scratch memory, all made
 * once. {@link #run} selects the profile for the batch's shapes, copies the used bytes of each
 * input to the device, enqueues the network (or replays a captured CUDA graph), copies the outputs
 * back and synchronizes once. Shapes are set on a context only when they change; in steady state a
 * run allocates nothing on the Java heap. A batch must not be run by two threads at once; distinct
 * batches run concurrently on their own streams.
 */
public final class TensorRtEngine implements Engine {
    private static final System.Logger LOG = System.getLogger("io.hotpath.tensorrt");
    private static final int MAX_GRAPHS_PER_CONTEXT = 16;

    private final Path modelPath;
    private final TensorRtOptions options;
    private final TrtPlan plan;
    private final PlanCacheKey key;
    private final Path planFile;
    private final boolean builtNow;
    private final long buildNanos;
    private final boolean explicitQuantization;
    private final List<ShapeProfiles.Profile> profiles;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final long[][] inputCapacity;
    private final long[][] outputCapacity;
    private final String[] inputNames;
    private final int maxBatch;
    private final Cuda.Device device;
    private final String layersJson;
    private final List<BatchState> states = new ArrayList<>();
    /** Runs and batch creation enter it; close waits (bounded) for them before freeing device and pinned memory. */
    private final io.hotpath.core.CloseGuard guard = new io.hotpath.core.CloseGuard();
    private static final long CLOSE_TIMEOUT_NANOS = 30_000_000_000L;

    private TensorRtEngine(Path modelPath, TensorRtOptions options, TrtPlan plan, PlanCacheKey key, Path planFile, boolean builtNow,
            long buildNanos, boolean explicitQuantization, List<ShapeProfiles.Profile> profiles, Cuda.Device device) {
        this.modelPath = modelPath;
        this.options = options;
        this.plan = plan;
        this.key = key;
        this.planFile = planFile;
        this.builtNow = builtNow;
        this.buildNanos = buildNanos;
        this.explicitQuantization = explicitQuantization;
        this.profiles = profiles;
        this.device = device;
        List<TensorSpec> in = new ArrayList<>();
        List<TensorSpec> out = new ArrayList<>();
        for (TrtPlan.IoTensor t : plan.io()) {
            (t.input() ? in : out).add(new TensorSpec(t.name(), t.dtype(), Shape.of(t.dims())));
        }
        this.inputs = List.copyOf(in);
        this.outputs = List.copyOf(out);
        this.inputNames = in.stream().map(TensorSpec::name).toArray(String[]::new);
        this.inputCapacity = new long[in.size()][];
        int mb = 1;
        for (int i = 0; i < in.size(); i++) {
            inputCapacity[i] = ShapeProfiles.maxShape(profiles, inputNames[i]);
            if (in.get(i).shape().rank() > 0 && in.get(i).shape().isDynamic(0)) {
                mb = (int) Math.max(mb, inputCapacity[i][0]);
            }
        }
        this.maxBatch = mb;
        this.outputCapacity = outputCapacities();
        this.layersJson = plan.layerInformationJson();
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
        Cuda.setDevice(options.device());
        Cuda.Device dev = Cuda.device(options.device());
        String sha = PlanCacheKey.sha256(model);
        PlanCache cache = new PlanCache(options.cacheDirectory());
        // parsing is needed only for the model's inputs and Q/DQ flag; a model seen before skips it (TensorRT's parser
        // objects cannot be freed through the preset, so every parse costs memory too)
        TrtBuilder.ParsedModel parsed = cache.loadModelInfo(sha).orElseGet(() -> {
            TrtBuilder.ParsedModel m = TrtBuilder.inspect(model);
            cache.storeModelInfo(sha, m);
            return m;
        });
        List<String> names = parsed.inputs().stream().map(TrtBuilder.ParsedInput::name).toList();
        List<long[]> dims = parsed.inputs().stream().map(TrtBuilder.ParsedInput::dims).toList();
        List<ShapeProfiles.Profile> profiles = options.profiles() != null ? options.profiles()
                : ShapeProfiles.forBuckets(names, dims, options.batchBuckets(), options.maxDimension());
        boolean qdq = parsed.explicitQuantization();
        Precision p = options.precision();
        String calibration = calibrationDescription(p, qdq, options);
        PlanCacheKey key = new PlanCacheKey(sha, p.label(), calibration, PlanCacheKey.profilesText(profiles),
                "workspace=" + options.workspaceBytes() + " level=" + options.optimizationLevel(), dev.name(), dev.computeCapability(),
                TensorRt.status().version(), Cuda.status().runtime());
        Optional<byte[]> cached = cache.load(key);
        if (cached.isPresent()) {
            try {
                TrtPlan plan = TrtPlan.deserialize(cached.get());
                return new TensorRtEngine(model, options, plan, key, cache.planFile(key), false, 0, qdq, profiles, dev);
            } catch (HotpathException e) {
                LOG.log(System.Logger.Level.WARNING, "cached plan " + cache.planFile(key) + " could not be loaded (" + e.getMessage()
                        + "); rebuilding");
            }
        }
        TrtBuildSpec spec = buildSpec(p, qdq, options, profiles, cache.loadTimingCache(dev.name(), TensorRt.status().version()));
        TrtBuilder.Result built;
        try (CalibrationFeed feed = (CalibrationFeed) spec.calibrator()) {
            built = TrtBuilder.build(model, spec);
        }
        cache.storeTimingCache(dev.name(), TensorRt.status().version(), built.timingCache());
        TrtPlan plan = TrtPlan.deserialize(built.plan());
        cache.store(key, built.plan(), plan.layerInformationJson());
        return new TensorRtEngine(model, options, plan, key, cache.planFile(key), true, built.buildNanos(), qdq, profiles, dev);
    }

    static String calibrationDescription(Precision p, boolean qdq, TensorRtOptions options) {
        if (p != Precision.INT8) {
            return "none";
        }
        if (qdq) {
            return "explicit Q/DQ (strongly typed)";
        }
        StringBuilder sb = new StringBuilder(options.calibrationAlgorithm().name().toLowerCase(java.util.Locale.ROOT));
        if (options.calibrationData() != null) {
            sb.append(" batch=").append(options.calibrationBatch()).append(' ').append(options.calibrationData().fingerprint());
        }
        Path cacheFile = options.calibrationCache();
        if (cacheFile != null && Files.isRegularFile(cacheFile)) {
            sb.append(" cache sha256=").append(PlanCacheKey.sha256(cacheFile), 0, 16);
        }
        if (options.calibrationData() == null && (cacheFile == null || !Files.isRegularFile(cacheFile))) {
            throw HotpathException.invalidArgument("INT8 needs a model with Q/DQ nodes (from the optimizer), calibration data, "
                    + "or a calibration cache file; this model has no Q/DQ nodes and none of the others was given");
        }
        return sb.toString();
    }

    private static TrtBuildSpec buildSpec(Precision p, boolean qdq, TensorRtOptions options, List<ShapeProfiles.Profile> profiles,
            byte[] timingCache) {
        List<TrtBuildSpec.Profile> specProfiles = new ArrayList<>();
        for (ShapeProfiles.Profile profile : profiles) {
            List<TrtBuildSpec.InputRange> ranges = new ArrayList<>();
            for (ShapeProfiles.Range r : profile.ranges()) {
                ranges.add(new TrtBuildSpec.InputRange(r.input(), r.min(), r.opt(), r.max()));
            }
            specProfiles.add(new TrtBuildSpec.Profile(ranges));
        }
        boolean stronglyTyped = p == Precision.INT8 && qdq;
        boolean int8 = p == Precision.INT8;
        boolean fp16 = p == Precision.FP16 || (p == Precision.INT8 && !qdq);
        boolean tf32 = p != Precision.FP32;
        int calibrationProfile = 0;
        CalibrationFeed feed = null;
        if (int8 && !qdq) {
            calibrationProfile = calibrationProfile(profiles, options.calibrationBatch());
            feed = new CalibrationFeed(options.calibrationData(), profiles.get(calibrationProfile), options.calibrationCache());
        }
        return new TrtBuildSpec(fp16, int8, tf32, stronglyTyped, options.workspaceBytes(), options.optimizationLevel(), specProfiles,
                calibrationProfile, feed, timingCache, options.calibrationAlgorithm());
    }

    /** The profile whose opt batch is closest to the wanted calibration batch (the calibrator must feed exactly that batch). */
    static int calibrationProfile(List<ShapeProfiles.Profile> profiles, int wanted) {
        int best = 0;
        long bestDistance = Long.MAX_VALUE;
        for (int i = 0; i < profiles.size(); i++) {
            long opt = profiles.get(i).ranges().get(0).opt().length == 0 ? 1 : profiles.get(i).ranges().get(0).opt()[0];
            long d = Math.abs(opt - wanted);
            if (d < bestDistance) {
                best = i;
                bestDistance = d;
            }
        }
        return best;
    }

    /** Each output's largest shape over all profiles at their max input shapes. */
    private long[][] outputCapacities() {
        long[][] cap = new long[outputs.size()][];
        try (CudaStream stream = new CudaStream()) {
            for (int p = 0; p < profiles.size(); p++) {
                try (TrtContext ctx = plan.newContext(p, stream)) {
                    for (int i = 0; i < inputNames.length; i++) {
                        long[] max = profiles.get(p).range(inputNames[i]).max();
                        try (TrtContext.Name n = new TrtContext.Name(inputNames[i])) {
                            if (!ctx.setInputShape(n, max, max.length)) {
                                throw new HotpathException(Category.ENGINE_FAILURE, "setInputShape(" + inputNames[i] + ", "
                                        + Arrays.toString(max) + ") failed: " + TrtLog.errorsSince(Math.max(0, TrtLog.mark() - 2)));
                            }
                        }
                    }
                    for (int o = 0; o < outputs.size(); o++) {
                        long[] s = ctx.tensorShape(outputs.get(o).name());
                        if (cap[o] == null) {
                            cap[o] = s;
                        } else {
                            for (int d = 0; d < s.length; d++) {
                                cap[o][d] = Math.max(cap[o][d], s[d]);
                            }
                        }
                    }
                }
            }
        }
        return cap;
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
                pinned[i] = new PinnedMemory(bytes(inputs.get(i), inputCapacity[i]));
                in.add(new Tensor(inputs.get(i), pinned[i].segment()));
            }
            for (int o = 0; o < outputs.size(); o++) {
                pinned[inputs.size() + o] = new PinnedMemory(bytes(outputs.get(o), outputCapacity[o]));
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
        BatchState state = new BatchState(batch, pinned);
        batch.engineState(this, state);
        return batch;
    }

    private static long bytes(TensorSpec spec, long[] dims) {
        long n = spec.dtype().byteSize();
        for (long d : dims) {
            n = Math.multiplyExact(n, Math.max(1, d));
        }
        return n;
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
        BatchState b = new BatchState(batch, null);
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

    /** One context per profile for one batch, with the shapes it was last set to and its captured graphs. */
    private final class Slot {
        final TrtContext ctx;
        final long[][] shapes;
        final int[] ranks;
        boolean shaped;
        boolean graphsFailed;
        final long[][] outShapes;
        final List<long[]> graphKeys = new ArrayList<>();
        final List<CudaGraph> graphs = new ArrayList<>();

        Slot(TrtContext ctx) {
            this.ctx = ctx;
            this.shapes = new long[inputs.size()][8];
            this.ranks = new int[inputs.size()];
            this.outShapes = new long[outputs.size()][];
        }

        boolean sameShapes(long[][] cur, int[] curRanks) {
            if (!shaped) {
                return false;
            }
            for (int i = 0; i < ranks.length; i++) {
                if (ranks[i] != curRanks[i]) {
                    return false;
                }
                for (int d = 0; d < ranks[i]; d++) {
                    if (shapes[i][d] != cur[i][d]) {
                        return false;
                    }
                }
            }
            return true;
        }

        /** The graph captured for the current shapes, or null. */
        CudaGraph graph() {
            for (int g = 0; g < graphKeys.size(); g++) {
                long[] k = graphKeys.get(g);
                int pos = 0;
                boolean same = true;
                for (int i = 0; i < ranks.length && same; i++) {
                    for (int d = 0; d < ranks[i] && same; d++) {
                        same = k[pos++] == shapes[i][d];
                    }
                }
                if (same) {
                    return graphs.get(g);
                }
            }
            return null;
        }

        long[] graphKey() {
            int n = 0;
            for (int r : ranks) {
                n += r;
            }
            long[] k = new long[n];
            int pos = 0;
            for (int i = 0; i < ranks.length; i++) {
                for (int d = 0; d < ranks[i]; d++) {
                    k[pos++] = shapes[i][d];
                }
            }
            return k;
        }

        void close() {
            for (CudaGraph g : graphs) {
                g.close();
            }
            ctx.close();
        }
    }

    /** Everything one batch owns on the GPU side. */
    private final class BatchState {
        final Batch batch;
        final PinnedMemory[] pinned;
        final Tensor[] in;            // by model input index
        final Tensor[] out;           // by batch output index
        final int[] outModelIndex;    // batch output -> model output
        final HostRegion[] hostIn;
        final HostRegion[] hostOut;
        final DeviceMemory[] devIn;
        final DeviceMemory[] devOut;  // by model output index
        final TrtContext.Name[] inNames;
        final TrtContext.Name[] outNames;
        final CudaStream stream;
        final Slot[] slots;
        final long[][] shapes;
        final int[] ranks;

        BatchState(Batch batch, PinnedMemory[] pinned) {
            this.batch = batch;
            this.pinned = pinned;
            int[] inputIndex = BatchMatch.inputs(inputs, batch);
            this.in = new Tensor[inputs.size()];
            for (int m = 0; m < in.length; m++) {
                in[m] = batch.input(inputIndex[m]);
            }
            this.outModelIndex = BatchMatch.outputs(outputs, batch);
            this.out = new Tensor[batch.outputCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = batch.output(i);
            }
            this.hostIn = new HostRegion[in.length];
            this.hostOut = new HostRegion[out.length];
            this.devIn = new DeviceMemory[in.length];
            this.devOut = new DeviceMemory[outputs.size()];
            this.inNames = new TrtContext.Name[in.length];
            this.outNames = new TrtContext.Name[outputs.size()];
            this.slots = new Slot[profiles.size()];
            this.shapes = new long[in.length][8];
            this.ranks = new int[in.length];
            CudaStream st = null;
            try {
                st = new CudaStream();
                for (int i = 0; i < in.length; i++) {
                    hostIn[i] = HostRegion.of(in[i].data());
                    devIn[i] = new DeviceMemory(Math.max(bytes(inputs.get(i), inputCapacity[i]), in[i].data().byteSize()));
                    inNames[i] = new TrtContext.Name(inputs.get(i).name());
                }
                for (int i = 0; i < out.length; i++) {
                    hostOut[i] = HostRegion.of(out[i].data());
                }
                for (int o = 0; o < outputs.size(); o++) {
                    devOut[o] = new DeviceMemory(bytes(outputs.get(o), outputCapacity[o]));
                    outNames[o] = new TrtContext.Name(outputs.get(o).name());
                }
            } catch (RuntimeException e) {
                if (st != null) {
                    st.close();
                }
                freeBuffers();
                throw e;
            }
            this.stream = st;
            synchronized (states) {
                states.add(this);
            }
        }

        void run() {
            for (int i = 0; i < in.length; i++) {
                Tensor t = in[i];
                int rank = t.rank();
                if (rank > shapes[i].length) {
                    throw HotpathException.invalidArgument("input '" + t.name() + "' has rank " + rank + "; at most 8 is supported");
                }
                ranks[i] = t.shapeInto(shapes[i]);
                if (rank > 0 && inputs.get(i).shape().isDynamic(0) && i > 0 && inputs.get(0).shape().rank() > 0
                        && inputs.get(0).shape().isDynamic(0) && shapes[i][0] != shapes[0][0]) {
                    throw HotpathException.invalidArgument("input '" + t.name() + "': batch " + shapes[i][0] + " but input '"
                            + in[0].name() + "' has batch " + shapes[0][0]);
                }
            }
            int p = ShapeProfiles.select(profiles, inputNames, shapes, ranks);
            if (p < 0) {
                throw ShapeProfiles.noProfile(profiles, inputNames, shapes, ranks);
            }
            Slot slot = slots[p];
            if (slot == null) {
                slot = newSlot(p);
            }
            boolean changed = !slot.sameShapes(shapes, ranks);
            if (changed) {
                applyShapes(slot);
            }
            for (int i = 0; i < out.length; i++) {
                long[] s = slot.outShapes[outModelIndex[i]];
                reshape(out[i], s);
            }
            for (int i = 0; i < in.length; i++) {
                stream.copyToDevice(devIn[i], hostIn[i], in[i].byteSize());
            }
            if (options.cudaGraphs() && !slot.graphsFailed) {
                CudaGraph g = slot.graph();
                if (g != null) {
                    g.launch(stream);
                } else {
                    slot.ctx.enqueue();              // this run's answer; TensorRT also needs it after a shape change before capture
                    if (slot.graphs.size() < MAX_GRAPHS_PER_CONTEXT) {
                        capture(slot);
                    }
                }
            } else {
                slot.ctx.enqueue();
            }
            for (int i = 0; i < out.length; i++) {
                stream.copyToHost(hostOut[i], devOut[outModelIndex[i]], out[i].byteSize());
            }
            stream.synchronize();
        }

        /** Captures the context's enqueue for the current shapes; a failed capture turns graphs off for this slot, with a warning. */
        private void capture(Slot slot) {
            CudaGraph g = null;
            RuntimeException failure = null;
            stream.beginCapture();
            try {
                slot.ctx.enqueue();
            } catch (RuntimeException e) {
                failure = e;
            }
            try {
                g = stream.endCapture();
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
            if (failure != null || g == null) {
                slot.graphsFailed = true;
                LOG.log(System.Logger.Level.WARNING, "CUDA graph capture failed (" + (failure == null ? "no graph" : failure.getMessage())
                        + "); this context runs without graphs");
                return;
            }
            slot.graphKeys.add(slot.graphKey());
            slot.graphs.add(g);
        }

        private Slot newSlot(int p) {
            TrtContext ctx = plan.newContext(p, stream);
            for (int i = 0; i < in.length; i++) {
                ctx.setTensorAddress(inNames[i], devIn[i]);
            }
            for (int o = 0; o < outputs.size(); o++) {
                ctx.setTensorAddress(outNames[o], devOut[o]);
            }
            Slot s = new Slot(ctx);
            slots[p] = s;
            return s;
        }

        private void applyShapes(Slot slot) {
            long mark = TrtLog.mark();
            for (int i = 0; i < in.length; i++) {
                if (!slot.ctx.setInputShape(inNames[i], shapes[i], ranks[i])) {
                    slot.shaped = false;
                    throw HotpathException.invalidArgument("input '" + inputs.get(i).name() + "': shape "
                            + Shape.format(shapes[i], ranks[i]) + " rejected by TensorRT: " + TrtLog.errorsSince(mark));
                }
            }
            for (int o = 0; o < outputs.size(); o++) {
                long[] s = slot.ctx.tensorShape(outputs.get(o).name());
                for (long d : s) {
                    if (d < 0) {
                        slot.shaped = false;
                        throw HotpathException.invalidArgument("output '" + outputs.get(o).name() + "' has no definite shape for inputs "
                                + Arrays.toString(inputNames) + "; are the inputs' shared dimensions equal? " + TrtLog.errorsSince(mark));
                    }
                }
                slot.outShapes[o] = s;
            }
            for (int i = 0; i < in.length; i++) {
                slot.ranks[i] = ranks[i];
                System.arraycopy(shapes[i], 0, slot.shapes[i], 0, ranks[i]);
            }
            slot.shaped = true;
        }

        void close() {
            for (Slot s : slots) {
                if (s != null) {
                    s.close();
                }
            }
            stream.close();
            freeBuffers();
        }

        private void freeBuffers() {
            for (DeviceMemory d : devIn) {
                if (d != null) {
                    d.close();
                }
            }
            for (DeviceMemory d : devOut) {
                if (d != null) {
                    d.close();
                }
            }
            for (TrtContext.Name b : inNames) {
                if (b != null) {
                    b.close();
                }
            }
            for (TrtContext.Name b : outNames) {
                if (b != null) {
                    b.close();
                }
            }
            if (pinned != null) {
                for (PinnedMemory m : pinned) {
                    if (m != null) {
                        m.close();
                    }
                }
            }
        }
    }

    private static void reshape(Tensor t, long[] dims) {
        boolean same = t.rank() == dims.length;
        for (int d = 0; same && d < dims.length; d++) {
            same = t.dim(d) == dims[d];
        }
        if (!same) {
            t.reshape(dims);
        }
    }

    /**
     * Feeds TensorRT's calibrator: batch k of the calibration data is staged in pinned memory and
     * copied to device buffers that stay valid until the next call. Reads and writes the
     * calibration cache file when one is configured.
     */
    static final class CalibrationFeed implements Int8Calibrators.Feed, AutoCloseable {
        private final CalibrationData data;
        private final int batchSize;
        private final Path cacheFile;
        private final List<String> names;
        private final DeviceMemory[] device;
        private final PinnedMemory[] host;
        private int next;

        CalibrationFeed(CalibrationData data, ShapeProfiles.Profile profile, Path cacheFile) {
            this.data = data;
            this.cacheFile = cacheFile;
            ShapeProfiles.Range first = profile.ranges().get(0);
            this.batchSize = first.opt().length == 0 ? 1 : (int) first.opt()[0];
            this.names = data == null ? List.of() : data.names();
            this.device = new DeviceMemory[names.size()];
            this.host = new PinnedMemory[names.size()];
            if (data != null) {
                data.batches(batchSize);   // at least one whole batch, or a clear error now
                for (int i = 0; i < names.size(); i++) {
                    ShapeProfiles.Range r = profile.range(names.get(i));
                    if (r == null) {
                        throw HotpathException.invalidArgument("calibration data names input '" + names.get(i) + "', which the model lacks");
                    }
                    long rowBytes = data.rowBytes(names.get(i));
                    long expected = 1;
                    for (int d = 1; d < r.opt().length; d++) {
                        expected *= r.opt()[d];
                    }
                    if (expected * elementBytes(rowBytes, data.rowShape(i)) != rowBytes) {
                        throw HotpathException.invalidArgument("calibration rows of '" + names.get(i) + "' have shape "
                                + Arrays.toString(data.rowShape(i)) + " but the calibration profile's opt shape is "
                                + Arrays.toString(r.opt()) + " (pad the samples to that length)");
                    }
                    host[i] = new PinnedMemory(rowBytes * batchSize);
                    device[i] = new DeviceMemory(rowBytes * batchSize);
                }
            }
        }

        private static long elementBytes(long rowBytes, long[] rowShape) {
            long n = 1;
            for (long d : rowShape) {
                n *= d;
            }
            return n == 0 ? 0 : rowBytes / n;
        }

        @Override
        public int batchSize() {
            return batchSize;
        }

        @Override
        public boolean next(String[] bindingNames, long[] addresses) {
            if (data == null || next >= data.batches(batchSize)) {
                return false;
            }
            for (int b = 0; b < bindingNames.length; b++) {
                int i = names.indexOf(bindingNames[b]);
                if (i < 0) {
                    throw HotpathException.invalidArgument("TensorRT asks for calibration input '" + bindingNames[b]
                            + "', which the calibration data lacks (it has " + names + ")");
                }
                MemorySegment staging = host[i].segment();
                data.fill(next, batchSize, names.get(i), staging);
                Cuda.copyToDevice(device[i], HostRegion.of(host[i]), host[i].byteSize());
                addresses[b] = device[i].address();
            }
            next++;
            return true;
        }

        @Override
        public byte[] readCache() {
            try {
                return cacheFile != null && Files.isRegularFile(cacheFile) ? Files.readAllBytes(cacheFile) : null;
            } catch (java.io.IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot read calibration cache " + cacheFile + ": " + e.getMessage() + "; calibrating");
                return null;
            }
        }

        @Override
        public void writeCache(byte[] cache) {
            if (cacheFile == null) {
                return;
            }
            try {
                if (cacheFile.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(cacheFile.toAbsolutePath().getParent());
                }
                Files.write(cacheFile, cache);
            } catch (java.io.IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot write calibration cache " + cacheFile + ": " + e.getMessage());
            }
        }

        @Override
        public void close() {
            for (DeviceMemory d : device) {
                if (d != null) {
                    d.close();
                }
            }
            for (PinnedMemory h : host) {
                if (h != null) {
                    h.close();
                }
            }
        }
    }
}
