/**
 * The TensorRT engine: build a TensorRT plan from ONNX (FP32, TF32, FP16, INT8 from explicit
 * Q/DQ models or a calibrator), optimization profiles, timing and plan caches, CUDA streams,
 * pinned host buffers and CUDA graphs, behind core's {@code Engine} SPI.
 *
 * <p>Status: its work comes in a later issue; this module holds only this description so the
 * layout is complete.
 *
 * <p>May depend on: {@code core}, and {@code native-bindings} for every CUDA and TensorRT handle.
 */
package io.hotpath.engine.tensorrt;
