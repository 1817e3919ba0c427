package io.hotpath.optimizer;

import io.hotpath.core.HotpathException;

/**
 * How far an optimized model's outputs are from the original's on the same inputs: max and mean
 * absolute error over all values, cosine similarity per row (mean and min) and, for classifier
 * outputs, top-1 agreement (the share of rows whose arg-max class is the same). Rows of one value
 * each (a score per sample, as a wake-word detector gives) would make every row's cosine 1 or -1,
 * its sign: their cosine is taken over the column of all rows instead (mean and min alike).
 */
public record Accuracy(double maxAbsErr, double meanAbsErr, double cosineMean, double cosineMin, double top1Agreement, int rows) {

    /** Compares row by row; {@code ref[i]} and {@code got[i]} are one output row each. */
    public static Accuracy compare(float[][] ref, float[][] got) {
        if (ref.length != got.length || ref.length == 0) {
            throw HotpathException.invalidArgument("compare needs the same, non-zero number of rows: " + ref.length + " vs " + got.length);
        }
        double max = 0;
        double sumAbs = 0;
        long n = 0;
        double cosSum = 0;
        double cosMin = 1;
        int agree = 0;
        for (int r = 0; r < ref.length; r++) {
            if (ref[r].length != got[r].length) {
                throw HotpathException.invalidArgument("row " + r + ": " + ref[r].length + " vs " + got[r].length + " values");
            }
            double dot = 0;
            double na = 0;
            double nb = 0;
            int argA = 0;
            int argB = 0;
            for (int i = 0; i < ref[r].length; i++) {
                double a = ref[r][i];
                double b = got[r][i];
                if (Double.isNaN(b)) {
                    throw HotpathException.invalidArgument("row " + r + " value " + i + " is NaN in the optimized model's output");
                }
                double d = Math.abs(a - b);
                max = Math.max(max, d);
                sumAbs += d;
                n++;
                dot += a * b;
                na += a * a;
                nb += b * b;
                if (ref[r][i] > ref[r][argA]) {
                    argA = i;
                }
                if (got[r][i] > got[r][argB]) {
                    argB = i;
                }
            }
            double cos = na == 0 && nb == 0 ? 1 : dot / Math.sqrt(na * nb);
            cosSum += cos;
            cosMin = Math.min(cosMin, cos);
            if (argA == argB) {
                agree++;
            }
        }
        if (ref.length > 1 && ref[0].length == 1 && java.util.Arrays.stream(ref).allMatch(row -> row.length == 1)) {
            double dot = 0;
            double na = 0;
            double nb = 0;
            for (int r = 0; r < ref.length; r++) {
                dot += (double) ref[r][0] * got[r][0];
                na += (double) ref[r][0] * ref[r][0];
                nb += (double) got[r][0] * got[r][0];
            }
            double column = na == 0 && nb == 0 ? 1 : na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
            return new Accuracy(max, sumAbs / n, column, column, (double) agree / ref.length, ref.length);
        }
        return new Accuracy(max, sumAbs / n, cosSum / ref.length, cosMin, (double) agree / ref.length, ref.length);
    }

    /** True when the cosine budget holds: mean at least {@code mean}, minimum at least {@code min}. */
    public boolean within(double mean, double min) {
        return cosineMean >= mean && cosineMin >= min;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "cosine mean %.6f min %.6f, max abs err %.4g, mean abs err %.4g, top-1 agreement %.1f%% over %d rows",
                cosineMean, cosineMin, maxAbsErr, meanAbsErr, 100 * top1Agreement, rows);
    }
}
