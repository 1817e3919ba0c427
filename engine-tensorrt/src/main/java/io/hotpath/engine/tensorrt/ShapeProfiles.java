package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Optimization profiles: how they are made from the model's dynamic dimensions and batch buckets,
 * and which one serves a given set of input shapes. GPU-independent.
 */
public final class ShapeProfiles {
    /** Min/opt/max of one input. */
    public record Range(String input, long[] min, long[] opt, long[] max) {
        public Range {
            if (min.length != opt.length || opt.length != max.length) {
                throw HotpathException.invalidArgument("profile for '" + input + "': min, opt and max must have the same rank");
            }
            for (int d = 0; d < min.length; d++) {
                if (min[d] < 0 || min[d] > opt[d] || opt[d] > max[d]) {
                    throw HotpathException.invalidArgument("profile for '" + input + "': dimension " + d + " needs 0 <= min <= opt <= max, was "
                            + min[d] + "/" + opt[d] + "/" + max[d]);
                }
            }
        }

        boolean contains(long[] shape, int rank) {
            if (rank != min.length) {
                return false;
            }
            for (int d = 0; d < rank; d++) {
                if (shape[d] < min[d] || shape[d] > max[d]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            return input + " min=" + Arrays.toString(min) + " opt=" + Arrays.toString(opt) + " max=" + Arrays.toString(max);
        }
    }

    /** One profile: a range for every input. */
    public record Profile(List<Range> ranges) {
        public Profile {
            ranges = List.copyOf(ranges);
        }

        /** The range of {@code input}, or null. */
        public Range range(String input) {
            for (int i = 0; i < ranges.size(); i++) {      // indexed: no iterator on the run path
                Range r = ranges.get(i);
                if (r.input().equals(input)) {
                    return r;
                }
            }
            return null;
        }

        /** Canonical text, used in plan-cache keys. */
        public String canonical() {
            StringBuilder sb = new StringBuilder();
            for (Range r : ranges) {
                sb.append(r).append(';');
            }
            return sb.toString();
        }
    }

    private ShapeProfiles() {
    }

    /**
     * One profile per batch bucket: for buckets {@code 1, 8, 64}, batch ranges [1,1], [2,8] and
     * [9,64], each with opt at the bucket's top. Every other dynamic dimension ranges 1..maxDim
     * with opt = maxDim (inputs padded to the longest length are the common case). Static
     * dimensions stay fixed. The first dimension is the batch when it is dynamic.
     */
    public static List<Profile> forBuckets(List<String> names, List<long[]> dims, int[] buckets, long maxDim) {
        if (buckets.length == 0) {
            throw HotpathException.invalidArgument("at least one batch bucket is needed");
        }
        int[] b = buckets.clone();
        Arrays.sort(b);
        if (b[0] < 1) {
            throw HotpathException.invalidArgument("batch buckets must be >= 1, were " + Arrays.toString(buckets));
        }
        if (maxDim < 1) {
            throw HotpathException.invalidArgument("the largest dynamic dimension must be >= 1, was " + maxDim);
        }
        List<Profile> out = new ArrayList<>();
        int lo = 1;
        for (int top : b) {
            if (top < lo) {
                continue;   // duplicate bucket
            }
            List<Range> ranges = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                long[] d = dims.get(i);
                long[] min = new long[d.length];
                long[] opt = new long[d.length];
                long[] max = new long[d.length];
                for (int k = 0; k < d.length; k++) {
                    if (d[k] >= 0) {
                        min[k] = opt[k] = max[k] = d[k];
                    } else if (k == 0) {
                        min[k] = lo;
                        opt[k] = top;
                        max[k] = top;
                    } else {
                        min[k] = 1;
                        opt[k] = maxDim;
                        max[k] = maxDim;
                    }
                }
                ranges.add(new Range(names.get(i), min, opt, max));
            }
            out.add(new Profile(ranges));
            lo = top + 1;
        }
        return out;
    }

    /**
     * The profile that serves these input shapes: the first (in order) whose ranges contain all of
     * them, -1 when none does. Allocation-free.
     *
     * @param shapes {@code shapes[i]} is input {@code names[i]}'s shape, rank {@code ranks[i]}
     */
    public static int select(List<Profile> profiles, String[] names, long[][] shapes, int[] ranks) {
        for (int p = 0; p < profiles.size(); p++) {
            Profile profile = profiles.get(p);
            boolean all = true;
            for (int i = 0; i < names.length && all; i++) {
                Range r = profile.range(names[i]);
                all = r != null && r.contains(shapes[i], ranks[i]);
            }
            if (all) {
                return p;
            }
        }
        return -1;
    }

    /** The error for shapes no profile serves, naming the shapes and every profile's ranges. */
    public static HotpathException noProfile(List<Profile> profiles, String[] names, long[][] shapes, int[] ranks) {
        StringBuilder sb = new StringBuilder("no optimization profile covers the input shapes ");
        for (int i = 0; i < names.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(names[i]).append('=').append(Shape.format(shapes[i], ranks[i]));
        }
        sb.append("; the engine was built for:");
        for (int p = 0; p < profiles.size(); p++) {
            sb.append(" [").append(p).append("] ").append(profiles.get(p).canonical());
        }
        sb.append(" (rebuild with larger batch buckets or --seq to serve them)");
        return HotpathException.invalidArgument(sb.toString());
    }

    /** The largest value each dimension of {@code input} reaches in any profile (buffer capacity). */
    public static long[] maxShape(List<Profile> profiles, String input) {
        long[] out = null;
        for (Profile p : profiles) {
            Range r = p.range(input);
            if (r == null) {
                continue;
            }
            if (out == null) {
                out = r.max().clone();
            } else {
                for (int d = 0; d < out.length; d++) {
                    out[d] = Math.max(out[d], r.max()[d]);
                }
            }
        }
        if (out == null) {
            throw HotpathException.invalidArgument("no profile mentions input '" + input + "'");
        }
        return out;
    }
}
