package io.hotpath.nativebindings.trt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.cuda.Cuda;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;

/**
 * Whether TensorRT can be used in this process, and its version. {@link #status()} never throws:
 * it says what is missing (the CUDA runtime or a device, {@code libnvinfer.so.10},
 * {@code libnvonnxparser.so.10}, or the CUDA libraries the preset links: cuBLAS, cuDNN, NVRTC).
 */
public final class TensorRt {
    /** {@code reason} is empty when {@code available}. */
    public record Status(boolean available, String reason, String version) {
    }

    private static TrtLog.Logger logger;

    /** Probed once, on first use (the holder class initializes lazily and thread-safely). */
    private static final class Probe {
        static final Status STATUS = probe();
    }

    private TensorRt() {
    }

    public static Status status() {
        return Probe.STATUS;
    }

    private static Status probe() {
        Cuda.Status cuda = Cuda.status();
        if (!cuda.available()) {
            return new Status(false, cuda.reason(), "none");
        }
        try {
            Loader.load(nvinfer.class);
        } catch (Throwable t) {
            return new Status(false, "TensorRT could not be loaded (libnvinfer.so.10 and the cuBLAS, cuDNN and NVRTC "
                    + "libraries it links must be on LD_LIBRARY_PATH): " + rootMessage(t), "none");
        }
        try {
            Loader.load(nvonnxparser.class);
        } catch (Throwable t) {
            return new Status(false, "the TensorRT ONNX parser could not be loaded (libnvonnxparser.so.10, libnvinfer_plugin.so.10): "
                    + rootMessage(t), "none");
        }
        logger = new TrtLog.Logger();
        return new Status(true, "", versionString(nvinfer.getInferLibVersion()));
    }

    /** Throws UNSUPPORTED with the reason when TensorRT is not usable here. */
    public static void requireAvailable() {
        Status s = status();
        if (!s.available()) {
            throw new HotpathException(Category.UNSUPPORTED, s.reason());
        }
    }

    /** The process-wide logger handed to every builder, parser and runtime. */
    static TrtLog.Logger logger() {
        requireAvailable();
        return logger;
    }

    /** {@code 101501} (TensorRT's encoding: major*10000 + minor*100 + patch) as {@code 10.15.1}. */
    public static String versionString(int v) {
        if (v <= 0) {
            return "none";
        }
        return (v / 10000) + "." + (v / 100) % 100 + "." + v % 100;
    }

    static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + ": " + r.getMessage();
    }
}
