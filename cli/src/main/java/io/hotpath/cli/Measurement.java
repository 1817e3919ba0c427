package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import java.io.PrintStream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * Runs an engine in a closed loop (one run after another, one thread) and records each run's
 * latency in an HdrHistogram. Warm-up runs are not recorded. A progress bar appears on stderr
 * when the measured part is expected to take more than a few seconds.
 */
final class Measurement {
    private static final long PROGRESS_THRESHOLD_NANOS = 3_000_000_000L;

    private Measurement() {
    }

    /** {@code warmup} unrecorded runs, then {@code iterations} recorded ones. */
    static LatencyStats run(Engine engine, Batch batch, int itemsPerRun, int warmup, int iterations, String label, PrintStream err) {
        return run(() -> engine.run(batch), itemsPerRun, warmup, iterations, label, err);
    }

    /** As {@link #run(Engine, Batch, int, int, int, String, PrintStream)}, for any step (a stateful model's {@code StateLoop::step}). */
    static LatencyStats run(Runnable step, int itemsPerRun, int warmup, int iterations, String label, PrintStream err) {
        long warmStart = System.nanoTime();
        for (int i = 0; i < warmup; i++) {
            step.run();
        }
        long perRun = warmup > 0 ? (System.nanoTime() - warmStart) / warmup : 0;
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        boolean showProgress = perRun * (long) iterations > PROGRESS_THRESHOLD_NANOS;
        try (ProgressBar bar = showProgress ? progress(label, iterations, err) : null) {
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                step.run();
                h.recordValue(System.nanoTime() - t0);
                if (bar != null) {
                    bar.step();
                }
            }
            return LatencyStats.of(h, System.nanoTime() - start, itemsPerRun);
        }
    }

    /** Runs for about {@code seconds} after {@code warmupSeconds} of warm-up, at least {@code minRuns}. */
    static LatencyStats timed(Engine engine, Batch batch, int itemsPerRun, double warmupSeconds, double seconds, int minRuns) {
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int warm = 0;
        while (System.nanoTime() < warmEnd || warm < 3) {
            engine.run(batch);
            warm++;
        }
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end || h.getTotalCount() < minRuns) {
            long t0 = System.nanoTime();
            engine.run(batch);
            h.recordValue(System.nanoTime() - t0);
        }
        return LatencyStats.of(h, System.nanoTime() - start, itemsPerRun);
    }

    /**
     * Several configurations timed interleaved: {@code rounds} rounds, each running every
     * configuration in turn for about {@code seconds / rounds} (after a short unrecorded warm-up),
     * so each configuration is measured about {@code seconds} in all.
     * Each configuration's latencies from all rounds go into one histogram; its throughput is the
     * median of its rounds, with the lowest and highest beside it. A VM's speed drifts over a
     * minute by more than the differences being compared: this way the drift hits every
     * configuration alike.
     */
    static List<Interleaved> interleaved(List<Turn> turns, int rounds, double seconds, int minRuns) {
        int n = turns.size();
        Histogram[] hs = new Histogram[n];
        double[][] thr = new double[n][rounds];
        for (int i = 0; i < n; i++) {
            hs[i] = new Histogram(3_600_000_000_000L, 3);
        }
        long slice = (long) (seconds / rounds * 1e9);
        int runsPerSlice = Math.max(1, (minRuns + rounds - 1) / rounds);
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < n; i++) {
                Turn t = turns.get(i);
                t.prepare().run();
                long warmEnd = System.nanoTime() + Math.min(slice / 5, 200_000_000L);
                for (int w = 0; w < 2 || System.nanoTime() < warmEnd; w++) {
                    t.engine().run(t.batch());
                }
                long start = System.nanoTime();
                long end = start + slice;
                int runs = 0;
                while (System.nanoTime() < end || runs < runsPerSlice) {
                    long t0 = System.nanoTime();
                    t.engine().run(t.batch());
                    hs[i].recordValue(System.nanoTime() - t0);
                    runs++;
                }
                thr[i][round] = (double) runs * t.itemsPerRun() / ((System.nanoTime() - start) / 1e9);
            }
        }
        List<Interleaved> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] sorted = thr[i].clone();
            java.util.Arrays.sort(sorted);
            double median = rounds % 2 == 1 ? sorted[rounds / 2] : (sorted[rounds / 2 - 1] + sorted[rounds / 2]) / 2;
            LatencyStats merged = LatencyStats.of(hs[i], 1, turns.get(i).itemsPerRun());
            out.add(new Interleaved(merged, median, sorted[0], sorted[rounds - 1], rounds));
        }
        return out;
    }

    /** One configuration to time: set its batch up ({@code prepare}), then run {@code engine} on {@code batch}. */
    record Turn(Engine engine, Batch batch, int itemsPerRun, Runnable prepare) {
    }

    /** Latency percentiles over all rounds, and throughput as the median of the rounds with their spread. */
    record Interleaved(LatencyStats latency, double throughputMedian, double throughputMin, double throughputMax, int rounds) {
    }

    static ProgressBar progress(String label, int iterations, PrintStream err) {
        return new ProgressBarBuilder().setTaskName(label).setInitialMax(iterations)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(err))
                .setUpdateIntervalMillis(250).build();
    }
}
