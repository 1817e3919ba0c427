package io.hotpath.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What the machine does to a thread that never waits. A loop that reads the clock records every gap
 * of a microsecond or more (how often the thread is stopped, and for how long) and, over windows of
 * {@link #WINDOW_NANOS}, how fast it read the clock between those gaps (a thread can also be slowed
 * without being stopped: a VM's vCPU that runs at a fraction of its speed for milliseconds shows no
 * gap, only slower reads). Calls of fixed lengths of arithmetic (no memory traffic, no allocation, no
 * call out) are timed one by one, so that the time over a call's usual length is the machine's. The
 * clock loop and each call length take turns of {@link #TURN_NANOS}, so all of them meet the same
 * stretch of a VM's noise. Runs on the calling thread.
 *
 * <p>The loops that measure hold no judgement: the windows of a clock turn are stored and judged
 * after the turn, so no branch first taken during the measurement can send a measuring loop back
 * to the interpreter.
 */
final class JitterProbe {
    /** Gaps and call times are recorded in nanoseconds up to this; longer ones are clamped to it. */
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** How long each length, and the clock loop, runs before the next takes its turn. */
    static final long TURN_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** The clock loop's speed is judged over windows of this length. */
    static final long WINDOW_NANOS = 100_000;
    /** A window is slowed when its reads took, on average, more than this many times the usual read. */
    static final double SLOWED_FACTOR = 3;
    /** The factors the share of slowed windows is reported for: a call of L us is 5 us late from 1 + 5/L. */
    static final double[] SLOWED_BY = {1.5, 2, 3, 6};
    /** A window stopped for more than half its length says nothing about the speed in the rest. */
    private static final long MIN_RUNNING_NANOS = WINDOW_NANOS / 2;
    private static final long GAP_NANOS = 1_000;
    /** Windows a turn can hold: one per {@link #WINDOW_NANOS}, and the last one. */
    private static final int MAX_WINDOWS = (int) (TURN_NANOS / WINDOW_NANOS) + 2;

    /** Keeps the arithmetic's result alive (the JIT may not drop the loop). */
    static volatile long sink;

    private JitterProbe() {
    }

    /**
     * What the clock loop saw over all its turns: gaps of at least 1, 5, 10 and 50 us, the share of
     * the time they took, the clock reads, the gaps' distribution (nanoseconds, 1 us or more only);
     * the usual time of one read, how many windows were judged, how many were slowed
     * ({@link #SLOWED_FACTOR}), the longest run of slowed windows within one turn (nanoseconds), and
     * for each of {@link #SLOWED_BY} the share of the windows whose reads took at least that many
     * times the usual one.
     */
    record Interruptions(double seconds, long reads, long atLeast1us, long atLeast5us, long atLeast10us, long atLeast50us,
                         double lostFraction, Histogram gaps, double usualReadNanos, long windows, long slowedWindows,
                         long longestSlowedNanos, double[] sharesSlowedBy) {
        double perSecond(long count) {
            return seconds == 0 ? 0 : count / seconds;
        }

        /** The time one clock read takes on average, gaps of a microsecond or more taken out. */
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

    /** The clock loop's view and the calls, measured in the same turns. */
    record Measurement(Interruptions clock, List<Calls> calls) {
    }

    /**
     * What the clock loop's turns add up to; windows are judged against {@code usualReadNanos} (0:
     * none slowed).
     */
    static final class ClockTally {
        final Histogram gaps = new Histogram(HIGHEST_NANOS, 3);
        /** Per judged window: the nanoseconds one read took on average, in hundredths. */
        final Histogram readHundredths = new Histogram(HIGHEST_NANOS, 3);
        final long[] counts = new long[4];
        /** The bound's base: given at first, then the median of the windows so far (see {@link #measure}). */
        double usualReadNanos;
        long nanos;
        long reads;
        long lostNanos;
        long windows;
        long slowedWindows;
        long longestSlowedNanos;
        /** Start of the current run of slowed windows in this turn, or -1. */
        private long runFrom = -1;

        ClockTally(double usualReadNanos) {
            this.usualReadNanos = usualReadNanos;
        }

        /**
         * A gap of at least {@link #GAP_NANOS}, counted at each threshold without a branch: a first
         * long gap met while measuring must not deoptimize the loop that calls this.
         */
        void gap(long gap) {
            gaps.recordValue(Math.min(gap, HIGHEST_NANOS));
            lostNanos += gap;
            counts[0]++;
            counts[1] += (4_999 - gap) >>> 63;
            counts[2] += (9_999 - gap) >>> 63;
            counts[3] += (49_999 - gap) >>> 63;
        }

        /**
         * A window from {@code from} to {@code to} in which the loop ran {@code running} ns (its gaps
         * taken out) and read the clock {@code reads} times.
         */
        void window(long from, long to, long running, long reads) {
            if (running < MIN_RUNNING_NANOS || reads == 0) {
                endRun();
                return;
            }
            windows++;
            double perRead = (double) running / reads;
            readHundredths.recordValue(Math.min(Math.round(perRead * 100), HIGHEST_NANOS));
            if (usualReadNanos > 0 && perRead > SLOWED_FACTOR * usualReadNanos) {
                slowedWindows++;
                if (runFrom < 0) {
                    runFrom = from;
                }
                longestSlowedNanos = Math.max(longestSlowedNanos, to - runFrom);
            } else {
                endRun();
            }
        }

        /** A run of slowed windows ends with the turn: what happens between this loop's turns is not seen. */
        void endRun() {
            runFrom = -1;
        }

        /** The median of the windows' time per read, in nanoseconds (0 before any window). */
        double medianReadNanos() {
            return readHundredths.getTotalCount() == 0 ? 0 : readHundredths.getValueAtPercentile(50) / 100.0;
        }

        Interruptions result() {
            return new Interruptions(nanos / 1e9, reads, counts[0], counts[1], counts[2], counts[3],
                    nanos == 0 ? 0 : (double) lostNanos / nanos, gaps, usualReadNanos, windows, slowedWindows, longestSlowedNanos,
                    sharesSlowedBy());
        }

        private double[] sharesSlowedBy() {
            double[] shares = new double[SLOWED_BY.length];
            long total = readHundredths.getTotalCount();
            if (total == 0 || usualReadNanos <= 0) {
                return shares;
            }
            for (int i = 0; i < shares.length; i++) {
                long bound = (long) Math.ceil(SLOWED_BY[i] * usualReadNanos * 100);
                shares[i] = (double) (total - readHundredths.getCountBetweenValues(0, bound - 1)) / total;
            }
            return shares;
        }
    }

    /**
     * Runs the clock loop and the calls of the lengths to be measured, unrecorded, for {@code nanos},
     * so the measured loops start compiled for them, and returns the usual time of one clock read
     * on this thread: the median over the windows of the second half.
     */
    static double warmUp(double[] targetMicros, double unitsPerMicro, long nanos) {
        measure(targetMicros, unitsPerMicro, 0, nanos / 2);
        return measure(targetMicros, unitsPerMicro, 0, nanos - nanos / 2).clock().usualReadNanos();
    }

    /**
     * The clock loop and calls of each of {@code targetMicros}, in turns of {@link #TURN_NANOS}
     * each, until {@code nanos} have passed; every one gets the same number of turns. The first
     * turn's windows are judged against {@code usualReadNanos}, each later turn's against the median
     * of the windows before it. With {@code usualReadNanos} 0 no window is judged slowed, and the
     * result's usual read is the median measured here.
     */
    static Measurement measure(double[] targetMicros, double unitsPerMicro, double usualReadNanos, long nanos) {
        List<Calls> calls = new ArrayList<>();
        for (double t : targetMicros) {
            calls.add(new Calls(t, Math.max(1, Math.round(t * unitsPerMicro)), new Histogram(HIGHEST_NANOS, 3)));
        }
        ClockTally clock = new ClockTally(usualReadNanos);
        long[] from = new long[MAX_WINDOWS];
        long[] to = new long[MAX_WINDOWS];
        long[] running = new long[MAX_WINDOWS];
        long[] reads = new long[MAX_WINDOWS];
        long end = System.nanoTime() + nanos;
        do {
            int n = scan(clock, TURN_NANOS, from, to, running, reads);
            for (int i = 0; i < n; i++) {
                clock.window(from[i], to[i], running[i], reads[i]);
            }
            clock.endRun();
            if (usualReadNanos > 0) {
                // the usual read is this run's own median from here on: a warm-up in a slowed stretch does not set the bar
                clock.usualReadNanos = clock.medianReadNanos();
            }
            for (Calls c : calls) {
                turn(c, c.units(), TURN_NANOS);
            }
        } while (System.nanoTime() - end < 0);
        Interruptions in = clock.result();
        if (usualReadNanos <= 0) {
            in = new Interruptions(in.seconds(), in.reads(), in.atLeast1us(), in.atLeast5us(), in.atLeast10us(), in.atLeast50us(),
                    in.lostFraction(), in.gaps(), clock.medianReadNanos(), in.windows(), 0, 0, new double[SLOWED_BY.length]);
        }
        return new Measurement(in, calls);
    }

    /**
     * One turn of the clock loop: gaps go to {@code tally}; the turn's windows (start, end, time
     * running, reads) are stored in the arrays for judging after the turn. Returns how many.
     */
    private static int scan(ClockTally tally, long nanos, long[] from, long[] to, long[] running, long[] reads) {
        long start = System.nanoTime();
        long end = start + nanos;
        long prev = start;
        long now;
        long count = 0;
        long windowStart = start;
        long windowReads = 0;
        long windowGaps = 0;
        int n = 0;
        do {
            now = System.nanoTime();
            count++;
            windowReads++;
            long gap = now - prev;
            prev = now;
            if (gap >= GAP_NANOS) {
                tally.gap(gap);
                windowGaps += gap;
            }
            if (now - windowStart >= WINDOW_NANOS && n < MAX_WINDOWS - 1) {
                from[n] = windowStart;
                to[n] = now;
                running[n] = now - windowStart - windowGaps;
                reads[n] = windowReads;
                n++;
                windowStart = now;
                windowReads = 0;
                windowGaps = 0;
            }
        } while (now - end < 0);
        from[n] = windowStart;
        to[n] = now;
        running[n] = now - windowStart - windowGaps;
        reads[n] = windowReads;
        tally.nanos += now - start;
        tally.reads += count;
        return n + 1;
    }

    /**
     * Units of {@link #work} per microsecond on this thread: the fastest of fifteen timed calls of
     * about 200 us (the least interrupted one), after the loop is compiled. The calls are spread
     * {@link #TURN_NANOS} apart: a VM can slow a thread for milliseconds at a time, and calls in a
     * row could all fall in one such stretch.
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
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                x = work(units, x);
                best = Math.min(best, System.nanoTime() - t0);
            }
            if (best >= 200_000 || units >= (1L << 40)) {
                break;
            }
            units *= 2;
        }
        for (int i = 0; i < 15; i++) {
            long until = System.nanoTime() + TURN_NANOS;
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            long t0 = System.nanoTime();
            x = work(units, x);
            best = Math.min(best, System.nanoTime() - t0);
        }
        sink = x;
        return units * 1_000.0 / Math.max(1, best);
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
