package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import net.openhft.hashing.LongHashFunction;
import org.junit.jupiter.api.Test;

/**
 * The cache's XXH3 gives the reference implementation's value (zero-allocation-hashing's xx3) for
 * every length from 0 to 2,200 bytes (each size class, several 1 KiB blocks and partial
 * stripes) at aligned and unaligned offsets, with seed 0 and with four other seeds.
 */
class Xxh3Test {
    @Test
    void matchesTheReferenceImplementation() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 2200;
        byte[] bytes = new byte[n + 8];
        r.nextBytes(bytes);
        LongHashFunction ref = LongHashFunction.xx3();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(bytes.length, 8);
            MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
            for (int len = 0; len <= n; len++) {
                for (int off : new int[] {0, 5}) {
                    assertEquals(ref.hashBytes(bytes, off, len), Xxh3.hash(s, off, len), "len " + len + " off " + off);
                }
            }
        }
        for (long seed : new long[] {1, -7, 0x123456789ABCDEFL, Long.MIN_VALUE}) {
            LongHashFunction seeded = LongHashFunction.xx3(seed);
            Xxh3 ours = new Xxh3(seed);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(bytes.length, 8);
                MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
                for (int len = 0; len <= 1100; len++) {
                    assertEquals(seeded.hashBytes(bytes, 3, len), ours.hashOf(s, 3, len), "len " + len + " seed " + seed);
                }
            }
        }
        byte[] big = new byte[1 << 20];
        r.nextBytes(big);
        assertEquals(ref.hashBytes(big), Xxh3.hash(MemorySegment.ofArray(big), 0, big.length), "1 MiB");
    }

    @Test
    void eachCachePicksItsOwnSeedUnlessToldOne() {
        MemorySegment key = MemorySegment.ofArray(new byte[256]);
        try (PredictionCache a = PredictionCache.builder().budgetBytes(1 << 20).build();
                PredictionCache b = PredictionCache.builder().budgetBytes(1 << 20).build();
                PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).hasher(KeyHasher.xxh3(42)).build();
                PredictionCache d = PredictionCache.builder().budgetBytes(1 << 20).hasher(KeyHasher.xxh3(42)).build()) {
            assertNotEquals(a.hash(1, key, 0, 256), b.hash(1, key, 0, 256), "random seeds: the same key lands elsewhere in each cache");
            assertEquals(c.hash(1, key, 0, 256), d.hash(1, key, 0, 256), "a given seed is reproducible");
        }
    }

    @Test
    void theDefaultKeyHashSeparatesModels() {
        MemorySegment key = MemorySegment.ofArray(new byte[300]);
        assertNotEquals(KeyHasher.XXH3.hash(1, key, 0, 300), KeyHasher.XXH3.hash(2, key, 0, 300));
        assertEquals(KeyHasher.XXH3.hash(7, key, 0, 300), KeyHasher.XXH3.hash(7, key, 0, 300));
    }
}
