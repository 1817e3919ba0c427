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
    private final AddressArray addresses = new AddressArray();

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

    /**
     * A string tensor of shape {@code dims}, its strings owned by ONNX Runtime (its API keeps them
     * as its own string objects: they cannot live in Hotpath's memory). Fill it with {@link #fillStrings}.
     */
    public static ValueHandle strings(long[] dims, int rank) {
        Ort ort = Ort.get();
        OrtValue v = new OrtValue();
        ort.check(ort.api().CreateTensorAsOrtValue(ort.allocator(), dims, rank, 8, v), Category.INVALID_ARGUMENT, "creating a string tensor value");
        return new ValueHandle(ort, v, MemorySegment.NULL);
    }

    /**
     * Sets every element of this string tensor: {@code pointers} holds {@code count} native
     * addresses of NUL-terminated UTF-8 strings, which ONNX Runtime copies. Allocation-free. The
     * caller vouches that each address points at a NUL-terminated string it owns.
     */
    public void fillStrings(MemorySegment pointers, long count) {
        if (count * 8 > pointers.byteSize()) {
            throw io.hotpath.core.HotpathException.invalidArgument("string tensor: " + count + " addresses do not fit " + pointers.byteSize() + " bytes");
        }
        ort.check(ort.api().FillStringTensor(raw(), addresses.at(pointers.address()), count), Category.INVALID_ARGUMENT, "filling a string tensor");
    }

    /** A {@code const char**} re-pointed at memory Hotpath owns, so passing it allocates nothing. */
    static final class AddressArray extends org.bytedeco.javacpp.PointerPointer<org.bytedeco.javacpp.Pointer> {
        AddressArray() {
            super((org.bytedeco.javacpp.Pointer) null);
        }

        AddressArray at(long a) {
            address = a;
            return this;
        }
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
