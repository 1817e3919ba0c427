/**
 * The TensorRT engine behind core's {@code Engine} SPI: builds a plan from ONNX (FP32, TF32, FP16,
 * INT8 from explicit Q/DQ models as strongly typed networks or from TensorRT's implicit
 * calibration with a Java calibrator), with optimization profiles per batch bucket; caches plans
 * under a key of model content, precision, profiles, GPU and library versions, and the timing
 * cache beside them; runs each batch on its own execution context and CUDA stream from pinned
 * host buffers, optionally replaying a captured CUDA graph. {@link io.hotpath.engine.tensorrt.Engines}
 * picks TensorRT when it is usable and ONNX Runtime on the CPU otherwise, and says why.
 *
 * <p>Depends on {@code core}, {@code native-bindings} (every CUDA and TensorRT handle) and
 * {@code engine-cpu} (the fallback).
 */
package io.hotpath.engine.tensorrt;
