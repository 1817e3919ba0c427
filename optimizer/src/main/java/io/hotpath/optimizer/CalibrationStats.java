package io.hotpath.optimizer;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Activation statistics of a float32 model over calibration inputs, per tensor: minimum, maximum
 * and a histogram of |x| in {@value #BINS} bins over [0, max|x|], enough for the three calibration
 * methods (MinMax, Percentile, Entropy). Saved as text (one tensor per line) and reused.
 */
public final class CalibrationStats {
    public static final int BINS = 2048;
    private static final String HEADER = "# hotpath calibration statistics v1: name min max absmax count bins...";

    /** One tensor's statistics. */
    public static final class Tensor {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double absMax;
        long count;
        final long[] hist = new long[BINS];

        public double min() {
            return min;
        }

        public double max() {
            return max;
        }

        public double absMax() {
            return absMax;
        }

        public long count() {
            return count;
        }

        long[] histogram() {
            return hist;
        }
    }

    /** How a threshold (the clipping range of |x|) is chosen from a histogram. */
    public enum Method {
        /** The full observed range. */
        MINMAX,
        /** The |x| below which the given share of values lies (default 99.99%). */
        PERCENTILE,
        /** The threshold whose 128-level quantization of the |x| distribution has the least KL divergence from it (TensorRT's entropy calibration). */
        ENTROPY
    }

    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    Tensor tensor(String name) {
        return tensors.computeIfAbsent(name, n -> new Tensor());
    }

    /**
     * The symmetric clipping threshold of {@code name} by {@code method}; {@code percentile} is in
     * percent (99.99) and only used by PERCENTILE.
     */
    public double threshold(String name, Method method, double percentile) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw HotpathException.invalidArgument("no calibration statistics for tensor '" + name + "'");
        }
        if (t.absMax == 0) {
            return 0;
        }
        double binWidth = t.absMax / BINS;
        return switch (method) {
            case MINMAX -> t.absMax;
            case PERCENTILE -> {
                long total = 0;
                for (long c : t.hist) {
                    total += c;
                }
                double target = total * percentile / 100.0;
                long cum = 0;
                int i = 0;
                for (; i < BINS; i++) {
                    cum += t.hist[i];
                    if (cum >= target) {
                        break;
                    }
                }
                yield Math.min(t.absMax, (i + 1) * binWidth);
            }
            case ENTROPY -> (entropyBins(t.hist) + 0.5) * binWidth;
        };
    }

    /**
     * The number of histogram bins to keep (128..BINS) that minimizes KL(P || Q), where P is the
     * histogram cut there with the clipped tail added to its last bin, and Q is the cut histogram
     * (without the tail) squeezed into 128 levels and expanded back, empty bins staying empty: the
     * KL divergence then weighs the information lost by clipping against the resolution lost by
     * quantizing, as TensorRT's entropy calibrator does.
     */
    static int entropyBins(long[] hist) {
        final int levels = 128;
        int best = hist.length;
        double bestKl = Double.POSITIVE_INFINITY;
        long tailAll = 0;
        for (long c : hist) {
            tailAll += c;
        }
        if (tailAll == 0) {
            return hist.length;
        }
        for (int i = levels; i <= hist.length; i++) {
            double[] p = new double[i];
            for (int k = 0; k < i; k++) {
                p[k] = hist[k];
            }
            long tail = 0;
            for (int k = i; k < hist.length; k++) {
                tail += hist[k];
            }
            p[i - 1] += tail;
            double[] q = new double[i];
            double per = (double) i / levels;
            for (int lv = 0; lv < levels; lv++) {
                int from = (int) Math.floor(lv * per);
                int to = lv == levels - 1 ? i : (int) Math.floor((lv + 1) * per);
                double sum = 0;
                int nonZero = 0;
                for (int k = from; k < to; k++) {
                    sum += hist[k];
                    if (hist[k] != 0) {
                        nonZero++;
                    }
                }
                for (int k = from; k < to; k++) {
                    q[k] = hist[k] == 0 || nonZero == 0 ? 0 : sum / nonZero;
                }
            }
            double ps = 0;
            double qs = 0;
            for (int k = 0; k < i; k++) {
                ps += p[k];
                qs += q[k];
            }
            double kl = 0;
            for (int k = 0; k < i; k++) {
                if (p[k] == 0) {
                    continue;
                }
                double pk = p[k] / ps;
                double qk = q[k] / qs;
                kl += qk == 0 ? pk * 20 : pk * Math.log(pk / qk);   // an empty q bin where p has mass: heavy, finite penalty
            }
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        return best;
    }

    /** Writes the statistics as text. */
    public void save(Path file) {
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            w.write(HEADER);
            w.newLine();
            for (var e : tensors.entrySet()) {
                Tensor t = e.getValue();
                StringBuilder sb = new StringBuilder(e.getKey()).append('\t').append(t.min).append('\t').append(t.max).append('\t')
                        .append(t.absMax).append('\t').append(t.count);
                for (long c : t.hist) {
                    sb.append('\t').append(c);
                }
                w.write(sb.toString());
                w.newLine();
            }
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_ARGUMENT, "cannot write calibration statistics to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads statistics written by {@link #save}; anything else is INVALID_ARGUMENT naming the line. */
    public static CalibrationStats load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new HotpathException(Category.NOT_FOUND, "cannot read calibration statistics " + file + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw HotpathException.invalidArgument(file + " is not a Hotpath calibration statistics file");
        }
        CalibrationStats s = new CalibrationStats();
        for (int l = 1; l < lines.size(); l++) {
            String[] f = lines.get(l).split("\t");
            if (f.length != 5 + BINS) {
                throw HotpathException.invalidArgument(file + " line " + (l + 1) + ": " + f.length + " fields, expected " + (5 + BINS));
            }
            Tensor t = s.tensor(f[0]);
            try {
                t.min = Double.parseDouble(f[1]);
                t.max = Double.parseDouble(f[2]);
                t.absMax = Double.parseDouble(f[3]);
                t.count = Long.parseLong(f[4]);
                for (int i = 0; i < BINS; i++) {
                    t.hist[i] = Long.parseLong(f[5 + i]);
                }
            } catch (NumberFormatException e) {
                throw HotpathException.invalidArgument(file + " line " + (l + 1) + ": " + e.getMessage());
            }
        }
        return s;
    }
}
