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
    /** The output value slots read and cleared as 64-bit addresses (a view of {@link #outputValues}). */
    private final org.bytedeco.javacpp.LongPointer slots;
    /** One pointer-sized out-parameter for ONNX Runtime, and the same memory read as a long. */
    private final PointerPointer<?> scratch = new PointerPointer<>(1);
    private final org.bytedeco.javacpp.LongPointer scratchAddress;
    private final org.bytedeco.javacpp.SizeTPointer count = new org.bytedeco.javacpp.SizeTPointer(1);
    private final ValueRef valueRef = new ValueRef();
    private final InfoRef infoRef = new InfoRef();
    private final BytesRef textRef = new BytesRef();
    private final SizesRef offsetsRef = new SizesRef();

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
        this.slots = new org.bytedeco.javacpp.LongPointer(outputValues);
        this.scratchAddress = new org.bytedeco.javacpp.LongPointer(scratch);
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
        OutputView v = new OutputView();
        readOutput(index, v);
        long count = 1;
        for (int d = 0; d < v.rank; d++) {
            count *= v.dims[d];
        }
        int size = io.hotpath.core.DType.ofTensor("output", "#" + index, v.elementType).byteSize();
        @SuppressWarnings("restricted")     // ONNX Runtime vouches for the extent; read before releaseAllocatedOutputs
        java.lang.foreign.MemorySegment data = java.lang.foreign.MemorySegment.ofAddress(v.address).reinterpret(count * size);
        return new AllocatedOutput(v.elementType, java.util.Arrays.copyOf(v.dims, v.rank), data);
    }

    /** Frees the outputs ONNX Runtime allocated on the last run and clears their slots for the next. */
    public void releaseAllocatedOutputs() {
        for (int i = 0; i < outputCount; i++) {
            releaseOutput(i);
        }
    }

    /**
     * What {@link #readOutput} found for an engine-allocated output: the address of its data, its
     * rank and dimensions. Made once per output and refilled by every read, so reading allocates nothing.
     */
    public static final class OutputView {
        /** Native address of the output's first element (ONNX Runtime owns it until {@link #releaseOutput}). */
        public long address;
        public int rank;
        /** ONNX element-type code. */
        public int elementType;
        public final long[] dims = new long[io.hotpath.core.Shape.MAX_RANK];
        private final int[] elementScratch = new int[1];
    }

    /**
     * Frees the value ONNX Runtime allocated for output {@code index} on the last run, if any,
     * and clears its slot so the next run allocates it again. Allocation-free.
     */
    public void releaseOutput(int index) {
        checkOpen();
        long a = slots.get(index);
        if (a != 0) {
            slots.put(index, 0L);
            Ort.get().api().ReleaseValue(valueRef.at(a));
        }
    }

    /**
     * Reads output {@code index} as ONNX Runtime allocated it on the last run (its slot was left
     * empty): data address, rank and dimensions into {@code view}. Allocation-free on success: the
     * JavaCPP objects passed to ONNX Runtime are made once and re-pointed. An empty slot (no run,
     * or the run failed) or a value that is not a tensor is an ENGINE_FAILURE.
     */
    public void readOutput(int index, OutputView view) {
        checkOpen();
        Ort ort = Ort.get();
        org.bytedeco.onnxruntime.OrtApi api = ort.api();
        org.bytedeco.onnxruntime.OrtValue v = valueRef.at(filledSlot(index));
        ort.check(api.GetTensorTypeAndShape(v, scratch), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading an output's shape");
        InfoRef info = infoRef.at(scratchAddress.get(0));
        try {
            ort.check(api.GetTensorElementType(info, view.elementScratch), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading an output's type");
            view.elementType = view.elementScratch[0];
            ort.check(api.GetDimensionsCount(info, count), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading an output's rank");
            long rank = count.get(0);
            if (rank > view.dims.length) {
                throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.UNSUPPORTED,
                        "output " + index + " came out with rank " + rank + ", above the supported maximum of " + view.dims.length);
            }
            ort.check(api.GetDimensions(info, view.dims, rank), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading an output's dims");
            view.rank = (int) rank;
        } finally {
            api.ReleaseTensorTypeAndShapeInfo(info);
        }
        ort.check(api.GetTensorMutableData(v, scratch), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading an output's data");
        view.address = scratchAddress.get(0);
    }

    /**
     * Output {@code index}, a string tensor ONNX Runtime allocated on the last run: the total bytes
     * of its strings (without terminators). Allocation-free.
     */
    public long stringBytes(int index) {
        checkOpen();
        Ort ort = Ort.get();
        ort.check(ort.api().GetStringTensorDataLength(valueRef.at(filledSlot(index)), count),
                io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading a string output's length");
        return count.get(0);
    }

    /**
     * Copies the strings of output {@code index} (a string tensor of {@code elements} elements and
     * {@code bytes} bytes, see {@link #stringBytes}) into {@code text}, back to back, and each
     * one's start offset into {@code offsets} (a native size_t per element). Allocation-free.
     */
    public void stringContent(int index, java.lang.foreign.MemorySegment text, long bytes, java.lang.foreign.MemorySegment offsets, long elements) {
        checkOpen();
        if (bytes > text.byteSize() || elements * 8 > offsets.byteSize()) {
            throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.INTERNAL, "string output " + index + ": "
                    + bytes + " bytes / " + elements + " offsets do not fit " + text.byteSize() + " / " + offsets.byteSize() + " bytes");
        }
        Ort ort = Ort.get();
        ort.check(ort.api().GetStringTensorContent(valueRef.at(filledSlot(index)), textRef.at(text.address()), bytes,
                offsetsRef.at(offsets.address()), elements), io.hotpath.core.HotpathException.Category.ENGINE_FAILURE, "reading a string output");
    }

    private long filledSlot(int index) {
        long a = slots.get(index);
        if (a == 0) {
            throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.ENGINE_FAILURE,
                    "output " + index + " has no value: the last run did not produce it");
        }
        return a;
    }

    /** A {@code void*} re-pointed at any address. */
    private static final class BytesRef extends org.bytedeco.javacpp.Pointer {
        BytesRef at(long a) {
            address = a;
            return this;
        }
    }

    /** A {@code size_t*} re-pointed at any address. */
    private static final class SizesRef extends org.bytedeco.javacpp.SizeTPointer {
        SizesRef() {
            super((org.bytedeco.javacpp.Pointer) null);
        }

        SizesRef at(long a) {
            address = a;
            return this;
        }
    }

    /** An {@code OrtValue} reference re-pointed at any address, so passing a value allocates nothing. */
    private static final class ValueRef extends org.bytedeco.onnxruntime.OrtValue {
        ValueRef at(long a) {
            address = a;
            return this;
        }
    }

    /** An {@code OrtTensorTypeAndShapeInfo} reference re-pointed at any address. */
    private static final class InfoRef extends org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo {
        InfoRef at(long a) {
            address = a;
            return this;
        }
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
        scratch.close();
        count.close();
        for (BytePointer n : names) {
            n.close();
        }
    }
}
