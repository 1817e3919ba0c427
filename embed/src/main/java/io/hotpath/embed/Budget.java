package io.hotpath.embed;

import io.hotpath.core.HotpathException;
import io.hotpath.optimizer.Optimizer;

/**
 * How far an optimized model's outputs may move from the float32 original's, measured per output
 * row on held-out inputs: the mean cosine similarity, the worst row's cosine similarity, and
 * optionally the largest absolute error (for narrow outputs such as one score per row, where a
 * cosine says little).
 */
public record Budget(double cosineMean, double cosineMin, double maxAbsError) {
    public Budget {
        check("cosineMean", cosineMean);
        check("cosineMin", cosineMin);
        if (!(maxAbsError > 0)) {
            throw HotpathException.invalidArgument("maxAbsError must be > 0 (Double.POSITIVE_INFINITY: no bound), was " + maxAbsError);
        }
    }

    private static void check(String name, double v) {
        if (!(v >= -1 && v <= 1)) {
            throw HotpathException.invalidArgument(name + " must be a cosine similarity in [-1, 1], was " + v);
        }
    }

    /** Every row's cosine similarity to the original at least {@code c} (so the mean too). */
    public static Budget cosineAtLeast(double c) {
        return new Budget(c, c, Double.POSITIVE_INFINITY);
    }

    /** Mean cosine at least {@code mean}, the worst row at least {@code min}. */
    public static Budget cosine(double mean, double min) {
        return new Budget(mean, min, Double.POSITIVE_INFINITY);
    }

    /** This budget, and no output value further than {@code e} from the original's. */
    public Budget maxAbsErrorAtMost(double e) {
        return new Budget(cosineMean, cosineMin, e);
    }

    /** The default: mean cosine 0.99, worst row 0.97 (as {@code hotpath optimize}). */
    public static Budget defaults() {
        return cosine(0.99, 0.97);
    }

    Optimizer.Budget toOptimizer() {
        return new Optimizer.Budget(cosineMean, cosineMin, maxAbsError);
    }

    @Override
    public String toString() {
        return toOptimizer().toString();
    }
}
