/**
 * The one entry point an application needs: {@link io.hotpath.embed.Hotpath#service(java.nio.file.Path)}
 * chooses the engine, optimizes the model to the requested {@link io.hotpath.embed.Precision}
 * within an accuracy {@link io.hotpath.embed.Budget} (the optimized model cached on disk by
 * content), and builds an {@link io.hotpath.service.InferenceService} with batching and a cache.
 *
 * <p>May depend on: {@code core}, {@code service}, {@code ringbuffer-batcher}, {@code offheap-cache},
 * {@code optimizer}, {@code onnx-model}. Engines are found at run time (ServiceLoader), never named.
 */
package io.hotpath.embed;
