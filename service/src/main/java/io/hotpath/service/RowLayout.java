package io.hotpath.service;

import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import java.util.List;

/**
 * How one request's row of each tensor is laid out, for a model whose only variable dimension
 * other than the batch is one shared length (for example {@code sequence_length}) at dimension 1,
 * or that has none. A tensor whose dimension 0 is fixed (a model with no batch dimension, such as
 * one declared {@code [2,4]}) or that is a scalar is carried whole by every request: its
 * dimension 0 is part of the row, and the engine then runs one request at a time. Computed once
 * from the engine's specs.
 */
final class RowLayout {
    final int count;
    final DType[] dtypes;
    /** Elements of one row per unit of the variable length (or per row, for fixed tensors). */
    final long[] unitElements;
    /** Whether the tensor's dimension 1 is the variable length. */
    final boolean[] variable;
    /** Whether each request carries the whole tensor (rank 0, or dimension 0 fixed) rather than one row of a batch. */
    final boolean[] whole;
    /** Byte offset of each tensor in a request's memory (at full capacity). */
    final long[] offset;
    /** Bytes of each tensor's row at the maximum length. */
    final long[] capacityBytes;
    final long totalBytes;

    RowLayout(List<TensorSpec> specs, String lengthSymbol, int maxLength) {
        this.count = specs.size();
        this.dtypes = new DType[count];
        this.unitElements = new long[count];
        this.variable = new boolean[count];
        this.whole = new boolean[count];
        this.offset = new long[count];
        this.capacityBytes = new long[count];
        long off = 0;
        for (int i = 0; i < count; i++) {
            TensorSpec s = specs.get(i);
            Shape sh = s.shape();
            dtypes[i] = s.dtype();
            whole[i] = sh.rank() == 0 || !sh.isDynamic(0);
            long unit = sh.rank() > 0 && whole[i] ? sh.dim(0) : 1;
            for (int d = 1; d < sh.rank(); d++) {
                if (sh.isDynamic(d)) {
                    if (d == 1 && lengthSymbol != null && lengthSymbol.equals(sh.dimName(d))) {
                        variable[i] = true;
                        continue;
                    }
                    throw new HotpathException(HotpathException.Category.UNSUPPORTED, "tensor '" + s.name() + "' dimension " + d
                            + " is dynamic" + (sh.dimName(d) == null ? "" : " ('" + sh.dimName(d) + "')")
                            + "; the batcher supports one variable length, shared by all inputs, at dimension 1");
                }
                unit *= sh.dim(d);
            }
            unitElements[i] = unit;
            capacityBytes[i] = unit * (variable[i] ? maxLength : 1) * dtypes[i].byteSize();
            offset[i] = off;
            off += (capacityBytes[i] + 7) & ~7L;
        }
        this.totalBytes = off;
    }

    /** Bytes of tensor {@code i}'s row at length {@code length}. */
    long rowBytes(int i, int length) {
        return unitElements[i] * (variable[i] ? length : 1) * dtypes[i].byteSize();
    }
}
