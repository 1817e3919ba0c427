package io.hotpath.nativebindings;

import io.hotpath.core.HotpathException;
import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.Pointer;

/**
 * Zero-copy bridge between FFM {@link MemorySegment}s and JavaCPP {@link Pointer}s: both sides
 * see the same bytes at the same address. The pointer does not own the memory (no deallocator is
 * registered); the segment's arena does, and must outlive every pointer made from it.
 */
public final class SegmentPointers {
    private SegmentPointers() {
    }

    /** A JavaCPP pointer to the first byte of {@code segment}, with its limit and capacity in bytes. */
    public static Pointer pointer(MemorySegment segment) {
        if (!segment.isNative()) {
            throw HotpathException.invalidArgument("a heap MemorySegment has no stable native address; "
                    + "allocate tensor memory from an Arena (off-heap) to pass it to a native engine");
        }
        return new SegmentPointer(segment);
    }

    /**
     * A segment over the {@code byteSize} bytes a JavaCPP pointer points at (from its current
     * position), valid for ever: only for memory read at once while its owner is known to be alive.
     */
    @SuppressWarnings("restricted")     // reinterpret: the pointer's owner vouches for the extent
    public static MemorySegment segment(Pointer pointer, long byteSize) {
        return MemorySegment.ofAddress(address(pointer)).reinterpret(byteSize);
    }

    /**
     * A segment over the {@code byteSize} bytes a JavaCPP pointer points at, valid only while
     * {@code scope} is open: the owner closes the scope before it frees the memory, so a late
     * access throws {@link IllegalStateException} instead of reading freed memory.
     */
    @SuppressWarnings("restricted")     // reinterpret: the pointer's owner vouches for the extent and closes the scope first
    public static MemorySegment segment(Pointer pointer, long byteSize, java.lang.foreign.Arena scope) {
        return MemorySegment.ofAddress(address(pointer)).reinterpret(byteSize, scope, null);
    }

    private static long address(Pointer pointer) {
        if (pointer == null || pointer.isNull()) {
            throw HotpathException.invalidArgument("null native pointer");
        }
        return pointer.address() + pointer.position() * Math.max(1, pointer.sizeof());
    }

    /** A pointer whose address and extent are those of a segment; it keeps the segment reachable. */
    private static final class SegmentPointer extends Pointer {
        @SuppressWarnings("unused")
        private final MemorySegment segment;

        SegmentPointer(MemorySegment segment) {
            this.segment = segment;
            this.address = segment.address();
            this.limit = segment.byteSize();
            this.capacity = segment.byteSize();
        }
    }
}
