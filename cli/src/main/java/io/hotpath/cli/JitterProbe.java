package io.hotpath.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What the machine does to a thread that never waits: how often it is interrupted and for how long
 * (a loop that reads the clock and records every gap of a microsecond or more), and what that does
 * to the percentiles of calls of a fixed length (arithmetic only: no memory traffic, no allocation,
 * no call out, so the time over the call's usual length is the machine's). The call lengths are
 * measured in turns of a few milliseconds each, so that every length meets the same stretch of a
 * VM's noise. Runs on the calling thread.
 */
final class JitterProbe {
    /** Gaps and call times are recorded in nanoseconds up to this; longer ones are clamped to it. */
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** How long each length runs before the next one takes its turn. */
    static final long TURN_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long GAP_NANOS = 1_000;

    /** Keeps the arithmetic's result alive (the JIT may not drop the loop). */
    static volatile long sink;

    private JitterProbe() {
    }

    /**
     * Interruptions seen by a clock-reading loop over {@code seconds}: how many gaps of at least 1, 5,
     * 10 and 50 us, the share of the time they took, how many clock reads there were, and the gaps'
     * distribution (nanoseconds, gaps of 1 us or more only).
     */
    record Interruptions(double seconds, long reads, long atLeast1us, long atLeast5us, long atLeast10us, long atLeast50us,
                         double lostFraction, Histogram gaps) {
        double perSecond(long count) {
            return seconds == 0 ? 0 : count / seconds;
        }

        /** The time one clock read takes when nothing interrupts it. */
        double nanosPerRead() {
            return reads == 0 ? 0 : (seconds * 1e9 * (1 - lostFraction)) / reads;
        }
    }

    /** Calls of about {@code targetMicros} of arithmetic ({@code units} of {@link #work}), timed one by one (nanoseconds). */
    record Calls(double targetMicros, long units, Histogram times) {
        /** The share of calls that took more than their median plus {@code extraMicros}. */
        double slowerThanMedianBy(double extraMicros) {
            if (times.getTotalCount() == 0) {
                return 0;
            }
            long bound = Math.min(times.getValueAtPercentile(50) + (long) (extraMicros * 1_000), times.getHighestTrackableValue());
            long slow = times.getTotalCount() - times.getCountBetweenValues(0, bound);
            return (double) slow / times.getTotalCount();
        }
    }

    /** Runs the clock loop and the recording unrecorded for {@code nanos}, so the measured loop starts compiled. */
    static void warmUp(long nanos) {
        scan(new Histogram(HIGHEST_NANOS, 3), nanos, new long[6]);
        Calls c = new Calls(1, 1, new Histogram(HIGHEST_NANOS, 3));
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            turn(c, 1, TURN_NANOS);
        }
    }

    static Interruptions interruptions(long nanos) {
        Histogram gaps = new Histogram(HIGHEST_NANOS, 3);
        long[] counts = new long[6];
        long elapsed = scan(gaps, nanos, counts);
        return new Interruptions(elapsed / 1e9, counts[5], counts[0], counts[1], counts[2], counts[3],
                elapsed == 0 ? 0 : (double) counts[4] / elapsed, gaps);
    }

    /** The clock loop: counts {1us, 5us, 10us, 50us, lost nanos, reads}; returns the nanoseconds it ran. */
    private static long scan(Histogram gaps, long nanos, long[] counts) {
        long start = System.nanoTime();
        long end = start + nanos;
        long prev = start;
        long now;
        long reads = 0;
        do {
            now = System.nanoTime();
            reads++;
            long gap = now - prev;
            prev = now;
            if (gap >= GAP_NANOS) {
                gaps.recordValue(Math.min(gap, HIGHEST_NANOS));
                counts[4] += gap;
                counts[0]++;
                if (gap >= 5_000) {
                    counts[1]++;
                    if (gap >= 10_000) {
                        counts[2]++;
                        if (gap >= 50_000) {
                            counts[3]++;
                        }
                    }
                }
            }
        } while (now - end < 0);
        counts[5] = reads;
        return now - start;
    }

    /**
     * Units of {@link #work} per microsecond on this thread: the fastest of several timed calls of
     * about 200 us (the least interrupted one), after the loop is compiled.
     */
    static double unitsPerMicro() {
        long x = 1;
        for (int i = 0; i < 20_000; i++) {
            x = work(64, x);
        }
        long units = 1_024;
        long best;
        while (true) {
            best = Long.MAX_VALUE;
            for (int i = 0; i < 9; i++) {
                long t0 = System.nanoTime();
                x = work(units, x);
                best = Math.min(best, System.nanoTime() - t0);
            }
            if (best >= 200_000 || units >= (1L << 40)) {
                break;
            }
            units *= 2;
        }
        sink = x;
        return units * 1_000.0 / Math.max(1, best);
    }

    /**
     * Calls of each of {@code targetMicros}, in turns of {@link #TURN_NANOS} per length, until
     * {@code nanos} have passed; every length gets the same number of turns.
     */
    static List<Calls> calls(double[] targetMicros, double unitsPerMicro, long nanos) {
        List<Calls> calls = new ArrayList<>();
        for (double t : targetMicros) {
            calls.add(new Calls(t, Math.max(1, Math.round(t * unitsPerMicro)), new Histogram(HIGHEST_NANOS, 3)));
        }
        long end = System.nanoTime() + nanos;
        do {
            for (Calls c : calls) {
                turn(c, c.units(), TURN_NANOS);
            }
        } while (System.nanoTime() - end < 0);
        return calls;
    }

    /** One turn: calls of {@code units}, each timed and recorded, for about {@code nanos} (at least one call). */
    private static void turn(Calls c, long units, long nanos) {
        Histogram times = c.times();
        long x = sink;
        long end = System.nanoTime() + nanos;
        long t1;
        do {
            long t0 = System.nanoTime();
            x = work(units, x);
            t1 = System.nanoTime();
            times.recordValue(Math.min(t1 - t0, HIGHEST_NANOS));
        } while (t1 - end < 0);
        sink = x;
    }

    /** Arithmetic the JIT cannot shorten: a chain of dependent multiply-adds and shifts. */
    static long work(long units, long x) {
        for (long i = 0; i < units; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            x ^= x >>> 17;
        }
        return x;
    }
}
