package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Random but valid inputs for any model: token-id inputs get ids below the vocabulary size,
 * attention masks ones, token-type inputs zeros, float inputs values in [-1, 1), and every other
 * integer input (int8 to uint64) small non-negative values. Dynamic dimensions are the batch (dimension 0) and
 * {@code seq} elsewhere.
 */
final class RandomInputs {
    private RandomInputs() {
    }

    static void fill(Batch batch, int rows, int seq, long vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < batch.inputCount(); i++) {
            Tensor t = batch.input(i);
            Shape s = t.spec().shape();
            long[] dims = new long[s.rank()];     // a scalar (rank 0) has none
            for (int d = 0; d < dims.length; d++) {
                dims[d] = !s.isDynamic(d) ? s.dim(d) : (d == 0 ? rows : seq);
            }
            if (s.rank() > 0 && !s.isDynamic(0) && rows != s.dim(0)) {
                throw HotpathException.invalidArgument("input '" + t.name() + "' has a fixed batch of " + s.dim(0) + "; --batch " + rows + " cannot apply");
            }
            t.reshape(dims);
            fill(t, r, vocab);
        }
    }

    /** Fills {@code t} in its current shape. */
    static void fill(Tensor t, SplittableRandom r, long vocab) {
        String name = t.name().toLowerCase(Locale.ROOT);
        long n = t.elementCount();
        if (t.dtype() == io.hotpath.core.DType.STRING) {
            t.clearStrings();
            for (long k = 0; k < n; k++) {
                t.putString(k, WORDS[r.nextInt(WORDS.length)]);
            }
            return;
        }
        for (long k = 0; k < n; k++) {
            switch (t.dtype()) {
                case FLOAT32 -> t.putFloat(k, (float) r.nextDouble(-1, 1));
                case FLOAT64 -> t.putDouble(k, r.nextDouble(-1, 1));
                case FLOAT16 -> t.putShort(k, Float.floatToFloat16((float) r.nextDouble(-1, 1)));
                case BFLOAT16 -> t.putShort(k, (short) (Float.floatToIntBits((float) r.nextDouble(-1, 1)) >>> 16));
                case INT64 -> t.putLong(k, integer(name, r, vocab));
                case INT32 -> t.putInt(k, (int) integer(name, r, vocab));
                case INT8, UINT8, INT16, UINT16, UINT32, UINT64 -> t.putAsLong(k, r.nextInt(0, 100));
                case BOOL -> t.putByte(k, (byte) 1);
                case FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> t.putAsDouble(k, r.nextDouble(-1, 1));
                case STRING -> throw new IllegalStateException("filled above");
            }
        }
    }

    /** Words a string input is filled with. */
    private static final String[] WORDS = {"market", "order", "latency", "signal", "price", "volume", "the", "quick", "Hotpath", "größe"};

    private static long integer(String name, SplittableRandom r, long vocab) {
        if (name.contains("mask")) {
            return 1;
        }
        if (name.contains("type") || name.contains("segment") || name.contains("position")) {
            return 0;
        }
        return r.nextLong(0, vocab);
    }
}
