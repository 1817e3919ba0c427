/**
 * Hotpath's contract, shared by every engine and by the serving path.
 *
 * <p>Job: describe tensors ({@link io.hotpath.core.DType}, {@link io.hotpath.core.Shape},
 * {@link io.hotpath.core.TensorSpec}), view them in off-heap memory
 * ({@link io.hotpath.core.Tensor}, {@link io.hotpath.core.Batch}), define what an engine is
 * ({@link io.hotpath.core.Engine}) and how failures are reported
 * ({@link io.hotpath.core.HotpathException}), and serve many callers through
 * {@link io.hotpath.core.InferenceService} (batcher, then engine; the cache will sit in front).
 *
 * <p>May depend on: the JDK, {@code ringbuffer-batcher} (and later {@code offheap-cache}), which
 * know nothing about models. It knows no native library: nothing here imports {@code org.bytedeco}.
 */
package io.hotpath.core;
