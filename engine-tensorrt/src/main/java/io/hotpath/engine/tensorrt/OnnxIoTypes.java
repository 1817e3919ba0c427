package io.hotpath.engine.tensorrt;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The element types of an ONNX model's graph inputs and outputs, read straight from the protobuf
 * wire format: nodes and weights are skipped by their length, never loaded, so a model of any
 * size costs a few small reads. TensorRT's ONNX parser casts some types on its own (float64 to
 * float32), so the engine reads what the model itself declares before handing it over.
 *
 * <pre>
 * ModelProto      7: graph        GraphProto
 * GraphProto      5: initializer  TensorProto (8: name)   11: input, 12: output  ValueInfoProto
 * ValueInfoProto  1: name         2: type  TypeProto
 * TypeProto       1: tensor_type  TypeProto.Tensor (1: elem_type, varint)
 * </pre>
 */
final class OnnxIoTypes {
    /** A graph input or output; {@code elemType} is the ONNX element-type code, 0 when it is not a tensor. */
    record Io(String name, boolean input, int elemType) {
    }

    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LEN = 2;
    private static final int FIXED32 = 5;

    private OnnxIoTypes() {
    }

    /**
     * The graph's inputs (without those an initializer backs: weights, not run-time inputs) and
     * outputs, in order. IOException when the file cannot be read or is not well-formed protobuf.
     */
    static List<Io> read(Path model) throws IOException {
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.READ)) {
            Wire w = new Wire(ch);
            long end = ch.size();
            while (w.pos() < end) {
                long tag = w.varint();
                if (tag >>> 3 == 7 && (tag & 7) == LEN) {
                    long graphEnd = w.lengthEnd(end);
                    return graph(w, graphEnd);
                }
                w.skip(tag, end);
            }
            return List.of();
        }
    }

    private static List<Io> graph(Wire w, long end) throws IOException {
        List<Io> io = new ArrayList<>();
        Set<String> initializers = new HashSet<>();
        while (w.pos() < end) {
            long tag = w.varint();
            int field = (int) (tag >>> 3);
            if ((tag & 7) == LEN && (field == 11 || field == 12 || field == 5)) {
                long itemEnd = w.lengthEnd(end);
                if (field == 5) {
                    initializers.add(initializerName(w, itemEnd));
                } else {
                    io.add(valueInfo(w, itemEnd, field == 11));
                }
                w.seek(itemEnd);
            } else {
                w.skip(tag, end);
            }
        }
        return io.stream().filter(v -> !v.input() || !initializers.contains(v.name())).toList();
    }

    private static String initializerName(Wire w, long end) throws IOException {
        while (w.pos() < end) {
            long tag = w.varint();
            if (tag >>> 3 == 8 && (tag & 7) == LEN) {
                return w.string(end);
            }
            w.skip(tag, end);
        }
        return "";
    }

    private static Io valueInfo(Wire w, long end, boolean input) throws IOException {
        String name = "";
        int elem = 0;
        while (w.pos() < end) {
            long tag = w.varint();
            int field = (int) (tag >>> 3);
            if (field == 1 && (tag & 7) == LEN) {
                name = w.string(end);
            } else if (field == 2 && (tag & 7) == LEN) {
                long typeEnd = w.lengthEnd(end);
                elem = tensorElemType(w, typeEnd);
                w.seek(typeEnd);
            } else {
                w.skip(tag, end);
            }
        }
        return new Io(name, input, elem);
    }

    /** TypeProto: the tensor_type's elem_type, or 0 for a sequence, map or optional. */
    private static int tensorElemType(Wire w, long end) throws IOException {
        while (w.pos() < end) {
            long tag = w.varint();
            if (tag >>> 3 == 1 && (tag & 7) == LEN) {
                long tensorEnd = w.lengthEnd(end);
                while (w.pos() < tensorEnd) {
                    long t = w.varint();
                    if (t >>> 3 == 1 && (t & 7) == VARINT) {
                        return (int) w.varint();
                    }
                    w.skip(t, tensorEnd);
                }
                return 0;
            }
            w.skip(tag, end);
        }
        return 0;
    }

    /** A forward reader over the file with a small window; skips move the window instead of reading through. */
    private static final class Wire {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(8192);
        private long bufStart;

        Wire(FileChannel ch) {
            this.ch = ch;
            buf.limit(0);
        }

        long pos() {
            return bufStart + buf.position();
        }

        private int readByte() throws IOException {
            if (!buf.hasRemaining()) {
                bufStart = pos();
                buf.clear();
                int n = ch.read(buf, bufStart);
                buf.flip();
                if (n <= 0) {
                    throw new EOFException("truncated at byte " + bufStart);
                }
            }
            return buf.get() & 0xFF;
        }

        long varint() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = readByte();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw new IOException("malformed varint before byte " + pos());
        }

        /** Reads a length and returns where the field it announces ends; IOException past {@code end}. */
        long lengthEnd(long end) throws IOException {
            long len = varint();
            long at = pos();
            if (len < 0 || len > end - at) {
                throw new IOException("field of " + len + " bytes at byte " + at + " runs past its message's end " + end);
            }
            return at + len;
        }

        String string(long end) throws IOException {
            long stop = lengthEnd(end);
            byte[] b = new byte[(int) Math.min(stop - pos(), 1 << 16)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) readByte();
            }
            seek(stop);
            return new String(b, StandardCharsets.UTF_8);
        }

        void seek(long p) {
            if (p >= bufStart && p <= bufStart + buf.limit()) {
                buf.position((int) (p - bufStart));
            } else {
                bufStart = p;
                buf.limit(0);
            }
        }

        /** Skips the value of a field with tag {@code tag}. */
        void skip(long tag, long end) throws IOException {
            switch ((int) (tag & 7)) {
                case VARINT -> varint();
                case FIXED64 -> seek(checked(pos() + 8, end));
                case LEN -> seek(lengthEnd(end));
                case FIXED32 -> seek(checked(pos() + 4, end));
                default -> throw new IOException("wire type " + (tag & 7) + " (field " + (tag >>> 3) + ") at byte " + pos());
            }
        }

        private static long checked(long p, long end) throws IOException {
            if (p > end) {
                throw new IOException("fixed-size field runs past its message's end " + end);
            }
            return p;
        }
    }
}
