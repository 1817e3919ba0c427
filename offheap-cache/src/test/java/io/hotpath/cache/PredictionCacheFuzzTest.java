package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertThrows;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Random operation sequences on a {@link PredictionCache}, checked against a {@link HashMap} of the
 * last value stored per (model id, key bytes). Invariants checked after every operation:
 * <ul>
 *   <li>a get returns MISS (evicted, expired, invalidated) or exactly the last value stored for
 *       that key, or BUFFER_TOO_SMALL only when that value is larger than the capacity given;</li>
 *   <li>a get right after a STORED put without expiry returns the value just stored;</li>
 *   <li>bad arguments (negative lengths, ranges outside the segments) are an
 *       IllegalArgumentException or IndexOutOfBoundsException, and later operations still hold
 *       to the above;</li>
 *   <li>{@code entries()} stays within [0, live keys of the reference], {@code bytesUsed()} within
 *       [0, entryCapacityBytes()];</li>
 *   <li>no operation hangs (each input runs under a watchdog); after close every call is an
 *       IllegalStateException.</li>
 * </ul>
 * Without JAZZER_FUZZ this replays {@code PredictionCacheFuzzTestInputs/} (docs/fuzzing.md).
 */
class PredictionCacheFuzzTest {
    private static final int KEY_CAP = 256;
    private static final int VALUE_CAP = 4096;
    private static final int OUT_CAP = 4096;
    private static final int[] KEY_LENGTHS = {0, 1, 7, 8, 16, 33, 64, 128};
    private static final long WATCHDOG_MILLIS = 20_000;

    @FuzzTest(maxDuration = "2m")
    void operationsAgreeWithAHashMap(FuzzedDataProvider data) throws Throwable {
        Run run = new Run(data);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().daemon().name("cache-fuzz").start(() -> {
            try {
                run.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join(WATCHDOG_MILLIS);
        if (t.isAlive()) {
            AssertionError hang = new AssertionError("cache operation did not return within " + WATCHDOG_MILLIS + " ms; last operations:\n" + run.log());
            hang.setStackTrace(t.getStackTrace());
            throw hang;
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** One input: a cache configuration and an operation sequence. */
    private static final class Run {
        private final FuzzedDataProvider d;
        private final ArrayDeque<String> log = new ArrayDeque<>();
        private final Map<String, byte[]> reference = new HashMap<>();
        private final Map<String, Long> modelOf = new HashMap<>();
        private int version;

        Run(FuzzedDataProvider d) {
            this.d = d;
        }

        String log() {
            synchronized (log) {
                return String.join("\n", log);
            }
        }

        private void note(String op) {
            synchronized (log) {
                if (log.size() == 80) {
                    log.removeFirst();
                }
                log.addLast(op);
            }
        }

        private AssertionError fail(String message) {
            return new AssertionError(message + "\nlast operations:\n" + log());
        }

        void run() {
            long budget = switch (d.consumeInt(0, 5)) {
                case 0 -> 8 << 10;
                case 1 -> 32 << 10;
                case 2 -> 64 << 10;
                case 3 -> 256 << 10;
                case 4 -> 1 << 20;
                default -> d.consumeLong(-1, 2 << 20);
            };
            int segments = d.pickValue(new int[] {0, 1, 2, 4, 8, 3, -1});
            int expected = d.consumeBoolean() ? 1024 : d.consumeInt(0, 8192);
            long defaultTtl = d.consumeBoolean() ? 0 : ttl(d);
            int hasherKind = d.consumeInt(0, 2);
            KeyHasher hasher = switch (hasherKind) {
                case 0 -> KeyHasher.xxh3(d.consumeLong());
                // weak hashes force long probe chains and full-hash collisions
                case 1 -> (model, key, off, len) -> 1 + (key.asSlice(off, len).byteSize() & 3) + (model & 1);
                default -> (model, key, off, len) -> 42L;
            };
            note("build budget=" + budget + " segments=" + segments + " expectedEntryBytes=" + expected + " ttl=" + defaultTtl
                    + " hasher=" + hasherKind);
            boolean gcManaged = d.consumeBoolean();
            PredictionCache cache;
            try {
                cache = PredictionCache.builder().budgetBytes(budget).segments(segments).expectedEntryBytes(expected)
                        .ttlNanos(defaultTtl).hasher(hasher).gcManaged(gcManaged).build();
            } catch (IllegalArgumentException e) {
                return;     // documented: the builder validates once (finding 1, fixed: also for gcManaged caches)
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment key = arena.allocate(KEY_CAP, 8);
                MemorySegment value = arena.allocate(VALUE_CAP, 8);
                MemorySegment out = arena.allocate(OUT_CAP, 8);
                int ops = 0;
                while (d.remainingBytes() > 0 && ops++ < 300) {
                    try {
                        step(cache, key, value, out, defaultTtl);
                    } catch (RuntimeException e) {
                        // keeps the exception (and so Jazzer's deduplication by its stack) as it is
                        e.addSuppressed(new Throwable("last operations:\n" + log()));
                        throw e;
                    }
                    checkStats(cache);
                }
                // every model invalidated: nothing may be left, not even in the counts
                java.util.Set<Long> models = new java.util.HashSet<>(modelOf.values());
                models.addAll(java.util.List.of(0L, 1L, 2L, 3L));
                for (long m : models) {
                    cache.invalidate(m);
                }
                note("invalidate every model");
                if (cache.entries() != 0 || cache.bytesUsed() != 0) {
                    throw fail("after invalidating every model: entries() = " + cache.entries() + ", bytesUsed() = " + cache.bytesUsed());
                }
                cache.close();
                note("close");
                assertThrows(IllegalStateException.class, () -> cache.get(0, key, 0, 0, out, 0, OUT_CAP));
                assertThrows(IllegalStateException.class, () -> cache.put(0, key, 0, 0, value, 0, 0));
                assertThrows(IllegalStateException.class, () -> cache.invalidate(0));
                cache.close();
            } finally {
                cache.close();
            }
        }

        private static long ttl(FuzzedDataProvider d) {
            return switch (d.consumeInt(0, 5)) {
                case 0 -> 1;
                case 1 -> d.consumeLong(1, 2_000_000);        // up to 2 ms: expires during the run
                case 2 -> 60_000_000_000L;                     // a minute: never expires during the run
                case 3 -> d.consumeLong(60_000_000_000L, 3_600_000_000_000L);
                // anything, negative and near Long.MAX_VALUE included (finding 3, fixed: huge TTLs never expire)
                case 4 -> d.consumeLong(Long.MIN_VALUE, Long.MAX_VALUE);
                default -> 0;
            };
        }

        /** A key of the small universe (4 models x 8 lengths, prefixes of each other) or one of fuzzed bytes. */
        private record Key(long model, byte[] bytes) {
            String id() {
                return model + ":" + HexFormat.of().formatHex(bytes);
            }
        }

        private Key key() {
            if (d.consumeInt(0, 7) == 0) {
                return new Key(d.consumeLong(), d.consumeBytes(d.consumeInt(0, KEY_CAP)));
            }
            int k = d.consumeInt(0, 31);
            byte[] b = new byte[KEY_LENGTHS[k >> 2]];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (i * 7 + 1);
            }
            return new Key(k & 3, b);
        }

        private int place(MemorySegment seg, byte[] bytes, int cap) {
            int offset = d.consumeInt(0, cap - bytes.length);
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, offset, bytes.length);
            return offset;
        }

        private void step(PredictionCache cache, MemorySegment keySeg, MemorySegment valueSeg, MemorySegment out, long defaultTtl) {
            int op = d.consumeInt(0, 9);
            switch (op) {
                case 0, 1, 2 -> put(cache, keySeg, valueSeg, defaultTtl, op == 0);
                case 3, 4, 5 -> get(cache, keySeg, out);
                case 6 -> invalidate(cache);
                case 7, 8 -> badPut(cache, keySeg, valueSeg);
                default -> badGet(cache, keySeg, out);
            }
        }

        private void put(PredictionCache cache, MemorySegment keySeg, MemorySegment valueSeg, long defaultTtl, boolean explicitTtl) {
            Key k = key();
            int keyOffset = place(keySeg, k.bytes(), KEY_CAP);
            int length = d.consumeBoolean() ? d.consumeInt(0, 64) : d.consumeInt(0, VALUE_CAP);
            byte[] v = new byte[length];
            int ver = ++version;
            for (int i = 0; i < length; i++) {
                v[i] = (byte) (ver * 131 + i * 17);
            }
            int valueOffset = place(valueSeg, v, VALUE_CAP);
            long ttl = explicitTtl ? ttl(d) : defaultTtl;
            note("put " + k.id() + " @" + keyOffset + " value v" + ver + " len=" + length + " @" + valueOffset
                    + (explicitTtl ? " ttl=" + ttl : " (default ttl)"));
            if (explicitTtl && ttl < 0) {
                // documented: a negative TTL is refused before anything changes
                try {
                    cache.put(k.model(), keySeg, keyOffset, k.bytes().length, valueSeg, valueOffset, length, ttl);
                } catch (IllegalArgumentException expected) {
                    note("  -> refused (negative ttl)");
                    return;
                }
                throw fail("a put with ttl " + ttl + " was accepted");
            }
            int r = explicitTtl
                    ? cache.put(k.model(), keySeg, keyOffset, k.bytes().length, valueSeg, valueOffset, length, ttl)
                    : cache.put(k.model(), keySeg, keyOffset, k.bytes().length, valueSeg, valueOffset, length);
            note("  -> " + r);
            if (r == PredictionCache.STORED) {
                reference.put(k.id(), v);
                modelOf.put(k.id(), k.model());
                boolean expires = ttl > 0 && ttl < 60_000_000_000L;
                if (!expires) {
                    // nothing can have evicted or expired it yet: it must read back at once
                    byte[] got = new byte[VALUE_CAP];
                    MemorySegment o = MemorySegment.ofArray(got);
                    int g = cache.get(k.model(), keySeg, keyOffset, k.bytes().length, o, 0, VALUE_CAP);
                    note("  read back -> " + g);
                    if (g != length || !Arrays.equals(got, 0, length, v, 0, length)) {
                        throw fail("a value stored without expiry (ttl " + ttl + ") does not read back at once: get gave " + g
                                + ", expected " + length);
                    }
                }
            } else if (r != PredictionCache.REJECTED_TOO_LARGE) {
                throw fail("put returned " + r);
            } else if (CacheLayoutDescriptor.recordLength(k.bytes().length, length) <= cache.maxRecordBytes()) {
                // documented: only a record larger than maxRecordBytes() is refused; others evict to make room
                throw fail("put of a " + CacheLayoutDescriptor.recordLength(k.bytes().length, length) + "-byte record refused; maxRecordBytes "
                        + cache.maxRecordBytes());
            }
        }

        private void get(PredictionCache cache, MemorySegment keySeg, MemorySegment out) {
            Key k = key();
            int keyOffset = place(keySeg, k.bytes(), KEY_CAP);
            int capacity = d.consumeBoolean() ? OUT_CAP : d.consumeInt(0, OUT_CAP);
            int outOffset = d.consumeInt(0, OUT_CAP - capacity);
            out.fill((byte) 0x5A);
            int r = cache.get(k.model(), keySeg, keyOffset, k.bytes().length, out, outOffset, capacity);
            note("get " + k.id() + " @" + keyOffset + " cap=" + capacity + " @" + outOffset + " -> " + r);
            checkGet(k, r, out, outOffset, capacity);
        }

        private void checkGet(Key k, int r, MemorySegment out, long outOffset, int capacity) {
            byte[] expected = reference.get(k.id());
            if (r == PredictionCache.MISS) {
                return;
            }
            if (expected == null) {
                throw fail("get of a key never stored (or invalidated) returned " + r);
            }
            if (r == PredictionCache.BUFFER_TOO_SMALL) {
                if (expected.length <= capacity) {
                    throw fail("BUFFER_TOO_SMALL for a " + expected.length + "-byte value and capacity " + capacity);
                }
                return;
            }
            if (r != expected.length) {
                throw fail("get returned length " + r + ", the last value stored has " + expected.length);
            }
            byte[] got = out.asSlice(outOffset, r).toArray(ValueLayout.JAVA_BYTE);
            if (!Arrays.equals(got, expected)) {
                throw fail("get returned other bytes than the last value stored");
            }
            if (outOffset > 0 && out.get(ValueLayout.JAVA_BYTE, outOffset - 1) != 0x5A
                    || outOffset + r < out.byteSize() && out.get(ValueLayout.JAVA_BYTE, outOffset + r) != 0x5A) {
                throw fail("get wrote outside [outOffset, outOffset + length)");
            }
        }

        private void invalidate(PredictionCache cache) {
            long model = d.consumeBoolean() ? d.consumeInt(0, 4) : d.consumeLong();
            int n = cache.invalidate(model);
            note("invalidate " + model + " -> " + n);
            long live = modelOf.values().stream().filter(m -> m == model).count();
            if (n < 0 || n > live) {
                throw fail("invalidate(" + model + ") removed " + n + " entries; at most " + live + " were stored");
            }
            modelOf.entrySet().removeIf(e -> {
                if (e.getValue() == model) {
                    reference.remove(e.getKey());
                    return true;
                }
                return false;
            });
        }

        private void badPut(PredictionCache cache, MemorySegment keySeg, MemorySegment valueSeg) {
            Key k = key();
            int keyOffset = place(keySeg, k.bytes(), KEY_CAP);
            int keyLength = k.bytes().length;
            int valueOffset = 0;
            int valueLength = d.consumeInt(0, 64);
            // Known findings 2 and 4 (PredictionCacheFindingsTest) are left out so that fuzzing goes past them: a value
            // length near Integer.MAX_VALUE overflows the record length and corrupts the segment (2); a value range
            // outside the value segment is refused only after the record was appended, which skews the counts (4).
            // With those fixed, add: valueLength = Integer.MAX_VALUE - small, valueOffset < 0 or past the segment.
            switch (d.consumeInt(0, 2)) {
                case 0 -> keyLength = d.consumeInt(Integer.MIN_VALUE, -1);
                case 1 -> valueLength = d.consumeInt(Integer.MIN_VALUE, -1);
                default -> keyOffset = d.consumeBoolean() ? d.consumeInt(Integer.MIN_VALUE, -1) : KEY_CAP - keyLength + d.consumeInt(1, 1 << 20);
            }
            note("bad put " + k.id() + " keyOffset=" + keyOffset + " keyLength=" + keyLength + " valueOffset=" + valueOffset
                    + " valueLength=" + valueLength);
            try {
                int r = cache.put(k.model(), keySeg, keyOffset, keyLength, valueSeg, valueOffset, valueLength, 0);
                note("  -> " + r);
                if (r != PredictionCache.REJECTED_TOO_LARGE) {
                    throw fail("a put with arguments outside its segments returned " + r);
                }
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                note("  -> " + e.getClass().getSimpleName());
            }
        }

        private void badGet(PredictionCache cache, MemorySegment keySeg, MemorySegment out) {
            Key k = key();
            int keyOffset = place(keySeg, k.bytes(), KEY_CAP);
            int keyLength = k.bytes().length;
            long outOffset = 0;
            int capacity = OUT_CAP;
            switch (d.consumeInt(0, 4)) {
                case 0 -> keyLength = d.consumeInt(Integer.MIN_VALUE, -1);
                case 1 -> keyOffset = d.consumeBoolean() ? d.consumeInt(Integer.MIN_VALUE, -1) : KEY_CAP - keyLength + d.consumeInt(1, 1 << 20);
                case 2 -> outOffset = d.consumeBoolean() ? d.consumeLong(Long.MIN_VALUE, -1) : d.consumeLong(1, 1L << 40);
                case 3 -> capacity = d.consumeInt(Integer.MIN_VALUE, -1);
                default -> capacity = OUT_CAP + d.consumeInt(1, Integer.MAX_VALUE - OUT_CAP);
            }
            note("bad get " + k.id() + " keyOffset=" + keyOffset + " keyLength=" + keyLength + " outOffset=" + outOffset + " capacity=" + capacity);
            out.fill((byte) 0x5A);
            try {
                int r = cache.get(k.model(), keySeg, keyOffset, keyLength, out, outOffset, capacity);
                note("  -> " + r);
                if (keyLength == k.bytes().length && keyOffset >= 0 && keyOffset + keyLength <= KEY_CAP && r >= 0) {
                    checkGet(k, r, out, outOffset, capacity);
                } else if (r >= 0) {
                    throw fail("a get with a key outside its segment returned " + r);
                }
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                note("  -> " + e.getClass().getSimpleName());
            }
        }

        private void checkStats(PredictionCache cache) {
            long entries = cache.entries();
            long used = cache.bytesUsed();
            if (entries < 0 || entries > reference.size()) {
                throw fail("entries() = " + entries + " with " + reference.size() + " keys ever stored and not invalidated");
            }
            if (used < 0 || used > cache.entryCapacityBytes()) {
                throw fail("bytesUsed() = " + used + " outside [0, " + cache.entryCapacityBytes() + "]");
            }
        }
    }
}
