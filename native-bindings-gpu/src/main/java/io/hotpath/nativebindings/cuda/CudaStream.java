package io.hotpath.nativebindings.cuda;

import io.hotpath.nativebindings.NativeHandle;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/** A non-blocking CUDA stream with one owner. Copies and synchronization on it allocate nothing. */
public final class CudaStream extends NativeHandle {
    private final CUstream_st stream = new CUstream_st();

    public CudaStream() {
        super("CUDA stream");
        Cuda.requireAvailable();
        Cuda.check(cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    }

    /** The native stream, for TensorRT's {@code enqueueV3}. */
    public CUstream_st handle() {
        checkOpen();
        return stream;
    }

    /** Queues a host-to-device copy of the first {@code bytes} of {@code src}; pinned host memory makes it truly asynchronous. */
    public void copyToDevice(DeviceMemory dst, HostRegion src, long bytes) {
        copy(dst.pointer(), src.pointer, bytes, Cuda.CopyKind.HOST_TO_DEVICE);
    }

    /** Queues a device-to-host copy of the first {@code bytes} of {@code src}. */
    public void copyToHost(HostRegion dst, DeviceMemory src, long bytes) {
        copy(dst.pointer, src.pointer(), bytes, Cuda.CopyKind.DEVICE_TO_HOST);
    }

    private void copy(Pointer dst, Pointer src, long bytes, Cuda.CopyKind kind) {
        int rc = cudart.cudaMemcpyAsync(dst, src, bytes, kind.code, stream);
        if (rc != 0) {
            throw Cuda.error(rc, "cudaMemcpyAsync " + kind + " of " + bytes + " bytes");
        }
    }

    /** Waits for everything queued on this stream. */
    public void synchronize() {
        int rc = cudart.cudaStreamSynchronize(stream);
        if (rc != 0) {
            throw Cuda.error(rc, "cudaStreamSynchronize");
        }
    }

    /** Starts capturing the work queued on this stream (by this thread) into a graph. */
    public void beginCapture() {
        Cuda.check(cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    }

    /** Ends a capture and instantiates the captured work as an executable graph. */
    public CudaGraph endCapture() {
        return CudaGraph.endCapture(this);
    }

    @Override
    protected void release() {
        cudart.cudaStreamDestroy(stream);
    }
}
