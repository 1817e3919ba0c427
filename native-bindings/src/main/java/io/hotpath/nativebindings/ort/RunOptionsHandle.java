package io.hotpath.nativebindings.ort;

import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import org.bytedeco.onnxruntime.OrtRunOptions;

/** Owned {@code OrtRunOptions}, made once and reused for every run. */
public final class RunOptionsHandle extends NativeHandle {
    private final Ort ort;
    private final OrtRunOptions options;

    public RunOptionsHandle() {
        super("ONNX Runtime run options");
        this.ort = Ort.get();
        this.options = new OrtRunOptions();
        ort.check(ort.api().CreateRunOptions(options), Category.ENGINE_FAILURE, "creating run options");
    }

    OrtRunOptions raw() {
        checkOpen();
        return options;
    }

    /** Asks runs in progress with these options to stop as soon as they can (they fail). */
    public void terminate() {
        ort.check(ort.api().RunOptionsSetTerminate(raw()), Category.ENGINE_FAILURE, "terminating runs");
    }

    @Override
    protected void release() {
        ort.api().ReleaseRunOptions(options);
    }
}
