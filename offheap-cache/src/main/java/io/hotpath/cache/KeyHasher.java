package io.hotpath.cache;

import java.lang.foreign.MemorySegment;

/**
 * A 64-bit hash of (model identity, key bytes). The default is XXH3 over the key's memory in
 * place with a random seed per cache, xor-ed with the model id times a 64-bit odd constant;
 * tests swap in a weak hash to force collisions (a lookup always compares the full key, so a
 * collision costs a probe, never a wrong answer).
 */
@FunctionalInterface
public interface KeyHasher {
    long hash(long modelId, MemorySegment key, long offset, int length);

    /** XXH3 (64-bit, seed 0) of the key bytes, xor-ed with a multiple of the model id. */
    KeyHasher XXH3 = xxh3(0);

    /**
     * XXH3 (64-bit) with {@code seed}, xor-ed with a multiple of the model id. The cache's default
     * uses a random seed per cache, so that nobody outside can choose inputs that share a probe chain.
     */
    static KeyHasher xxh3(long seed) {
        Xxh3 h = new Xxh3(seed);
        return (modelId, key, offset, length) -> {
            java.util.Objects.checkFromIndexSize(offset, length, key.byteSize());
            return h.hashOf(key, offset, length) ^ (modelId * 0x9E3779B97F4A7C15L);
        };
    }
}
