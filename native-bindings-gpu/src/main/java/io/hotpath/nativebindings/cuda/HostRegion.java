package io.hotpath.nativebindings.cuda;

import io.hotpath.nativebindings.SegmentPointers;
import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.Pointer;

/**
 * Host memory that CUDA copies read or write: a view of an off-heap {@link MemorySegment} (pinned
 * memory from {@link PinnedMemory} copies by DMA; ordinary off-heap memory works too, staged by the
 * driver). It owns nothing: the segment's owner keeps it alive.
 */
public final class HostRegion {
    final Pointer pointer;
    private final long byteSize;

    private HostRegion(Pointer pointer, long byteSize) {
        this.pointer = pointer;
        this.byteSize = byteSize;
    }

    /** A region over {@code segment} (which must be off-heap). */
    public static HostRegion of(MemorySegment segment) {
        return new HostRegion(SegmentPointers.pointer(segment), segment.byteSize());
    }

    /** The whole of a pinned allocation. */
    public static HostRegion of(PinnedMemory pinned) {
        return new HostRegion(pinned.pointer(), pinned.byteSize());
    }

    public long byteSize() {
        return byteSize;
    }
}
