/**
 * The optimizer: the ONNX model IR ({@link io.hotpath.optimizer.OnnxModel}: external data,
 * topological order), an opset 11/12 to 13 upgrade, float16 conversion
 * ({@link io.hotpath.optimizer.Fp16Converter}), INT8 Q/DQ quantization calibrated on the user's
 * data ({@link io.hotpath.optimizer.Calibrator}, {@link io.hotpath.optimizer.CalibrationStats},
 * {@link io.hotpath.optimizer.QdqQuantizer}), accuracy metrics ({@link io.hotpath.optimizer.Accuracy})
 * and variant selection ({@link io.hotpath.optimizer.Optimizer}). Every pass's result is loaded
 * in ONNX Runtime before it is returned.
 *
 * <p>Depends on {@code core}, {@code onnx-model}, and {@code engine-cpu} (calibration and
 * validation run the model).
 */
package io.hotpath.optimizer;
