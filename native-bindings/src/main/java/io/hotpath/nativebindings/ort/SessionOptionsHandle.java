package io.hotpath.nativebindings.ort;

import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.NativeHandle;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnxruntime.OrtSessionOptions;

/** An owned {@code OrtSessionOptions}. Setters return this; every failure is a HotpathException. */
public final class SessionOptionsHandle extends NativeHandle {
    private final Ort ort;
    private final OrtSessionOptions options;

    public SessionOptionsHandle() {
        super("ONNX Runtime session options");
        this.ort = Ort.get();
        this.options = new OrtSessionOptions();
        ort.check(ort.api().CreateSessionOptions(options), Category.ENGINE_FAILURE, "creating session options");
    }

    OrtSessionOptions raw() {
        checkOpen();
        return options;
    }

    /** Threads inside one operator; 0 lets ONNX Runtime choose (one per physical core). */
    public SessionOptionsHandle intraOpThreads(int n) {
        ort.check(ort.api().SetIntraOpNumThreads(raw(), n), Category.INVALID_ARGUMENT, "setting intra-op threads to " + n);
        return this;
    }

    /** Threads across operators in {@link ExecutionMode#PARALLEL}; 0 lets ONNX Runtime choose. */
    public SessionOptionsHandle interOpThreads(int n) {
        ort.check(ort.api().SetInterOpNumThreads(raw(), n), Category.INVALID_ARGUMENT, "setting inter-op threads to " + n);
        return this;
    }

    public SessionOptionsHandle graphOptimization(GraphOptimization level) {
        ort.check(ort.api().SetSessionGraphOptimizationLevel(raw(), level.ortLevel()), Category.INVALID_ARGUMENT,
                "setting graph optimization " + level);
        return this;
    }

    /** Writes the model after graph optimization to {@code file} when the session is created. */
    public SessionOptionsHandle optimizedModelPath(Path file) {
        try (BytePointer p = new BytePointer(file.toAbsolutePath().toString())) {
            ort.check(ort.api().SetOptimizedModelFilePath(raw(), p), Category.INVALID_ARGUMENT,
                    "setting the optimized model path " + file);
        }
        return this;
    }

    /**
     * ONNX Runtime's profiler: every operator's run is timed and written, as a Chrome trace
     * (JSON), to {@code <prefix>_<date and time>.json} when the session is released.
     */
    public SessionOptionsHandle profiling(Path prefix) {
        try (BytePointer p = new BytePointer(prefix.toAbsolutePath().toString())) {
            ort.check(ort.api().EnableProfiling(raw(), p), Category.INVALID_ARGUMENT, "enabling profiling to " + prefix);
        }
        return this;
    }

    public SessionOptionsHandle executionMode(ExecutionMode mode) {
        ort.check(ort.api().SetSessionExecutionMode(raw(), mode.ortMode()), Category.INVALID_ARGUMENT,
                "setting execution mode " + mode);
        return this;
    }

    /** ONNX Runtime's CPU memory arena (pooling of intermediate buffers). */
    public SessionOptionsHandle cpuMemArena(boolean on) {
        ort.check(on ? ort.api().EnableCpuMemArena(raw()) : ort.api().DisableCpuMemArena(raw()),
                Category.INVALID_ARGUMENT, "setting the CPU memory arena " + (on ? "on" : "off"));
        return this;
    }

    /** Memory pattern planning (pre-plans intermediate buffers for repeated shapes). */
    public SessionOptionsHandle memPattern(boolean on) {
        ort.check(on ? ort.api().EnableMemPattern(raw()) : ort.api().DisableMemPattern(raw()),
                Category.INVALID_ARGUMENT, "setting memory patterns " + (on ? "on" : "off"));
        return this;
    }

    /** Whether ONNX Runtime's worker threads spin while waiting for work (lower latency, busier cores). */
    public SessionOptionsHandle spinWait(boolean on) {
        String v = on ? "1" : "0";
        configEntry("session.intra_op.allow_spinning", v);
        return configEntry("session.inter_op.allow_spinning", v);
    }

    /** A raw session configuration entry (ONNX Runtime's {@code AddSessionConfigEntry}). */
    public SessionOptionsHandle configEntry(String key, String value) {
        ort.check(ort.api().AddSessionConfigEntry(raw(), key, value), Category.INVALID_ARGUMENT,
                "setting session config " + key + "=" + value);
        return this;
    }

    @Override
    protected void release() {
        ort.api().ReleaseSessionOptions(options);
    }
}
