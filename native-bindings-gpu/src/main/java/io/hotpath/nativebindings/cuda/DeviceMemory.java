package io.hotpath.nativebindings.cuda;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.NativeHandle;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/** Device memory from {@code cudaMalloc}, freed once. */
public final class DeviceMemory extends NativeHandle {
    private final Pointer pointer = new Pointer();
    private final long bytes;

    public DeviceMemory(long bytes) {
        super("device memory (" + bytes + " bytes)");
        if (bytes <= 0) {
            throw HotpathException.invalidArgument("device memory size must be positive, was " + bytes);
        }
        Cuda.requireAvailable();
        Cuda.check(cudart.cudaMalloc(pointer, bytes), "cudaMalloc(" + bytes + " bytes)");
        this.bytes = bytes;
    }

    public Pointer pointer() {
        checkOpen();
        return pointer;
    }

    /** The device address, as TensorRT and the calibrator take it. */
    public long address() {
        checkOpen();
        return pointer.address();
    }

    public long byteSize() {
        return bytes;
    }

    @Override
    protected void release() {
        cudart.cudaFree(pointer);
    }
}
