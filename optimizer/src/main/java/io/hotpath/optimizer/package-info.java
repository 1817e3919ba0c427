/**
 * The optimizer: ONNX model IR built on {@code onnx-model}'s protobuf classes, graph passes,
 * FP16 conversion, INT8 Q/DQ quantization calibrated on the user's data, accuracy validation
 * against the original model and selection of the fastest variant within an accuracy budget.
 *
 * <p>Status: its work comes in a later issue; this module holds only this description so the
 * layout is complete.
 *
 * <p>May depend on: {@code core}, {@code onnx-model}, and {@code engine-cpu} (calibration runs
 * the model).
 */
package io.hotpath.optimizer;
