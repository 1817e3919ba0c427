package io.hotpath.cache;

import static io.hotpath.cache.CacheLayoutDescriptor.DEAD;
import static io.hotpath.cache.CacheLayoutDescriptor.EXPIRY_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.HASH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.HEADER_LENGTH;
import static io.hotpath.cache.CacheLayoutDescriptor.KEY_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.MODEL_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.PADDING;
import static io.hotpath.cache.CacheLayoutDescriptor.RECORD_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.SLOT_BYTES;
import static io.hotpath.cache.CacheLayoutDescriptor.VALUE_LENGTH_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One segment of the cache: its own index, logs and sequence number (see
 * {@link CacheLayoutDescriptor}). Writers take the segment's lock (an odd sequence number);
 * readers never lock: they read optimistically and retry when the sequence number moved.
 *
 * <p>Eviction is S3-FIFO: new entries go to the small FIFO; an entry read while there moves to the
 * main FIFO when it reaches the small FIFO's end, others leave and their hash is remembered in
 * the ghost table; an entry whose hash is in the ghost table is admitted straight to main; main
 * is a FIFO with reinsertion (an entry read since it was last considered gets another round, up
 * to three).
 */
final class CacheSegment {
    static final int MISS = -1;
    static final int BUFFER_TOO_SMALL = -2;
    static final int STORED = 0;
    static final int REJECTED_TOO_LARGE = -3;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final VarHandle SEQUENCE;
    private static final int MAX_FREQ = 3;
    /** Low bits of a slot's reference word: the entry's read count (records are 8-aligned). */
    private static final long FREQ_MASK = 7L;
    private static final VarHandle REF = ValueLayout.JAVA_LONG.varHandle();
    private static final int READ_ATTEMPTS = 16;

    static {
        try {
            SEQUENCE = MethodHandles.lookup().findVarHandle(CacheSegment.class, "sequence", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One circular log of records. */
    private static final class Log {
        final long base;     // offset of the log in the segment memory
        final int cap;
        final int refBase;   // offset of the log in the log area (the entry reference space)
        int head;
        int tail;
        int used;

        Log(long base, int cap, int refBase) {
            this.base = base;
            this.cap = cap;
            this.refBase = refBase;
        }
    }

    private final MemorySegment mem;
    private final int slots;
    private final int mask;
    private final long ghostBase;
    private final int ghostMask;
    private final long scratchBase;
    private final long logArea;
    private final Log small;
    private final Log main;
    final int maxRecord;
    final int maxEntries;
    private final long[] stats;     // per segment: [evictions, rejected, bytesUsed, entries] written under the lock

    @SuppressWarnings("unused")
    private volatile long sequence;

    /** The fewest index slots a segment has, whatever its entry size. */
    static final int MIN_SLOTS = 16;
    /** The most index slots a segment has (a 1 GiB segment of the smallest records needs far fewer). */
    static final int MAX_SLOTS = 1 << 28;
    /** The least log bytes a segment must keep for entries after its index. */
    static final long MIN_LOG_BYTES = 1024;
    /** The smallest segment: the smallest index plus the least log. A multiple of 64. */
    static final long MIN_SEGMENT_BYTES = (indexBytes(MIN_SLOTS) + MIN_LOG_BYTES + 63) & ~63L;
    /**
     * The largest segment: log offsets and entry references are ints, and every sum of an offset
     * and a record length must stay below 2^31.
     */
    static final long MAX_SEGMENT_BYTES = 1L << 30;

    /**
     * Where everything lives in a segment of {@code bytes} bytes, computed before any memory is
     * allocated. The index (with the ghost table) is sized for the entries the log can hold at
     * {@code expectedEntryBytes} (key plus value) per entry, but never takes more than a third of
     * the segment, and never has fewer than {@link #MIN_SLOTS} slots.
     */
    record Layout(long bytes, int slots, int ghostSlots, long fixed, int smallCap, int maxRecord, int mainCap) {
        /** Requires {@code MIN_SEGMENT_BYTES <= bytes <= MAX_SEGMENT_BYTES} and {@code expectedEntryBytes >= 1}. */
        static Layout of(long bytes, int expectedEntryBytes) {
            if (bytes < MIN_SEGMENT_BYTES || bytes > MAX_SEGMENT_BYTES || expectedEntryBytes < 1) {
                throw new IllegalArgumentException("segment of " + bytes + " bytes for entries of " + expectedEntryBytes
                        + " bytes: outside " + MIN_SEGMENT_BYTES + ".." + MAX_SEGMENT_BYTES);
            }
            long record = CacheLayoutDescriptor.recordLength(0, expectedEntryBytes);
            long estimatedEntries = bytes * 9 / 10 / record;
            long indexShare = bytes / 3;
            int s = MIN_SLOTS;
            while (s < MAX_SLOTS && (long) s * 3 / 4 < estimatedEntries && indexBytes(s << 1) <= indexShare) {
                s <<= 1;
            }
            int ghostSlots = ghostSlotsFor(s);
            long fixed = indexBytes(s);
            long avail = (bytes - fixed) & ~7L;           // >= MIN_LOG_BYTES: see MIN_SEGMENT_BYTES
            int smallCap = (int) ((avail / 10) & ~7L);
            int maxRecord = (smallCap / 2) & ~7;
            int mainCap = (int) ((avail - smallCap - maxRecord) & ~7L);
            return new Layout(bytes, s, ghostSlots, fixed, smallCap, maxRecord, mainCap);
        }
    }

    private static int ghostSlotsFor(int slots) {
        return Math.max(16, slots / 2);
    }

    /** Bytes of an index of {@code slots} slots plus its ghost table (both 8-aligned). */
    private static long indexBytes(int slots) {
        return (long) slots * SLOT_BYTES + (long) ghostSlotsFor(slots) * 8;
    }

    CacheSegment(MemorySegment mem, Layout layout) {
        if (mem.byteSize() != layout.bytes()) {
            throw new IllegalArgumentException("segment memory of " + mem.byteSize() + " bytes for a layout of " + layout.bytes());
        }
        this.mem = mem;
        this.slots = layout.slots();
        this.mask = slots - 1;
        this.maxEntries = slots * 3 / 4;
        this.ghostBase = (long) slots * SLOT_BYTES;
        this.ghostMask = layout.ghostSlots() - 1;
        this.maxRecord = layout.maxRecord();
        this.scratchBase = layout.fixed();
        this.logArea = scratchBase + maxRecord;
        this.small = new Log(logArea, layout.smallCap(), 0);
        this.main = new Log(logArea + layout.smallCap(), layout.mainCap(), layout.smallCap());
        this.stats = new long[4];
        mem.fill((byte) 0);
    }

    // ------------------------------------------------------------------ reads (lock-free)

    /** Copies the value for the key into {@code out}; returns its length, MISS or BUFFER_TOO_SMALL. */
    int get(long hash, long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment out, long outOffset,
            int outCapacity) {
        for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
            long seq = (long) SEQUENCE.getAcquire(this);
            if ((seq & 1) != 0) {
                Thread.onSpinWait();
                continue;
            }
            int result = MISS;
            int slot = findSlot(hash, modelId, key, keyOffset, keyLength);
            long refWord = 0;
            if (slot >= 0) {
                refWord = mem.get(LONG, (long) slot * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET);
                long rec = logArea + (refWord & ~FREQ_MASK);
                int valueLength = mem.get(INT, rec + VALUE_LENGTH_OFFSET);
                long expiry = mem.get(LONG, rec + EXPIRY_OFFSET);
                long valueStart = rec + HEADER_LENGTH + keyLength;
                if (valueLength < 0 || valueStart + valueLength > mem.byteSize()) {
                    result = Integer.MIN_VALUE;     // torn read: retry
                } else if (expiry != 0 && System.nanoTime() - expiry > 0) {
                    result = MISS;
                } else if (valueLength > outCapacity) {
                    result = BUFFER_TOO_SMALL;
                } else {
                    MemorySegment.copy(mem, valueStart, out, outOffset, valueLength);
                    result = valueLength;
                }
            }
            VarHandle.acquireFence();
            if ((long) SEQUENCE.getOpaque(this) == seq && result != Integer.MIN_VALUE) {
                if (result >= 0 && (refWord & FREQ_MASK) < MAX_FREQ) {
                    // The read count lives in the low bits of the slot's reference: one CAS, which
                    // fails harmlessly if a writer changed the slot meanwhile.
                    REF.compareAndSet(mem, (long) slot * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET, refWord, refWord + 1);
                }
                return result;
            }
        }
        // Writers kept changing the segment: read under the lock instead.
        lock();
        try {
            int slot = findSlot(hash, modelId, key, keyOffset, keyLength);
            if (slot < 0) {
                return MISS;
            }
            long rec = logArea + (mem.get(LONG, (long) slot * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET) & ~FREQ_MASK);
            int valueLength = mem.get(INT, rec + VALUE_LENGTH_OFFSET);
            long expiry = mem.get(LONG, rec + EXPIRY_OFFSET);
            if (expiry != 0 && System.nanoTime() - expiry > 0) {
                return MISS;
            }
            if (valueLength > outCapacity) {
                return BUFFER_TOO_SMALL;
            }
            MemorySegment.copy(mem, rec + HEADER_LENGTH + keyLength, out, outOffset, valueLength);
            bumpFrequency(slot);
            return valueLength;
        } finally {
            unlock();
        }
    }

    /** The slot holding this exact key, or -1. Safe on torn data: every offset is range-checked. */
    private int findSlot(long hash, long modelId, MemorySegment key, long keyOffset, int keyLength) {
        int i = (int) hash & mask;
        long limit = logArea + small.cap + main.cap;
        for (int probes = 0; probes < slots; probes++) {
            long slotOffset = (long) i * SLOT_BYTES;
            long h = mem.get(LONG, slotOffset);
            if (h == 0) {
                return -1;
            }
            if (h == hash) {
                long ref = mem.get(LONG, slotOffset + CacheLayoutDescriptor.SLOT_REF_OFFSET) & ~FREQ_MASK;
                long rec = logArea + ref;
                if (ref >= 0 && rec + HEADER_LENGTH + keyLength <= limit
                        && mem.get(INT, rec + KEY_LENGTH_OFFSET) == keyLength
                        && mem.get(LONG, rec + MODEL_OFFSET) == modelId
                        && MemorySegment.mismatch(mem, rec + HEADER_LENGTH, rec + HEADER_LENGTH + keyLength,
                        key, keyOffset, keyOffset + keyLength) == -1) {
                    return i;
                }
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    // ------------------------------------------------------------------ writes (under the lock)

    void lock() {
        while (true) {
            long s = (long) SEQUENCE.getVolatile(this);
            if ((s & 1) == 0 && SEQUENCE.compareAndSet(this, s, s + 1)) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    void unlock() {
        SEQUENCE.setRelease(this, (long) SEQUENCE.getOpaque(this) + 1);
    }

    /**
     * Stores the entry; the caller has checked every length and range against {@code key} and
     * {@code value}. A record too large for this segment is REJECTED_TOO_LARGE and changes nothing
     * but the rejection count.
     */
    int put(long hash, long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment value, long valueOffset,
            int valueLength, long expiry) {
        long recordBytes = CacheLayoutDescriptor.recordLength(keyLength, valueLength);
        lock();
        try {
            if (recordBytes > maxRecord) {
                stats[1]++;
                return REJECTED_TOO_LARGE;
            }
            int length = (int) recordBytes;
            int existing = findSlot(hash, modelId, key, keyOffset, keyLength);
            if (existing >= 0) {
                long rec = logArea + (mem.get(LONG, (long) existing * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET) & ~FREQ_MASK);
                forget(existing, rec);
            }
            while (stats[3] >= maxEntries && evictOne()) {
                // evict until an index slot is free (or nothing is left to evict)
            }
            // S3-FIFO admits new keys to the small FIFO; while main still has free room (the cache
            // is filling up) they go to main directly, so no memory sits idle.
            Log target = ghostContains(hash) || hasRoom(main, length) ? main : small;
            if (stats[3] >= maxEntries || !makeRoom(target, length)) {
                stats[1]++;
                return REJECTED_TOO_LARGE;
            }
            int at = append(target, length);
            long rec = target.base + at;
            // The record stays dead (and unindexed) until it is complete: should copying the
            // caller's memory fail, the log still parses and no slot points at a half record.
            mem.set(INT, rec + RECORD_LENGTH_OFFSET, length);
            mem.set(INT, rec + KEY_LENGTH_OFFSET, DEAD);
            MemorySegment.copy(key, keyOffset, mem, rec + HEADER_LENGTH, keyLength);
            MemorySegment.copy(value, valueOffset, mem, rec + HEADER_LENGTH + keyLength, valueLength);
            mem.set(INT, rec + VALUE_LENGTH_OFFSET, valueLength);
            mem.set(LONG, rec + HASH_OFFSET, hash);
            mem.set(LONG, rec + MODEL_OFFSET, modelId);
            mem.set(LONG, rec + EXPIRY_OFFSET, expiry);
            mem.set(INT, rec + KEY_LENGTH_OFFSET, keyLength);
            insertSlot(hash, target.refBase + at);
            stats[3]++;
            stats[2] += length;
            return STORED;
        } finally {
            unlock();
        }
    }

    /** Removes every entry of {@code modelId}; returns how many. */
    int invalidate(long modelId) {
        lock();
        try {
            int removed = 0;
            for (int i = 0; i < slots; ) {
                long slotOffset = (long) i * SLOT_BYTES;
                if (mem.get(LONG, slotOffset) != 0) {
                    long rec = logArea + (mem.get(LONG, slotOffset + CacheLayoutDescriptor.SLOT_REF_OFFSET) & ~FREQ_MASK);
                    if (mem.get(LONG, rec + MODEL_OFFSET) == modelId) {
                        forget(i, rec);
                        removed++;
                        continue;       // backward shift may have moved another entry into slot i
                    }
                }
                i++;
            }
            return removed;
        } finally {
            unlock();
        }
    }

    /** Marks a record dead and removes its slot (its bytes stay in the log until the log passes them). */
    private void forget(int slot, long rec) {
        mem.set(INT, rec + KEY_LENGTH_OFFSET, DEAD);
        stats[2] -= mem.get(INT, rec + RECORD_LENGTH_OFFSET);
        stats[3]--;
        removeSlot(slot);
    }

    /** Processes one record at the end of the small log, or of main when small is empty; false when both are empty. */
    private boolean evictOne() {
        return small.used > 0 ? evictTail(small) : evictTail(main);
    }

    /** Evicts from {@code log}'s end until {@code length} contiguous bytes are free at its head. */
    private boolean makeRoom(Log log, int length) {
        while (true) {
            if (log.used == 0) {
                log.head = 0;
                log.tail = 0;
            }
            if (log.used == 0 || log.head > log.tail) {
                if (log.cap - log.head >= length) {
                    return true;
                }
                if (log.tail >= length) {
                    padEnd(log);
                    continue;
                }
            } else if (log.tail - log.head >= length) {
                return true;
            }
            if (!evictTail(log)) {
                return false;
            }
        }
    }

    /** Like makeRoom but never evicts; false when the room is not there now. */
    private boolean hasRoom(Log log, int length) {
        if (log.used == 0) {
            return log.cap >= length;
        }
        if (log.head > log.tail) {
            if (log.cap - log.head >= length) {
                return true;
            }
            if (log.tail >= length) {
                padEnd(log);
                return true;
            }
            return false;
        }
        return log.tail - log.head >= length;
    }

    private void padEnd(Log log) {
        int rest = log.cap - log.head;
        if (rest >= 4) {
            mem.set(INT, log.base + log.head, PADDING);
        }
        log.used += rest;
        log.head = 0;
    }

    private int append(Log log, int length) {
        int at = log.head;
        log.head += length;
        log.used += length;
        if (log.head == log.cap) {
            log.head = 0;
        }
        return at;
    }

    /** Processes the record at the end of {@code log}; false when the log is empty. */
    private boolean evictTail(Log log) {
        if (log.used == 0) {
            return false;
        }
        int rest = log.cap - log.tail;
        if (rest < 4 || mem.get(INT, log.base + log.tail) == PADDING) {
            log.used -= rest;
            log.tail = 0;
            return true;
        }
        long rec = log.base + log.tail;
        int length = mem.get(INT, rec + RECORD_LENGTH_OFFSET);
        int ref = log.refBase + log.tail;
        if (mem.get(INT, rec + KEY_LENGTH_OFFSET) != DEAD) {
            long hash = mem.get(LONG, rec + HASH_OFFSET);
            int slot = slotOf(hash, ref);
            int freq = slot < 0 ? 0 : (int) (mem.get(LONG, (long) slot * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET) & FREQ_MASK);
            if (log == small) {
                if (freq > 0 && slot >= 0) {
                    moveToMain(rec, length, slot);
                } else {
                    evictRecord(rec, length, slot, hash);
                }
            } else if (freq > 0 && slot >= 0) {
                // main: another round at the head, one read fewer to its credit
                MemorySegment.copy(mem, rec, mem, scratchBase, length);
                advanceTail(log, length);
                if (hasRoom(main, length)) {
                    int at = append(main, length);
                    MemorySegment.copy(mem, scratchBase, mem, main.base + at, length);
                    setRef(slot, main.refBase + at, freq - 1);
                } else {
                    evictDetached(slot, hash, length);
                }
                return true;
            } else {
                evictRecord(rec, length, slot, hash);
            }
        }
        advanceTail(log, length);
        return true;
    }

    private void advanceTail(Log log, int length) {
        log.tail += length;
        log.used -= length;
        if (log.tail >= log.cap) {
            log.tail = 0;
        }
    }

    private void moveToMain(long rec, int length, int slot) {
        long hash = mem.get(LONG, rec + HASH_OFFSET);
        if (!makeRoom(main, length)) {
            evictRecord(rec, length, slot, hash);
            return;
        }
        // making room in main may have shifted index slots: find this entry's slot again
        int ref = small.refBase + (int) (rec - small.base);
        int current = slotOf(hash, ref);
        int at = append(main, length);
        MemorySegment.copy(mem, rec, mem, main.base + at, length);
        if (current >= 0) {
            setRef(current, main.refBase + at, 0);
        }
    }

    private void evictRecord(long rec, int length, int slot, long hash) {
        if (slot >= 0) {
            removeSlot(slot);
        }
        ghostAdd(hash);
        stats[0]++;
        stats[2] -= length;
        stats[3]--;
    }

    private void evictDetached(int slot, long hash, int length) {
        removeSlot(slot);
        ghostAdd(hash);
        stats[0]++;
        stats[2] -= length;
        stats[3]--;
    }

    // ------------------------------------------------------------------ index

    private int slotOf(long hash, long ref) {
        int i = (int) hash & mask;
        for (int probes = 0; probes < slots; probes++) {
            long slotOffset = (long) i * SLOT_BYTES;
            long h = mem.get(LONG, slotOffset);
            if (h == 0) {
                return -1;
            }
            if (h == hash && (mem.get(LONG, slotOffset + CacheLayoutDescriptor.SLOT_REF_OFFSET) & ~FREQ_MASK) == ref) {
                return i;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private void setRef(int slot, long ref, int freq) {
        mem.set(LONG, (long) slot * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET, ref | freq);
    }

    private void insertSlot(long hash, long ref) {
        int i = (int) hash & mask;
        while (mem.get(LONG, (long) i * SLOT_BYTES) != 0) {
            i = (i + 1) & mask;
        }
        long slotOffset = (long) i * SLOT_BYTES;
        mem.set(LONG, slotOffset + CacheLayoutDescriptor.SLOT_REF_OFFSET, ref);
        mem.set(LONG, slotOffset, hash);
    }

    /** Linear-probing deletion by backward shift: no tombstones, probe chains stay short. */
    private void removeSlot(int slot) {
        int i = slot;
        int j = slot;
        while (true) {
            j = (j + 1) & mask;
            long h = mem.get(LONG, (long) j * SLOT_BYTES);
            if (h == 0) {
                break;
            }
            int home = (int) h & mask;
            boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (stays) {
                continue;
            }
            long from = (long) j * SLOT_BYTES;
            long to = (long) i * SLOT_BYTES;
            mem.set(LONG, to + CacheLayoutDescriptor.SLOT_REF_OFFSET, mem.get(LONG, from + CacheLayoutDescriptor.SLOT_REF_OFFSET));
            mem.set(LONG, to, h);
            i = j;
        }
        long to = (long) i * SLOT_BYTES;
        mem.set(LONG, to, 0L);
        mem.set(LONG, to + CacheLayoutDescriptor.SLOT_REF_OFFSET, 0L);
    }

    private void bumpFrequency(int slot) {
        long at = (long) slot * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET;
        long word = mem.get(LONG, at);
        if ((word & FREQ_MASK) < MAX_FREQ) {
            mem.set(LONG, at, word + 1);
        }
    }

    private boolean ghostContains(long hash) {
        return mem.get(LONG, ghostBase + ((hash >>> 17) & ghostMask) * 8) == hash;
    }

    private void ghostAdd(long hash) {
        mem.set(LONG, ghostBase + ((hash >>> 17) & ghostMask) * 8, hash);
    }

    // ------------------------------------------------------------------ stats (racy reads are fine)

    long evictions() {
        return stats[0];
    }

    long rejected() {
        return stats[1];
    }

    long bytesUsed() {
        return stats[2];
    }

    long entries() {
        return stats[3];
    }

    long logCapacity() {
        return (long) small.cap + main.cap;
    }
}
