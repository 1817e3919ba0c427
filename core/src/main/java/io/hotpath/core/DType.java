package io.hotpath.core;

/**
 * Element types Hotpath moves through its engines. The {@link #onnxCode()} of each is the value
 * ONNX ({@code TensorProto.DataType}) and ONNX Runtime ({@code ONNXTensorElementDataType}) use.
 */
public enum DType {
    FLOAT32(4, 1, "float32"),
    FLOAT16(2, 10, "float16"),
    BFLOAT16(2, 16, "bfloat16"),
    INT8(1, 3, "int8"),
    UINT8(1, 2, "uint8"),
    INT32(4, 6, "int32"),
    INT64(8, 7, "int64"),
    BOOL(1, 9, "bool");

    private static final DType[] BY_ONNX_CODE = new DType[17];

    static {
        for (DType t : values()) {
            BY_ONNX_CODE[t.onnxCode] = t;
        }
    }

    private final int byteSize;
    private final int onnxCode;
    private final String label;

    DType(int byteSize, int onnxCode, String label) {
        this.byteSize = byteSize;
        this.onnxCode = onnxCode;
        this.label = label;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The ONNX / ONNX Runtime element-type code. */
    public int onnxCode() {
        return onnxCode;
    }

    /** The type for an ONNX element-type code, or null when Hotpath does not support it. */
    public static DType fromOnnxCode(int code) {
        return code >= 0 && code < BY_ONNX_CODE.length ? BY_ONNX_CODE[code] : null;
    }

    /** Parses a label such as {@code float32} or {@code int64} (case-insensitive). */
    public static DType parse(String label) {
        for (DType t : values()) {
            if (t.label.equalsIgnoreCase(label) || t.name().equalsIgnoreCase(label)) {
                return t;
            }
        }
        throw HotpathException.invalidArgument("unknown dtype '" + label + "'; known: float32, float16, bfloat16, int8, uint8, int32, int64, bool");
    }

    @Override
    public String toString() {
        return label;
    }
}
