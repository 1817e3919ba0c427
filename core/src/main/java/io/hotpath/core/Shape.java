package io.hotpath.core;

import java.util.Arrays;

/**
 * A tensor shape as a model declares it: each dimension is either fixed ({@code >= 0}) or
 * dynamic ({@link #DYNAMIC}), and a dynamic dimension may carry a symbolic name
 * ({@code batch_size}, {@code sequence_length}) that ties it to dimensions of other tensors.
 * Immutable.
 */
public final class Shape {
    /** The value of a dynamic dimension. */
    public static final long DYNAMIC = -1;
    /** The highest rank Hotpath handles (engines keep per-dimension scratch of this size). */
    public static final int MAX_RANK = 32;

    private final long[] dims;
    private final String[] names;

    private Shape(long[] dims, String[] names) {
        this.dims = dims;
        this.names = names;
    }

    /** A shape with the given dimensions; {@code -1} marks a dynamic one. */
    public static Shape of(long... dims) {
        return new Shape(checkDims(dims), new String[dims.length]);
    }

    /**
     * A shape with symbolic names for its dynamic dimensions ({@code names[i]} may be null or
     * empty for an unnamed one; names of fixed dimensions are ignored).
     */
    public static Shape of(long[] dims, String[] names) {
        if (names.length != dims.length) {
            throw HotpathException.invalidArgument("shape has " + dims.length + " dims but " + names.length + " names");
        }
        long[] d = checkDims(dims);
        String[] n = new String[d.length];
        for (int i = 0; i < d.length; i++) {
            n[i] = d[i] == DYNAMIC && names[i] != null && !names[i].isEmpty() ? names[i] : null;
        }
        return new Shape(d, n);
    }

    private static long[] checkDims(long[] dims) {
        if (dims.length > MAX_RANK) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "rank " + dims.length + " is above the supported maximum of " + MAX_RANK);
        }
        long[] d = dims.clone();
        for (int i = 0; i < d.length; i++) {
            if (d[i] < DYNAMIC) {
                throw HotpathException.invalidArgument("dimension " + i + " of " + Arrays.toString(dims) + " is " + d[i] + "; use -1 for a dynamic dimension");
            }
        }
        return d;
    }

    public int rank() {
        return dims.length;
    }

    /** The declared dimension: its size, or {@link #DYNAMIC}. */
    public long dim(int i) {
        return dims[i];
    }

    public boolean isDynamic(int i) {
        return dims[i] == DYNAMIC;
    }

    /** The symbolic name of a dynamic dimension, or null. */
    public String dimName(int i) {
        return names[i];
    }

    /** True when no dimension is dynamic. */
    public boolean isStatic() {
        for (long d : dims) {
            if (d == DYNAMIC) {
                return false;
            }
        }
        return true;
    }

    /** A copy of the dimensions. */
    public long[] toArray() {
        return dims.clone();
    }

    /** Elements in a fully static shape. */
    public long elementCount() {
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == DYNAMIC) {
                throw HotpathException.invalidArgument("shape " + this + " has a dynamic dimension " + i + "; it has no fixed element count");
            }
            n = Math.multiplyExact(n, dims[i]);
        }
        return n;
    }

    /**
     * True when {@code concrete} fits this declared shape: same rank, and every fixed dimension
     * equal. Allocation-free.
     */
    public boolean accepts(long[] concrete, int rank) {
        if (rank != dims.length) {
            return false;
        }
        for (int i = 0; i < rank; i++) {
            if (concrete[i] < 0 || (dims[i] != DYNAMIC && dims[i] != concrete[i])) {
                return false;
            }
        }
        return true;
    }

    /** Formats concrete dimensions the way error messages show shapes: {@code [1,128]}. */
    public static String format(long[] dims, int rank) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < rank; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(dims[i]);
        }
        return sb.append(']').toString();
    }

    /** {@code [batch_size,128]}: names for named dynamic dimensions, {@code ?} for unnamed ones. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            if (dims[i] != DYNAMIC) {
                sb.append(dims[i]);
            } else {
                sb.append(names[i] != null ? names[i] : "?");
            }
        }
        return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims) && Arrays.equals(names, s.names);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims) * 31 + Arrays.hashCode(names);
    }
}
