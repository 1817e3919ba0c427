package io.hotpath.cache;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Zipfian key traces for the cache's hit-rate test and for {@code CacheBenchmark} (which uses
 * this class from the test jar): ranks are drawn by inverse CDF and scattered over ids by a
 * random permutation, so popularity is not correlated with hash order.
 */
public final class ZipfTrace {
    private ZipfTrace() {
    }

    /** {@code length} ids in [0, n) with Zipf(s) popularity. */
    public static int[] of(int n, double s, int length, long seed) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, s);
            cdf[i] = sum;
        }
        SplittableRandom r = new SplittableRandom(seed);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] trace = new int[length];
        for (int i = 0; i < length; i++) {
            int k = Arrays.binarySearch(cdf, r.nextDouble() * sum);
            trace[i] = perm[k >= 0 ? k : -k - 1];
        }
        return trace;
    }
}
