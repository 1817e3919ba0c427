package io.hotpath.nativebindings.ort;

import static org.bytedeco.onnxruntime.global.onnxruntime.ORT_API_VERSION;
import static org.bytedeco.onnxruntime.global.onnxruntime.ORT_LOGGING_LEVEL_ERROR;
import static org.bytedeco.onnxruntime.global.onnxruntime.OrtDeviceAllocator;
import static org.bytedeco.onnxruntime.global.onnxruntime.OrtGetApiBase;
import static org.bytedeco.onnxruntime.global.onnxruntime.OrtMemTypeDefault;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import org.bytedeco.onnxruntime.OrtAllocator;
import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtEnv;
import org.bytedeco.onnxruntime.OrtMemoryInfo;
import org.bytedeco.onnxruntime.OrtStatus;

/**
 * The process-wide ONNX Runtime: its C API table, its one environment, a CPU memory descriptor
 * and its default allocator. ONNX Runtime allows one environment per process, so this one lives
 * as long as the process (it is never released; sessions are).
 *
 * <p>{@link #check} turns a non-null {@code OrtStatus} into a {@link HotpathException} carrying
 * ONNX Runtime's error code and message, and releases the status.
 */
public final class Ort {
    private static volatile Ort instance;

    private final OrtApi api;
    private final OrtEnv env;
    private final OrtMemoryInfo cpuMemory;
    private final OrtAllocator allocator;
    private final String version;

    private Ort() {
        OrtApi a;
        try {
            a = OrtGetApiBase().GetApi().call(ORT_API_VERSION);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new HotpathException(Category.UNSUPPORTED,
                    "ONNX Runtime's native library could not be loaded for this platform: " + e.getMessage(), e);
        }
        if (a == null || a.isNull()) {
            throw new HotpathException(Category.UNSUPPORTED, "ONNX Runtime does not provide API version " + ORT_API_VERSION);
        }
        this.api = a;
        this.version = OrtGetApiBase().GetVersionString().call().getString();
        this.env = new OrtEnv();
        check(api.CreateEnv(ORT_LOGGING_LEVEL_ERROR, "hotpath", env), Category.ENGINE_FAILURE, "creating the ONNX Runtime environment");
        this.cpuMemory = new OrtMemoryInfo();
        check(api.CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, cpuMemory), Category.ENGINE_FAILURE,
                "creating the CPU memory descriptor");
        this.allocator = new OrtAllocator();
        check(api.GetAllocatorWithDefaultOptions(allocator), Category.ENGINE_FAILURE, "getting the default allocator");
    }

    /** The runtime, loaded on first use. */
    public static Ort get() {
        Ort o = instance;
        if (o == null) {
            synchronized (Ort.class) {
                o = instance;
                if (o == null) {
                    o = new Ort();
                    instance = o;
                }
            }
        }
        return o;
    }

    /** ONNX Runtime's version string, for example {@code 1.24.1}. */
    public String version() {
        return version;
    }

    OrtApi api() {
        return api;
    }

    OrtEnv env() {
        return env;
    }

    OrtMemoryInfo cpuMemory() {
        return cpuMemory;
    }

    OrtAllocator allocator() {
        return allocator;
    }

    /**
     * Does nothing for a null (successful) status; otherwise releases it and throws a
     * {@link HotpathException} with ONNX Runtime's code and message. {@code category} is used
     * unless the code itself says better (a missing file is NOT_FOUND, a bad argument
     * INVALID_ARGUMENT, an unparsable model INVALID_MODEL).
     */
    void check(OrtStatus status, Category category, String doing) {
        if (status == null || status.isNull()) {
            return;
        }
        int code;
        String message;
        try {
            code = api.GetErrorCode().call(status);
            message = api.GetErrorMessage().call(status).getString();
        } finally {
            api.ReleaseStatus(status);
        }
        throw error(code, message, category, doing);
    }

    /** The exception for an ONNX Runtime error code and message. */
    static HotpathException error(int code, String message, Category category, String doing) {
        Category c = switch (code) {
            case 3 -> Category.NOT_FOUND;                      // ORT_NO_SUCHFILE
            case 4, 7, 10 -> Category.INVALID_MODEL;           // ORT_NO_MODEL, ORT_INVALID_PROTOBUF, ORT_INVALID_GRAPH
            case 2 -> category == Category.INVALID_MODEL ? category : Category.INVALID_ARGUMENT; // ORT_INVALID_ARGUMENT
            case 9 -> category == Category.INVALID_MODEL ? category : Category.UNSUPPORTED;      // ORT_NOT_IMPLEMENTED
            default -> category;
        };
        return new HotpathException(c, doing + ": " + message, code, codeName(code), null);
    }

    /** ONNX Runtime's name for an error code ({@code OrtErrorCode}). */
    public static String codeName(int code) {
        return switch (code) {
            case 0 -> "ORT_OK";
            case 1 -> "ORT_FAIL";
            case 2 -> "ORT_INVALID_ARGUMENT";
            case 3 -> "ORT_NO_SUCHFILE";
            case 4 -> "ORT_NO_MODEL";
            case 5 -> "ORT_ENGINE_ERROR";
            case 6 -> "ORT_RUNTIME_EXCEPTION";
            case 7 -> "ORT_INVALID_PROTOBUF";
            case 8 -> "ORT_MODEL_LOADED";
            case 9 -> "ORT_NOT_IMPLEMENTED";
            case 10 -> "ORT_INVALID_GRAPH";
            case 11 -> "ORT_EP_FAIL";
            case 12 -> "ORT_MODEL_LOAD_CANCELED";
            case 13 -> "ORT_MODEL_REQUIRES_COMPILATION";
            case 14 -> "ORT_NOT_FOUND";
            default -> "ORT_ERROR_" + code;
        };
    }
}
