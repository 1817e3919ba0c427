package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PredictionCacheTest {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment key = arena.allocate(256, 8);
    private final MemorySegment value = arena.allocate(2048, 8);
    private final MemorySegment out = arena.allocate(2048, 8);

    @AfterEach
    void free() {
        arena.close();
    }

    /** Key bytes and value bytes both derived from the id, so any answer can be checked. */
    static void fill(MemorySegment key, MemorySegment value, long id, int keyLen, int valueLen) {
        for (int i = 0; i < keyLen / 8; i++) {
            key.setAtIndex(ValueLayout.JAVA_LONG, i, id * 31 + i);
        }
        for (int i = 0; i < valueLen / 8; i++) {
            value.setAtIndex(ValueLayout.JAVA_LONG, i, id * 1_000_003L + i);
        }
    }

    static boolean holds(MemorySegment out, long id, int valueLen) {
        for (int i = 0; i < valueLen / 8; i++) {
            if (out.getAtIndex(ValueLayout.JAVA_LONG, i) != id * 1_000_003L + i) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aStoredValueComesBackAndOtherKeysAndModelsMiss() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).build()) {
            fill(key, value, 7, 256, 1536);
            assertEquals(PredictionCache.STORED, c.put(1, key, 0, 256, value, 0, 1536));
            assertEquals(1536, c.get(1, key, 0, 256, out, 0, 2048));
            assertTrue(holds(out, 7, 1536));
            assertEquals(PredictionCache.MISS, c.get(2, key, 0, 256, out, 0, 2048), "another model's key");
            fill(key, value, 8, 256, 1536);
            assertEquals(PredictionCache.MISS, c.get(1, key, 0, 256, out, 0, 2048));
            assertEquals(PredictionCache.MISS, c.get(1, key, 0, 255, out, 0, 2048), "a prefix of a key is another key");
            assertEquals(1, c.hits());
            assertEquals(3, c.misses());
        }
    }

    @Test
    void forcedHashCollisionsNeverReturnAnotherInputsValue() {
        KeyHasher constant = (model, k, off, len) -> 42L;
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).segments(1).hasher(constant).build()) {
            for (long id = 0; id < 50; id++) {
                fill(key, value, id, 64, 64);
                assertEquals(PredictionCache.STORED, c.put(1, key, 0, 64, value, 0, 64));
            }
            for (long id = 0; id < 50; id++) {
                fill(key, value, id, 64, 64);
                assertEquals(64, c.get(1, key, 0, 64, out, 0, 2048), "id " + id);
                assertTrue(holds(out, id, 64), "id " + id + " got another key's value");
            }
            fill(key, value, 999, 64, 64);
            assertEquals(PredictionCache.MISS, c.get(1, key, 0, 64, out, 0, 2048), "same hash, different key: a miss");
        }
    }

    @Test
    void replacingAKeyKeepsOneEntryWithTheNewValue() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).build()) {
            fill(key, value, 3, 64, 128);
            c.put(1, key, 0, 64, value, 0, 128);
            fill(key, value, 3, 64, 128);
            value.setAtIndex(ValueLayout.JAVA_LONG, 0, -5);
            c.put(1, key, 0, 64, value, 0, 128);
            assertEquals(128, c.get(1, key, 0, 64, out, 0, 2048));
            assertEquals(-5, out.getAtIndex(ValueLayout.JAVA_LONG, 0));
            assertEquals(1, c.entries());
        }
    }

    @Test
    void theTableNeverExceedsItsBudgetAndEvictsWhenFull() {
        long budget = 2L << 20;
        try (PredictionCache c = PredictionCache.builder().budgetBytes(budget).build()) {
            assertTrue(c.allocatedBytes() <= budget, c.allocatedBytes() + " > " + budget);
            for (long id = 0; id < 20_000; id++) {
                fill(key, value, id, 256, 1536);
                c.put(1, key, 0, 256, value, 0, 1536);
                assertTrue(c.bytesUsed() <= c.entryCapacityBytes());
            }
            assertTrue(c.evictions() > 0);
            assertTrue(c.entryCapacityBytes() < budget);
            assertTrue(c.bytesUsed() > c.entryCapacityBytes() / 2, "the logs are actually used: " + c.bytesUsed());
            int found = 0;
            for (long id = 19_900; id < 20_000; id++) {
                fill(key, value, id, 256, 1536);
                if (c.get(1, key, 0, 256, out, 0, 2048) == 1536) {
                    assertTrue(holds(out, id, 1536));
                    found++;
                }
            }
            assertTrue(found > 50, "recent entries survive: " + found);
        }
    }

    @Test
    void entriesExpireAfterTheirTtl() throws Exception {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(1 << 20).build()) {
            fill(key, value, 1, 64, 64);
            c.put(1, key, 0, 64, value, 0, 64, 1_000_000L);      // 1 ms
            c.put(2, key, 0, 64, value, 0, 64, 0);                // never
            Thread.sleep(5);
            assertEquals(PredictionCache.MISS, c.get(1, key, 0, 64, out, 0, 2048));
            assertEquals(64, c.get(2, key, 0, 64, out, 0, 2048));
        }
    }

    @Test
    void invalidatingAModelRemovesOnlyItsEntries() {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(4 << 20).build()) {
            for (long id = 0; id < 500; id++) {
                fill(key, value, id, 64, 64);
                c.put(id % 2 == 0 ? 10 : 11, key, 0, 64, value, 0, 64);
            }
            assertEquals(250, c.invalidate(10));
            for (long id = 0; id < 500; id++) {
                fill(key, value, id, 64, 64);
                int r = c.get(id % 2 == 0 ? 10 : 11, key, 0, 64, out, 0, 2048);
                assertEquals(id % 2 == 0 ? PredictionCache.MISS : 64, r, "id " + id);
            }
            assertEquals(250, c.entries());
        }
    }

    @Test
    void badInputGetsAClearAnswer() {
        assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(0).build());
        assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(-1).build());
        assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(1 << 20).segments(3).build());
        IllegalArgumentException tiny = assertThrows(IllegalArgumentException.class, () -> PredictionCache.builder().budgetBytes(100).build());
        assertTrue(tiny.getMessage().contains("budget"), tiny.getMessage());
        PredictionCache c = PredictionCache.builder().budgetBytes(64 * 1024).segments(1).build();
        MemorySegment big = arena.allocate(64 * 1024, 8);
        assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, key, 0, 64, big, 0, 60 * 1024), "larger than the budget");
        assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(1, key, 0, 64, big, 0, c.maxRecordBytes()), "larger than a record slot");
        assertEquals(2, c.rejectedInserts());
        fill(key, value, 1, 64, 1024);
        c.put(1, key, 0, 64, value, 0, 1024);
        assertEquals(PredictionCache.BUFFER_TOO_SMALL, c.get(1, key, 0, 64, out, 0, 100));
        c.close();
        c.close();
        assertThrows(IllegalStateException.class, () -> c.get(1, key, 0, 64, out, 0, 2048));
        assertThrows(IllegalStateException.class, () -> c.put(1, key, 0, 64, value, 0, 64));
        assertThrows(IllegalStateException.class, () -> c.invalidate(1));
    }

    @Test
    void getAndPutAllocateNothingInSteadyState() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (PredictionCache c = PredictionCache.builder().budgetBytes(8 << 20).build()) {
            for (int round = 0; round < 2; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (long i = 0; i < 50_000; i++) {
                    long id = i % 3000;
                    fill(key, value, id, 256, 256);
                    if (c.get(1, key, 0, 256, out, 0, 2048) < 0) {
                        c.put(1, key, 0, 256, value, 0, 256);
                    }
                }
                long perOp = (mx.getCurrentThreadAllocatedBytes() - before) / 50_000;
                if (round == 1) {
                    assertEquals(0, perOp, "bytes per get/put");
                }
            }
        }
    }

    @Test
    void concurrentReadersNeverSeeATornValue() throws Exception {
        try (PredictionCache c = PredictionCache.builder().budgetBytes(512 * 1024).segments(2).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong torn = new AtomicLong();
            AtomicLong hits = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                boolean writer = t < 2;
                threads.add(new Thread(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment k = a.allocate(256, 8);
                        MemorySegment v = a.allocate(2048, 8);
                        MemorySegment o = a.allocate(2048, 8);
                        SplittableRandom r = new SplittableRandom(seed);
                        while (!stop.get()) {
                            long id = r.nextLong(400);
                            int vlen = 64 + (int) (id % 16) * 64;
                            fill(k, v, id, 128, vlen);
                            if (writer) {
                                c.put(1, k, 0, 128, v, 0, vlen);
                            } else if (c.get(1, k, 0, 128, o, 0, 2048) >= 0) {
                                hits.incrementAndGet();
                                if (!holds(o, id, vlen)) {
                                    torn.incrementAndGet();
                                }
                            }
                        }
                    }
                }));
            }
            threads.forEach(Thread::start);
            // run until the readers have seen enough hits (not for a fixed time: a loaded machine is slow)
            long giveUp = System.nanoTime() + 120_000_000_000L;
            while (hits.get() < 5_000 && System.nanoTime() < giveUp) {
                Thread.sleep(10);
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(hits.get() >= 5_000, "readers hit: " + hits.get());
            assertEquals(0, torn.get(), "torn or foreign values among " + hits.get() + " hits");
            assertTrue(c.evictions() > 0, "writers forced evictions while readers read");
        }
    }
}
