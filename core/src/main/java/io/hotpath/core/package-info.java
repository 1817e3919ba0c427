/**
 * Hotpath's contract, shared by every engine and by the serving path.
 *
 * <p>Job: describe tensors ({@link io.hotpath.core.DType}, {@link io.hotpath.core.Shape},
 * {@link io.hotpath.core.TensorSpec}), view them in off-heap memory
 * ({@link io.hotpath.core.Tensor}, {@link io.hotpath.core.Batch}), define what an engine is
 * ({@link io.hotpath.core.Engine}, found at run time through {@link io.hotpath.core.EngineProvider})
 * and how failures are reported ({@link io.hotpath.core.HotpathException}).
 *
 * <p>May depend on: the JDK only. It knows no native library (nothing here imports
 * {@code org.bytedeco}), no batcher and no cache: the serving path lives in {@code hotpath-service}.
 */
package io.hotpath.core;
