package io.hotpath.nativebindings.cuda;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.NativeHandle;
import io.hotpath.nativebindings.SegmentPointers;
import java.lang.foreign.MemorySegment;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory from {@code cudaHostAlloc}, seen from Java as a {@link MemorySegment}:
 * callers write inputs straight into it and the GPU copies from it by DMA, with no staging copy.
 */
public final class PinnedMemory extends NativeHandle {
    private final Pointer pointer = new Pointer();
    private final MemorySegment segment;
    private final long bytes;
    /** The segment's scope: closed before the memory is freed, so stale views fail instead of reading freed memory. */
    private final java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofShared();

    public PinnedMemory(long bytes) {
        super("pinned host memory (" + bytes + " bytes)");
        if (bytes <= 0) {
            throw HotpathException.invalidArgument("pinned memory size must be positive, was " + bytes);
        }
        Cuda.requireAvailable();
        Cuda.check(cudart.cudaHostAlloc(pointer, bytes, cudart.cudaHostAllocDefault), "cudaHostAlloc(" + bytes + " bytes)");
        this.bytes = bytes;
        this.segment = SegmentPointers.segment(pointer, bytes, scope);
    }

    /** The memory as a segment; valid until {@link #close()}, after which every access throws IllegalStateException. */
    public MemorySegment segment() {
        checkOpen();
        return segment;
    }

    /** The memory as a JavaCPP pointer, for copies. */
    Pointer pointer() {
        checkOpen();
        return pointer;
    }

    public long byteSize() {
        return bytes;
    }

    @Override
    protected void release() {
        scope.close();      // every view of the memory is invalid before the memory goes
        cudart.cudaFreeHost(pointer);
    }
}
