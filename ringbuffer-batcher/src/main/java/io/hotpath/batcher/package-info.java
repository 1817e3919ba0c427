/**
 * The dynamic batcher: requests are records in a lock-free many-to-one ring buffer in off-heap
 * memory; one batcher thread per model instance forms batches by size and queue delay.
 *
 * <p>Status: its work comes in a later issue; this module holds only this description so the
 * layout is complete.
 *
 * <p>May depend on: the JDK only. It knows nothing about models: it moves bytes.
 */
package io.hotpath.batcher;
