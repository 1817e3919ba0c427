package io.hotpath.cache;

import java.lang.foreign.MemorySegment;

/**
 * A 64-bit hash of (model identity, key bytes). The default is XXH64 over the key's memory in
 * place, seeded with the model id; tests swap in a weak hash to force collisions (a lookup always
 * compares the full key, so a collision costs a probe, never a wrong answer).
 */
@FunctionalInterface
public interface KeyHasher {
    long hash(long modelId, MemorySegment key, long offset, int length);

    /** XXH64 of the key bytes, seeded with the model id. */
    KeyHasher XXH64 = (modelId, key, offset, length) -> {
        java.util.Objects.checkFromIndexSize(offset, length, key.byteSize());
        return XxHash64.hash(key, offset, length, modelId);
    };
}
