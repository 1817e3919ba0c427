package io.hotpath.engine.jvm;

import io.hotpath.core.Batch;
import io.hotpath.core.BatchMatch;
import io.hotpath.core.CloseGuard;
import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs small ONNX models as plain JVM code compiled at load: no native call and no allocation per
 * run. Every input and output has dimension 0 as its batch dimension and fixed sizes elsewhere.
 * Models it cannot compile are refused at {@link #open} with the node and operator named
 * ({@link HotpathException.Category#UNSUPPORTED}).
 *
 * <p>Thread safety: each {@link Batch} carries its own working memory, so runs on different
 * batches may proceed on different threads at once; one batch is used by one thread at a time.
 */
public final class JvmEngine implements Engine {
    /** The largest model file this engine reads: it is for small models. */
    public static final long MAX_MODEL_BYTES = 256L << 20;

    private final String modelName;
    private final Program program;
    private final JvmEngineOptions options;
    private final long identity;
    private final Arena arena = Arena.ofShared();
    private final CloseGuard guard = new CloseGuard();

    private JvmEngine(String modelName, Program program, JvmEngineOptions options, long identity) {
        this.modelName = modelName;
        this.program = program;
        this.options = options;
        this.identity = identity;
    }

    /** Reads and compiles {@code model}. */
    public static JvmEngine open(Path model, JvmEngineOptions options) {
        byte[] bytes = read(model);
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(bytes);
        } catch (IOException | RuntimeException e) {
            throw new HotpathException(HotpathException.Category.INVALID_MODEL, "model " + model + " is not a readable ONNX model: " + e.getMessage(), e);
        }
        return new JvmEngine(model.getFileName().toString(), JvmCompiler.compile(proto), options, identityOf(bytes));
    }

    public static JvmEngine open(Path model) {
        return open(model, JvmEngineOptions.defaults());
    }

    /** Compiles {@code model} (already parsed); {@code name} appears in messages. */
    public static JvmEngine of(String name, ModelProto model, JvmEngineOptions options) {
        return new JvmEngine(name, JvmCompiler.compile(model), options, identityOf(model.toByteArray()));
    }

    /** An engine over an already compiled program (tests choose the tree walker this way). */
    static JvmEngine of(String name, ModelProto model, Program program, JvmEngineOptions options) {
        return new JvmEngine(name, program, options, identityOf(model.toByteArray()));
    }

    static byte[] read(Path model) {
        try {
            long size = Files.size(model);
            if (size > MAX_MODEL_BYTES) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "model " + model + " is " + size
                        + " bytes; the JVM engine takes models up to " + MAX_MODEL_BYTES + " bytes (use ONNX Runtime)");
            }
            return Files.readAllBytes(model);
        } catch (IOException e) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, "cannot read model " + model + ": " + e.getMessage(), e);
        }
    }

    private static long identityOf(byte[] bytes) {
        long h = 0xcbf29ce484222325L;      // FNV-1a over the bytes, then the engine's name: not another engine's cache entries
        for (byte b : bytes) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        for (char c : "jvm".toCharArray()) {
            h = (h ^ c) * 0x100000001b3L;
        }
        return h;
    }

    @Override
    public String name() {
        return "jvm";
    }

    @Override
    public String describe() {
        Program.Cost c = program.cost();
        return "jvm model=" + modelName + " maxBatch=" + options.maxBatchSize() + " " + program.describe() + " ("
                + c.operationsPerRow() + " ops/row, " + c.weightBytes() + " weight bytes)";
    }

    /** Operations per row and weight bytes: what engine choice compares with its threshold. */
    public long operationsPerRow() {
        return program.cost().operationsPerRow();
    }

    public long weightBytes() {
        return program.cost().weightBytes();
    }

    @Override
    public List<TensorSpec> inputs() {
        return program.inputs();
    }

    @Override
    public List<TensorSpec> outputs() {
        return program.outputs();
    }

    /** True: each batch carries its own working memory. */
    @Override
    public boolean concurrentRuns() {
        return true;
    }

    @Override
    public int maxBatchSize() {
        return options.maxBatchSize();
    }

    @Override
    public long modelIdentity() {
        return identity;
    }

    @Override
    public Batch newBatch() {
        enter();
        try {
            List<Tensor> in = new ArrayList<>();
            for (TensorSpec s : program.inputs()) {
                in.add(Tensor.allocate(s, arena, capacity(s)));
            }
            List<Tensor> out = new ArrayList<>();
            for (TensorSpec s : program.outputs()) {
                out.add(Tensor.allocate(s, arena, capacity(s)));
            }
            Batch b = Batch.of(in, out);
            return b;
        } finally {
            guard.exit();
        }
    }

    private long[] capacity(TensorSpec s) {
        long[] d = s.shape().toArray();
        d[0] = options.maxBatchSize();
        return d;
    }

    /** What a batch carries for this engine: the model-order views of its tensors and the program's scratch. */
    private static final class BatchState {
        final Tensor[] in;
        final Tensor[] out;
        final Object scratch;

        BatchState(Tensor[] in, Tensor[] out, Object scratch) {
            this.in = in;
            this.out = out;
            this.scratch = scratch;
        }
    }

    @Override
    public void run(Batch batch) {
        enter();
        try {
            BatchState st = (BatchState) batch.engineState(this);
            if (st == null) {
                st = bind(batch);
                batch.engineState(this, st);
            }
            int rows = checkShapes(st.in);
            for (Tensor t : st.out) {
                if (t != null) {
                    reshapeRows(t, rows);
                }
            }
            program.run(st.scratch, st.in, st.out, rows);
        } finally {
            guard.exit();
        }
    }

    private BatchState bind(Batch batch) {
        int[] inIdx = BatchMatch.inputs(program.inputs(), batch);
        int[] outIdx = BatchMatch.outputs(program.outputs(), batch);
        Tensor[] in = new Tensor[inIdx.length];
        for (int m = 0; m < inIdx.length; m++) {
            in[m] = batch.input(inIdx[m]);
        }
        Tensor[] out = new Tensor[program.outputs().size()];
        for (int i = 0; i < outIdx.length; i++) {
            Tensor t = batch.output(i);
            long need = rowElements(program.outputs().get(outIdx[i])) * options.maxBatchSize();
            if (t.capacityElements() < need) {
                throw HotpathException.invalidArgument("output '" + t.name() + "' holds " + t.capacityElements() + " elements; "
                        + options.maxBatchSize() + " rows need " + need);
            }
            out[outIdx[i]] = t;
        }
        return new BatchState(in, out, program.newScratch(options.maxBatchSize()));
    }

    /** Elements per row: the product of every dimension after the first (all fixed). */
    static long rowElements(TensorSpec s) {
        long n = 1;
        for (int d = 1; d < s.shape().rank(); d++) {
            n *= s.shape().dim(d);
        }
        return n;
    }

    /** Every input: rows within capacity, all inputs the same rows, the other dimensions the model's. Returns the rows. */
    private int checkShapes(Tensor[] in) {
        long rows = -1;
        for (int m = 0; m < in.length; m++) {
            Tensor t = in[m];
            Shape s = program.inputs().get(m).shape();
            long r = t.dim(0);
            if (r < 1 || r > options.maxBatchSize()) {
                throw HotpathException.invalidArgument("input '" + t.name() + "': " + r + " rows given, the engine takes 1 to "
                        + options.maxBatchSize() + " (maxBatchSize)");
            }
            if (rows >= 0 && r != rows) {
                throw HotpathException.invalidArgument("input '" + t.name() + "' has " + r + " rows, the other inputs " + rows);
            }
            rows = r;
            for (int d = 1; d < s.rank(); d++) {
                if (t.dim(d) != s.dim(d)) {
                    throw HotpathException.invalidArgument("input '" + t.name() + "': shape " + Shape.format(t.shape(), t.rank())
                            + " given, expected " + s);
                }
            }
        }
        return (int) rows;
    }

    private static void reshapeRows(Tensor t, int rows) {
        switch (t.rank()) {
            case 1 -> t.reshape(rows);
            case 2 -> t.reshape(rows, t.spec().shape().dim(1));
            default -> {
                long[] d = t.spec().shape().toArray();
                d[0] = rows;
                t.reshape(d);
            }
        }
    }

    private void enter() {
        if (!guard.tryEnter()) {
            throw new IllegalStateException("engine jvm for " + modelName + " is closed");
        }
    }

    /** Frees every batch's memory after runs in flight on other threads have left (bounded wait). Idempotent. */
    @Override
    public void close() {
        int outcome = guard.close(options.closeTimeoutNanos());
        if (outcome == CloseGuard.ALREADY_CLOSED) {
            return;
        }
        if (outcome == CloseGuard.TIMED_OUT) {
            System.getLogger(JvmEngine.class.getName()).log(System.Logger.Level.WARNING, "engine jvm for " + modelName + ": "
                    + guard.inside() + " run(s) still inside after closeTimeout; batch memory left allocated");
            return;
        }
        arena.close();
    }
}
