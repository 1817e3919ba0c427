package io.hotpath.cache;

/**
 * The off-heap layout of one cache segment. The budget is split into segments; each holds an
 * index (open addressing, linear probing, backward-shift deletion), a ghost table of recently
 * evicted hashes, a scratch record, and two circular logs of
 * entries: the small FIFO (about 10%) and the main FIFO (the rest), as in S3-FIFO.
 *
 * <pre>
 * Segment (offsets from the segment's start; every region 8-aligned):
 *  +-------------------+-------------+---------+-----------+----------------------+
 *  | index: slots x 16 | ghost table | scratch | small log |       main log       |
 *  |                   | ghosts x 8  | maxRec  | ~10%      |       the rest       |
 *  +-------------------+-------------+---------+-----------+----------------------+
 *  0            ghostBase(slots)  indexBytes   '-- log area: entry references count from here
 *
 * Index slot (16 bytes):
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Key hash (0 = empty slot)                     |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |  Entry reference: byte offset of the record in the segment's   |  8
 *  |  log area (small log first, then main); low 3 bits: reads (0-3)|
 *  +---------------------------------------------------------------+
 *
 * Entry record (8-byte aligned, in a log):
 *  +---------------------------------------------------------------+
 *  |  Record length (bytes, header included; -1 = wrap padding)    |  0
 *  +---------------------------------------------------------------+
 *  |                 Key length (-1 = dead record)                 |  4
 *  +---------------------------------------------------------------+
 *  |                        Value length                          |  8
 *  +---------------------------------------------------------------+
 *  |                          Reserved                             | 12
 *  +---------------------------------------------------------------+
 *  |                          Key hash                             | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          Model id                             | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |           Expiry, System.nanoTime() (0 = never)              | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                    Key bytes, then value bytes               ... 40
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class CacheLayoutDescriptor {
    public static final int SLOT_BYTES = 16;
    public static final int SLOT_HASH_OFFSET = 0;
    public static final int SLOT_REF_OFFSET = 8;
    /** Low bits of a slot's entry reference: the entry's read count (records are 8-aligned). */
    public static final long REF_READS_MASK = 7L;
    /** The most reads a reference counts: S3-FIFO gives an entry at most this many extra rounds. */
    public static final int MAX_READS = 3;
    /** A ghost table entry: the hash of an evicted key. */
    public static final int GHOST_SLOT_BYTES = 8;

    public static final int RECORD_LENGTH_OFFSET = 0;
    public static final int KEY_LENGTH_OFFSET = 4;
    public static final int VALUE_LENGTH_OFFSET = 8;
    public static final int HASH_OFFSET = 16;
    public static final int MODEL_OFFSET = 24;
    public static final int EXPIRY_OFFSET = 32;
    public static final int HEADER_LENGTH = 40;

    /** Record length written at the end of a log when the next record does not fit before the end. */
    public static final int PADDING = -1;
    /** Key length of a record whose key was removed or replaced. */
    public static final int DEAD = -1;

    private CacheLayoutDescriptor() {
    }

    /** Offset of index slot {@code slot} (its hash word). */
    public static long slotOffset(int slot) {
        return (long) slot * SLOT_BYTES;
    }

    /** Offset of the entry reference word of index slot {@code slot}. */
    public static long slotRefOffset(int slot) {
        return (long) slot * SLOT_BYTES + SLOT_REF_OFFSET;
    }

    /** Offset of the ghost table: it follows an index of {@code slots} slots. */
    public static long ghostBase(int slots) {
        return (long) slots * SLOT_BYTES;
    }

    /** Offset of ghost slot {@code ghostSlot} in a table at {@code ghostBase}. */
    public static long ghostOffset(long ghostBase, long ghostSlot) {
        return ghostBase + ghostSlot * GHOST_SLOT_BYTES;
    }

    /** Bytes of an index of {@code slots} slots plus its ghost table of {@code ghostSlots} (both 8-aligned). */
    public static long indexBytes(int slots, int ghostSlots) {
        return (long) slots * SLOT_BYTES + (long) ghostSlots * GHOST_SLOT_BYTES;
    }

    /**
     * Bytes of a record with these key and value lengths, rounded up to 8. A long: two int
     * lengths and the header can exceed an int. Negative lengths are an IllegalArgumentException.
     */
    public static long recordLength(int keyLength, int valueLength) {
        if (keyLength < 0 || valueLength < 0) {
            throw new IllegalArgumentException("negative key or value length: " + keyLength + ", " + valueLength);
        }
        return (HEADER_LENGTH + (long) keyLength + valueLength + 7) & ~7L;
    }
}
