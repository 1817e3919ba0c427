package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of put, get, invalidate, expiry and refused puts (fixed seeds, bounded length)
 * against a {@link HashMap}: a get returns MISS or exactly the last value put for that key, never
 * another key's, an overwritten one or an expired one. Where the cache has evicted nothing yet, it
 * must return exactly what the map holds, and its entry count must match.
 */
class PredictionCachePropertyTest {
    static final int MODELS = 3;
    static final int KEYS = 300;
    static final int MAX_KEY = 48;

    /** The model's view of one key: which version of its value, and how long. */
    record Expected(long version, int length) {
    }

    @Test
    void roomyCacheAgreesExactlyWithAHashMap() {
        run("roomy", 1, () -> PredictionCache.builder().budgetBytes(32 << 20), 256, true);
    }

    @Test
    void evictingCacheNeverReturnsAWrongValue() {
        run("tight", 2, () -> PredictionCache.builder().budgetBytes(64 * 1024).segments(1), 256, false);
        run("two segments", 3, () -> PredictionCache.builder().budgetBytes(128 * 1024).segments(2), 512, false);
    }

    @Test
    void collidingHashesNeverReturnAWrongValue() {
        // hash = key length: hundreds of keys share a handful of hashes and probe chains
        KeyHasher weak = (model, k, off, len) -> len * 0x9E3779B97F4A7C15L + model;
        run("collisions", 4, () -> PredictionCache.builder().budgetBytes(64 * 1024).segments(1).hasher(weak), 128, false);
        run("collisions, roomy", 5, () -> PredictionCache.builder().budgetBytes(8 << 20).segments(2).hasher(weak), 128, true);
    }

    @Test
    void tinyEntriesWithATinyIndexNeverReturnAWrongValue() {
        run("tiny", 6, () -> PredictionCache.builder().budgetBytes(16 * 1024).segments(1).expectedEntryBytes(1), 16, false);
        run("tiny, roomy", 7, () -> PredictionCache.builder().budgetBytes(4 << 20).expectedEntryBytes(1), 16, true);
    }

    static long id(int model, int keyId) {
        return (long) model << 32 | keyId;
    }

    /** Key bytes: key 0 is empty; others start with their id, so no two keys have the same bytes. */
    static int writeKey(MemorySegment k, int keyId) {
        if (keyId == 0) {
            return 0;
        }
        int length = 4 + keyId % (MAX_KEY - 3);
        k.set(ValueLayout.JAVA_INT_UNALIGNED, 0, keyId);
        for (int i = 4; i < length; i++) {
            k.set(ValueLayout.JAVA_BYTE, i, (byte) (keyId * 7 + i));
        }
        return length;
    }

    static byte valueByte(long id, long version, int i) {
        long x = (id * 0x9E3779B97F4A7C15L) ^ (version * 0xC2B2AE3D27D4EB4FL) ^ (i * 0x165667B19E3779F9L);
        return (byte) (x ^ x >>> 29 ^ x >>> 47);
    }

    static void writeValue(MemorySegment v, long id, long version, int length) {
        for (int i = 0; i < length; i++) {
            v.set(ValueLayout.JAVA_BYTE, i, valueByte(id, version, i));
        }
    }

    /** Waits (nanoseconds, never a fixed time) until an entry put with a 1 ns TTL before {@code after} has surely expired. */
    static void letExpire(long after) {
        while (System.nanoTime() - after <= 2) {
            Thread.onSpinWait();
        }
    }

    static void run(String name, long seed, Supplier<PredictionCache.Builder> config, int maxValue, boolean roomy) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<Long, Expected> model = new HashMap<>();
        Set<Long> expiredInCache = new HashSet<>();     // roomy only: expired entries still occupy the cache
        long version = 0;
        try (Arena a = Arena.ofConfined();
             PredictionCache c = config.get().build()) {
            MemorySegment k = a.allocate(MAX_KEY, 8);
            MemorySegment v = a.allocate(Math.max(maxValue, 64), 8);
            MemorySegment out = a.allocate(Math.max(maxValue, 64), 8);
            MemorySegment big = a.allocate(c.maxRecordBytes(), 8);
            int hits = 0;
            for (int step = 0; step < 20_000; step++) {
                int m = 1 + rnd.nextInt(MODELS);
                int keyId = rnd.nextInt(KEYS);
                long id = id(m, keyId);
                int keyLength = writeKey(k, keyId);
                int op = rnd.nextInt(1000);
                boolean exact = roomy && c.evictions() == 0;
                String at = name + " step " + step + " op " + op + " model " + m + " key " + keyId + ": ";
                if (op < 450) {
                    // put, with a TTL that is none, huge (never expires) or 1 ns (expired by the next get)
                    int length = rnd.nextInt(maxValue + 1);
                    version++;
                    writeValue(v, id, version, length);
                    int t = rnd.nextInt(10);
                    long ttl = t < 6 ? 0 : t == 6 ? Long.MAX_VALUE : t == 7 ? PredictionCache.MAX_TTL_NANOS + rnd.nextLong(1L << 62)
                            : t == 8 ? 1L << 40 : 1;
                    int r = c.put(m, k, 0, keyLength, v, 0, length, ttl);
                    long after = System.nanoTime();
                    if (r == PredictionCache.STORED) {
                        if (ttl == 1) {
                            model.remove(id);
                            expiredInCache.add(id);
                            letExpire(after);
                        } else {
                            model.put(id, new Expected(version, length));
                            expiredInCache.remove(id);
                        }
                    } else {
                        assertEquals(PredictionCache.REJECTED_TOO_LARGE, r, at);
                        assertTrue(!exact, at + "a roomy cache stores every put");
                        model.remove(id);
                        expiredInCache.remove(id);
                    }
                } else if (op < 850) {
                    Expected e = model.get(id);
                    int capacity = rnd.nextInt(8) == 0 ? rnd.nextInt(maxValue + 1) : (int) out.byteSize();
                    out.fill((byte) 0x5A);
                    int r = c.get(m, k, 0, keyLength, out, 0, capacity);
                    if (e == null) {
                        assertEquals(PredictionCache.MISS, r, at + "absent, overwritten by an expiring put, or invalidated");
                    } else if (r == PredictionCache.BUFFER_TOO_SMALL) {
                        assertTrue(e.length() > capacity, at + "too small for " + e.length() + " bytes? capacity " + capacity);
                    } else if (r == PredictionCache.MISS) {
                        assertTrue(!exact, at + "a roomy cache that evicted nothing lost version " + e.version());
                    } else {
                        assertEquals(e.length(), r, at + "length of version " + e.version());
                        for (int i = 0; i < r; i++) {
                            if (out.get(ValueLayout.JAVA_BYTE, i) != valueByte(id, e.version(), i)) {
                                fail(at + "byte " + i + " is not version " + e.version() + "'s");
                            }
                        }
                        hits++;
                    }
                } else if (op < 853) {
                    int removed = c.invalidate(m);
                    int expected = 0;
                    for (var it = model.keySet().iterator(); it.hasNext(); ) {
                        if (it.next() >>> 32 == m) {
                            it.remove();
                            expected++;
                        }
                    }
                    for (var it = expiredInCache.iterator(); it.hasNext(); ) {
                        if (it.next() >>> 32 == m) {
                            it.remove();
                            expected++;
                        }
                    }
                    if (exact) {
                        assertEquals(expected, removed, at + "invalidated");
                    }
                } else if (op < 910) {
                    // refused before anything changes: the old value stays
                    int bad = rnd.nextInt(4);
                    int vcap = (int) v.byteSize();
                    assertThrows(IllegalArgumentException.class, () -> {
                        switch (bad) {
                            case 0 -> c.put(m, k, 0, keyLength, v, 0, vcap + 1);
                            case 1 -> c.put(m, k, 0, keyLength, v, 1, vcap);
                            case 2 -> c.put(m, k, 0, keyLength, v, 0, Integer.MAX_VALUE);
                            default -> c.put(m, k, MAX_KEY, keyLength + 1, v, 0, 8);
                        }
                    }, at);
                } else if (op < 950) {
                    // too large for any record: rejected before anything changes, the old value stays
                    assertEquals(PredictionCache.REJECTED_TOO_LARGE, c.put(m, k, 0, keyLength, big, 0, c.maxRecordBytes()), at);
                } else if (op < 960) {
                    // the value's memory fails while it is copied: the exception reaches the caller, the
                    // old value is gone (it was replaced first), nothing half-written is ever visible
                    Arena gone = Arena.ofConfined();
                    MemorySegment dead = gone.allocate(8, 8);
                    gone.close();
                    assertThrows(IllegalStateException.class, () -> c.put(m, k, 0, keyLength, dead, 0, 8), at);
                    model.remove(id);
                    expiredInCache.remove(id);
                } else {
                    // an overwrite that expires at once, then the key is read again
                    version++;
                    writeValue(v, id, version, 8);
                    if (c.put(m, k, 0, keyLength, v, 0, 8, 1) == PredictionCache.STORED) {
                        model.remove(id);
                        expiredInCache.add(id);
                        letExpire(System.nanoTime());
                        assertEquals(PredictionCache.MISS, c.get(m, k, 0, keyLength, out, 0, (int) out.byteSize()), at + "expired");
                    }
                }
                if (exact && step % 1000 == 0) {
                    assertEquals(model.size() + expiredInCache.size(), c.entries(), name + " step " + step + ": entries");
                }
            }
            if (roomy) {
                assertEquals(0, c.evictions(), name + ": the roomy configuration must not evict, or the exact checks were skipped");
            } else {
                assertTrue(c.evictions() > 0, name + ": the tight configuration evicts");
            }
            assertTrue(hits > (roomy ? 1000 : 200), name + ": the value checks ran, hits " + hits);
            for (int m = 1; m <= MODELS; m++) {
                c.invalidate(m);
            }
            assertEquals(0, c.entries(), name + ": " + c);
            assertEquals(0, c.bytesUsed(), name + ": " + c);
        }
    }
}
