package io.hotpath.cache;

import static io.hotpath.cache.PredictionCacheTest.fill;
import static io.hotpath.cache.PredictionCacheTest.holds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TTLs at the limits, puts the cache must refuse without harm, tiny entries, and every builder option at its limits. */
class PredictionCacheEdgeCaseTest {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment key = arena.allocate(256, 8);
    private final MemorySegment value = arena.allocate(2048, 8);
    private final MemorySegment out = arena.allocate(2048, 8);

    @TempDir
    Path tmp;

    @AfterEach
    void free() {
        arena.close();
    }

    // ------------------------------------------------------------------ A1: TTLs that would overflow

    @Test
    void hugeTtlsNeverExpire() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).build()) {
            long[] ttls = {Long.MAX_VALUE, Long.MAX_VALUE - 1, PredictionCache.MAX_TTL_NANOS, PredictionCache.MAX_TTL_NANOS + 1,
                Long.MAX_VALUE / 3, 3_600_000_000_000L};
            for (int i = 0; i < ttls.length; i++) {
                fill(key, value, i, 64, 64);
                assertEquals(PredictionCache.STORED, c.put(1, key, 0, 64, value, 0, 64, ttls[i]));
            }
            for (int i = 0; i < ttls.length; i++) {
                fill(key, value, i, 64, 64);
                assertEquals(64, c.get(1, key, 0, 64, out, 0, 2048), "ttl " + ttls[i]);
                assertTrue(holds(out, i, 64));
            }
        }
    }

    @Test
    void aHugeDefaultTtlMeansNoExpiry() {
        for (long ttl : new long[] {Long.MAX_VALUE, PredictionCache.MAX_TTL_NANOS + 1, Long.MAX_VALUE / 2}) {
            try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).ttlNanos(ttl).build()) {
                fill(key, value, 5, 64, 64);
                assertEquals(PredictionCache.STORED, c.put(1, key, 0, 64, value, 0, 64));
                assertEquals(64, c.get(1, key, 0, 64, out, 0, 2048), "default ttl " + ttl);
                assertTrue(holds(out, 5, 64));
            }
        }
    }

    @Test
    void expiriesWrapAroundTheClockAndNeverCollideWithNoExpiry() {
        assertEquals(0, PredictionCache.expiry(123, 0));
        assertEquals(0, PredictionCache.expiry(123, Long.MAX_VALUE));
        assertEquals(0, PredictionCache.expiry(Long.MAX_VALUE, PredictionCache.MAX_TTL_NANOS + 1));
        assertEquals(1, PredictionCache.expiry(-10, 10), "0 means never: an expiry that lands on 0 moves by a nanosecond");
        // near the top of System.nanoTime()'s range the expiry wraps; comparisons by difference still hold
        long now = Long.MAX_VALUE - 3;
        long e = PredictionCache.expiry(now, 10);
        assertNotEquals(0, e);
        assertTrue((now + 5) - e < 0, "not yet expired");
        assertTrue((now + 11) - e > 0, "expired");
        long far = PredictionCache.expiry(now, PredictionCache.MAX_TTL_NANOS);
        assertTrue((now + 1_000_000_000_000_000L) - far < 0, "a 146-year TTL is not over after 31 years");
    }

    @Test
    void aNegativeTtlIsRefused() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.put(1, key, 0, 64, value, 0, 64, -1));
            assertTrue(e.getMessage().contains("ttl"), e.getMessage());
            assertEquals(0, c.entries());
        }
    }

    // ------------------------------------------------------------------ A2: refused puts leave the cache whole

    @Test
    void lengthsAndOffsetsOutsideTheirSegmentsAreRefusedBeforeAnythingChanges() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(256 * 1024).segments(1).build()) {
            fill(key, value, 1, 64, 64);
            assertEquals(PredictionCache.STORED, c.put(1, key, 0, 64, value, 0, 64));
            String[] bad = {
                "value", "value", "value", "value", "key", "key", "key", "key"
            };
            Runnable[] puts = {
                () -> c.put(1, key, 0, 64, value, 0, Integer.MAX_VALUE),
                () -> c.put(1, key, 0, 64, value, 0, Integer.MAX_VALUE - 40),
                () -> c.put(1, key, 0, 64, value, 2000, 64),
                () -> c.put(1, key, 0, 64, value, -8, 64),
                () -> c.put(1, key, 0, -1, value, 0, 64),
                () -> c.put(1, key, 0, 257, value, 0, 64),
                () -> c.put(1, key, Long.MAX_VALUE, 64, value, 0, 64),
                () -> c.put(1, key, Long.MIN_VALUE, 64, value, 0, 64),
            };
            for (int i = 0; i < puts.length; i++) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, puts[i]::run, "bad put " + i);
                assertTrue(e.getMessage().startsWith(bad[i]), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> c.put(1, key, 0, 64, value, 0, -1));
            assertEquals(1, c.entries());
            assertEquals(0, c.rejectedInserts(), "refused arguments are not rejected inserts");
            assertEquals(64, c.get(1, key, 0, 64, out, 0, 2048));
            assertTrue(holds(out, 1, 64));
            assertStillWorks(c, 3000);
        }
    }

    @Test
    void getChecksItsRangesToo() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(256 * 1024).build()) {
            fill(key, value, 1, 64, 64);
            c.put(1, key, 0, 64, value, 0, 64);
            assertThrows(IllegalArgumentException.class, () -> c.get(1, key, 0, 64, out, 0, 4096));
            assertThrows(IllegalArgumentException.class, () -> c.get(1, key, 0, 64, out, -1, 64));
            assertThrows(IllegalArgumentException.class, () -> c.get(1, key, 0, 64, out, 0, -1));
            assertThrows(IllegalArgumentException.class, () -> c.get(1, key, 0, -1, out, 0, 64));
            assertThrows(IllegalArgumentException.class, () -> c.get(1, key, 200, 64, out, 0, 64));
            assertThrows(IllegalArgumentException.class, () -> c.get(1, key, 0, 64, out.asReadOnly(), 0, 64));
            assertEquals(64, c.get(1, key, 0, 64, out, 2048 - 64, 64), "a value that fits the end of out");
        }
    }

    /** Lengths whose record size overflows an int: REJECTED_TOO_LARGE, the huge key is never read, the cache works on. */
    @Test
    void recordSizesBeyondAnIntAreRejectedWithoutReadingTheKey() throws Exception {
        long size = (1L << 32) + 4096;
        Path sparse = tmp.resolve("sparse.bin");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(size);      // a hole: no disk, no memory until read
        }
        try (Arena a = Arena.ofConfined();
             FileChannel ch = FileChannel.open(sparse);
             PredictionCache c = PredictionCache.builder().budgetBytes(256 * 1024).segments(1).build()) {
            MemorySegment huge = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, a);
            assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, huge, 0, Integer.MAX_VALUE, huge, 0, Integer.MAX_VALUE));
            assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, huge, 0, Integer.MAX_VALUE - 40, huge, 0, 8));
            assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, key, 0, 64, huge, 0, Integer.MAX_VALUE));
            assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, key, 0, 64, huge, 0, c.maxRecordBytes() - 40 - 64 + 1));
            assertEquals(PredictionCache.MISS, c.get(1, key, 0, 64, out, 0, 2048), "nothing was stored");
            assertEquals(4, c.rejectedInserts());
            assertEquals(0, c.entries());
            assertStillWorks(c, 3000);
        }
        assertThrows(IllegalArgumentException.class, () -> CacheLayoutDescriptor.recordLength(-1, 0));
        assertEquals(40L + 2L * Integer.MAX_VALUE + 2, CacheLayoutDescriptor.recordLength(Integer.MAX_VALUE, Integer.MAX_VALUE));
    }

    /**
     * The largest record fits; one byte more is rejected. Then a put whose value memory fails while
     * it is being copied (its arena closed): the exception reaches the caller, the lock is free,
     * and the half-written record never becomes visible.
     */
    @Test
    void aPutThatFailsMidwayLeavesNoHalfRecordAndNoLock() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(64 * 1024).segments(1).build()) {
            int largestValue = c.maxRecordBytes() - 40 - 64;
            MemorySegment big = arena.allocate(largestValue + 1, 8);
            assertEquals(PredictionCache.STORED, c.put(1, key, 0, 64, big, 0, largestValue));
            assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, key, 0, 64, big, 0, largestValue + 1));
            assertEquals(PredictionCache.BUFFER_TOO_SMALL, c.get(1, key, 0, 64, out, 0, 0), "the largest record was stored");

            for (int round = 0; round < 20; round++) {
                fill(key, value, 77, 64, 64);
                c.put(9, key, 0, 64, value, 0, 64);
                Arena gone = Arena.ofShared();
                MemorySegment dead = gone.allocate(512, 8);
                gone.close();
                fill(key, value, 77, 64, 64);
                assertThrows(IllegalStateException.class, () -> c.put(9, key, 0, 64, dead, 0, 512), "value memory already closed");
                int r = c.get(9, key, 0, 64, out, 0, 2048);
                assertTrue(r == PredictionCache.MISS, "no half record is visible: " + r);
                assertStillWorks(c, 200 + round * 10);
            }
        }
    }

    /** Many good puts and gets after whatever went before: every answer is a miss or exactly right, the accounting adds up. */
    static void assertStillWorks(PredictionCache c, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(256, 8);
            MemorySegment v = a.allocate(2048, 8);
            MemorySegment o = a.allocate(2048, 8);
            int stored = 0;
            for (long id = 1000; id < 1000 + n; id++) {
                int vlen = 8 + (int) (id % 40) * 8;
                fill(k, v, id, 32, vlen);
                if (c.put(2, k, 0, 32, v, 0, vlen) == PredictionCache.STORED) {
                    stored++;
                }
                assertEquals(vlen, c.get(2, k, 0, 32, o, 0, 2048), "a value just stored comes back, id " + id);
                assertTrue(holds(o, id, vlen), "id " + id);
            }
            assertEquals(n, stored);
            int hits = 0;
            for (long id = 1000; id < 1000 + n; id++) {
                int vlen = 8 + (int) (id % 40) * 8;
                fill(k, v, id, 32, vlen);
                int r = c.get(2, k, 0, 32, o, 0, 2048);
                if (r != PredictionCache.MISS) {
                    assertEquals(vlen, r, "id " + id);
                    assertTrue(holds(o, id, vlen), "id " + id + " came back with another value");
                    hits++;
                }
            }
            assertTrue(hits > 0);
            assertTrue(c.bytesUsed() >= 0 && c.bytesUsed() <= c.entryCapacityBytes(), c.toString());
            c.invalidate(2);
            c.invalidate(1);
            c.invalidate(9);
            assertEquals(0, c.entries(), "the entry count adds up: " + c);
            assertEquals(0, c.bytesUsed(), "the byte count adds up: " + c);
        }
    }

    // ------------------------------------------------------------------ A3: tiny entries

    @Test
    void tinyExpectedEntriesWorkWithAnyBudget() {
        for (int expected : new int[] {1, 16, 36}) {
            for (long budget : new long[] {64 * 1024, 1 << 20, 64 << 20}) {
                String what = "expectedEntryBytes " + expected + ", budget " + budget;
                try (PredictionCache c = PredictionCache.builder().budgetBytes(budget).expectedEntryBytes(expected).build()) {
                    assertTrue(c.allocatedBytes() <= budget, what);
                    assertTrue(c.entryCapacityBytes() >= budget / 2, what + ": the index leaves the logs most of the budget, "
                            + c.entryCapacityBytes());
                    // 36-byte entries as the service stores them for a model with tiny rows: 20-byte key, 16-byte value
                    int n = 20_000;
                    for (long id = 0; id < n; id++) {
                        fill(key, value, id, 24, 16);
                        assertEquals(PredictionCache.STORED, c.put(1, key, 0, 20, value, 0, 16), what);
                    }
                    int hits = 0;
                    for (long id = 0; id < n; id++) {
                        fill(key, value, id, 24, 16);
                        int r = c.get(1, key, 0, 20, out, 0, 2048);
                        if (r != PredictionCache.MISS) {
                            assertEquals(16, r, what);
                            assertTrue(holds(out, id, 16), what + " id " + id);
                            hits++;
                        }
                    }
                    long records = budget / 2 / CacheLayoutDescriptor.recordLength(20, 16);
                    assertTrue(hits >= Math.min(n, records / 2), what + ": " + hits + " of " + n + " kept");
                }
            }
        }
    }

    @Test
    void aBudgetTooSmallNamesTheMinimumThatWorks() {
        for (int segments : new int[] {0, 1, 8, 64}) {
            long min = PredictionCache.Builder.minimumBudgetBytes(segments);
            Supplier<PredictionCache.Builder> b = () -> PredictionCache.builder().segments(segments).expectedEntryBytes(36);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.get().budgetBytes(min - 1).build());
            assertTrue(e.getMessage().contains("budgetBytes " + (min - 1)) && e.getMessage().contains("at least " + min), e.getMessage());
            try (PredictionCache c = b.get().budgetBytes(min).build()) {
                fill(key, value, 3, 8, 8);
                assertEquals(PredictionCache.STORED, c.put(1, key, 0, 4, value, 0, 4), "segments " + segments);
                assertEquals(4, c.get(1, key, 0, 4, out, 0, 2048));
            }
        }
        IllegalArgumentException tiny = assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(100).build());
        assertTrue(tiny.getMessage().contains("at least " + PredictionCache.Builder.minimumBudgetBytes(0)), tiny.getMessage());
    }

    // ------------------------------------------------------------------ A4: builder options at their limits

    private static final Pattern NEGATIVE = Pattern.compile("-\\d");

    private static void refused(String option, String value, Supplier<PredictionCache.Builder> b) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.get().build(), option + " " + value);
        assertTrue(e.getMessage().contains(option), e.getMessage());
        assertTrue(e.getMessage().contains(value), e.getMessage());
        if (!value.startsWith("-")) {
            assertFalse(NEGATIVE.matcher(e.getMessage()).find(), "no negative number in " + e.getMessage());
        }
    }

    @Test
    void everyBuilderOptionIsCheckedBeforeAnythingIsAllocated() {
        for (long budget : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 8_796_093_022_208L, PredictionCache.MAX_BUDGET_BYTES + 1,
            1L << 62}) {
            refused("budgetBytes", Long.toString(budget), () -> PredictionCache.builder().budgetBytes(budget));
        }
        for (int segments : new int[] {-1, 3, 6, 100, Integer.MIN_VALUE, Integer.MAX_VALUE, 1 << 30, PredictionCache.MAX_SEGMENTS * 2}) {
            refused("segments", Integer.toString(segments), () -> PredictionCache.builder().budgetBytes(1 << 20).segments(segments));
        }
        for (int expected : new int[] {0, -1, Integer.MIN_VALUE}) {
            refused("expectedEntryBytes", Integer.toString(expected), () -> PredictionCache.builder().budgetBytes(1 << 20).expectedEntryBytes(expected));
        }
        for (long ttl : new long[] {-1, Long.MIN_VALUE}) {
            refused("ttlNanos", Long.toString(ttl), () -> PredictionCache.builder().budgetBytes(1 << 20).ttlNanos(ttl));
        }
        // 2 GiB in one segment: segments would be larger than they can be; the message says how many to use
        refused("segments", "2147483648", () -> PredictionCache.builder().budgetBytes(2L << 30).segments(1));
        refused("budgetBytes", "2147483648", () -> PredictionCache.builder().budgetBytes(2L << 30).segments(1));
        // too many segments for the budget
        refused("budgetBytes", "65536", () -> PredictionCache.builder().budgetBytes(65536).segments(PredictionCache.MAX_SEGMENTS));
        assertThrows(NullPointerException.class, () -> PredictionCache.builder().hasher(null));
    }

    @Test
    void extremeButValidOptionsBuild() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).expectedEntryBytes(Integer.MAX_VALUE)
                .ttlNanos(Long.MAX_VALUE).segments(1).build()) {
            fill(key, value, 1, 64, 64);
            assertEquals(PredictionCache.STORED, c.put(1, key, 0, 64, value, 0, 64));
            assertEquals(64, c.get(1, key, 0, 64, out, 0, 2048));
        }
        try (PredictionCache c = PredictionCache.builder().budgetBytes(PredictionCache.Builder.minimumBudgetBytes(64) * 2 + 63)
                .segments(64).build()) {
            assertTrue(c.allocatedBytes() <= c.budgetBytes());
            assertEquals(64, c.segmentCount());
        }
    }

    @Test
    void defaultSegmentCountsKeepSegmentsWithinTheirLimits() {
        assertEquals(1, PredictionCache.defaultSegments(1));
        assertEquals(1, PredictionCache.defaultSegments(300 * 1024));
        assertEquals(4, PredictionCache.defaultSegments(1 << 20));
        assertEquals(64, PredictionCache.defaultSegments(64L << 20));
        assertEquals(64, PredictionCache.defaultSegments(64L << 30));
        assertEquals(128, PredictionCache.defaultSegments((64L << 30) + 1));
        assertEquals(128, PredictionCache.defaultSegments(100L << 30));
        assertEquals(PredictionCache.MAX_SEGMENTS, PredictionCache.defaultSegments(PredictionCache.MAX_BUDGET_BYTES));
        for (long budget = 1; budget > 0 && budget <= PredictionCache.MAX_BUDGET_BYTES; budget = budget * 3 + 1) {
            int n = PredictionCache.defaultSegments(budget);
            assertEquals(1, Integer.bitCount(n), "budget " + budget);
            assertTrue(n <= PredictionCache.MAX_SEGMENTS && budget / n <= CacheSegment.MAX_SEGMENT_BYTES, "budget " + budget + ": " + n);
        }
    }

    @Test
    void layoutsFitTheirSegmentsForAnyEntrySize() {
        for (long bytes = CacheSegment.MIN_SEGMENT_BYTES; bytes <= CacheSegment.MAX_SEGMENT_BYTES; bytes = (bytes * 5 / 4 + 64) & ~63L) {
            for (int expected : new int[] {1, 16, 36, 1024, 1 << 20, Integer.MAX_VALUE}) {
                CacheSegment.Layout l = CacheSegment.Layout.of(bytes, expected);
                String what = bytes + " bytes, entries of " + expected;
                assertTrue(l.fixed() + l.maxRecord() + l.smallCap() + l.mainCap() <= bytes, what);
                assertTrue(l.fixed() <= Math.max(bytes / 3, 384), what + ": index " + l.fixed());
                assertTrue(l.slots() >= CacheSegment.MIN_SLOTS && l.maxRecord() >= 48 && l.mainCap() > l.smallCap(), what + ": " + l);
            }
        }
    }
}
