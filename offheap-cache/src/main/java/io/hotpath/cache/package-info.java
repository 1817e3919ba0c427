/**
 * The prediction cache: a hash table in off-heap memory with a fixed byte budget, exact-match
 * keys over model identity and input bytes, and a modern eviction policy.
 *
 * <p>Status: its work comes in a later issue; this module holds only this description so the
 * layout is complete.
 *
 * <p>May depend on: the JDK only. It knows nothing about models: it stores bytes.
 */
package io.hotpath.cache;
