/**
 * The prediction cache ({@link io.hotpath.cache.PredictionCache}): a hash table in off-heap
 * memory with a fixed byte budget, exact-match keys (model identity plus the input bytes, compared
 * in full, so a hash collision can never return another input's answer), S3-FIFO eviction,
 * per-entry TTL, invalidation of one model's entries, optimistic lock-free reads validated by a
 * per-segment sequence number, and no allocation on get or put. Layouts in
 * {@link io.hotpath.cache.CacheLayoutDescriptor}.
 *
 * <p>May depend on: the JDK only (its XXH3 is its own, checked in tests against
 * zero-allocation-hashing's). It knows nothing about models: it stores bytes under byte keys.
 */
package io.hotpath.cache;
