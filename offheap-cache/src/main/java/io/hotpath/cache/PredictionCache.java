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
 * a segment's largest record, {@link #maxRecordBytes()}). After {@link #close()} every call is an
 * {@link IllegalStateException}; the memory is returned.
 */
public final class PredictionCache implements AutoCloseable {
    public static final int MISS = CacheSegment.MISS;
    public static final int BUFFER_TOO_SMALL = CacheSegment.BUFFER_TOO_SMALL;
    public static final int STORED = CacheSegment.STORED;
    public static final int REJECTED_TOO_LARGE = CacheSegment.REJECTED_TOO_LARGE;

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
    private final AtomicBoolean closed = new AtomicBoolean();
    private final boolean gcManaged;

    private PredictionCache(Builder b) {
        this.gcManaged = b.gcManaged;
        this.budget = b.budgetBytes;
        this.ttlNanos = b.ttlNanos;
        this.hasher = b.hasher;
        int n = b.segments > 0 ? b.segments : defaultSegments(budget);
        long perSegment = (budget / n) & ~63L;
        this.arena = b.gcManaged ? Arena.ofAuto() : Arena.ofShared();
        try {
            MemorySegment all = arena.allocate(perSegment * n, 64);
            this.segments = new CacheSegment[n];
            for (int i = 0; i < n; i++) {
                segments[i] = new CacheSegment(all.asSlice(perSegment * i, perSegment), b.expectedEntryBytes);
            }
            this.allocated = perSegment * n;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        this.segmentShift = 64 - Integer.numberOfTrailingZeros(n);
    }

    private static int defaultSegments(long budget) {
        long n = Math.max(1, Math.min(64, budget / (256 * 1024)));
        return Integer.highestOneBit((int) n);
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
     * in nanoseconds, 0 for none. Returns {@link #STORED} or {@link #REJECTED_TOO_LARGE}. Allocation-free.
     */
    public int put(long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment value, long valueOffset,
                   int valueLength, long ttl) {
        checkOpen();
        if (keyLength < 0 || valueLength < 0) {
            throw new IllegalArgumentException("negative key or value length: " + keyLength + ", " + valueLength);
        }
        long h = hash(modelId, key, keyOffset, keyLength);
        long expiry = ttl > 0 ? Math.max(1, System.nanoTime() + ttl) : 0;
        return segment(h).put(h, modelId, key, keyOffset, keyLength, value, valueOffset, valueLength, expiry);
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
        return segments[0].maxRecord;
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
        return sumSegments(CacheSegment::rejected);
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

    /** Builds a {@link PredictionCache}; {@link #build()} validates once. */
    public static final class Builder {
        private long budgetBytes;
        private int segments;
        private long ttlNanos;
        private KeyHasher hasher;
        private int expectedEntryBytes = 1024;
        private boolean gcManaged;

        private Builder() {
        }

        /** The fixed off-heap budget in bytes (required, > 0). */
        public Builder budgetBytes(long bytes) {
            this.budgetBytes = bytes;
            return this;
        }

        /** Segments (a power of two); default: one per 256 KiB of budget, at most 64. */
        public Builder segments(int n) {
            this.segments = n;
            return this;
        }

        /** Default time to live of an entry in nanoseconds; 0 (default) = no expiry. */
        public Builder ttlNanos(long nanos) {
            this.ttlNanos = nanos;
            return this;
        }

        /**
         * The typical key plus value size (default 1 KiB). It sizes the index: with smaller
         * entries the cache holds at most budget/this many entries; with larger ones the index is
         * a little larger than needed.
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
            this.hasher = java.util.Objects.requireNonNull(h);
            return this;
        }

        public PredictionCache build() {
            if (budgetBytes <= 0) {
                throw new IllegalArgumentException("budgetBytes must be > 0, was " + budgetBytes);
            }
            if (segments < 0 || (segments > 0 && Integer.bitCount(segments) != 1)) {
                throw new IllegalArgumentException("segments must be a power of two, was " + segments);
            }
            if (expectedEntryBytes < 16) {
                throw new IllegalArgumentException("expectedEntryBytes must be >= 16, was " + expectedEntryBytes);
            }
            if (ttlNanos < 0) {
                throw new IllegalArgumentException("ttlNanos must be >= 0, was " + ttlNanos);
            }
            if (hasher == null) {
                hasher = KeyHasher.xxh3(new java.security.SecureRandom().nextLong());
            }
            return new PredictionCache(this);
        }
    }
}
