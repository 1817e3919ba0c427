package io.hotpath.jmh;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.hotpath.cache.PredictionCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Hotpath's off-heap {@link PredictionCache} against Caffeine 3.3.1 at equal memory: 256-byte
 * keys, 1.5 KiB values, Zipfian key popularity (s = 0.99) over 100,000 keys, 64 MiB. Caffeine
 * holds byte-array keys in a wrapper (hash over the bytes, equality over the bytes) with a size
 * bound of 64 MiB / (key + value + 100 bytes of its own per-entry overhead).
 *
 * <p>Both sides do what a serving path must, with memory laid out alike:
 * <ul>
 *   <li>A lookup starts from the request's own key bytes, which are not the stored key's bytes:
 *       Hotpath reads them in place from off-heap memory; the Caffeine side wraps a separate
 *       heap copy in a new key (hashing it), so {@code equals} really compares bytes (wrapping the
 *       stored array itself would let {@code Arrays.equals} return on identity).</li>
 *   <li>Every entry has its own value (Caffeine gets a distinct array per entry; one shared array
 *       would sit in L1 and make Caffeine's equal memory a fiction).</li>
 *   <li>A hit's value is copied into the caller's off-heap output memory
 *       ({@code caffeineGetNoCopy} shows Caffeine's lookup alone, returning its array).</li>
 *   <li>A put stores copies of key and value (a service reuses its input and output memory):
 *       Hotpath copies into its log, Caffeine gets a cloned key and the value read into a new
 *       array.</li>
 * </ul>
 * Both caches are filled from the same trace first. Two threads, throughput; plus
 * {@code hotpathGetHit} in sample mode for the hit path's percentiles.
 *
 * <p>{@code java -jar jmh/target/benchmarks.jar CacheBenchmark -prof gc}
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@Threads(2)
public class CacheBenchmark {
    static final int KEYS = 100_000;
    static final int KEY_BYTES = 256;
    static final int VALUE_BYTES = 1536;
    static final long BUDGET = 64L << 20;
    static final int TRACE = 1 << 20;

    /** A byte-array key with its hash computed once per key object, as a careful Caffeine user would write it. */
    record Key(byte[] bytes, int hash) {
        Key(byte[] bytes) {
            this(bytes, Arrays.hashCode(bytes));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    @State(Scope.Benchmark)
    public static class Data {
        final int[] trace = io.hotpath.cache.ZipfTrace.of(KEYS, 0.99, TRACE, 5);
        Arena arena;
        MemorySegment keys;          // off-heap, KEYS x 256 bytes: Hotpath reads keys in place
        MemorySegment value;
        Key[] heapKeys;              // Caffeine's stored keys
        byte[][] requestKeys;        // the same bytes in separate arrays: what a request brings
        byte[] heapValue;
        PredictionCache hotpath;
        Cache<Key, byte[]> caffeine;

        @Setup(Level.Trial)
        public void fill() {
            arena = Arena.ofShared();
            keys = arena.allocate((long) KEYS * KEY_BYTES, 64);
            value = arena.allocate(VALUE_BYTES, 64);
            heapKeys = new Key[KEYS];
            requestKeys = new byte[KEYS][];
            heapValue = new byte[VALUE_BYTES];
            for (int id = 0; id < KEYS; id++) {
                byte[] kb = new byte[KEY_BYTES];
                SplittableRandom r = new SplittableRandom(id);
                for (int i = 0; i < KEY_BYTES; i++) {
                    kb[i] = (byte) r.nextInt();
                }
                MemorySegment.copy(kb, 0, keys, ValueLayout.JAVA_BYTE, (long) id * KEY_BYTES, KEY_BYTES);
                heapKeys[id] = new Key(kb, Arrays.hashCode(kb));
            }
            for (int id = 0; id < KEYS; id++) {
                requestKeys[id] = heapKeys[id].bytes().clone();     // a region of their own, like Hotpath's off-heap keys
            }
            for (int i = 0; i < VALUE_BYTES; i++) {
                heapValue[i] = (byte) i;
                value.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            hotpath = PredictionCache.builder().budgetBytes(BUDGET).expectedEntryBytes(KEY_BYTES + VALUE_BYTES).build();
            caffeine = Caffeine.newBuilder().maximumSize(BUDGET / (KEY_BYTES + VALUE_BYTES + 100)).build();
            MemorySegment out = arena.allocate(VALUE_BYTES, 64);
            long hotHits = 0;
            long cafHits = 0;
            for (int id : trace) {
                if (hotpath.get(1, keys, (long) id * KEY_BYTES, KEY_BYTES, out, 0, VALUE_BYTES) >= 0) {
                    hotHits++;
                } else {
                    hotpath.put(1, keys, (long) id * KEY_BYTES, KEY_BYTES, value, 0, VALUE_BYTES);
                }
                if (caffeine.getIfPresent(heapKeys[id]) != null) {
                    cafHits++;
                } else {
                    caffeine.put(heapKeys[id], valueOf(id));
                }
            }
            caffeine.cleanUp();
            System.out.printf("%nhit rate over the %d-access fill trace: hotpath %.2f%%, caffeine %.2f%% (equal memory, %d MiB)%n",
                    TRACE, 100.0 * hotHits / TRACE, 100.0 * cafHits / TRACE, BUDGET >> 20);
        }

        /** A value of its own for each entry (same length and content apart from the first bytes). */
        byte[] valueOf(int id) {
            byte[] v = heapValue.clone();
            v[0] = (byte) id;
            v[1] = (byte) (id >>> 8);
            return v;
        }

        @TearDown(Level.Trial)
        public void free() {
            hotpath.close();
            arena.close();
        }
    }

    @State(Scope.Thread)
    public static class Cursor {
        int next;
        MemorySegment out;
        Arena arena;

        @Setup(Level.Trial)
        public void start() {
            next = (int) (Thread.currentThread().threadId() * 7919) & (TRACE - 1);
            arena = Arena.ofConfined();
            out = arena.allocate(VALUE_BYTES, 64);
        }

        @TearDown(Level.Trial)
        public void free() {
            arena.close();
        }

        int nextKey(Data d) {
            int id = d.trace[next];
            next = (next + 1) & (TRACE - 1);
            return id;
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int hotpathGet(Data d, Cursor c) {
        int id = c.nextKey(d);
        return d.hotpath.get(1, d.keys, (long) id * KEY_BYTES, KEY_BYTES, c.out, 0, VALUE_BYTES);
    }

    /** Caffeine doing the same work: look up, then put the answer into the caller's output memory. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int caffeineGet(Data d, Cursor c) {
        byte[] v = d.caffeine.getIfPresent(new Key(d.requestKeys[c.nextKey(d)]));
        if (v == null) {
            return PredictionCache.MISS;
        }
        MemorySegment.copy(v, 0, c.out, ValueLayout.JAVA_BYTE, 0, v.length);
        return v.length;
    }

    /** Caffeine's lookup alone: the value array is returned, not copied (less work than a service needs). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] caffeineGetNoCopy(Data d, Cursor c) {
        return d.caffeine.getIfPresent(new Key(d.requestKeys[c.nextKey(d)]));
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int hotpathPut(Data d, Cursor c) {
        int id = c.nextKey(d);
        return d.hotpath.put(1, d.keys, (long) id * KEY_BYTES, KEY_BYTES, d.value, 0, VALUE_BYTES);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Cache<Key, byte[]> caffeinePut(Data d, Cursor c) {
        d.caffeine.put(new Key(d.requestKeys[c.nextKey(d)].clone()), d.value.toArray(ValueLayout.JAVA_BYTE));
        return d.caffeine;
    }

    /** The hit path alone: the most popular key, always present. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int hotpathGetHit(Data d, Cursor c) {
        int id = d.trace[0];
        return d.hotpath.get(1, d.keys, (long) id * KEY_BYTES, KEY_BYTES, c.out, 0, VALUE_BYTES);
    }
}
