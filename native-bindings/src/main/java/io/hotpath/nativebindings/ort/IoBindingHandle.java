package io.hotpath.nativebindings.ort;

import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnxruntime.OrtIoBinding;

/**
 * An owned {@code OrtIoBinding}: which value each input and output name is bound to, so a run
 * reads and writes memory bound once. Names are passed as native strings made once by the
 * caller ({@link #name}), so binding allocates nothing on the Java heap.
 */
public final class IoBindingHandle extends NativeHandle {
    private final Ort ort;
    private final OrtIoBinding binding;

    public IoBindingHandle(SessionHandle session) {
        super("ONNX Runtime I/O binding");
        this.ort = Ort.get();
        this.binding = new OrtIoBinding();
        ort.check(ort.api().CreateIoBinding(session.raw(), binding), Category.ENGINE_FAILURE, "creating an I/O binding");
    }

    /** A native copy of a tensor name for {@link #bindInput}/{@link #bindOutput}; close it with the binding. */
    public static BytePointer name(String name) {
        return new BytePointer(name);
    }

    OrtIoBinding raw() {
        checkOpen();
        return binding;
    }

    public void bindInput(BytePointer name, ValueHandle value) {
        ort.check(ort.api().BindInput(raw(), name, value.raw()), Category.INVALID_ARGUMENT, "binding an input");
    }

    public void bindOutput(BytePointer name, ValueHandle value) {
        ort.check(ort.api().BindOutput(raw(), name, value.raw()), Category.INVALID_ARGUMENT, "binding an output");
    }

    @Override
    protected void release() {
        ort.api().ReleaseIoBinding(binding);
    }
}
