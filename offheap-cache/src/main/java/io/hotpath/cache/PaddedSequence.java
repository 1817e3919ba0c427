package io.hotpath.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Padding before the sequence word: the first field of the hierarchy, so it lies first in memory. */
abstract class PaddedSequenceLhs {
    @SuppressWarnings("unused")
    private long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The sequence word itself, between the two paddings. */
abstract class PaddedSequenceValue extends PaddedSequenceLhs {
    @SuppressWarnings("unused")
    volatile long sequence;
}

/** Padding after the sequence word. */
abstract class PaddedSequenceRhs extends PaddedSequenceValue {
    @SuppressWarnings("unused")
    private long p16, p17, p18, p19, p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p30;
}

/**
 * A segment's sequence number, used as a sequence lock: odd while a writer holds the lock, even
 * otherwise. Writers {@link #lock()} and {@link #unlock()}; readers take a snapshot with
 * {@link #getAcquire()}, read optimistically, and check with {@link #getOpaque()} (after an
 * acquire fence) that the number has not moved.
 *
 * <p>The word is padded on both sides by 120 bytes (as in Disruptor's {@code Sequence} and JCTools'
 * padded queues, wide enough for adjacent-line prefetch): every write to the cache flips it twice,
 * and readers of other segments, or of the segment's read-only fields, should not pay for that.
 * The JVM lays out superclass fields before subclass fields, which is what keeps the paddings on
 * either side.
 */
final class PaddedSequence extends PaddedSequenceRhs {
    private static final VarHandle SEQUENCE;

    static {
        try {
            SEQUENCE = MethodHandles.lookup().findVarHandle(PaddedSequenceValue.class, "sequence", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** True when {@code sequence} was read while a writer held the lock. */
    static boolean isLocked(long sequence) {
        return (sequence & 1) != 0;
    }

    /** The sequence number with acquire semantics: reads after this one see the writes before it. */
    long getAcquire() {
        return (long) SEQUENCE.getAcquire(this);
    }

    /** The sequence number with opaque semantics: a reader's check, ordered by its own acquire fence. */
    long getOpaque() {
        return (long) SEQUENCE.getOpaque(this);
    }

    /** Spins until this thread moves the number from even to odd. */
    void lock() {
        while (true) {
            long s = (long) SEQUENCE.getVolatile(this);
            if ((s & 1) == 0 && SEQUENCE.compareAndSet(this, s, s + 1)) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /** Moves the number from odd to even with a release store: the writes under the lock come first. */
    void unlock() {
        SEQUENCE.setRelease(this, (long) SEQUENCE.getOpaque(this) + 1);
    }
}
