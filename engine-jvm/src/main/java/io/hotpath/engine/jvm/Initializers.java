package io.hotpath.engine.jvm;

import io.hotpath.core.HotpathException;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Reads the values of ONNX initializers and Constant tensors (float32, float64 and int64; raw or typed fields). */
final class Initializers {
    /** The most elements one constant may hold (the model file is at most {@link JvmEngine#MAX_MODEL_BYTES}). */
    static final long MAX_ELEMENTS = JvmEngine.MAX_MODEL_BYTES / 4;

    private Initializers() {
    }

    static long[] dims(TensorProto t) {
        long[] d = new long[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) {
            d[i] = t.getDims(i);
        }
        return d;
    }

    static long count(TensorProto t) {
        long n = 1;
        for (long d : dims(t)) {
            if (d < 0 || (d > 0 && n > MAX_ELEMENTS / d)) {
                throw new HotpathException(HotpathException.Category.INVALID_MODEL, "tensor '" + t.getName() + "' has dimensions "
                        + java.util.Arrays.toString(dims(t)) + ": negative or more than " + MAX_ELEMENTS + " elements");
            }
            n *= d;
        }
        return n;
    }

    static boolean isFloat(TensorProto t) {
        return t.getDataType() == TensorProto.DataType.FLOAT_VALUE || t.getDataType() == TensorProto.DataType.DOUBLE_VALUE;
    }

    /** A float32 or float64 tensor's values as float32. */
    static float[] floats(TensorProto t) {
        int n = (int) count(t);
        float[] out = new float[n];
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "tensor '" + t.getName()
                    + "' keeps its data in an external file; the JVM engine reads self-contained models only");
        }
        if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
            if (!t.getRawData().isEmpty()) {
                checkBytes(t, (long) n * 4);
                t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            } else {
                checkCount(t, t.getFloatDataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getFloatData(i);
                }
            }
        } else if (t.getDataType() == TensorProto.DataType.DOUBLE_VALUE) {
            if (!t.getRawData().isEmpty()) {
                checkBytes(t, (long) n * 8);
                ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble(i * 8);
                }
            } else {
                checkCount(t, t.getDoubleDataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = (float) t.getDoubleData(i);
                }
            }
        } else {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "tensor '" + t.getName() + "' has element type "
                    + TensorProto.DataType.forNumber(t.getDataType()) + "; the JVM engine computes in float32");
        }
        return out;
    }

    /** An int64 (or int32) tensor's values. */
    static long[] longs(TensorProto t) {
        int n = (int) count(t);
        long[] out = new long[n];
        if (t.getDataType() == TensorProto.DataType.INT64_VALUE) {
            if (!t.getRawData().isEmpty()) {
                checkBytes(t, (long) n * 8);
                t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            } else {
                checkCount(t, t.getInt64DataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getInt64Data(i);
                }
            }
        } else if (t.getDataType() == TensorProto.DataType.INT32_VALUE) {
            if (!t.getRawData().isEmpty()) {
                checkBytes(t, (long) n * 4);
                ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    out[i] = b.getInt(i * 4);
                }
            } else {
                checkCount(t, t.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    out[i] = t.getInt32Data(i);
                }
            }
        } else {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "tensor '" + t.getName() + "' has element type "
                    + TensorProto.DataType.forNumber(t.getDataType()) + " where integers were expected");
        }
        return out;
    }

    private static void checkBytes(TensorProto t, long expected) {
        if (t.getRawData().size() != expected) {
            throw new HotpathException(HotpathException.Category.INVALID_MODEL, "tensor '" + t.getName() + "' holds " + t.getRawData().size()
                    + " bytes, its shape needs " + expected);
        }
    }

    private static void checkCount(TensorProto t, int have, int expected) {
        if (have != expected) {
            throw new HotpathException(HotpathException.Category.INVALID_MODEL, "tensor '" + t.getName() + "' holds " + have
                    + " values, its shape needs " + expected);
        }
    }
}
