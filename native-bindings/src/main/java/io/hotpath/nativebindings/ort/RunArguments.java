package io.hotpath.nativebindings.ort;

import io.hotpath.nativebindings.NativeHandle;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The arrays ONNX Runtime's {@code Run} takes (input names and values, output names and
 * preallocated output values), made once in native memory. Setting a value writes one pointer;
 * a run passes the arrays as they are, so it allocates nothing on the Java heap.
 */
public final class RunArguments extends NativeHandle {
    final PointerPointer<BytePointer> inputNames;
    final PointerPointer<?> inputValues;
    final PointerPointer<BytePointer> outputNames;
    final PointerPointer<?> outputValues;
    final int inputCount;
    final int outputCount;
    private final BytePointer[] names;

    public RunArguments(List<String> inputs, List<String> outputs) {
        super("ONNX Runtime run arguments");
        this.inputCount = inputs.size();
        this.outputCount = outputs.size();
        this.names = new BytePointer[inputCount + outputCount];
        this.inputNames = new PointerPointer<>(Math.max(1, inputCount));
        this.outputNames = new PointerPointer<>(Math.max(1, outputCount));
        for (int i = 0; i < inputCount; i++) {
            names[i] = new BytePointer(inputs.get(i));
            inputNames.put(i, names[i]);
        }
        for (int i = 0; i < outputCount; i++) {
            names[inputCount + i] = new BytePointer(outputs.get(i));
            outputNames.put(i, names[inputCount + i]);
        }
        this.inputValues = new PointerPointer<>(Math.max(1, inputCount));
        this.outputValues = new PointerPointer<>(Math.max(1, outputCount));
        for (int i = 0; i < Math.max(1, outputCount); i++) {
            outputValues.put(i, (org.bytedeco.javacpp.Pointer) null);    // null slots: ONNX Runtime allocates those outputs
        }
    }

    /** Input {@code index} reads {@code value} on the next run. */
    public void input(int index, ValueHandle value) {
        checkOpen();
        inputValues.put(index, value.raw());
    }

    /** Output {@code index} is written into {@code value} on the next run. */
    public void output(int index, ValueHandle value) {
        checkOpen();
        outputValues.put(index, value.raw());
    }

    /** An output ONNX Runtime allocated: its element type, dims and bytes (valid until {@link #releaseAllocatedOutputs()}). */
    public record AllocatedOutput(int elementType, long[] dims, java.lang.foreign.MemorySegment data) {
    }

    /**
     * Output {@code index} as ONNX Runtime allocated it on the last run (for outputs given no value
     * with {@link #output}: the run fills the slot). For calibration and checks, not the hot path.
     */
    public AllocatedOutput allocatedOutput(int index) {
        checkOpen();
        Ort ort = Ort.get();
        org.bytedeco.onnxruntime.OrtValue v = valueAt(index);
        if (v == null || v.isNull()) {
            throw new IllegalStateException("output " + index + " has no value: run first, and leave its value unset");
        }
        org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo info = new org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo();
        ort.check(ort.api().GetTensorTypeAndShape(v, info), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading output shape");
        try {
            int[] elem = new int[1];
            ort.check(ort.api().GetTensorElementType(info, elem), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading output type");
            int rank;
            try (org.bytedeco.javacpp.SizeTPointer n = new org.bytedeco.javacpp.SizeTPointer(1)) {
                ort.check(ort.api().GetDimensionsCount(info, n), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading output rank");
                rank = (int) n.get();
            }
            long[] dims = new long[rank];
            ort.check(ort.api().GetDimensions(info, dims, rank), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading output dims");
            long count = 1;
            for (long d : dims) {
                count *= d;
            }
            int size = io.hotpath.core.DType.ofTensor("output", "#" + index, elem[0]).byteSize();
            try (PointerPointer<?> data = new PointerPointer<>(1)) {
                ort.check(ort.api().GetTensorMutableData(v, data), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading output data");
                return new AllocatedOutput(elem[0], dims, io.hotpath.nativebindings.SegmentPointers.segment(data.get(0), count * size));
            }
        } finally {
            ort.api().ReleaseTensorTypeAndShapeInfo(info);
        }
    }

    /** Frees the outputs ONNX Runtime allocated on the last run and clears their slots for the next. */
    public void releaseAllocatedOutputs() {
        checkOpen();
        Ort ort = Ort.get();
        for (int i = 0; i < outputCount; i++) {
            org.bytedeco.onnxruntime.OrtValue v = valueAt(i);
            if (v != null && !v.isNull()) {
                ort.api().ReleaseValue(v);
                outputValues.put(i, (org.bytedeco.javacpp.Pointer) null);
            }
        }
    }

    private org.bytedeco.onnxruntime.OrtValue valueAt(int index) {
        org.bytedeco.javacpp.Pointer p = outputValues.get(index);
        return p == null || p.isNull() ? null : new org.bytedeco.onnxruntime.OrtValue(p);
    }

    void checkUsable() {
        checkOpen();
    }

    @Override
    protected void release() {
        inputNames.close();
        outputNames.close();
        inputValues.close();
        outputValues.close();
        for (BytePointer n : names) {
            n.close();
        }
    }
}
