/**
 * TensorRT 10 through JavaCPP's {@code tensorrt} preset: the ONNX parser and builder
 * ({@link io.hotpath.nativebindings.trt.TrtBuilder}), deserialized engines
 * ({@link io.hotpath.nativebindings.trt.TrtPlan}), execution contexts
 * ({@link io.hotpath.nativebindings.trt.TrtContext}) and INT8 calibrators written in Java
 * ({@link io.hotpath.nativebindings.trt.Int8Calibrators}). TensorRT's log goes to
 * {@link java.lang.System.Logger} under the name {@code io.hotpath.tensorrt}; its errors are kept
 * so that exceptions can quote them ({@link io.hotpath.nativebindings.trt.TrtLog}).
 *
 * <p>Limitation: the preset exposes no destructor for objects TensorRT creates (engines, contexts,
 * builders), so they live until the process ends. Device memory that Hotpath allocates (context
 * scratch memory, I/O buffers, pinned buffers) is freed on close.
 */
package io.hotpath.nativebindings.trt;
