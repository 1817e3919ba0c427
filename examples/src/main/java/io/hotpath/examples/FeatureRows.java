package io.hotpath.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Feature rows shaped like a trading model's inputs: standardized features (mean 0, unit variance),
 * a few heavy-tailed ones (returns and order-flow imbalances jump), drawn from a seeded generator
 * so every run sees the same rows. Calibration data for the examples; an application uses its own
 * recent inputs instead.
 */
public final class FeatureRows {
    private FeatureRows() {
    }

    /** {@code n} rows of 64 features. */
    public static List<float[]> sample(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<float[]> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] row = new float[64];
            for (int k = 0; k < row.length; k++) {
                double g = r.nextGaussian();
                // every 8th feature heavy-tailed: a Gaussian scaled by a random volatility regime
                row[k] = (float) (k % 8 == 0 ? g * (r.nextDouble() < 0.1 ? 3.0 : 1.0) : g);
            }
            rows.add(row);
        }
        return rows;
    }
}
