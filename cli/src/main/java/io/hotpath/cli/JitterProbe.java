package io.hotpath.cli;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What the machine does to a thread that never waits: how often it is interrupted and for how long
 * (a loop that reads the clock and records every gap of a microsecond or more), and what that does
 * to the percentiles of calls of a fixed length (arithmetic only: no memory traffic, no allocation,
 * no call out, so every microsecond over the call's usual time is the machine's). On a shared VM a
 * call's p99 cannot be better than the p99 of arithmetic of its own p50 length; this probe measures
 * that floor so a latency figure can be read against it. Runs on the calling thread.
 */
final class JitterProbe {
    /** Gaps and call times are recorded in nanoseconds up to this; longer ones are clamped to it. */
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long GAP_NANOS = 1_000;

    /** Keeps the arithmetic's result alive (the JIT may not drop the loop). */
    static volatile long sink;

    private JitterProbe() {
    }

    /**
     * Interruptions seen by a clock-reading loop over {@code seconds}: how many gaps of at least 1, 5,
     * 10 and 50 us, the share of the time they took, how long one clock read takes when nothing
     * interrupts, and the gaps' distribution (nanoseconds, gaps of 1 us or more only).
     */
    record Interruptions(double seconds, long reads, long atLeast1us, long atLeast5us, long atLeast10us, long atLeast50us,
                         double lostFraction, Histogram gaps) {
        double perSecond(long count) {
            return count / seconds;
        }

        double nanosPerRead() {
            return reads == 0 ? 0 : (seconds * 1e9 * (1 - lostFraction)) / reads;
        }
    }

    /** Calls of about {@code targetMicros} of arithmetic, timed one by one (nanoseconds). */
    record Calls(double targetMicros, long units, Histogram times) {
        /** The share of calls that took more than their median plus {@code extraMicros}. */
        double slowerThanMedianBy(double extraMicros) {
            long bound = times.getValueAtPercentile(50) + (long) (extraMicros * 1_000);
            long slow = times.getTotalCount() - countAtOrBelow(times, bound);
            return times.getTotalCount() == 0 ? 0 : (double) slow / times.getTotalCount();
        }
    }

    static Interruptions interruptions(long nanos) {
        Histogram gaps = new Histogram(HIGHEST_NANOS, 3);
        long c1 = 0;
        long c5 = 0;
        long c10 = 0;
        long c50 = 0;
        long lost = 0;
        long reads = 0;
        long start = System.nanoTime();
        long end = start + nanos;
        long prev = start;
        long now;
        do {
            now = System.nanoTime();
            reads++;
            long gap = now - prev;
            prev = now;
            if (gap >= GAP_NANOS) {
                gaps.recordValue(Math.min(gap, HIGHEST_NANOS));
                lost += gap;
                c1++;
                if (gap >= 5_000) {
                    c5++;
                    if (gap >= 10_000) {
                        c10++;
                        if (gap >= 50_000) {
                            c50++;
                        }
                    }
                }
            }
        } while (now < end);
        double elapsed = now - start;
        return new Interruptions(elapsed / 1e9, reads, c1, c5, c10, c50, elapsed == 0 ? 0 : lost / elapsed, gaps);
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
        long best = Long.MAX_VALUE;
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

    static Calls calls(double targetMicros, double unitsPerMicro, long nanos) {
        long units = Math.max(1, Math.round(targetMicros * unitsPerMicro));
        Histogram times = new Histogram(HIGHEST_NANOS, 3);
        long x = 7;
        // a short warm-up at this length, not recorded
        for (int i = 0; i < 100; i++) {
            x = work(units, x);
        }
        long end = System.nanoTime() + nanos;
        long t1;
        do {
            long t0 = System.nanoTime();
            x = work(units, x);
            t1 = System.nanoTime();
            times.recordValue(Math.min(t1 - t0, HIGHEST_NANOS));
        } while (t1 < end);
        sink = x;
        return new Calls(targetMicros, units, times);
    }

    /** Arithmetic the JIT cannot shorten: a chain of dependent multiply-adds and shifts. */
    static long work(long units, long x) {
        for (long i = 0; i < units; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            x ^= x >>> 17;
        }
        return x;
    }

    private static long countAtOrBelow(Histogram h, long value) {
        return h.getCountBetweenValues(0, Math.min(value, h.getHighestTrackableValue()));
    }
}
