/**
 * The serving path: {@link io.hotpath.service.InferenceService} answers many callers from one
 * engine, cache first, then the dynamic batcher, then the engine; {@link io.hotpath.service.Request}
 * is a caller's reusable off-heap slot; {@link io.hotpath.service.EngineChoice} finds the engines on
 * the class path ({@link java.util.ServiceLoader} over {@link io.hotpath.core.EngineProvider}) and
 * picks one, with the reason.
 *
 * <p>May depend on: {@code hotpath-core}, {@code ringbuffer-batcher}, {@code offheap-cache}. It
 * knows no engine class and no native library: engines are found at run time, so a CPU-only
 * application carries no GPU jar.
 */
package io.hotpath.service;
