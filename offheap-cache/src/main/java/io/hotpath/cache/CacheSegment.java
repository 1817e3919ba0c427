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

    CacheSegment(MemorySegment mem, int expectedEntryBytes) {
        this.mem = mem;
        long bytes = mem.byteSize();
        long estimatedLog = bytes * 90 / 100;
        int s = 16;
        while ((long) s * 3 / 4 < estimatedLog / expectedEntryBytes) {
            s <<= 1;
        }
        this.slots = s;
        this.mask = s - 1;
        this.maxEntries = s * 3 / 4;
        long indexBytes = (long) s * SLOT_BYTES;
        this.ghostBase = align(indexBytes);
        int ghostSlots = Integer.highestOneBit(Math.max(16, s / 2));
        this.ghostMask = ghostSlots - 1;
        long fixed = align(ghostBase + (long) ghostSlots * 8);
        long avail = (bytes - fixed) & ~7L;
        if (avail < 1024) {
            throw new IllegalArgumentException("a cache segment of " + bytes + " bytes leaves " + avail
                    + " bytes for entries after its index; give the cache a larger budget or fewer segments");
        }
        int smallCap = (int) Math.min(Integer.MAX_VALUE / 2, (avail / 10) & ~7L);
        this.maxRecord = (smallCap / 2) & ~7;
        this.scratchBase = fixed;
        this.logArea = scratchBase + maxRecord;
        int mainCap = (int) Math.min(Integer.MAX_VALUE / 2, (avail - smallCap - maxRecord) & ~7L);
        this.small = new Log(logArea, smallCap, 0);
        this.main = new Log(logArea + smallCap, mainCap, smallCap);
        this.stats = new long[4];
        mem.fill((byte) 0);
    }

    private static long align(long v) {
        return (v + 7) & ~7L;
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

    int put(long hash, long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment value, long valueOffset,
            int valueLength, long expiry) {
        int length = CacheLayoutDescriptor.recordLength(keyLength, valueLength);
        if (length > maxRecord) {
            lock();
            stats[1]++;
            unlock();
            return REJECTED_TOO_LARGE;
        }
        lock();
        try {
            int existing = findSlot(hash, modelId, key, keyOffset, keyLength);
            if (existing >= 0) {
                long rec = logArea + (mem.get(LONG, (long) existing * SLOT_BYTES + CacheLayoutDescriptor.SLOT_REF_OFFSET) & ~FREQ_MASK);
                forget(existing, rec);
            }
            while (stats[3] >= maxEntries) {
                evictOne();
            }
            // S3-FIFO admits new keys to the small FIFO; while main still has free room (the cache
            // is filling up) they go to main directly, so no memory sits idle.
            Log target = ghostContains(hash) || hasRoom(main, length) ? main : small;
            if (!makeRoom(target, length)) {
                stats[1]++;
                return REJECTED_TOO_LARGE;
            }
            int at = append(target, length);
            long rec = target.base + at;
            mem.set(INT, rec + RECORD_LENGTH_OFFSET, length);
            mem.set(INT, rec + KEY_LENGTH_OFFSET, keyLength);
            mem.set(INT, rec + VALUE_LENGTH_OFFSET, valueLength);
            mem.set(LONG, rec + HASH_OFFSET, hash);
            mem.set(LONG, rec + MODEL_OFFSET, modelId);
            mem.set(LONG, rec + EXPIRY_OFFSET, expiry);
            MemorySegment.copy(key, keyOffset, mem, rec + HEADER_LENGTH, keyLength);
            MemorySegment.copy(value, valueOffset, mem, rec + HEADER_LENGTH + keyLength, valueLength);
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

    private void evictOne() {
        if (small.used > 0) {
            evictTail(small);
        } else {
            evictTail(main);
        }
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
