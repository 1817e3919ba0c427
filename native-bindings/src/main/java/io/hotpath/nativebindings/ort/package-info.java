/**
 * ONNX Runtime's C API as owned Java handles: environment ({@link io.hotpath.nativebindings.ort.Ort}),
 * session options, session, tensor values, I/O binding and run options.
 *
 * <p>Hotpath calls the C API (the {@code OrtApi} function table) rather than the C++ wrapper
 * classes, because every C API call returns an {@code OrtStatus} that carries ONNX Runtime's
 * error code; the C++ wrappers throw exceptions that JavaCPP turns into a bare
 * {@code RuntimeException} with the code lost. See {@link io.hotpath.nativebindings.ort.Ort#check}.
 */
package io.hotpath.nativebindings.ort;
