package io.hotpath.cache;

import static io.hotpath.cache.CacheLayoutDescriptor.DEAD;
import static io.hotpath.cache.CacheLayoutDescriptor.EXPIRY_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.HASH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.HEADER_LENGTH;
import static io.hotpath.cache.CacheLayoutDescriptor.KEY_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.MODEL_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.PADDING;
import static io.hotpath.cache.CacheLayoutDescriptor.RECORD_LENGTH_OFFSET;
import static io.hotpath.cache.CacheLayoutDescriptor.VALUE_LENGTH_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One circular log of entry records (a segment has two: S3-FIFO's small and main FIFOs). Records
 * are appended at the head and leave at the tail; a record never wraps: when it does not fit before
 * the end, the rest of the log becomes padding and the record starts at offset 0.
 *
 * <p>Which record leaves, and where it goes, is the segment's eviction policy; this class keeps
 * head, tail and used bytes consistent, and writes records in the {@link CacheLayoutDescriptor}
 * format. Only writers holding the segment's lock call it.
 */
final class RecordLog {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    private final MemorySegment mem;
    /** Offset of the log in the segment memory. */
    private final long base;
    private final int cap;
    /** Offset of the log in the log area: where its entry references start. */
    private final int refBase;
    private int head;
    private int tail;
    private int used;

    RecordLog(MemorySegment mem, long base, int cap, int refBase) {
        this.mem = mem;
        this.base = base;
        this.cap = cap;
        this.refBase = refBase;
    }

    /** Bytes the log holds at most. */
    int capacity() {
        return cap;
    }

    boolean isEmpty() {
        return used == 0;
    }

    /** Segment offset of the record at log offset {@code at}. */
    long record(int at) {
        return base + at;
    }

    /** Entry reference of the record at log offset {@code at}. */
    int ref(int at) {
        return refBase + at;
    }

    /** Segment offset of the record at the tail. */
    long tailRecord() {
        return base + tail;
    }

    /** Entry reference of the record at the tail. */
    int tailRef() {
        return refBase + tail;
    }

    /** Log offset of segment offset {@code record}, a record in this log. */
    int offsetOf(long record) {
        return (int) (record - base);
    }

    /**
     * True when {@code length} contiguous bytes are free at the head now, wrapping the head to
     * offset 0 (padding the end) where that makes them so; false when the tail must move first. An
     * empty log starts again at offset 0.
     */
    boolean roomAtHead(int length) {
        if (used == 0) {
            head = 0;
            tail = 0;
        }
        if (used == 0 || head > tail) {
            if (cap - head >= length) {
                return true;
            }
            if (tail >= length) {
                padEnd();
                return true;    // head is 0 now, and tail - head >= length
            }
            return false;
        }
        return tail - head >= length;
    }

    /**
     * Whether {@code length} contiguous bytes are free at the head without moving the tail,
     * wrapping the head (padding the end) where that makes them so. An empty log starts again at
     * offset 0: keeping its head where it was would let a record longer than the rest of the log
     * be appended past its end, over the next region of the segment (the main log's re-insertion
     * of its only record did that).
     */
    boolean hasRoom(int length) {
        if (used == 0) {
            head = 0;
            tail = 0;
            return cap >= length;
        }
        if (head > tail) {
            if (cap - head >= length) {
                return true;
            }
            if (tail >= length) {
                padEnd();
                return true;
            }
            return false;
        }
        return tail - head >= length;
    }

    /** Marks the bytes from the head to the end as padding and wraps the head to 0. */
    private void padEnd() {
        int rest = cap - head;
        if (rest >= 4) {
            mem.set(INT, base + head, PADDING);
        }
        used += rest;
        head = 0;
    }

    /** Claims {@code length} bytes at the head (the caller made room); returns their log offset. */
    int append(int length) {
        int at = head;
        head += length;
        used += length;
        if (head == cap) {
            head = 0;
        }
        return at;
    }

    /**
     * If the tail is at padding (or at an end too short for a record), drops it and wraps the
     * tail to 0; true when it did.
     */
    boolean skipPaddingAtTail() {
        int rest = cap - tail;
        if (rest < 4 || mem.get(INT, base + tail) == PADDING) {
            used -= rest;
            tail = 0;
            return true;
        }
        return false;
    }

    /** Drops the record of {@code length} bytes at the tail. */
    void advanceTail(int length) {
        tail += length;
        used -= length;
        if (tail >= cap) {
            tail = 0;
        }
    }

    /**
     * Writes a record of {@code length} bytes at segment offset {@code rec}. The record stays dead
     * (key length {@link CacheLayoutDescriptor#DEAD}) until it is complete: should copying the
     * caller's memory fail, the log still parses and the index points at no half record.
     */
    void write(long rec, int length, long hash, long modelId, MemorySegment key, long keyOffset, int keyLength,
               MemorySegment value, long valueOffset, int valueLength, long expiry) {
        mem.set(INT, rec + RECORD_LENGTH_OFFSET, length);
        mem.set(INT, rec + KEY_LENGTH_OFFSET, DEAD);
        MemorySegment.copy(key, keyOffset, mem, rec + HEADER_LENGTH, keyLength);
        MemorySegment.copy(value, valueOffset, mem, rec + HEADER_LENGTH + keyLength, valueLength);
        mem.set(INT, rec + VALUE_LENGTH_OFFSET, valueLength);
        mem.set(LONG, rec + HASH_OFFSET, hash);
        mem.set(LONG, rec + MODEL_OFFSET, modelId);
        mem.set(LONG, rec + EXPIRY_OFFSET, expiry);
        mem.set(INT, rec + KEY_LENGTH_OFFSET, keyLength);
    }
}
