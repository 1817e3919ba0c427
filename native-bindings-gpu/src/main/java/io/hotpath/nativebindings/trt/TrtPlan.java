package io.hotpath.nativebindings.trt;

import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IEngineInspector;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/** A deserialized TensorRT engine: its I/O tensors, profiles and layer report; it makes execution contexts. */
public final class TrtPlan extends NativeHandle {
    /** One I/O tensor as TensorRT reports it; -1 marks a dynamic dimension. */
    public record IoTensor(String name, boolean input, DType dtype, long[] dims) {
    }

    private final IRuntime runtime;
    private final ICudaEngine engine;
    private final List<IoTensor> io;

    private TrtPlan(IRuntime runtime, ICudaEngine engine, List<IoTensor> io) {
        super("TensorRT engine " + engine.getName());
        this.runtime = runtime;
        this.engine = engine;
        this.io = io;
    }

    /** Deserializes {@code plan}; a plan TensorRT cannot read is INVALID_MODEL with TensorRT's words. */
    public static TrtPlan deserialize(byte[] plan) {
        TrtLog.Logger logger = TensorRt.logger();
        long mark = TrtLog.mark();
        IRuntime runtime = nvinfer.createInferRuntime(logger);
        if (runtime == null || runtime.isNull()) {
            throw new HotpathException(Category.ENGINE_FAILURE, "createInferRuntime failed: " + TrtLog.errorsSince(mark));
        }
        BytePointer bytes = new BytePointer(plan.length);
        bytes.put(plan);
        ICudaEngine engine = runtime.deserializeCudaEngine(bytes, plan.length);
        bytes.close();
        if (engine == null || engine.isNull()) {
            throw new HotpathException(Category.INVALID_MODEL, "TensorRT could not deserialize the plan (" + plan.length + " bytes): "
                    + TrtLog.errorsSince(mark));
        }
        List<IoTensor> io = new ArrayList<>();
        for (int i = 0; i < engine.getNbIOTensors(); i++) {
            String name = engine.getIOTensorName(i);
            // JavaCPP returns enum objects that carry the native value: compare values, not identities
            boolean input = engine.getTensorIOMode(name).value == nvinfer.TensorIOMode.kINPUT.value;
            io.add(new IoTensor(name, input, dtype(engine.getTensorDataType(name).value, name),
                    TrtBuilder.dims(engine.getTensorShape(name))));
        }
        return new TrtPlan(runtime, engine, List.copyOf(io));
    }

    /** Core's element type for a TensorRT {@code DataType} code. */
    public static DType dtype(int trtType, String tensor) {
        return switch (trtType) {
            case 0 -> DType.FLOAT32;
            case 1 -> DType.FLOAT16;
            case 2 -> DType.INT8;
            case 3 -> DType.INT32;
            case 4 -> DType.BOOL;
            case 5 -> DType.UINT8;
            case 7 -> DType.BFLOAT16;
            case 8 -> DType.INT64;
            default -> throw new HotpathException(Category.UNSUPPORTED, "tensor '" + tensor + "' has TensorRT data type " + trtType
                    + ", which Hotpath does not move (FP8/INT4/FP4 I/O)");
        };
    }

    public List<IoTensor> io() {
        return io;
    }

    /** The engine inspector's JSON: every layer, its fused name, precision and tactic. */
    public String layerInformationJson() {
        checkOpen();
        IEngineInspector inspector = engine.createEngineInspector();
        if (inspector == null || inspector.isNull()) {
            return "{}";
        }
        String s = inspector.getEngineInformation(nvinfer.LayerInformationFormat.kJSON);
        return s == null ? "{}" : s;
    }

    /** A context whose scratch memory the caller provides (so it is freed when the caller closes it). */
    public TrtContext newContext(int profile, io.hotpath.nativebindings.cuda.CudaStream stream) {
        checkOpen();
        long mark = TrtLog.mark();
        IExecutionContext ctx = engine.createExecutionContext(nvinfer.ExecutionContextAllocationStrategy.kUSER_MANAGED);
        if (ctx == null || ctx.isNull()) {
            throw new HotpathException(Category.ENGINE_FAILURE, "createExecutionContext failed: " + TrtLog.errorsSince(mark));
        }
        // the largest scratch any profile needs: the context may switch shapes within its profile freely
        return new TrtContext(this, ctx, profile, stream, Math.max(engine.getDeviceMemorySizeV2(), engine.getDeviceMemorySizeForProfileV2(profile)));
    }

    @Override
    protected void release() {
        // TensorRT objects cannot be deleted through the preset (see package docs); drop the references.
    }

    IRuntime runtime() {
        return runtime;
    }
}
