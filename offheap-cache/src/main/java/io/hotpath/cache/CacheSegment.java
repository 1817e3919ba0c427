package io.hotpath.cache;

import static io.hotpath.cache.CacheLayoutDescriptor.DEAD;
import static io.hotpath.cache.CacheLayoutDescriptor.EXPIRY_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.HASH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.HEADER_LENGTH;
import static io.hotpath.cache.CacheLayoutDescriptor.KEY_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.MODEL_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.RECORD_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.VALUE_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.indexBytes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One segment of the cache: its own {@link SlotIndex}, two {@link RecordLog}s and
 * {@link PaddedSequence} (see {@link CacheLayoutDescriptor}). Writers take the segment's lock (an
 * odd sequence number); readers never lock: they read optimistically and retry when the sequence
 * number moved.
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
    private static final int READ_ATTEMPTS = 16;

    /** The fewest index slots a segment has, whatever its entry size. */
    static final int MIN_SLOTS = 16;
    /** The most index slots a segment has (a 1 GiB segment of the smallest records needs far fewer). */
    static final int MAX_SLOTS = 1 << 28;
    /** The least log bytes a segment must keep for entries after its index. */
    static final long MIN_LOG_BYTES = 1024;
    /** The smallest segment: the smallest index plus the least log. A multiple of 64. */
    static final long MIN_SEGMENT_BYTES = (indexBytes(MIN_SLOTS, ghostSlotsFor(MIN_SLOTS)) + MIN_LOG_BYTES + 63) & ~63L;
    /**
     * The largest segment: log offsets and entry references are ints, and every sum of an offset
     * and a record length must stay below 2^31.
     */
    static final long MAX_SEGMENT_BYTES = 1L << 30;

    private final MemorySegment mem;
    private final SlotIndex index;
    private final long scratchBase;
    private final long logArea;
    private final RecordLog small;
    private final RecordLog main;
    final int maxRecord;
    final int maxEntries;
    private final SegmentStatistics stats = new SegmentStatistics();
    private final PaddedSequence sequence = new PaddedSequence();

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
            while (s < MAX_SLOTS && (long) s * 3 / 4 < estimatedEntries && indexBytes(s << 1, ghostSlotsFor(s << 1)) <= indexShare) {
                s <<= 1;
            }
            int ghostSlots = ghostSlotsFor(s);
            long fixed = indexBytes(s, ghostSlots);
            long avail = (bytes - fixed) & ~7L;           // >= MIN_LOG_BYTES: see MIN_SEGMENT_BYTES
            int smallCap = (int) ((avail / 10) & ~7L);
            int maxRecord = (smallCap / 2) & ~7;
            int mainCap = (int) ((avail - smallCap - maxRecord) & ~7L);
            return new Layout(bytes, s, ghostSlots, fixed, smallCap, maxRecord, mainCap);
        }
    }

    /** The ghost table remembers half as many hashes as the index has slots, at least 16. */
    private static int ghostSlotsFor(int slots) {
        return Math.max(16, slots / 2);
    }

    CacheSegment(MemorySegment mem, Layout layout) {
        if (mem.byteSize() != layout.bytes()) {
            throw new IllegalArgumentException("segment memory of " + mem.byteSize() + " bytes for a layout of " + layout.bytes());
        }
        this.mem = mem;
        this.index = new SlotIndex(mem, layout.slots(), layout.ghostSlots());
        this.maxEntries = layout.slots() * 3 / 4;
        this.maxRecord = layout.maxRecord();
        this.scratchBase = layout.fixed();
        this.logArea = scratchBase + maxRecord;
        this.small = new RecordLog(mem, logArea, layout.smallCap(), 0);
        this.main = new RecordLog(mem, logArea + layout.smallCap(), layout.mainCap(), layout.smallCap());
        mem.fill((byte) 0);
    }

    // ------------------------------------------------------------------ reads (lock-free)

    /** Copies the value for the key into {@code out}; returns its length, MISS or BUFFER_TOO_SMALL. */
    int get(long hash, long modelId, MemorySegment key, long keyOffset, int keyLength, MemorySegment out, long outOffset,
            int outCapacity) {
        for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
            long seq = sequence.getAcquire();
            if (PaddedSequence.isLocked(seq)) {
                Thread.onSpinWait();
                continue;
            }
            int result = MISS;
            int slot = findSlot(hash, modelId, key, keyOffset, keyLength);
            long refWord = 0;
            if (slot >= 0) {
                refWord = index.refWord(slot);
                long rec = logArea + SlotIndex.ref(refWord);
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
            if (sequence.getOpaque() == seq && result != Integer.MIN_VALUE) {
                if (result >= 0) {
                    index.countRead(slot, refWord);
                }
                return result;
            }
        }
        // Writers kept changing the segment: read under the lock instead.
        sequence.lock();
        try {
            int slot = findSlot(hash, modelId, key, keyOffset, keyLength);
            if (slot < 0) {
                return MISS;
            }
            long rec = logArea + SlotIndex.ref(index.refWord(slot));
            int valueLength = mem.get(INT, rec + VALUE_LENGTH_OFFSET);
            long expiry = mem.get(LONG, rec + EXPIRY_OFFSET);
            if (expiry != 0 && System.nanoTime() - expiry > 0) {
                return MISS;
            }
            if (valueLength > outCapacity) {
                return BUFFER_TOO_SMALL;
            }
            MemorySegment.copy(mem, rec + HEADER_LENGTH + keyLength, out, outOffset, valueLength);
            index.bumpReads(slot);
            return valueLength;
        } finally {
            sequence.unlock();
        }
    }

    /** The slot holding this exact key, or -1. Safe on torn data: every offset is range-checked. */
    private int findSlot(long hash, long modelId, MemorySegment key, long keyOffset, int keyLength) {
        int i = index.home(hash);
        long limit = logArea + small.capacity() + main.capacity();
        for (int probes = 0; probes < index.slots(); probes++) {
            long h = index.hash(i);
            if (h == 0) {
                return -1;
            }
            if (h == hash) {
                long ref = SlotIndex.ref(index.refWord(i));
                long rec = logArea + ref;
                if (ref >= 0 && rec + HEADER_LENGTH + keyLength <= limit
                        && mem.get(INT, rec + KEY_LENGTH_OFFSET) == keyLength
                        && mem.get(LONG, rec + MODEL_OFFSET) == modelId
                        && MemorySegment.mismatch(mem, rec + HEADER_LENGTH, rec + HEADER_LENGTH + keyLength,
                        key, keyOffset, keyOffset + keyLength) == -1) {
                    return i;
                }
            }
            i = index.next(i);
        }
        return -1;
    }

    // ------------------------------------------------------------------ writes (under the lock)

    void lock() {
        sequence.lock();
    }

    void unlock() {
        sequence.unlock();
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
                stats.rejected();
                return REJECTED_TOO_LARGE;
            }
            int length = (int) recordBytes;
            int existing = findSlot(hash, modelId, key, keyOffset, keyLength);
            if (existing >= 0) {
                forget(existing, logArea + SlotIndex.ref(index.refWord(existing)));
            }
            while (stats.entries() >= maxEntries && evictOne()) {
                // evict until an index slot is free (or nothing is left to evict)
            }
            // S3-FIFO admits new keys to the small FIFO; while main still has free room (the cache
            // is filling up) they go to main directly, so no memory sits idle.
            RecordLog target = index.ghostContains(hash) || main.hasRoom(length) ? main : small;
            if (stats.entries() >= maxEntries || !makeRoom(target, length)) {
                stats.rejected();
                return REJECTED_TOO_LARGE;
            }
            int at = target.append(length);
            target.write(target.record(at), length, hash, modelId, key, keyOffset, keyLength, value, valueOffset, valueLength, expiry);
            index.insert(hash, target.ref(at));
            stats.stored(length);
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
            for (int i = 0; i < index.slots(); ) {
                if (index.hash(i) != 0) {
                    long rec = logArea + SlotIndex.ref(index.refWord(i));
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
        stats.removed(mem.get(INT, rec + RECORD_LENGTH_OFFSET));
        index.remove(slot);
    }

    /** Processes one record at the end of the small log, or of main when small is empty; false when both are empty. */
    private boolean evictOne() {
        return !small.isEmpty() ? evictTail(small) : evictTail(main);
    }

    /** Evicts from {@code log}'s end until {@code length} contiguous bytes are free at its head. */
    private boolean makeRoom(RecordLog log, int length) {
        while (!log.roomAtHead(length)) {
            if (!evictTail(log)) {
                return false;
            }
        }
        return true;
    }

    /** Processes the record at the end of {@code log}; false when the log is empty. */
    private boolean evictTail(RecordLog log) {
        if (log.isEmpty()) {
            return false;
        }
        if (log.skipPaddingAtTail()) {
            return true;
        }
        long rec = log.tailRecord();
        int length = mem.get(INT, rec + RECORD_LENGTH_OFFSET);
        int ref = log.tailRef();
        if (mem.get(INT, rec + KEY_LENGTH_OFFSET) != DEAD) {
            long hash = mem.get(LONG, rec + HASH_OFFSET);
            int slot = index.slotOf(hash, ref);
            int reads = slot < 0 ? 0 : SlotIndex.reads(index.refWord(slot));
            if (log == small) {
                if (reads > 0 && slot >= 0) {
                    moveToMain(rec, length, slot);
                } else {
                    evictRecord(rec, length, slot, hash);
                }
            } else if (reads > 0 && slot >= 0) {
                // main: another round at the head, one read fewer to its credit
                MemorySegment.copy(mem, rec, mem, scratchBase, length);
                log.advanceTail(length);
                if (main.hasRoom(length)) {
                    int at = main.append(length);
                    MemorySegment.copy(mem, scratchBase, mem, main.record(at), length);
                    index.setRef(slot, main.ref(at), reads - 1);
                } else {
                    evictDetached(slot, hash, length);
                }
                return true;
            } else {
                evictRecord(rec, length, slot, hash);
            }
        }
        log.advanceTail(length);
        return true;
    }

    private void moveToMain(long rec, int length, int slot) {
        long hash = mem.get(LONG, rec + HASH_OFFSET);
        if (!makeRoom(main, length)) {
            evictRecord(rec, length, slot, hash);
            return;
        }
        // making room in main may have shifted index slots: find this entry's slot again
        int ref = small.ref(small.offsetOf(rec));
        int current = index.slotOf(hash, ref);
        int at = main.append(length);
        MemorySegment.copy(mem, rec, mem, main.record(at), length);
        if (current >= 0) {
            index.setRef(current, main.ref(at), 0);
        }
    }

    private void evictRecord(long rec, int length, int slot, long hash) {
        if (slot >= 0) {
            index.remove(slot);
        }
        index.ghostAdd(hash);
        stats.evicted(length);
    }

    private void evictDetached(int slot, long hash, int length) {
        index.remove(slot);
        index.ghostAdd(hash);
        stats.evicted(length);
    }

    // ------------------------------------------------------------------ statistics (racy reads are fine)

    long evictions() {
        return stats.evictions();
    }

    long rejected() {
        return stats.rejections();
    }

    long bytesUsed() {
        return stats.bytesUsed();
    }

    long entries() {
        return stats.entries();
    }

    long logCapacity() {
        return (long) small.capacity() + main.capacity();
    }
}
