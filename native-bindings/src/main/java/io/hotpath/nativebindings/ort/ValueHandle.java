package io.hotpath.nativebindings.ort;

import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import io.hotpath.nativebindings.SegmentPointers;
import java.lang.foreign.MemorySegment;
import org.bytedeco.onnxruntime.OrtValue;

/**
 * An owned {@code OrtValue} that is a tensor over memory Hotpath owns (zero-copy: ONNX Runtime
 * reads and writes the segment in place). The segment must outlive the value.
 */
public final class ValueHandle extends NativeHandle {
    private final Ort ort;
    private final OrtValue value;
    private final MemorySegment memory;

    private ValueHandle(Ort ort, OrtValue value, MemorySegment memory) {
        super("ONNX Runtime tensor value");
        this.ort = ort;
        this.value = value;
        this.memory = memory;
    }

    /**
     * A tensor of {@code elementType} (an ONNX element-type code) and shape {@code dims} over the
     * first {@code byteCount} bytes of {@code memory}.
     */
    public static ValueHandle tensor(MemorySegment memory, long byteCount, long[] dims, int rank, int elementType) {
        Ort ort = Ort.get();
        OrtValue v = new OrtValue();
        ort.check(ort.api().CreateTensorWithDataAsOrtValue(ort.cpuMemory(), SegmentPointers.pointer(memory), byteCount,
                dims, rank, elementType, v), Category.INVALID_ARGUMENT, "creating a tensor value");
        return new ValueHandle(ort, v, memory);
    }

    OrtValue raw() {
        checkOpen();
        return value;
    }

    /** The memory the value is over. */
    public MemorySegment memory() {
        return memory;
    }

    @Override
    protected void release() {
        ort.api().ReleaseValue(value);
    }
}
