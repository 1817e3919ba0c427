package io.hotpath.serve;

import io.hotpath.core.DType;

/**
 * The Open Inference Protocol's tensor datatypes ({@code "FP32"}, {@code "INT64"}, ...) and
 * Triton's model-config names ({@code TYPE_FP32}) for Hotpath's {@link DType}s. Types the protocol
 * has no name for (the 8-bit floats) are served only by their byte size: they cannot travel.
 */
public final class WireType {
    private WireType() {
    }

    /** The protocol's datatype name for {@code t}, or null when the protocol has none. */
    public static String name(DType t) {
        return switch (t) {
            case BOOL -> "BOOL";
            case UINT8 -> "UINT8";
            case UINT16 -> "UINT16";
            case UINT32 -> "UINT32";
            case UINT64 -> "UINT64";
            case INT8 -> "INT8";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case FLOAT16 -> "FP16";
            case FLOAT32 -> "FP32";
            case FLOAT64 -> "FP64";
            case BFLOAT16 -> "BF16";
            case STRING -> "BYTES";
            default -> null;
        };
    }

    /** Triton's config name ({@code TYPE_FP32}) for {@code t}, or {@code TYPE_INVALID}. */
    public static String configName(DType t) {
        String n = name(t);
        return n == null ? "TYPE_INVALID" : "TYPE_" + (t == DType.STRING ? "STRING" : n);
    }

    /** Whether a wire element of this type is read from JSON as a floating-point number. */
    static boolean jsonFloating(DType t) {
        return t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.FLOAT16 || t == DType.BFLOAT16;
    }
}
