package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Hit rate against Caffeine at equal memory on a Zipfian trace (s = 0.99), 256-byte keys and
 * 1.5 KiB values. Caffeine gets as many entries as the same bytes hold on its heap (key and
 * value arrays, a key wrapper, its node: about 100 bytes over the payload).
 */
class HitRateTest {
    static final int KEYS = 50_000;
    static final int ACCESSES = 400_000;
    static final int KEY_BYTES = 256;
    static final int VALUE_BYTES = 1536;

    record Key(byte[] bytes, int hash) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    @Test
    void withinThreePointsOfCaffeineAtEqualMemory() {
        int[] trace = ZipfTrace.of(KEYS, 0.99, ACCESSES, 11);
        for (long budget : new long[] {8L << 20, 32L << 20}) {
            double ours = ours(trace, budget);
            double caffeine = caffeine(trace, budget);
            System.out.printf("hit rate at %d MiB: hotpath %.2f%%, caffeine %.2f%%%n", budget >> 20, ours * 100, caffeine * 100);
            assertTrue(ours >= caffeine - 0.03, "hotpath " + ours + " vs caffeine " + caffeine + " at " + budget + " bytes");
        }
    }

    static double ours(int[] trace, long budget) {
        try (Arena a = Arena.ofConfined();
             PredictionCache c = PredictionCache.builder().budgetBytes(budget).build()) {
            MemorySegment k = a.allocate(KEY_BYTES, 8);
            MemorySegment v = a.allocate(VALUE_BYTES, 8);
            MemorySegment o = a.allocate(VALUE_BYTES, 8);
            long hits = 0;
            for (int id : trace) {
                PredictionCacheTest.fill(k, v, id, KEY_BYTES, VALUE_BYTES);
                if (c.get(1, k, 0, KEY_BYTES, o, 0, VALUE_BYTES) >= 0) {
                    hits++;
                } else {
                    c.put(1, k, 0, KEY_BYTES, v, 0, VALUE_BYTES);
                }
            }
            return (double) hits / trace.length;
        }
    }

    static double caffeine(int[] trace, long budget) {
        long perEntry = KEY_BYTES + VALUE_BYTES + 100;
        Cache<Key, byte[]> c = Caffeine.newBuilder().maximumSize(budget / perEntry).executor(Runnable::run).build();
        long hits = 0;
        for (int id : trace) {
            byte[] kb = new byte[KEY_BYTES];
            for (int i = 0; i < KEY_BYTES / 8; i++) {
                long x = id * 31L + i;
                for (int b = 0; b < 8; b++) {
                    kb[i * 8 + b] = (byte) (x >>> (8 * b));
                }
            }
            Key key = new Key(kb, Arrays.hashCode(kb));
            if (c.getIfPresent(key) != null) {
                hits++;
            } else {
                c.put(key, new byte[VALUE_BYTES]);
            }
        }
        return (double) hits / trace.length;
    }
}
