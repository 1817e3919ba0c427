package io.hotpath.cache;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A prediction cache in off-heap memory with a fixed byte budget.
 *
 * <p>Keys are (model id, key bytes); a lookup compares the full key, so a hash collision costs a
 * probe, never another input's answer. Values are bytes copied into the caller's memory. The
 * budget is split into power-of-two segments (by hash); each has its own index and S3-FIFO logs
 * ({@link CacheLayoutDescriptor}). Reads take no lock: they validate against the segment's
 * sequence number and retry, so a reader never returns a torn value. {@link #get} and
 * {@link #put} allocate nothing.
 *
 * <p>Return codes: {@link #get} gives the value length, {@link #MISS} or {@link #BUFFER_TOO_SMALL};
 * {@link #put} gives {@link #STORED} or {@link #REJECTED_TOO_LARGE} (a key plus value larger than
 * a segment's largest record, {@link #maxRecordBytes()}). A length, offset or TTL that is negative
 * or does not fit the segment it describes is an {@link IllegalArgumentException}, thrown before
 * the cache changes. After {@link #close()} every call is an {@link IllegalStateException}; the
 * memory is returned.
 */
public final class PredictionCache implements AutoCloseable {
    public static final int MISS = CacheSegment.MISS;
    public static final int BUFFER_TOO_SMALL = CacheSegment.BUFFER_TOO_SMALL;
    public static final int STORED = CacheSegment.STORED;
    public static final int REJECTED_TOO_LARGE = CacheSegment.REJECTED_TOO_LARGE;

    /** TTLs above this (2^62 ns, about 146 years), {@code Long.MAX_VALUE} included, mean no expiry. */
    public static final long MAX_TTL_NANOS = 1L << 62;
    /** The most segments a cache has. */
    public static final int MAX_SEGMENTS = 4096;
    /** The largest budget: {@link #MAX_SEGMENTS} segments of 1 GiB (4 TiB). */
    public static final long MAX_BUDGET_BYTES = MAX_SEGMENTS * CacheSegment.MAX_SEGMENT_BYTES;

    private static final VarHandle COUNTERS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int STRIPES = 64;
    private static final int STRIDE = 16;      // 128 bytes between stripes: no false sharing

    private final long budget;
    private final long ttlNanos;
    private final KeyHasher hasher;
    private final Arena arena;
    private final CacheSegment[] segments;
    private final int segmentShift;
    private final long allocated;
    private final long[] hits = new long[STRIPES * STRIDE];
    private final long[] misses = new long[STRIPES * STRIDE];
    private final long[] rejected = new long[STRIPES * STRIDE];   // puts refused before reaching a segment
    private final AtomicBoolean closed = new AtomicBoolean();
    private final boolean gcManaged;
    private final int maxRecord;

    /** Called by {@link Builder#build()} once every size has been checked; allocates. */
    private PredictionCache(Builder b, int n, CacheSegment.Layout layout) {
        this.gcManaged = b.gcManaged;
        this.budget = b.budgetBytes;
        this.ttlNanos = b.ttlNanos;
        this.hasher = b.hasher;
        long perSegment = layout.bytes();
        this.arena = b.gcManaged ? Arena.ofAuto() : Arena.ofShared();
        try {
            MemorySegment all;
            try {
                all = arena.allocate(perSegment * n, 64);
            } catch (OutOfMemoryError e) {
                throw new IllegalArgumentException("budgetBytes " + budget + ": cannot allocate " + perSegment * n
                        + " bytes off-heap (" + e.getMessage() + "); give the cache a smaller budget", e);
            }
            this.segments = new CacheSegment[n];
            for (int i = 0; i < n; i++) {
                segments[i] = new CacheSegment(all.asSlice(perSegment * i, perSegment), layout);
            }
            this.allocated = perSegment * n;
        } catch (RuntimeException e) {
            if (!b.gcManaged) {
                arena.close();      // an automatic arena cannot be closed: the collector returns its memory
            }
            throw e;
        }
        this.maxRecord = layout.maxRecord();
        this.segmentShift = 64 - Integer.numberOfTrailingZeros(n);
    }

    /**
     * One segment per 256 KiB of budget, at most 64; more when segments would exceed their largest
     * size (1 GiB). A power of two.
     */
    static int defaultSegments(long budget) {
        long bySize = Long.highestOneBit(Math.max(1, Math.min(64, budget / (256 * 1024))));
        long bySegmentLimit = (budget + CacheSegment.MAX_SEGMENT_BYTES - 1) / CacheSegment.MAX_SEGMENT_BYTES;
        long n = Math.max(bySize, bySegmentLimit);
        return (int) (Long.bitCount(n) == 1 ? n : Long.highestOneBit(n) << 1);
    }

    /** The expiry word for a TTL: 0 (never) for no TTL or one above {@link #MAX_TTL_NANOS}. */
    static long expiry(long now, long ttl) {
        if (ttl == 0 || ttl > MAX_TTL_NANOS) {
            return 0;
        }
        long e = now + ttl;         // may wrap: expiries are compared by difference with System.nanoTime()
        return e == 0 ? 1 : e;
    }

    /** IllegalArgumentException unless [offset, offset + length) lies within {@code s}. Allocation-free when it does. */
    private static void checkRange(String what, MemorySegment s, long offset, int length) {
        if (length < 0 || offset < 0 || offset > s.byteSize() - length) {
            throw new IllegalArgumentException(what + ": " + length + " bytes at offset " + offset + " do not lie within its segment of "
                    + s.byteSize() + " bytes" + (length < 0 ? " (a negative length)" : offset < 0 ? " (a negative offset)" : ""));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Copies the value for (modelId, key) into {@code out} at {@code outOffset}. Returns its length,
     * {@link #MISS} (absent or expired) or {@link #BUFFER_TOO_SMALL}. Allocation-free.
     */
    public int get(long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment out, long outOffset, int outCapacity) {
        checkOpen();
        checkRange("key", key, keyOffset, keyLength);
        checkRange("out", out, outOffset, outCapacity);
        if (out.isReadOnly()) {
            throw new IllegalArgumentException("out is a read-only segment");
        }
        long h = hash(modelId, key, keyOffset, keyLength);
        int r = segment(h).get(h, modelId, key, keyOffset, keyLength, out, outOffset, outCapacity);
        count(r >= 0 ? hits : misses);
        return r;
    }

    /** Stores (modelId, key) -> value with the cache's default TTL. */
    public int put(long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment value, long valueOffset, int valueLength) {
        return put(modelId, key, keyOffset, keyLength, value, valueOffset, valueLength, ttlNanos);
    }

    /**
     * Stores (modelId, key) -> value, replacing an earlier value, evicting as needed. {@code ttl}
     * in nanoseconds, 0 for none (as is one above {@link #MAX_TTL_NANOS}). Returns {@link #STORED}
     * or {@link #REJECTED_TOO_LARGE}; every argument is checked before anything changes.
     * Allocation-free.
     */
    public int put(long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment value, long valueOffset,
                   int valueLength, long ttl) {
        checkOpen();
        checkRange("key", key, keyOffset, keyLength);
        checkRange("value", value, valueOffset, valueLength);
        if (ttl < 0) {
            throw new IllegalArgumentException("ttl must be >= 0 nanoseconds (0: no expiry), was " + ttl);
        }
        if (CacheLayoutDescriptor.recordLength(keyLength, valueLength) > maxRecord) {
            count(rejected);        // before hashing: a huge key is refused without being read
            return REJECTED_TOO_LARGE;
        }
        long h = hash(modelId, key, keyOffset, keyLength);
        return segment(h).put(h, modelId, key, keyOffset, keyLength, value, valueOffset, valueLength, expiry(System.nanoTime(), ttl));
    }

    /** Removes every entry of {@code modelId} (for example when that model is reloaded); returns how many. */
    public int invalidate(long modelId) {
        checkOpen();
        int n = 0;
        for (CacheSegment s : segments) {
            n += s.invalidate(modelId);
        }
        return n;
    }

    long hash(long modelId, MemorySegment key, long offset, int length) {
        long h = hasher.hash(modelId, key, offset, length);
        return h == 0 ? 1 : h;
    }

    private CacheSegment segment(long h) {
        return segments.length == 1 ? segments[0] : segments[(int) (h >>> segmentShift)];
    }

    /**
     * Counts in the calling thread's stripe without a locked instruction: threads rarely share a
     * stripe, and when two do, a lost increment only makes the statistics approximate.
     */
    private void count(long[] counters) {
        int i = ((int) (Thread.currentThread().threadId() * 0x9E3779B9L >>> 8) & (STRIPES - 1)) * STRIDE;
        COUNTERS.setOpaque(counters, i, (long) COUNTERS.getOpaque(counters, i) + 1);
    }

    private static long sum(long[] counters) {
        long s = 0;
        for (int i = 0; i < STRIPES; i++) {
            s += (long) COUNTERS.getOpaque(counters, i * STRIDE);
        }
        return s;
    }

    private long sumSegments(java.util.function.ToLongFunction<CacheSegment> stat) {
        long n = 0;
        for (CacheSegment s : segments) {
            n += stat.applyAsLong(s);
        }
        return n;
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("prediction cache is closed");
        }
    }

    /** The budget asked for. */
    public long budgetBytes() {
        return budget;
    }

    /** Off-heap bytes this cache holds (never more than the budget). */
    public long allocatedBytes() {
        return allocated;
    }

    /** The largest key plus value (plus a 40-byte header, rounded to 8) one entry may have. */
    public int maxRecordBytes() {
        return maxRecord;
    }

    public int segmentCount() {
        return segments.length;
    }

    public long hits() {
        return sum(hits);
    }

    public long misses() {
        return sum(misses);
    }

    public long evictions() {
        return sumSegments(CacheSegment::evictions);
    }

    /** Puts refused (too large for a record). */
    public long rejectedInserts() {
        return sum(rejected) + sumSegments(CacheSegment::rejected);
    }

    /** Bytes of live entries (headers included). */
    public long bytesUsed() {
        return sumSegments(CacheSegment::bytesUsed);
    }

    public long entries() {
        return sumSegments(CacheSegment::entries);
    }

    /** Bytes of all segments' entry logs: what entries can occupy at most. */
    public long entryCapacityBytes() {
        return sumSegments(CacheSegment::logCapacity);
    }

    /** Returns the memory. Idempotent; any later call is an IllegalStateException. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && !gcManaged) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "PredictionCache[budget=" + budget + " segments=" + segments.length + " entries=" + entries()
                + " bytesUsed=" + bytesUsed() + " hits=" + hits() + " misses=" + misses() + " evictions=" + evictions() + "]";
    }

    /**
     * Builds a {@link PredictionCache}; {@link #build()} validates every option, and the sizes they
     * lead to, before it allocates anything. A refusal is an IllegalArgumentException naming the
     * option and its value.
     */
    public static final class Builder {
        private long budgetBytes;
        private int segments;
        private long ttlNanos;
        private KeyHasher hasher;
        private int expectedEntryBytes = 1024;
        private boolean gcManaged;

        private Builder() {
        }

        /**
         * The fixed off-heap budget in bytes (required, > 0, at most {@link #MAX_BUDGET_BYTES}; at
         * least {@link #minimumBudgetBytes(int)} for the segment count).
         */
        public Builder budgetBytes(long bytes) {
            this.budgetBytes = bytes;
            return this;
        }

        /**
         * Segments (a power of two, at most {@link #MAX_SEGMENTS}); 0 (default): one per 256 KiB of
         * budget, at most 64, or more where segments would exceed 1 GiB.
         */
        public Builder segments(int n) {
            this.segments = n;
            return this;
        }

        /**
         * Default time to live of an entry in nanoseconds; 0 (default) = no expiry, as is any TTL
         * above {@link #MAX_TTL_NANOS} ({@code Long.MAX_VALUE} included).
         */
        public Builder ttlNanos(long nanos) {
            this.ttlNanos = nanos;
            return this;
        }

        /**
         * The typical key plus value size (default 1 KiB, at least 1). It sizes the index: with
         * smaller entries the cache holds fewer entries than its logs could; with larger ones the
         * index is a little larger than needed. The index never takes more than a third of a
         * segment, so any size works with any budget that is not too small.
         */
        public Builder expectedEntryBytes(int bytes) {
            this.expectedEntryBytes = bytes;
            return this;
        }

        /**
         * Let the garbage collector return the memory once the cache is unreachable, instead of
         * {@link PredictionCache#close()} (for many short-lived caches, as in concurrency tests).
         * Default false: close() returns the memory at once.
         */
        public Builder gcManaged(boolean on) {
            this.gcManaged = on;
            return this;
        }

        /** The key hash (default XXH3 with a random seed per cache, see {@link KeyHasher#xxh3(long)}); tests use a weak one to force collisions. */
        public Builder hasher(KeyHasher h) {
            this.hasher = java.util.Objects.requireNonNull(h, "hasher");
            return this;
        }

        /** The smallest budget that builds with {@code segments} segments (0: the default count). */
        public static long minimumBudgetBytes(int segments) {
            return Math.max(1, segments) * CacheSegment.MIN_SEGMENT_BYTES;
        }

        public PredictionCache build() {
            if (budgetBytes <= 0) {
                throw new IllegalArgumentException("budgetBytes must be > 0, was " + budgetBytes);
            }
            if (budgetBytes > MAX_BUDGET_BYTES) {
                throw new IllegalArgumentException("budgetBytes " + budgetBytes + " is more than the largest cache, "
                        + MAX_BUDGET_BYTES + " bytes (" + MAX_SEGMENTS + " segments of " + CacheSegment.MAX_SEGMENT_BYTES + " bytes)");
            }
            if (segments < 0 || segments > MAX_SEGMENTS || (segments > 0 && Integer.bitCount(segments) != 1)) {
                throw new IllegalArgumentException("segments must be a power of two from 1 to " + MAX_SEGMENTS
                        + " (or 0 for the default), was " + segments);
            }
            if (expectedEntryBytes < 1) {
                throw new IllegalArgumentException("expectedEntryBytes must be >= 1, was " + expectedEntryBytes);
            }
            if (ttlNanos < 0) {
                throw new IllegalArgumentException("ttlNanos must be >= 0 (0: no expiry), was " + ttlNanos);
            }
            int n = segments > 0 ? segments : defaultSegments(budgetBytes);
            long perSegment = (budgetBytes / n) & ~63L;
            if (perSegment < CacheSegment.MIN_SEGMENT_BYTES) {
                long minimum = minimumBudgetBytes(n);
                throw new IllegalArgumentException("budgetBytes " + budgetBytes + " is too small for " + n + (n == 1 ? " segment" : " segments")
                        + ": each needs at least " + CacheSegment.MIN_SEGMENT_BYTES + " bytes for its index and entries;"
                        + " give budgetBytes at least " + minimum + (n > 1 ? " (or fewer segments)" : ""));
            }
            if (perSegment > CacheSegment.MAX_SEGMENT_BYTES) {
                int needed = defaultSegments(budgetBytes);
                throw new IllegalArgumentException("budgetBytes " + budgetBytes + " in " + n + (n == 1 ? " segment" : " segments")
                        + " makes segments of " + perSegment + " bytes, more than the largest, " + CacheSegment.MAX_SEGMENT_BYTES
                        + "; use segments(" + needed + ") or more, or leave segments at the default");
            }
            CacheSegment.Layout layout = CacheSegment.Layout.of(perSegment, expectedEntryBytes);
            if (hasher == null) {
                hasher = KeyHasher.xxh3(new java.security.SecureRandom().nextLong());
            }
            return new PredictionCache(this, n, layout);
        }
    }
}
