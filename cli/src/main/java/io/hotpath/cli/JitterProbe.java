package io.hotpath.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

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
    /** Runs of windows whose reads took, on average, this many times the usual read or more are reported. */
    static final double SLOWED_FACTOR = 3;
    /** The factors the share of slowed windows is reported for: a call of L us is 5 us late from 1 + 5/L. */
    static final double[] SLOWED_BY = {1.5, 2, 3, 6};
    /** A window stopped for more than half its length says nothing about the speed in the rest. */
    private static final long MIN_RUNNING_NANOS = WINDOW_NANOS / 2;
    private static final long GAP_NANOS = 1_000;
    /** Windows a turn can hold: one per {@link #WINDOW_NANOS} of the turn, and the last, partial one. */
    private static final int MAX_WINDOWS = (int) (TURN_NANOS / WINDOW_NANOS) + 1;

    /** Keeps the arithmetic's result alive (the JIT may not drop the loop). */
    static volatile long sink;

    private JitterProbe() {
    }

    /**
     * What the clock loop saw over all its turns: gaps of at least 1, 5, 10 and 50 us, the share of
     * the time they took, the clock reads, the gaps' distribution (nanoseconds, 1 us or more only);
     * the usual time of one read (the median window's), how many windows were judged, for each of
     * {@link #SLOWED_BY} the share of them whose reads took at least that many times the usual one,
     * the longest run of windows slowed {@link #SLOWED_FACTOR} times or more within one turn
     * (nanoseconds), how many turns were judged and how many were slowed that much throughout, and
     * every judged window's time per read (hundredths of a nanosecond).
     */
    record Interruptions(double seconds, long reads, long atLeast1us, long atLeast5us, long atLeast10us, long atLeast50us,
                         double lostFraction, Histogram gaps, double usualReadNanos, long windows, double[] sharesSlowedBy,
                         long longestSlowedNanos, long turns, long turnsSlowedThroughout, Histogram readHundredths) {
        double perSecond(long count) {
            return seconds == 0 ? 0 : count / seconds;
        }

        /** The time one clock read takes on average, gaps of a microsecond or more taken out. */
        double nanosPerRead() {
            return reads == 0 ? 0 : (seconds * 1e9 * (1 - lostFraction)) / reads;
        }

        /**
         * The share of calls that ran in windows slowed {@code factor} times or more against the
         * usual read. A window slowed f times holds 1/f of a usual window's calls, so each window
         * counts 1/f.
         */
        double callsInWindowsSlowedBy(double factor) {
            if (usualReadNanos <= 0 || readHundredths.getTotalCount() == 0) {
                return 0;
            }
            double bound = factor * usualReadNanos * 100;
            double all = 0;
            double slowed = 0;
            for (HistogramIterationValue v : readHundredths.recordedValues()) {
                double calls = v.getCountAtValueIteratedTo() / (double) Math.max(1, v.getValueIteratedTo());
                all += calls;
                if (v.getValueIteratedTo() >= bound) {
                    slowed += calls;
                }
            }
            return all == 0 ? 0 : slowed / all;
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
        /**
         * The share of {@code c}'s calls the clock loop predicts to be more than {@code extraMicros}
         * over their median: a stop of at least 5 us landing in one (meant for {@code extraMicros} of
         * 5, and for calls far shorter than the time between stops), or the call running in a window slowed
         * 1 + extra/median times or more. An estimate to set beside {@link Calls#slowerThanMedianBy}.
         */
        double predictedSlowerThanMedianBy(Calls c, double extraMicros) {
            if (c.times().getTotalCount() == 0) {
                return 0;
            }
            double median = c.times().getValueAtPercentile(50);
            // the chance that at least one stop lands in a call (they come about at random): meant for calls far shorter
            // than the time between stops, where it is their rate times the call's length
            double stops = -Math.expm1(-clock.perSecond(clock.atLeast5us()) * (median + clock.usualReadNanos()) / 1e9);
            return Math.min(1, stops + clock.callsInWindowsSlowedBy(1 + extraMicros * 1_000 / Math.max(1, median)));
        }
    }

    /**
     * What the clock loop's turns add up to. With a usual read above 0 each window is judged
     * against it, and after each turn the usual read becomes the median of the windows so far (a
     * warm-up that fell in a slowed stretch does not set the bar for the run); with 0 nothing is
     * judged (the warm-up).
     */
    static final class ClockTally {
        final Histogram gaps = new Histogram(HIGHEST_NANOS, 3);
        /** Per judged window: the nanoseconds one read took on average, in hundredths. */
        final Histogram readHundredths = new Histogram(HIGHEST_NANOS, 3);
        final long[] counts = new long[4];
        final long[] slowedBy = new long[SLOWED_BY.length];
        private final boolean judging;
        double usualReadNanos;
        long nanos;
        long reads;
        long lostNanos;
        long windows;
        long longestSlowedNanos;
        long turns;
        long turnsSlowedThroughout;
        /** Start of the current run of slowed windows in this turn, or -1. */
        private long runFrom = -1;
        private long judgedThisTurn;
        private boolean slowedThisTurn = true;

        ClockTally(double usualReadNanos) {
            this.usualReadNanos = usualReadNanos;
            this.judging = usualReadNanos > 0;
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
         * taken out) and read the clock {@code reads} times. One stopped for more than half its
         * length is not judged and neither ends nor extends a run of slowed windows.
         */
        void window(long from, long to, long running, long reads) {
            if (running < MIN_RUNNING_NANOS || reads == 0) {
                return;
            }
            windows++;
            double perRead = (double) running / reads;
            readHundredths.recordValue(Math.min(Math.round(perRead * 100), HIGHEST_NANOS));
            if (!judging) {
                return;
            }
            judgedThisTurn++;
            double factor = perRead / usualReadNanos;
            for (int i = 0; i < SLOWED_BY.length; i++) {
                if (factor >= SLOWED_BY[i]) {
                    slowedBy[i]++;
                }
            }
            if (factor >= SLOWED_FACTOR) {
                if (runFrom < 0) {
                    runFrom = from;
                }
                longestSlowedNanos = Math.max(longestSlowedNanos, to - runFrom);
            } else {
                runFrom = -1;
                slowedThisTurn = false;
            }
        }

        /** The turn is over: a run of slowed windows ends with it (what happens between the loop's turns is not seen). */
        void endTurn() {
            if (judging && judgedThisTurn > 0) {
                turns++;
                if (slowedThisTurn) {
                    turnsSlowedThroughout++;
                }
                usualReadNanos = medianReadNanos();
            }
            runFrom = -1;
            judgedThisTurn = 0;
            slowedThisTurn = true;
        }

        /** The median of the windows' time per read, in nanoseconds (0 before any window). */
        double medianReadNanos() {
            return readHundredths.getTotalCount() == 0 ? 0 : readHundredths.getValueAtPercentile(50) / 100.0;
        }

        Interruptions result() {
            double[] shares = new double[SLOWED_BY.length];
            for (int i = 0; i < shares.length; i++) {
                shares[i] = windows == 0 ? 0 : (double) slowedBy[i] / windows;
            }
            return new Interruptions(nanos / 1e9, reads, counts[0], counts[1], counts[2], counts[3],
                    nanos == 0 ? 0 : (double) lostNanos / nanos, gaps, judging ? usualReadNanos : medianReadNanos(), windows, shares,
                    longestSlowedNanos, turns, turnsSlowedThroughout, readHundredths);
        }
    }

    /**
     * Runs the clock loop, the calls of the lengths to be measured and the model's (if any), for
     * {@code nanos}, so the measured loops start compiled for them, and returns the usual time of one clock read
     * on this thread: the median over the windows of the second half (repeated, up to ten times,
     * while the thread was stopped so much that no window could be judged).
     */
    static double warmUp(double[] targetMicros, double unitsPerMicro, JitterModel model, long nanos) {
        measure(targetMicros, unitsPerMicro, 0, model, nanos / 2);
        double usual = 0;
        for (int i = 0; i < 10 && usual <= 0; i++) {
            usual = measure(targetMicros, unitsPerMicro, 0, model, Math.max(TURN_NANOS, nanos - nanos / 2)).clock().usualReadNanos();
        }
        return usual;
    }

    /**
     * The clock loop and calls of each of {@code targetMicros}, in turns of {@link #TURN_NANOS}
     * each, until {@code nanos} have passed; every one gets the same number of turns. Windows are
     * judged against {@code usualReadNanos} at first, then against the median of the windows before
     * them ({@link ClockTally}); with 0, nothing is judged. A {@code model} (or null) takes a turn
     * after the lengths and records into its own calls.
     */
    static Measurement measure(double[] targetMicros, double unitsPerMicro, double usualReadNanos, JitterModel model, long nanos) {
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
            clock.endTurn();
            for (Calls c : calls) {
                turn(c, c.units(), TURN_NANOS);
            }
            if (model != null) {
                model.turn(TURN_NANOS);
            }
        } while (System.nanoTime() - end < 0);
        return new Measurement(clock.result(), calls);
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
        best = Long.MAX_VALUE;
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
