package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import java.util.Arrays;

/**
 * An engine's measured cost of one run per batch size: the median run time at each size, the
 * sizes measured interleaved (every size once per round, several rounds, the median of the
 * rounds' medians) so that the VM's drift does not favour one size. {@code hotpath tune} reads it
 * to predict what a batching configuration can sustain before measuring any.
 */
final class BatchCostCurve {
    private final int[] sizes;
    private final double[] medianNanos;

    private BatchCostCurve(int[] sizes, double[] medianNanos) {
        this.sizes = sizes;
        this.medianNanos = medianNanos;
    }

    /**
     * Measures {@code engine} at each of {@code sizes} (ascending, each at most its max batch),
     * inputs made like {@code hotpath bench}'s at length {@code length}; each round runs each size
     * for about {@code roundMillis} (at least 3 runs).
     */
    static BatchCostCurve measure(Engine engine, int[] sizes, int length, long vocab, long seed, int rounds, long roundMillis) {
        Batch b = engine.newBatch();
        BenchInputs inputs = BenchInputs.defaults();
        double[][] perRound = new double[sizes.length][rounds];
        for (int s = 0; s < sizes.length; s++) {
            inputs.fill(b, sizes[s], length, vocab, seed);
            engine.run(b);      // warm: the first run of a shape builds ONNX Runtime's plan for it
        }
        long[] times = new long[4096];
        for (int r = 0; r < rounds; r++) {
            for (int s = 0; s < sizes.length; s++) {
                inputs.fill(b, sizes[s], length, vocab, seed + r);
                long until = System.nanoTime() + roundMillis * 1_000_000L;
                int n = 0;
                while (n < times.length && (n < 3 || System.nanoTime() < until)) {
                    long t0 = System.nanoTime();
                    engine.run(b);
                    times[n++] = System.nanoTime() - t0;
                }
                Arrays.sort(times, 0, n);
                perRound[s][r] = times[n / 2];
            }
        }
        double[] med = new double[sizes.length];
        for (int s = 0; s < sizes.length; s++) {
            double[] v = perRound[s].clone();
            Arrays.sort(v);
            med[s] = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }
        return new BatchCostCurve(sizes.clone(), med);
    }

    int[] sizes() {
        return sizes.clone();
    }

    /** The median run time at {@code rows}: the measured size at or above it (the largest measured when beyond them). */
    double nanos(int rows) {
        for (int s = 0; s < sizes.length; s++) {
            if (sizes[s] >= rows) {
                return medianNanos[s];
            }
        }
        return medianNanos[medianNanos.length - 1] * rows / sizes[sizes.length - 1];
    }

    /** The most rows per second a batcher with batches of at most {@code maxBatch} rows can get from the engine. */
    double maxRowsPerSecond(int maxBatch) {
        double best = 0;
        for (int s = 0; s < sizes.length && sizes[s] <= maxBatch; s++) {
            best = Math.max(best, sizes[s] / (medianNanos[s] / 1e9));
        }
        return best;
    }
}
