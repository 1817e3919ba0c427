package io.hotpath.serve;

import io.hotpath.core.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads and writes one tensor element of any wire type in off-heap memory (native byte order,
 * little-endian on every machine Hotpath runs on), from and to the JSON numbers the protocol
 * carries: integers as {@code long}, floating point as {@code double}.
 */
final class Elements {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private Elements() {
    }

    /**
     * Writes element {@code index} of {@code t} from a JSON number: {@code integral} says whether
     * the number was written without a fraction or exponent ({@code bits} is then its value),
     * else {@code bits} holds the double's bits. Returns null, or a reason the value does not fit.
     */
    static String put(MemorySegment m, long index, DType t, long bits, boolean integral) {
        double d = integral ? (double) bits : Double.longBitsToDouble(bits);
        switch (t) {
            case FLOAT32 -> m.set(F32, index * 4, (float) d);
            case FLOAT64 -> m.set(F64, index * 8, d);
            case FLOAT16 -> m.set(I16, index * 2, Float.floatToFloat16((float) d));
            case BFLOAT16 -> m.set(I16, index * 2, toBfloat16((float) d));
            case BOOL -> {
                if (!integral || (bits != 0 && bits != 1)) {
                    return "a BOOL element must be true, false, 0 or 1";
                }
                m.set(ValueLayout.JAVA_BYTE, index, (byte) bits);
            }
            default -> {
                if (!integral) {
                    return "element " + index + " is not an integer (" + d + ") for datatype " + WireType.name(t);
                }
                if (!fits(t, bits)) {
                    return "element " + index + " = " + bits + " is out of range for datatype " + WireType.name(t);
                }
                switch (t.byteSize()) {
                    case 1 -> m.set(ValueLayout.JAVA_BYTE, index, (byte) bits);
                    case 2 -> m.set(I16, index * 2, (short) bits);
                    case 4 -> m.set(I32, index * 4, (int) bits);
                    default -> m.set(I64, index * 8, bits);
                }
            }
        }
        return null;
    }

    private static boolean fits(DType t, long v) {
        return switch (t) {
            case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
            case UINT8 -> v >= 0 && v <= 0xFF;
            case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
            case UINT16 -> v >= 0 && v <= 0xFFFF;
            case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
            case UINT32 -> v >= 0 && v <= 0xFFFF_FFFFL;
            case UINT64 -> true;           // JSON numbers above 2^63 are refused by the parser
            default -> true;
        };
    }

    /** Round to nearest even, as the conversions in ONNX Runtime do; NaN stays NaN. */
    static short toBfloat16(float f) {
        int b = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((b >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((b >>> 16) & 1);
        return (short) ((b + rounding) >>> 16);
    }

    /** Whether the wire type's elements are written to JSON as floating-point numbers. */
    static boolean floating(DType t) {
        return t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.FLOAT16 || t == DType.BFLOAT16;
    }

    /** Element {@code index} of a floating-point tensor. */
    static double getDouble(MemorySegment m, long index, DType t) {
        return switch (t) {
            case FLOAT32 -> m.get(F32, index * 4);
            case FLOAT64 -> m.get(F64, index * 8);
            case FLOAT16 -> Float.float16ToFloat(m.get(I16, index * 2));
            case BFLOAT16 -> Float.intBitsToFloat((m.get(I16, index * 2) & 0xFFFF) << 16);
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    /** Element {@code index} of an integer or BOOL tensor (UINT64 above 2^63 comes back negative: write it unsigned). */
    static long getLong(MemorySegment m, long index, DType t) {
        return switch (t) {
            case BOOL, UINT8 -> m.get(ValueLayout.JAVA_BYTE, index) & 0xFFL;
            case INT8 -> m.get(ValueLayout.JAVA_BYTE, index);
            case INT16 -> m.get(I16, index * 2);
            case UINT16 -> m.get(I16, index * 2) & 0xFFFFL;
            case INT32 -> m.get(I32, index * 4);
            case UINT32 -> m.get(I32, index * 4) & 0xFFFF_FFFFL;
            case INT64, UINT64 -> m.get(I64, index * 8);
            default -> throw new IllegalArgumentException(t.toString());
        };
    }
}
