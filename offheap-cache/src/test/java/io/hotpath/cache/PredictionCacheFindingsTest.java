package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Reproducers of what fuzzing {@link PredictionCache} found (docs/fuzzing.md, "Findings"). Each is
 * kept as a regression test now that it is fixed.
 */
class PredictionCacheFindingsTest {
    @Test
    void aGcManagedCacheWithTooSmallSegmentsIsAnIllegalArgument() {
        // 8 segments of 1 KiB leave no room for entries: the non-gcManaged builder says so with an IllegalArgumentException
        assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(8 << 10).segments(8).build());
        assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(8 << 10).segments(8).gcManaged(true).build());
    }

    @Test
    void aHugeValueLengthIsRefusedWithoutCorruptingTheCache() {
        try (Arena arena = Arena.ofConfined(); PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).segments(1).build()) {
            MemorySegment key = arena.allocate(8);
            MemorySegment value = arena.allocate(64);
            MemorySegment out = arena.allocate(64);
            // (40 + 8 + 2147483630 + 7) & ~7 is negative: the put gets past the size check, appends, then its copy fails
            try {
                c.put(3, key, 0, 8, value, 0, 2_147_483_630, 0);
            } catch (IllegalArgumentException | IndexOutOfBoundsException expected) {
                // a bad argument: either is fine, as long as the cache is unharmed
            }
            org.junit.jupiter.api.Assertions.assertEquals(PredictionCache.STORED, c.put(0, key, 0, 0, value, 0, 0, 0),
                    "a valid put after the refused one");
            org.junit.jupiter.api.Assertions.assertEquals(0, c.get(0, key, 0, 0, out, 0, 64));
        }
    }

    @Test
    void aVeryLongTtlDoesNotExpireAtOnce() {
        try (Arena arena = Arena.ofConfined(); PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).build();
             PredictionCache withDefault = PredictionCache.builder().budgetBytes(1 << 20).ttlNanos(Long.MAX_VALUE).build()) {
            MemorySegment key = arena.allocate(8);
            MemorySegment value = arena.allocate(48);
            MemorySegment out = arena.allocate(48);
            org.junit.jupiter.api.Assertions.assertEquals(PredictionCache.STORED, c.put(0, key, 0, 8, value, 0, 48, Long.MAX_VALUE));
            org.junit.jupiter.api.Assertions.assertEquals(48, c.get(0, key, 0, 8, out, 0, 48), "stored with ttl Long.MAX_VALUE");
            org.junit.jupiter.api.Assertions.assertEquals(PredictionCache.STORED, withDefault.put(0, key, 0, 8, value, 0, 48));
            org.junit.jupiter.api.Assertions.assertEquals(48, withDefault.get(0, key, 0, 8, out, 0, 48), "stored with ttlNanos(Long.MAX_VALUE)");
        }
    }

    @Test
    void aValueRangeOutsideItsSegmentLeavesTheCountsExact() {
        try (Arena arena = Arena.ofConfined(); PredictionCache c = PredictionCache.builder().budgetBytes(32 << 10).segments(1).build()) {
            MemorySegment key = arena.allocate(8);
            MemorySegment value = arena.allocate(64);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> c.put(1, key, 0, 8, value, 0, 1000, 0), "1000 value bytes from a 64-byte segment: refused before anything changes");
            for (long i = 0; i < 2000; i++) {       // cycles the logs: the half-written record is evicted
                key.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, i);
                c.put(i & 3, key, 0, 8, value, 0, 64, 0);
            }
            for (long model = 0; model < 4; model++) {
                c.invalidate(model);
            }
            org.junit.jupiter.api.Assertions.assertEquals(0, c.entries(), "entries after every model was invalidated");
            org.junit.jupiter.api.Assertions.assertEquals(0, c.bytesUsed(), "bytesUsed after every model was invalidated");
        }
    }
}
