package io.hotpath.nativebindings.cuda;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Entry point to the CUDA runtime. {@link #status()} never throws: on a machine without the
 * runtime library, the driver or a device it returns the reason, which GPU tests print when they
 * skip and which {@code Engines.best} reports when it falls back to the CPU.
 */
public final class Cuda {
    /** What this process can use. {@code reason} is empty when {@code available}. */
    public record Status(boolean available, String reason, int deviceCount, int driverVersion, int runtimeVersion) {
        /** The driver's CUDA version as {@code major.minor}, or "none". */
        public String driver() {
            return versionString(driverVersion);
        }

        /** The runtime library's CUDA version as {@code major.minor}, or "none". */
        public String runtime() {
            return versionString(runtimeVersion);
        }
    }

    /** One device's identity, used in plan-cache keys and reports. */
    public record Device(int index, String name, int major, int minor, long totalMemory, int multiprocessors) {
        /** Compute capability as {@code sm_90} style text. */
        public String computeCapability() {
            return "sm_" + major + minor;
        }
    }

    /** Probed once, on first use (the holder class initializes lazily and thread-safely). */
    private static final class Probe {
        static final Status STATUS = probe();
    }

    private Cuda() {
    }

    /** Loads the runtime once and reports what is there. */
    public static Status status() {
        return Probe.STATUS;
    }

    private static Status probe() {
        try {
            Loader.load(cudart.class);
        } catch (Throwable t) {
            return new Status(false, "the CUDA runtime could not be loaded (libcudart.so.13 and the driver's libcuda.so.1 are needed): "
                    + rootMessage(t), 0, 0, 0);
        }
        int[] v = new int[1];
        int runtime = cudart.cudaRuntimeGetVersion(v) == cudart.cudaSuccess ? v[0] : 0;
        v[0] = 0;
        int driver = cudart.cudaDriverGetVersion(v) == cudart.cudaSuccess ? v[0] : 0;
        int[] count = new int[1];
        int rc = cudart.cudaGetDeviceCount(count);
        if (rc != cudart.cudaSuccess) {
            return new Status(false, "no CUDA device: cudaGetDeviceCount returned " + errorName(rc) + " (" + rc + ")"
                    + (driver == 0 ? "; no NVIDIA driver found" : ""), 0, driver, runtime);
        }
        if (count[0] == 0) {
            return new Status(false, "no CUDA device: the driver reports 0 devices", 0, driver, runtime);
        }
        return new Status(true, "", count[0], driver, runtime);
    }

    /**
     * Whether one of the CUDA libraries TensorRT's preset links loads here: {@code cublas},
     * {@code cudnn} or {@code nvrtc}. Returns "loaded" or "FAILED: " and the reason; never throws.
     */
    public static String libraryStatus(String preset) {
        if (!preset.matches("cublas|cudnn|nvrtc|cudart")) {
            return "FAILED: unknown CUDA library preset '" + preset + "'";
        }
        try {
            Loader.load(Class.forName("org.bytedeco.cuda.global." + preset));
            return "loaded";
        } catch (Throwable t) {
            return "FAILED: " + rootMessage(t);
        }
    }

    /** Throws a clear UNSUPPORTED error when CUDA is not usable here. */
    public static void requireAvailable() {
        Status s = status();
        if (!s.available()) {
            throw new HotpathException(Category.UNSUPPORTED, s.reason());
        }
    }

    /** The properties of device {@code index}. */
    public static Device device(int index) {
        requireAvailable();
        try (cudaDeviceProp p = new cudaDeviceProp()) {
            check(cudart.cudaGetDeviceProperties(p, index), "cudaGetDeviceProperties(" + index + ")");
            return new Device(index, p.name().getString().trim(), p.major(), p.minor(), p.totalGlobalMem(), p.multiProcessorCount());
        }
    }

    /** Makes {@code index} the calling thread's current device. */
    public static void setDevice(int index) {
        requireAvailable();
        check(cudart.cudaSetDevice(index), "cudaSetDevice(" + index + ")");
    }

    /** Free and total device memory of the current device, in bytes. */
    public static long[] memoryInfo() {
        requireAvailable();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return new long[] {free.get(), total.get()};
        }
    }

    /** Copies the first {@code bytes} of host memory to device memory; blocks. */
    public static void copyToDevice(DeviceMemory dst, HostRegion src, long bytes) {
        check(cudart.cudaMemcpy(dst.pointer(), src.pointer, bytes, CopyKind.HOST_TO_DEVICE.code), "cudaMemcpy " + CopyKind.HOST_TO_DEVICE);
    }

    /** Direction of a copy. */
    public enum CopyKind {
        HOST_TO_DEVICE(cudart.cudaMemcpyHostToDevice),
        DEVICE_TO_HOST(cudart.cudaMemcpyDeviceToHost),
        DEVICE_TO_DEVICE(cudart.cudaMemcpyDeviceToDevice);

        final int code;

        CopyKind(int code) {
            this.code = code;
        }
    }

    /** Maps a CUDA return code to an exception; {@code cudaSuccess} returns quietly. Allocation-free on success. */
    public static void check(int code, String what) {
        if (code != 0) {
            throw error(code, what);
        }
    }

    /** The exception for a failed CUDA call, with the CUDA code and name. */
    public static HotpathException error(int code, String what) {
        String name = errorName(code);
        String text = errorString(code);
        return new HotpathException(categoryOf(code), what + " failed: " + name + " (" + code + ")"
                + (text.isEmpty() ? "" : ": " + text), code, name, null);
    }

    /**
     * How Hotpath classifies a CUDA error: missing device or driver is UNSUPPORTED, a bad argument
     * (invalid value, invalid device pointer) is INVALID_ARGUMENT, everything else, out of memory
     * and launch failures included, is ENGINE_FAILURE.
     */
    public static Category categoryOf(int code) {
        return switch (code) {
            case 35, 100, 101, 209, 222 -> Category.UNSUPPORTED;   // insufficient driver, no device, invalid device, no binary for GPU, unsupported PTX
            case 1, 17 -> Category.INVALID_ARGUMENT;                // invalid value, invalid device pointer
            default -> Category.ENGINE_FAILURE;
        };
    }

    /** The CUDA name of an error code, e.g. {@code cudaErrorMemoryAllocation}; works without the library for common codes. */
    public static String errorName(int code) {
        String known = switch (code) {
            case 0 -> "cudaSuccess";
            case 1 -> "cudaErrorInvalidValue";
            case 2 -> "cudaErrorMemoryAllocation";
            case 3 -> "cudaErrorInitializationError";
            case 17 -> "cudaErrorInvalidDevicePointer";
            case 35 -> "cudaErrorInsufficientDriver";
            case 100 -> "cudaErrorNoDevice";
            case 101 -> "cudaErrorInvalidDevice";
            case 209 -> "cudaErrorNoKernelImageForDevice";
            case 700 -> "cudaErrorIllegalAddress";
            case 719 -> "cudaErrorLaunchFailure";
            case 900 -> "cudaErrorStreamCaptureUnsupported";
            default -> null;
        };
        if (known != null) {
            return known;
        }
        try {
            return cudart.cudaGetErrorName(code).getString();
        } catch (Throwable t) {
            return "cudaError(" + code + ")";
        }
    }

    private static String errorString(int code) {
        try {
            return cudart.cudaGetErrorString(code).getString();
        } catch (Throwable t) {
            return "";
        }
    }

    /** {@code 13010} as {@code 13.1}; 0 as {@code none}. */
    public static String versionString(int v) {
        return v <= 0 ? "none" : (v / 1000) + "." + (v % 1000) / 10;
    }

    static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + ": " + r.getMessage();
    }
}
