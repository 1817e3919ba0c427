package io.hotpath.serve;

import io.hotpath.core.DType;
import io.hotpath.serve.repository.TritonDataType;

/**
 * The Open Inference Protocol's tensor datatypes ({@code "FP32"}, {@code "INT64"}, ...) and
 * Triton's model-config names ({@code TYPE_FP32}) for Hotpath's {@link DType}s, read from the one
 * table of them, {@link TritonDataType}. Types the protocol has no name for (the 8-bit floats)
 * cannot travel.
 */
public final class WireType {
    private WireType() {
    }

    /** The protocol's datatype name for {@code t}, or null when the protocol has none. */
    public static String name(DType t) {
        TritonDataType d = TritonDataType.of(t);
        return d == null ? null : d.protocolName();
    }

    /** Triton's config name ({@code TYPE_FP32}) for {@code t}, or {@code TYPE_INVALID}. */
    public static String configName(DType t) {
        TritonDataType d = TritonDataType.of(t);
        return d == null ? "TYPE_INVALID" : d.name();
    }
}
