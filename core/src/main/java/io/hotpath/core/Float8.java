package io.hotpath.core;

/**
 * The four 8-bit float formats of ONNX (opset 19): decoding to double and encoding with ONNX
 * Cast's default rounding (to nearest, ties to even) and saturation (values beyond the largest,
 * infinities included, become the largest, as ONNX Runtime's Cast gives them). Tables of the 256 codes are built once per
 * format; encoding searches them, so it is for filling inputs, not for a hot loop.
 */
final class Float8 {
    private static final double[][] DECODED = new double[4][256];

    static {
        for (int f = 0; f < 4; f++) {
            for (int c = 0; c < 256; c++) {
                DECODED[f][c] = decodeSlow(f, c);
            }
        }
    }

    private Float8() {
    }

    /** 0 e4m3fn, 1 e4m3fnuz, 2 e5m2, 3 e5m2fnuz. */
    static int format(DType t) {
        return switch (t) {
            case FLOAT8E4M3FN -> 0;
            case FLOAT8E4M3FNUZ -> 1;
            case FLOAT8E5M2 -> 2;
            case FLOAT8E5M2FNUZ -> 3;
            default -> throw new IllegalArgumentException(t + " is not an 8-bit float");
        };
    }

    static double decode(int format, byte code) {
        return DECODED[format][code & 0xFF];
    }

    private static double decodeSlow(int format, int c) {
        boolean e4 = format < 2;
        boolean fnuz = format == 1 || format == 3;
        int mbits = e4 ? 3 : 2;
        int ebits = e4 ? 4 : 5;
        int bias = (e4 ? 7 : 15) + (fnuz ? 1 : 0);
        int e = (c >> mbits) & ((1 << ebits) - 1);
        int m = c & ((1 << mbits) - 1);
        double sign = (c & 0x80) != 0 ? -1 : 1;
        if (fnuz && c == 0x80) {
            return Double.NaN;
        }
        if (format == 0 && e == 15 && m == 7) {
            return Double.NaN;
        }
        if (format == 2 && e == 31) {
            return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        double v = e == 0 ? m * Math.pow(2, 1 - bias - mbits) : (1 + m / (double) (1 << mbits)) * Math.pow(2, e - bias);
        return sign * v;
    }

    /** The code nearest to {@code v} in {@code format} (ties to the even code), saturating as ONNX Cast does by default. */
    static byte encode(int format, double v) {
        if (Double.isNaN(v)) {
            return (byte) (format == 1 || format == 3 ? 0x80 : 0x7F);
        }
        boolean negative = v < 0 || (v == 0 && 1 / v < 0);
        double a = Math.abs(v);
        int best = 0;
        double bestDiff = Double.POSITIVE_INFINITY;
        for (int c = 0; c < 128; c++) {
            double d = DECODED[format][c];
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                continue;
            }
            double diff = Double.isInfinite(a) ? -d : Math.abs(d - a);      // beyond the largest: the largest
            if (diff < bestDiff || (diff == bestDiff && (c & 1) == 0)) {
                best = c;
                bestDiff = diff;
            }
        }
        boolean fnuz = format == 1 || format == 3;
        if (negative && !(fnuz && best == 0)) {      // the FNUZ formats have no negative zero
            best |= 0x80;
        }
        return (byte) best;
    }
}
