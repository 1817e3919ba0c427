package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import java.io.PrintStream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
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
        long warmStart = System.nanoTime();
        for (int i = 0; i < warmup; i++) {
            engine.run(batch);
        }
        long perRun = warmup > 0 ? (System.nanoTime() - warmStart) / warmup : 0;
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        boolean showProgress = perRun * (long) iterations > PROGRESS_THRESHOLD_NANOS;
        try (ProgressBar bar = showProgress ? progress(label, iterations, err) : null) {
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                engine.run(batch);
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

    static ProgressBar progress(String label, int iterations, PrintStream err) {
        return new ProgressBarBuilder().setTaskName(label).setInitialMax(iterations)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(err))
                .setUpdateIntervalMillis(250).build();
    }
}
