package io.hotpath.nativebindings.ort;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.onnxruntime.OrtSession;
import org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.OrtTypeInfo;

/**
 * An owned {@code OrtSession}: a loaded model. A file that is missing is NOT_FOUND; one that is
 * truncated, corrupt or not an ONNX model is INVALID_MODEL, with ONNX Runtime's code and message.
 *
 * <p>{@link #run} may be called from several threads at once (ONNX Runtime sessions are
 * thread-safe for Run), each with its own binding. Close the bindings before the session.
 */
public final class SessionHandle extends NativeHandle {
    private final Ort ort;
    private final OrtSession session;

    private SessionHandle(Ort ort, OrtSession session, String what) {
        super(what);
        this.ort = ort;
        this.session = session;
    }

    /** Loads the model at {@code model}. */
    public static SessionHandle open(Path model, SessionOptionsHandle options) {
        Ort ort = Ort.get();
        if (!Files.isRegularFile(model)) {
            throw new HotpathException(Category.NOT_FOUND, "model file " + model + " does not exist or is not a regular file");
        }
        OrtSession s = new OrtSession();
        try (BytePointer path = new BytePointer(model.toAbsolutePath().toString())) {
            ort.check(ort.api().CreateSession(ort.env(), path, options.raw(), s), Category.INVALID_MODEL, "loading model " + model);
        }
        return new SessionHandle(ort, s, "ONNX Runtime session for " + model.getFileName());
    }

    /** Loads a model from its serialized bytes. */
    public static SessionHandle open(byte[] model, SessionOptionsHandle options) {
        Ort ort = Ort.get();
        OrtSession s = new OrtSession();
        try (BytePointer bytes = new BytePointer(model)) {
            ort.check(ort.api().CreateSessionFromArray(ort.env(), bytes, model.length, options.raw(), s),
                    Category.INVALID_MODEL, "loading a model from " + model.length + " bytes");
        }
        return new SessionHandle(ort, s, "ONNX Runtime session (in-memory model)");
    }

    OrtSession raw() {
        checkOpen();
        return session;
    }

    public int inputCount() {
        try (SizeTPointer n = new SizeTPointer(1)) {
            ort.check(ort.api().SessionGetInputCount(raw(), n), Category.ENGINE_FAILURE, "counting inputs");
            return (int) n.get();
        }
    }

    public int outputCount() {
        try (SizeTPointer n = new SizeTPointer(1)) {
            ort.check(ort.api().SessionGetOutputCount(raw(), n), Category.ENGINE_FAILURE, "counting outputs");
            return (int) n.get();
        }
    }

    /** Name, type and shape of input {@code index}. */
    public TensorInfo input(int index) {
        String name;
        try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
            ort.check(ort.api().SessionGetInputName(raw(), index, ort.allocator(), out), Category.ENGINE_FAILURE, "reading input name " + index);
            name = takeString(out);
        }
        OrtTypeInfo type = new OrtTypeInfo();
        ort.check(ort.api().SessionGetInputTypeInfo(raw(), index, type), Category.ENGINE_FAILURE, "reading input type " + name);
        return describe(name, type);
    }

    /** Name, type and shape of output {@code index}. */
    public TensorInfo output(int index) {
        String name;
        try (PointerPointer<BytePointer> out = new PointerPointer<>(1)) {
            ort.check(ort.api().SessionGetOutputName(raw(), index, ort.allocator(), out), Category.ENGINE_FAILURE, "reading output name " + index);
            name = takeString(out);
        }
        OrtTypeInfo type = new OrtTypeInfo();
        ort.check(ort.api().SessionGetOutputTypeInfo(raw(), index, type), Category.ENGINE_FAILURE, "reading output type " + name);
        return describe(name, type);
    }

    private String takeString(PointerPointer<BytePointer> out) {
        BytePointer p = out.get(BytePointer.class, 0);
        try {
            return p.getString();
        } finally {
            ort.check(ort.api().AllocatorFree(ort.allocator(), p), Category.ENGINE_FAILURE, "freeing a name");
        }
    }

    private TensorInfo describe(String name, OrtTypeInfo type) {
        try {
            int[] onnxType = new int[1];
            ort.check(ort.api().GetOnnxTypeFromTypeInfo(type, onnxType), Category.ENGINE_FAILURE, "reading the kind of " + name);
            if (onnxType[0] != org.bytedeco.onnxruntime.global.onnxruntime.ONNX_TYPE_TENSOR) {
                return new TensorInfo(name, false, 0, new long[0], new String[0], TensorInfo.kindName(onnxType[0]));
            }
            OrtTensorTypeAndShapeInfo info = new OrtTensorTypeAndShapeInfo();   // owned by type
            ort.check(ort.api().CastTypeInfoToTensorInfo(type, info), Category.ENGINE_FAILURE, "reading tensor info of " + name);
            int[] elem = new int[1];
            ort.check(ort.api().GetTensorElementType(info, elem), Category.ENGINE_FAILURE, "reading element type of " + name);
            int rank;
            try (SizeTPointer n = new SizeTPointer(1)) {
                ort.check(ort.api().GetDimensionsCount(info, n), Category.ENGINE_FAILURE, "reading rank of " + name);
                rank = (int) n.get();
            }
            long[] dims = new long[rank];
            ort.check(ort.api().GetDimensions(info, dims, rank), Category.ENGINE_FAILURE, "reading dims of " + name);
            String[] names = new String[rank];
            try (PointerPointer<BytePointer> sym = new PointerPointer<>(Math.max(1, rank))) {
                ort.check(ort.api().GetSymbolicDimensions(info, sym, rank), Category.ENGINE_FAILURE, "reading dim names of " + name);
                for (int i = 0; i < rank; i++) {
                    BytePointer s = sym.get(BytePointer.class, i);
                    names[i] = s == null || s.isNull() ? "" : s.getString();
                }
            }
            return new TensorInfo(name, true, elem[0], dims, names, "tensor");
        } finally {
            ort.api().ReleaseTypeInfo(type);
        }
    }

    /**
     * Runs the model on what {@code binding} binds. Allocation-free on success. A failure inside
     * ONNX Runtime is an ENGINE_FAILURE (or INVALID_ARGUMENT when ONNX Runtime rejects an input)
     * with its code and message.
     */
    public void run(RunOptionsHandle options, IoBindingHandle binding) {
        ort.check(ort.api().RunWithBinding(raw(), options.raw(), binding.raw()), Category.ENGINE_FAILURE, "running the model");
    }

    /**
     * Runs the model reading {@code args}' input values and writing into its preallocated output
     * values. Allocation-free on success; failures as for {@link #run(RunOptionsHandle, IoBindingHandle)}.
     */
    public void run(RunOptionsHandle options, RunArguments args) {
        args.checkUsable();
        ort.check(ort.api().Run(raw(), options.raw(), args.inputNames, args.inputValues, args.inputCount,
                args.outputNames, args.outputCount, args.outputValues), Category.ENGINE_FAILURE, "running the model");
    }

    @Override
    protected void release() {
        ort.api().ReleaseSession(session);
    }
}
