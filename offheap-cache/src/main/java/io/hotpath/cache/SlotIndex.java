package io.hotpath.cache;

import static io.hotpath.cache.CacheLayoutDescriptor.MAX_READS;
import static io.hotpath.cache.CacheLayoutDescriptor.REF_READS_MASK;
import static io.hotpath.cache.CacheLayoutDescriptor.ghostBase;
import static io.hotpath.cache.CacheLayoutDescriptor.ghostOffset;
import static io.hotpath.cache.CacheLayoutDescriptor.slotOffset;
import static io.hotpath.cache.CacheLayoutDescriptor.slotRefOffset;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A segment's index: open addressing with linear probing over 16-byte slots (key hash, entry
 * reference with the read count in its low bits), backward-shift deletion, and the ghost table of
 * recently evicted hashes that follows it ({@link CacheLayoutDescriptor}). It maps hashes to entry
 * references; comparing the keys themselves is the caller's business.
 *
 * <p>Every method but {@link #hash}, {@link #refWord} and {@link #countRead} is for a writer
 * holding the segment's lock; those three are safe for optimistic readers, which validate what
 * they read afterwards.
 */
final class SlotIndex {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    /** Aligned: the read count is bumped with a CAS, which needs an aligned word. */
    private static final VarHandle REF = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment mem;
    private final int slots;
    private final int mask;
    private final long ghostBase;
    private final int ghostMask;

    /** An index of {@code slots} slots and {@code ghostSlots} ghosts (both powers of two) at the start of {@code mem}. */
    SlotIndex(MemorySegment mem, int slots, int ghostSlots) {
        this.mem = mem;
        this.slots = slots;
        this.mask = slots - 1;
        this.ghostBase = ghostBase(slots);
        this.ghostMask = ghostSlots - 1;
    }

    /** The entry reference in a reference word: the record's offset in the log area. */
    static long ref(long refWord) {
        return refWord & ~REF_READS_MASK;
    }

    /** The read count in a reference word. */
    static int reads(long refWord) {
        return (int) (refWord & REF_READS_MASK);
    }

    int slots() {
        return slots;
    }

    /** The slot where probing for {@code hash} starts. */
    int home(long hash) {
        return (int) hash & mask;
    }

    /** The slot probed after {@code slot}. */
    int next(int slot) {
        return (slot + 1) & mask;
    }

    /** The hash in {@code slot}; 0 for an empty slot. */
    long hash(int slot) {
        return mem.get(LONG, slotOffset(slot));
    }

    /** The reference word (entry reference plus read count) in {@code slot}. */
    long refWord(int slot) {
        return mem.get(LONG, slotRefOffset(slot));
    }

    /**
     * Counts a read of the entry a reader found in {@code slot} with {@code refWord}, up to
     * {@link CacheLayoutDescriptor#MAX_READS}. One CAS, which fails harmlessly if a writer changed
     * the slot meanwhile: lock-free readers may call it.
     */
    void countRead(int slot, long refWord) {
        if (reads(refWord) < MAX_READS) {
            REF.compareAndSet(mem, slotRefOffset(slot), refWord, refWord + 1);
        }
    }

    /** Counts a read under the lock. */
    void bumpReads(int slot) {
        long at = slotRefOffset(slot);
        long word = mem.get(LONG, at);
        if (reads(word) < MAX_READS) {
            mem.set(LONG, at, word + 1);
        }
    }

    /** The slot holding {@code hash} with entry reference {@code ref}, or -1. */
    int slotOf(long hash, long ref) {
        int i = home(hash);
        for (int probes = 0; probes < slots; probes++) {
            long h = hash(i);
            if (h == 0) {
                return -1;
            }
            if (h == hash && ref(refWord(i)) == ref) {
                return i;
            }
            i = next(i);
        }
        return -1;
    }

    /** Points {@code slot} at another reference with {@code reads} reads. */
    void setRef(int slot, long ref, int reads) {
        mem.set(LONG, slotRefOffset(slot), ref | reads);
    }

    /** Adds {@code hash -> ref} in the first free slot of its probe chain; the caller ensures there is one. */
    void insert(long hash, long ref) {
        int i = home(hash);
        while (hash(i) != 0) {
            i = next(i);
        }
        mem.set(LONG, slotRefOffset(i), ref);
        mem.set(LONG, slotOffset(i), hash);
    }

    /** Linear-probing deletion by backward shift: no tombstones, probe chains stay short. */
    void remove(int slot) {
        int i = slot;
        int j = slot;
        while (true) {
            j = next(j);
            long h = hash(j);
            if (h == 0) {
                break;
            }
            int home = home(h);
            boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (stays) {
                continue;
            }
            mem.set(LONG, slotRefOffset(i), refWord(j));
            mem.set(LONG, slotOffset(i), h);
            i = j;
        }
        mem.set(LONG, slotOffset(i), 0L);
        mem.set(LONG, slotRefOffset(i), 0L);
    }

    /** True when {@code hash} was evicted recently (and its ghost not yet overwritten). */
    boolean ghostContains(long hash) {
        return mem.get(LONG, ghostOffset(ghostBase, (hash >>> 17) & ghostMask)) == hash;
    }

    /** Remembers an evicted hash. */
    void ghostAdd(long hash) {
        mem.set(LONG, ghostOffset(ghostBase, (hash >>> 17) & ghostMask), hash);
    }
}
