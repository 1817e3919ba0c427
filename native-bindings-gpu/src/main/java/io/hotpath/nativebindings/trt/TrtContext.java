package io.hotpath.nativebindings.trt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import io.hotpath.nativebindings.cuda.CudaStream;
import io.hotpath.nativebindings.cuda.DeviceMemory;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * One execution context on one stream with one optimization profile. Tensor names are held as
 * native strings and shapes in preallocated {@code Dims64}, so {@link #setInputShape} and
 * {@link #enqueue()} allocate nothing on the Java heap.
 */
public final class TrtContext extends NativeHandle {
    private final TrtPlan plan;
    private final IExecutionContext ctx;
    private final CudaStream stream;
    private final DeviceMemory scratch;
    private final Dims64 dims = new Dims64();

    TrtContext(TrtPlan plan, IExecutionContext ctx, int profile, CudaStream stream, long scratchBytes) {
        super("TensorRT execution context (profile " + profile + ")");
        this.plan = plan;
        this.ctx = ctx;
        this.stream = stream;
        long mark = TrtLog.mark();
        this.scratch = scratchBytes > 0 ? new DeviceMemory(scratchBytes) : null;
        if (scratch != null) {
            ctx.setDeviceMemoryV2(scratch.pointer(), scratchBytes);
        }
        if (!ctx.setOptimizationProfileAsync(profile, stream.handle())) {
            throw new HotpathException(Category.ENGINE_FAILURE, "setOptimizationProfileAsync(" + profile + ") failed: " + TrtLog.errorsSince(mark));
        }
        stream.synchronize();
    }

    /** A tensor name held as a native string, to pass without conversions on the hot path. Close it when done. */
    public static final class Name extends io.hotpath.nativebindings.NativeHandle {
        final BytePointer chars;
        private final String text;

        public Name(String tensor) {
            super("tensor name " + tensor);
            this.chars = new BytePointer(tensor);
            this.text = tensor;
        }

        @Override
        public String toString() {
            return text;
        }

        @Override
        protected void release() {
            chars.close();
        }
    }

    /** Sets an input's shape; false (with TensorRT's reason from {@link TrtLog}) when outside the profile. */
    public boolean setInputShape(Name name, long[] shape, int rank) {
        checkOpen();
        dims.nbDims(rank);
        for (int i = 0; i < rank; i++) {
            dims.d(i, shape[i]);
        }
        return ctx.setInputShape(name.chars, dims);
    }

    /** The current shape of a tensor (allocates; call when shapes change, not per run). */
    public long[] tensorShape(String name) {
        checkOpen();
        return TrtBuilder.dims(ctx.getTensorShape(name));
    }

    /** Binds a tensor to device memory. */
    public void setTensorAddress(Name name, DeviceMemory device) {
        checkOpen();
        long mark = TrtLog.mark();
        if (!ctx.setTensorAddress(name.chars, device.pointer())) {
            throw new HotpathException(Category.ENGINE_FAILURE, "setTensorAddress(" + name + ") failed: " + TrtLog.errorsSince(mark));
        }
    }

    /** Queues the network on the context's stream. */
    public void enqueue() {
        if (!ctx.enqueueV3(stream.handle())) {
            long mark = TrtLog.mark();
            throw new HotpathException(Category.ENGINE_FAILURE, "enqueueV3 failed: " + TrtLog.errorsSince(Math.max(0, mark - 4)));
        }
    }

    @Override
    protected void release() {
        if (scratch != null) {
            scratch.close();
        }
    }
}
