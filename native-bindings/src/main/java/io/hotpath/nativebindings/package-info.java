/**
 * The only code in Hotpath that touches native handles.
 *
 * <p>Job: own every native resource (ONNX Runtime here; CUDA and TensorRT in the module
 * {@code native-bindings-gpu}, packages {@code cuda} and {@code trt}, so a CPU-only application
 * pulls no GPU library) as a Java object with an idempotent {@code close()}, a use-after-close that is an
 * {@link java.lang.IllegalStateException} rather than a JVM crash, and every native error status
 * turned into a {@link io.hotpath.core.HotpathException} with a category and the library's code.
 * {@link io.hotpath.nativebindings.SegmentPointers} bridges FFM {@code MemorySegment}s and JavaCPP
 * {@code Pointer}s without copying.
 *
 * <p>May depend on: {@code core} and JavaCPP presets. With {@code native-bindings-gpu} it is the only
 * code that imports {@code org.bytedeco} ({@code ModuleArrowsTest} checks it).
 */
package io.hotpath.nativebindings;
