package io.hotpath.core;

/**
 * Element types Hotpath moves through its engines. The {@link #onnxCode()} of each is the value
 * ONNX ({@code TensorProto.DataType}) and ONNX Runtime ({@code ONNXTensorElementDataType}) use.
 * Every fixed-width numeric type (the four 8-bit floats included), bool and string is here; ONNX's
 * other types (complex, the 4- and 2-bit floats and integers, float8e8m0) are refused by
 * {@link #ofTensor}, the one place that says so.
 */
public enum DType {
    FLOAT32(4, 1, "float32"),
    FLOAT64(8, 11, "float64"),
    FLOAT16(2, 10, "float16"),
    BFLOAT16(2, 16, "bfloat16"),
    INT8(1, 3, "int8"),
    UINT8(1, 2, "uint8"),
    INT16(2, 5, "int16"),
    UINT16(2, 4, "uint16"),
    INT32(4, 6, "int32"),
    UINT32(4, 12, "uint32"),
    INT64(8, 7, "int64"),
    UINT64(8, 13, "uint64"),
    BOOL(1, 9, "bool"),
    /** 8-bit float, 4 exponent bits, 3 mantissa bits, no infinity (opset 19). Raw bits through get/putByte; converted by get/putAsDouble. */
    FLOAT8E4M3FN(1, 17, "float8e4m3fn"),
    /** As {@link #FLOAT8E4M3FN}, with no negative zero and one NaN (0x80). */
    FLOAT8E4M3FNUZ(1, 18, "float8e4m3fnuz"),
    /** 8-bit float, 5 exponent bits, 2 mantissa bits, with infinities. */
    FLOAT8E5M2(1, 19, "float8e5m2"),
    /** As {@link #FLOAT8E5M2}, with no infinity, no negative zero and one NaN (0x80). */
    FLOAT8E5M2FNUZ(1, 20, "float8e5m2fnuz"),
    /**
     * UTF-8 strings. The element is an 8-byte entry of the tensor's table that locates the string
     * in the tensor's text memory (see {@link Tensor#putString}); {@link #byteSize()} is that entry's size.
     */
    STRING(8, 8, "string");

    /**
     * ONNX's names of its element types, by code ({@code TensorProto.DataType}, lower-cased;
     * FLOAT is float32 and DOUBLE float64 as in {@link #toString()}).
     */
    private static final String[] ONNX_NAMES = {
        "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64", "string", "bool",
        "float16", "float64", "uint32", "uint64", "complex64", "complex128", "bfloat16",
        "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1",
        "float8e8m0", "uint2", "int2"};

    private static final DType[] BY_ONNX_CODE = new DType[ONNX_NAMES.length];
    private static final String SUPPORTED;

    static {
        StringBuilder s = new StringBuilder();
        for (DType t : values()) {
            BY_ONNX_CODE[t.onnxCode] = t;
            s.append(s.isEmpty() ? "" : ", ").append(t.label);
        }
        SUPPORTED = s.toString();
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

    /** True for float32, float64, float16, bfloat16 and the 8-bit floats. */
    public boolean isFloatingPoint() {
        return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16 || isFloat8();
    }

    /** True for the four 8-bit float formats. */
    public boolean isFloat8() {
        return this == FLOAT8E4M3FN || this == FLOAT8E4M3FNUZ || this == FLOAT8E5M2 || this == FLOAT8E5M2FNUZ;
    }

    /** True for the unsigned integer types (uint8 to uint64); bool is neither signed nor unsigned. */
    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    /** The type for an ONNX element-type code, or null when Hotpath does not support it. */
    public static DType fromOnnxCode(int code) {
        return code >= 0 && code < BY_ONNX_CODE.length ? BY_ONNX_CODE[code] : null;
    }

    /**
     * The type of a model's tensor, or UNSUPPORTED naming the tensor and ONNX's name for its type:
     * {@code input 'z' has element type complex64, which Hotpath does not support (supported: ...)}.
     * {@code kind} is what the tensor is ("input", "output").
     */
    public static DType ofTensor(String kind, String tensorName, int onnxCode) {
        DType t = fromOnnxCode(onnxCode);
        if (t == null) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, unsupportedMessage(kind, tensorName, onnxCode));
        }
        return t;
    }

    /** The message of {@link #ofTensor}'s refusal, for engines that check a model before loading it. */
    public static String unsupportedMessage(String kind, String tensorName, int onnxCode) {
        return kind + " '" + tensorName + "' has element type " + onnxName(onnxCode) + ", which Hotpath does not support (supported: "
                + SUPPORTED + ")";
    }

    /** ONNX's name for an element-type code ({@code complex64}, {@code float8e4m3fn}), or {@code ONNX element type N}. */
    public static String onnxName(int code) {
        return code >= 0 && code < ONNX_NAMES.length ? ONNX_NAMES[code] : "ONNX element type " + code;
    }

    /** The supported types' labels, comma-separated, for messages. */
    public static String supportedLabels() {
        return SUPPORTED;
    }

    /** Parses a label such as {@code float32} or {@code int64} (case-insensitive). */
    public static DType parse(String label) {
        for (DType t : values()) {
            if (t.label.equalsIgnoreCase(label) || t.name().equalsIgnoreCase(label)) {
                return t;
            }
        }
        throw HotpathException.invalidArgument("unknown dtype '" + label + "'; known: " + SUPPORTED);
    }

    @Override
    public String toString() {
        return label;
    }
}
