package io.hotpath.nativebindings.ort;

/**
 * What ONNX Runtime says about one model input or output: its name, whether it is a tensor, its
 * element type code ({@code ONNXTensorElementDataType}), its dimensions ({@code -1} for dynamic)
 * and the symbolic names of its dimensions ({@code ""} where there is none).
 */
public record TensorInfo(String name, boolean isTensor, int elementType, long[] dims, String[] dimNames, String kind) {
    /** ONNX's name for a value kind ({@code ONNXType}): tensor, sequence, map, opaque, sparse tensor, optional. */
    static String kindName(int onnxType) {
        return switch (onnxType) {
            case 1 -> "tensor";
            case 2 -> "sequence";
            case 3 -> "map";
            case 4 -> "opaque";
            case 5 -> "sparse tensor";
            case 6 -> "optional";
            default -> "ONNX value type " + onnxType;
        };
    }
}
