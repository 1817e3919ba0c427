package io.hotpath.nativebindings.ort;

/**
 * What ONNX Runtime says about one model input or output: its name, whether it is a tensor, its
 * element type code ({@code ONNXTensorElementDataType}), its dimensions ({@code -1} for dynamic)
 * and the symbolic names of its dimensions ({@code ""} where there is none).
 */
public record TensorInfo(String name, boolean isTensor, int elementType, long[] dims, String[] dimNames) {
}
