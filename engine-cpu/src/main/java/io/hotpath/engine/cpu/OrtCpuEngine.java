package io.hotpath.engine.cpu;

import io.hotpath.core.Batch;
import io.hotpath.core.BatchMatch;
import io.hotpath.core.DType;
import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.nativebindings.ort.Ort;
import io.hotpath.nativebindings.ort.RunOptionsHandle;
import io.hotpath.nativebindings.ort.SessionHandle;
import io.hotpath.nativebindings.ort.SessionOptionsHandle;
import io.hotpath.nativebindings.ort.TensorInfo;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import io.hotpath.core.CloseGuard;

/**
 * ONNX Runtime on the CPU behind core's {@link Engine} SPI.
 *
 * <p>Each {@link Batch} is bound once (ONNX Runtime tensor values over the batch's own memory, in
 * native argument arrays handed to {@code Run}; measured as fast as an {@code IoBinding} run);
 * a run then validates the inputs' shapes in Java, reuses the tensor values made for that shape
 * (a few shapes are kept per tensor), and calls ONNX Runtime. In steady state, with shapes that
 * repeat, a run allocates nothing on the Java heap.
 *
 * <p>Output shapes are derived from input shapes before the run where they can be: a dynamic
 * output dimension is tied to the input dimension with the same symbolic name (ONNX
 * {@code dim_param}), and an unnamed dynamic dimension 0 to the batch dimension. Such outputs are
 * preallocated at full capacity and bound once. An output with a dimension that cannot be derived
 * (a data-dependent size such as NonZero's or TopK's, or a size computed from input values) is
 * <em>engine-allocated</em>: its slot is left empty, ONNX Runtime allocates it during the run (from
 * its arena), and the batch's tensor is attached to that memory as a zero-copy view with the
 * run's shape, valid until the next run of that batch, which frees it. Reading it allocates
 * nothing on the Java heap; the view object is made again only when ONNX Runtime returns a
 * different address or size than the run before.
 *
 * <p>One thread runs an engine at a time; use one engine per worker thread. {@link #close()} may
 * race with a run on another thread: the run in flight finishes, later runs fail with
 * {@link IllegalStateException}, and the native session and batch memory are freed only once no
 * run is inside ONNX Runtime (waiting at most {@link CpuEngineOptions#closeTimeoutNanos()}; past
 * that they are left allocated and a warning is logged, never freed under a running kernel).
 *
 * <p>Sizes are checked before anything is allocated: every tensor's bytes at full capacity must
 * fit {@link CpuEngineOptions#maxTensorBytes()} and the batch's {@link CpuEngineOptions#maxBatchBytes()}.
 */
public final class OrtCpuEngine implements Engine {
    private final String modelName;
    private final CpuEngineOptions options;
    private final SessionOptionsHandle sessionOptions;
    private final SessionHandle session;
    private final RunOptionsHandle runOptions;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final boolean batched;
    private final int maxBatch;
    /**
     * For each output and dimension: -1 fixed, else input index * 64 + input dimension it copies;
     * null for an engine-allocated output.
     */
    private final int[][] outputDimSource;
    /** Pairs of (input, dim) that share a symbolic name and so must be equal: [a_in, a_dim, b_in, b_dim]. */
    private final int[][] tiedDims;
    private final Arena arena = Arena.ofShared();
    private final List<BatchBinding> bindings = Collections.synchronizedList(new ArrayList<>());
    /** Runs and batch creation enter it; close waits (bounded) for them before freeing anything native code reads. */
    private final CloseGuard guard = new CloseGuard();
    private final Path modelPath;
    private volatile long identity;

    private OrtCpuEngine(Path model, CpuEngineOptions options) {
        this.modelName = model.getFileName() == null ? model.toString() : model.getFileName().toString();
        this.modelPath = model;
        this.options = options;
        SessionOptionsHandle so = null;
        SessionHandle s = null;
        RunOptionsHandle ro = null;
        try {
            so = new SessionOptionsHandle()
                    .graphOptimization(options.graphOptimization())
                    .intraOpThreads(options.intraOpThreads())
                    .interOpThreads(options.interOpThreads())
                    .executionMode(options.executionMode())
                    .spinWait(options.spinWait())
                    .cpuMemArena(options.memArena())
                    .memPattern(options.memPattern());
            if (options.optimizedModelPath() != null) {
                so.optimizedModelPath(options.optimizedModelPath());
            }
            if (options.profilePrefix() != null) {
                so.profiling(options.profilePrefix());
            }
            s = SessionHandle.open(model, so);
            ro = new RunOptionsHandle();
            this.inputs = describe(s, true);
            this.outputs = describe(s, false);
        } catch (RuntimeException e) {
            closeQuietly(ro);
            closeQuietly(s);
            closeQuietly(so);
            arena.close();
            throw e;
        }
        this.sessionOptions = so;
        this.session = s;
        this.runOptions = ro;
        this.batched = inputs.stream().allMatch(t -> t.shape().rank() > 0 && t.shape().isDynamic(0));
        this.maxBatch = batched ? options.maxBatchSize() : 1;
        this.tiedDims = tiedDimensions();
        try {
            this.outputDimSource = outputDimensionSources();
            checkCapacities();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Every tensor at full capacity within maxTensorBytes, the batch within maxBatchBytes; no overflow. */
    private void checkCapacities() {
        long total = 0;
        for (List<TensorSpec> group : List.of(inputs, outputs)) {
            for (TensorSpec spec : group) {
                if (group == outputs && outputDimSource[outputs.indexOf(spec)] == null) {
                    continue;       // engine-allocated: ONNX Runtime sizes it per run
                }
                long bytes = capacityBytes(spec);
                total += bytes;      // each <= maxTensorBytes (< 2^62): no overflow over a few thousand tensors
                if (total > options.maxBatchBytes()) {
                    throw HotpathException.invalidArgument("a batch of this model needs more than maxBatchBytes=" + options.maxBatchBytes()
                            + " bytes at full capacity (maxBatchSize=" + maxBatch + ", reached at tensor '" + spec.name()
                            + "'); lower maxBatchSize or the dynamic dimensions' maxima, or raise maxBatchBytes");
                }
            }
        }
    }

    /** Bytes of {@code spec} at full capacity; INVALID_ARGUMENT when it overflows or exceeds maxTensorBytes. */
    private long capacityBytes(TensorSpec spec) {
        Shape s = spec.shape();
        // a string element: its 8-byte table entry and its share of the text memory
        long bytes = spec.dtype() == DType.STRING ? 8L + options.maxStringBytes() : spec.dtype().byteSize();
        StringBuilder dims = new StringBuilder();
        boolean over = false;
        for (int d = 0; d < s.rank(); d++) {
            long c = capacity(s, d);
            dims.append(d == 0 ? "" : ",").append(c);
            if (!over && (c != 0 && bytes > options.maxTensorBytes() / c)) {
                over = true;     // checked before multiplying: never overflows
            } else if (!over) {
                bytes *= c;
            }
        }
        if (over || bytes > options.maxTensorBytes()) {
            throw HotpathException.invalidArgument("tensor '" + spec.name() + "' at full capacity [" + dims + "] x " + spec.dtype().byteSize()
                    + " bytes exceeds maxTensorBytes=" + options.maxTensorBytes() + "; lower maxBatchSize or the dimension maxima, or raise maxTensorBytes");
        }
        return bytes;
    }

    /**
     * Loads {@code model} with {@code options}. A missing file is NOT_FOUND, a corrupt or
     * truncated one INVALID_MODEL, both with ONNX Runtime's error code.
     */
    public static OrtCpuEngine open(Path model, CpuEngineOptions options) {
        return new OrtCpuEngine(model, options);
    }

    /** Loads {@code model} with {@link CpuEngineOptions#defaults()}. */
    public static OrtCpuEngine open(Path model) {
        return open(model, CpuEngineOptions.defaults());
    }

    /** The ONNX Runtime version this engine runs on. */
    public static String runtimeVersion() {
        return Ort.get().version();
    }

    public CpuEngineOptions options() {
        return options;
    }

    private static List<TensorSpec> describe(SessionHandle s, boolean input) {
        int n = input ? s.inputCount() : s.outputCount();
        List<TensorSpec> specs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TensorInfo info = input ? s.input(i) : s.output(i);
            String kind = input ? "input" : "output";
            if (!info.isTensor()) {
                throw new HotpathException(Category.UNSUPPORTED, kind + " '" + info.name() + "' is " + (info.kind().startsWith("o") ? "an " : "a ")
                        + info.kind() + ", not a tensor; Hotpath runs models whose inputs and outputs are tensors");
            }
            if (info.dims().length > Shape.MAX_RANK) {
                throw new HotpathException(Category.UNSUPPORTED, kind + " '" + info.name() + "' has rank " + info.dims().length
                        + ", above the supported maximum of " + Shape.MAX_RANK);
            }
            DType t = DType.ofTensor(kind, info.name(), info.elementType());
            specs.add(new TensorSpec(info.name(), t, Shape.of(info.dims(), info.dimNames())));
        }
        return List.copyOf(specs);
    }

    private int[][] tiedDimensions() {
        List<int[]> ties = new ArrayList<>();
        for (int a = 0; a < inputs.size(); a++) {
            Shape sa = inputs.get(a).shape();
            for (int da = 0; da < sa.rank(); da++) {
                for (int b = a; b < inputs.size(); b++) {
                    Shape sb = inputs.get(b).shape();
                    for (int db = (b == a ? da + 1 : 0); db < sb.rank(); db++) {
                        boolean sameName = sa.dimName(da) != null && sa.dimName(da).equals(sb.dimName(db));
                        boolean bothBatch = batched && da == 0 && db == 0;
                        if (sameName || bothBatch) {
                            ties.add(new int[] {a, da, b, db});
                        }
                    }
                }
            }
        }
        return ties.toArray(new int[0][]);
    }

    private int[][] outputDimensionSources() {
        int[][] src = new int[outputs.size()][];
        for (int o = 0; o < outputs.size(); o++) {
            Shape s = outputs.get(o).shape();
            src[o] = new int[s.rank()];
            if (outputs.get(o).dtype() == DType.STRING) {
                src[o] = null;      // ONNX Runtime keeps strings as its own objects: copied out after the run
                continue;
            }
            for (int d = 0; d < s.rank(); d++) {
                src[o][d] = -1;
                if (!s.isDynamic(d)) {
                    continue;
                }
                int found = findInputDim(s.dimName(d));
                if (found < 0 && d == 0 && batched) {
                    found = 0;      // input 0, dimension 0: the batch
                }
                if (found < 0) {
                    src[o] = null;      // its size is known only after the run: engine-allocated
                    break;
                }
                src[o][d] = found;
            }
        }
        return src;
    }

    private int findInputDim(String name) {
        if (name == null) {
            return -1;
        }
        for (int i = 0; i < inputs.size(); i++) {
            Shape s = inputs.get(i).shape();
            for (int d = 0; d < s.rank(); d++) {
                if (name.equals(s.dimName(d))) {
                    return i * 64 + d;
                }
            }
        }
        return -1;
    }

    @Override
    public String name() {
        return "onnxruntime-cpu";
    }

    /** SHA-256 of the model file and the graph optimization level (which changes answers slightly), folded to 64 bits. */
    @Override
    public long modelIdentity() {
        long id = identity;
        if (id == 0) {
            try (var in = java.nio.file.Files.newInputStream(modelPath)) {
                java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                }
                sha.update(("|" + name() + "|opt=" + options.graphOptimization()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                id = java.nio.ByteBuffer.wrap(sha.digest()).getLong();
                id = id == 0 ? 1 : id;
                identity = id;
            } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
                throw new HotpathException(Category.INVALID_MODEL, "cannot read " + modelPath + " to identify the model: " + e.getMessage(), e);
            }
        }
        return id;
    }

    @Override
    public String describe() {
        return name() + " " + runtimeVersion() + " model=" + modelName + " " + options;
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
    public boolean outputEngineAllocated(int index) {
        return outputDimSource[index] == null;
    }

    @Override
    public int maxBatchSize() {
        return maxBatch;
    }

    /** The capacity of dimension {@code d} of a declared shape. */
    private long capacity(Shape s, int d) {
        if (!s.isDynamic(d)) {
            return s.dim(d);
        }
        if (d == 0 && batched) {
            return maxBatch;
        }
        return options.maxDimension(s.dimName(d));
    }

    @Override
    public Batch newBatch() {
        enter();
        try {
            List<Tensor> in = new ArrayList<>();
            for (TensorSpec spec : inputs) {
                in.add(allocate(spec));
            }
            List<Tensor> out = new ArrayList<>();
            for (int o = 0; o < outputs.size(); o++) {
                out.add(outputDimSource[o] == null ? Tensor.engineAllocated(outputs.get(o)) : allocate(outputs.get(o)));
            }
            return Batch.of(in, out);
        } finally {
            guard.exit();
        }
    }

    private Tensor allocate(TensorSpec spec) {
        long bytes = Math.max(1, capacityBytes(spec));
        if (spec.dtype() == DType.STRING) {
            long elements = bytes / (8L + options.maxStringBytes());
            return Tensor.ofStrings(spec, arena.allocate(elements * 8, 64), arena.allocate(elements * options.maxStringBytes(), 64));
        }
        return new Tensor(spec, arena.allocate(bytes, 64));
    }

    @Override
    public void run(Batch batch) {
        enter();
        try {
            BatchBinding b = binding(batch);
            validate(b);
            shapeOutputs(b);
            b.bindCurrentShapes();
            b.releaseEngineOutputs();
            try {
                session.run(runOptions, b.runArguments);
            } catch (RuntimeException e) {
                b.invalidateEngineOutputs();     // their memory was freed: views kept from the last run must not read it
                throw e;
            }
            b.attachEngineOutputs();
        } finally {
            guard.exit();
        }
    }

    private BatchBinding binding(Batch batch) {
        Object state = batch.engineState(this);
        if (state instanceof BatchBinding b) {
            return b;
        }
        int[] outs = matchOutputs(batch);
        boolean[] engineAllocated = new boolean[outs.length];
        for (int i = 0; i < outs.length; i++) {
            engineAllocated[i] = outputDimSource[outs[i]] == null;
            if (engineAllocated[i] != batch.output(i).isEngineAllocated()) {
                throw HotpathException.invalidArgument("output '" + batch.output(i).name() + "': "
                        + (engineAllocated[i] ? "its shape is known only after the run, so the engine allocates it: "
                                + "give the batch Tensor.engineAllocated(spec) for it (or use newBatch())"
                                : "its shape follows from the inputs, so it is written in place: give the batch a tensor with memory"));
            }
        }
        BatchBinding b = new BatchBinding(batch, matchInputs(batch), outs, engineAllocated);
        bindings.add(b);
        batch.engineState(this, b);
        return b;
    }

    private int[] matchInputs(Batch batch) {
        return BatchMatch.inputs(inputs, batch);
    }

    private int[] matchOutputs(Batch batch) {
        return BatchMatch.outputs(outputs, batch);
    }

    /** Checks the current input shapes; allocation-free unless it throws. */
    private void validate(BatchBinding b) {
        for (int m = 0; m < inputs.size(); m++) {
            Tensor t = b.inputs[m];
            Shape s = inputs.get(m).shape();
            for (int d = 0; d < s.rank(); d++) {
                long v = t.dim(d);
                if (!s.isDynamic(d)) {
                    if (v != s.dim(d)) {
                        throw badShape(t, s, "dimension " + d + " must be " + s.dim(d));
                    }
                } else if (v < 1) {
                    throw badShape(t, s, "dimension " + d + " must be at least 1");
                } else if (d == 0 && batched && v > maxBatch) {
                    throw badShape(t, s, "batch " + v + " exceeds the engine's capacity of " + maxBatch + " (maxBatchSize)");
                }
            }
        }
        for (int[] tie : tiedDims) {
            long a = b.inputs[tie[0]].dim(tie[1]);
            long c = b.inputs[tie[2]].dim(tie[3]);
            if (a != c) {
                Tensor t = b.inputs[tie[2]];
                String dimName = inputs.get(tie[0]).shape().dimName(tie[1]);
                throw badShape(t, inputs.get(tie[2]).shape(), "dimension " + tie[3] + " is " + c + " but input '"
                        + b.inputs[tie[0]].name() + "' dimension " + tie[1] + " is " + a
                        + (dimName == null ? " (both are the batch)" : " (both are '" + dimName + "')"));
            }
        }
    }

    private static HotpathException badShape(Tensor t, Shape expected, String why) {
        return HotpathException.invalidArgument("input '" + t.name() + "': shape " + Shape.format(t.shape(), t.rank())
                + " given, expected " + expected + ": " + why);
    }

    private void shapeOutputs(BatchBinding b) {
        for (int i = 0; i < b.outputs.length; i++) {
            Tensor t = b.outputs[i];
            int[] src = outputDimSource[b.outputModelIndex[i]];
            if (src == null) {
                continue;       // engine-allocated: shaped by the run
            }
            Shape s = outputs.get(b.outputModelIndex[i]).shape();
            long[] dims = b.scratch;
            for (int d = 0; d < src.length; d++) {
                dims[d] = src[d] < 0 ? s.dim(d) : b.inputs[src[d] >>> 6].dim(src[d] & 63);
            }
            switch (src.length) {
                case 1 -> t.reshape(dims[0]);
                case 2 -> t.reshape(dims[0], dims[1]);
                case 3 -> t.reshape(dims[0], dims[1], dims[2]);
                default -> reshapeAny(t, dims, src.length);
            }
        }
    }

    private static void reshapeAny(Tensor t, long[] dims, int rank) {
        boolean same = true;
        for (int d = 0; d < rank; d++) {
            same &= t.dim(d) == dims[d];
        }
        if (!same) {
            t.reshape(java.util.Arrays.copyOf(dims, rank));
        }
    }

    private void enter() {
        if (!guard.tryEnter()) {
            throw new IllegalStateException("engine " + name() + " for " + modelName + " is closed");
        }
    }

    /**
     * Frees the bindings, the session and the memory of every batch made by {@link #newBatch()},
     * after waiting (at most {@link CpuEngineOptions#closeTimeoutNanos()}) for runs in flight on
     * other threads; runs that start later fail with {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        int outcome = guard.close(options.closeTimeoutNanos());
        if (outcome == CloseGuard.ALREADY_CLOSED) {
            return;
        }
        if (outcome == CloseGuard.TIMED_OUT) {
            System.getLogger(OrtCpuEngine.class.getName()).log(System.Logger.Level.WARNING, "engine " + name() + " for " + modelName
                    + ": " + guard.inside() + " run(s) still inside ONNX Runtime after closeTimeout=" + options.closeTimeoutNanos() / 1_000_000
                    + " ms; the session and its batch memory are left allocated (freeing them under a running kernel would crash the JVM)");
            return;
        }
        synchronized (bindings) {
            for (BatchBinding b : bindings) {
                b.close();
            }
            bindings.clear();
        }
        closeQuietly(runOptions);
        closeQuietly(session);
        closeQuietly(sessionOptions);
        arena.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing is best effort; the handles themselves never throw on close
            }
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
