/**
 * The dynamic batcher ({@link io.hotpath.batcher.DynamicBatcher}).
 *
 * <p>Job: requests are records in lock-free many-to-one ring buffers in off-heap memory (Agrona's
 * {@code ManyToOneRingBuffer}, one per priority): a caller claims space, its input is written in
 * place, it commits. One batcher thread (an Agrona {@code Agent}: the batcher's own thread, one from
 * the application's {@code ThreadFactory}, or the application's duty cycle through an
 * {@code AgentInvoker}) drains records into a {@link io.hotpath.batcher.BatchProcessor}
 * (which owns the engine's batch tensors), runs a batch when it is full, when a preferred size is
 * reached or when the oldest waiting record has waited {@code maxQueueDelay}, and scatters each
 * output row to its request's {@link io.hotpath.batcher.BatchRequest}. Back-pressure is a return
 * code; deadlines, two priorities, drain or fail on close; allocation-free HdrHistogram metrics and Agrona counters, optionally in a
 * memory-mapped file another process reads ({@link io.hotpath.batcher.BatcherCountersDescriptor},
 * {@link io.hotpath.batcher.BatcherCountersFile}).
 *
 * <p>May depend on: the JDK, Agrona and HdrHistogram. It knows nothing about models: it moves
 * bytes between callers and a {@code BatchProcessor}.
 */
package io.hotpath.batcher;
