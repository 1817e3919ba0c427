package io.hotpath.serve.repository;

import io.hotpath.core.DType;

/**
 * Triton's {@code DataType} enum ({@code model_config.proto}), each with its proto number, the
 * Hotpath {@link DType} it maps to, and the datatype name of the Open Inference Protocol
 * ({@code FP32}, {@code BYTES}). Triton's {@code TYPE_INVALID} (0) is not a constant: a config
 * that says it is refused. Hotpath's 8-bit floats have no Triton type.
 */
public enum TritonDataType implements MessageReader.ProtoEnum {
    TYPE_BOOL(1, DType.BOOL, "BOOL"),
    TYPE_UINT8(2, DType.UINT8, "UINT8"),
    TYPE_UINT16(3, DType.UINT16, "UINT16"),
    TYPE_UINT32(4, DType.UINT32, "UINT32"),
    TYPE_UINT64(5, DType.UINT64, "UINT64"),
    TYPE_INT8(6, DType.INT8, "INT8"),
    TYPE_INT16(7, DType.INT16, "INT16"),
    TYPE_INT32(8, DType.INT32, "INT32"),
    TYPE_INT64(9, DType.INT64, "INT64"),
    TYPE_FP16(10, DType.FLOAT16, "FP16"),
    TYPE_FP32(11, DType.FLOAT32, "FP32"),
    TYPE_FP64(12, DType.FLOAT64, "FP64"),
    TYPE_STRING(13, DType.STRING, "BYTES"),
    TYPE_BF16(14, DType.BFLOAT16, "BF16");

    private final int number;
    private final DType dtype;
    private final String protocolName;

    TritonDataType(int number, DType dtype, String protocolName) {
        this.number = number;
        this.dtype = dtype;
        this.protocolName = protocolName;
    }

    /** The proto enum number. */
    @Override
    public int number() {
        return number;
    }

    /** The Hotpath element type. */
    public DType dtype() {
        return dtype;
    }

    /** The Open Inference Protocol's name of this type ({@code FP32}; {@code BYTES} for strings). */
    public String protocolName() {
        return protocolName;
    }

    /** The Triton type of a Hotpath type, or null for the 8-bit floats, which Triton has no type for. */
    public static TritonDataType of(DType t) {
        return BY_DTYPE[t.ordinal()];      // a table, not values(): this is on the request path (values() copies the array)
    }

    private static final TritonDataType[] BY_DTYPE = new TritonDataType[DType.values().length];

    static {
        for (TritonDataType d : values()) {
            BY_DTYPE[d.dtype.ordinal()] = d;
        }
    }
}
