package io.hotpath.cache;

import java.lang.foreign.MemorySegment;
import net.openhft.hashing.LongHashFunction;

/**
 * A 64-bit hash of (model identity, key bytes). The default is xxHash3 over the key's memory in
 * place, mixed with the model id; tests swap in a weak hash to force collisions (a lookup always
 * compares the full key, so a collision costs a probe, never a wrong answer).
 */
@FunctionalInterface
public interface KeyHasher {
    long hash(long modelId, MemorySegment key, long offset, int length);

    /** xxHash3 (zero-allocation-hashing) of the key bytes, mixed with the model id. Keys must be off-heap. */
    KeyHasher XXH3 = new KeyHasher() {
        private final LongHashFunction xx3 = LongHashFunction.xx3();

        @Override
        public long hash(long modelId, MemorySegment key, long offset, int length) {
            if (!key.isNative()) {
                throw new IllegalArgumentException("cache keys must be off-heap (native) memory segments");
            }
            java.util.Objects.checkFromIndexSize(offset, length, key.byteSize());
            long h = xx3.hashMemory(key.address() + offset, length);
            h ^= modelId * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
            h *= 0xBF58476D1CE4E5B9L;
            return h ^ (h >>> 32);
        }
    };
}
