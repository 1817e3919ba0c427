package io.hotpath.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A NumPy {@code .npy} file read whole: format versions 1.0 and 2.0 (the magic string
 * {@code \x93NUMPY}, two version bytes, the header length as 2 (1.0) or 4 (2.0) little-endian
 * bytes, then a Python dict literal with {@code 'descr'}, {@code 'fortran_order'} and
 * {@code 'shape'}), C order, little-endian element types {@code <f2 <f4 <f8 <i2 <i4 <i8 <u2 <u4 <u8 |i1 |u1 |b1}.
 * Anything else is an {@link IllegalArgumentException} whose message names the file and what is wrong.
 */
final class NpyFile {
    /** Largest file read (the values are held on the heap). */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    /** Element types this reader takes. */
    static final String SUPPORTED = "<f4, <f8, <f2, <i8, <i4, <i2, |i1, <u8, <u4, <u2, |u1, |b1";

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

    private final Path file;
    private final String descr;
    private final long[] shape;
    private final long count;
    private final ByteBuffer data;

    private NpyFile(Path file, String descr, long[] shape, long count, ByteBuffer data) {
        this.file = file;
        this.descr = descr;
        this.shape = shape;
        this.count = count;
        this.data = data;
    }

    /** Reads {@code file}; IllegalArgumentException (naming the file) when it is missing, unreadable, malformed or of an unsupported type. */
    static NpyFile read(Path file) {
        byte[] bytes;
        try {
            if (!Files.isRegularFile(file)) {
                throw bad(file, Files.exists(file) ? "not a regular file" : "no such file");
            }
            if (Files.size(file) > MAX_BYTES) {
                throw bad(file, "larger than " + MAX_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw bad(file, "cannot read it (" + HotpathCommand.oneLine(String.valueOf(e.getMessage())) + ")");
        }
        return parse(file, bytes);
    }

    /** Parses the bytes of a .npy file; {@code file} names it in messages. */
    static NpyFile parse(Path file, byte[] bytes) {
        if (bytes.length < 10 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw bad(file, "not a NumPy .npy file (no \\x93NUMPY magic)");
        }
        int major = bytes[6] & 0xff;
        int minor = bytes[7] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerAt;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            headerAt = 10;
        } else if (major == 2) {
            if (bytes.length < 12) {
                throw bad(file, "truncated header");
            }
            headerLen = bb.getInt(8) & 0xffffffffL;
            headerAt = 12;
        } else {
            throw bad(file, "format version " + major + "." + minor + " not supported (1.0 and 2.0 are)");
        }
        if (headerAt + headerLen > bytes.length) {
            throw bad(file, "truncated header (" + headerLen + " bytes announced)");
        }
        String header = new String(bytes, headerAt, (int) headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw bad(file, "malformed header (needs 'descr', 'fortran_order' and 'shape'): " + HotpathCommand.oneLine(header.trim()));
        }
        String descr = d.group(1);
        if (f.group(1).equals("True")) {
            throw bad(file, "descr '" + descr + "' in Fortran order; only C order is supported (numpy.ascontiguousarray)");
        }
        if (descr.startsWith(">")) {
            throw bad(file, "descr '" + descr + "' is big-endian; supported: " + SUPPORTED);
        }
        if (itemSize(descr) == 0) {
            throw bad(file, "descr '" + descr + "' not supported; supported: " + SUPPORTED);
        }
        String[] parts = s.group(1).split(",");
        long[] shape = Arrays.stream(parts).map(String::trim).filter(p -> !p.isEmpty()).mapToLong(p -> {
            try {
                long v = Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                return v;
            } catch (NumberFormatException e) {
                throw bad(file, "malformed shape (" + s.group(1).trim() + ")");
            }
        }).toArray();
        long count = 1;
        try {
            for (long v : shape) {
                count = Math.multiplyExact(count, v);
            }
        } catch (ArithmeticException e) {
            throw bad(file, "shape " + Arrays.toString(shape) + " too large");
        }
        long need = count * itemSize(descr);   // count * item <= bytes when the check below passes; an overflow shows as negative
        long have = bytes.length - headerAt - headerLen;
        if (count > MAX_BYTES || need != have) {
            throw bad(file, "descr '" + descr + "' shape " + Arrays.toString(shape) + " needs " + (count > MAX_BYTES ? "more than " + MAX_BYTES : need)
                    + " bytes of data, the file has " + have);
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (headerAt + headerLen), (int) have).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new NpyFile(file, descr, shape, count, data);
    }

    /** Bytes per element of a supported descr, else 0. */
    private static int itemSize(String descr) {
        return switch (descr) {
            case "<f8", "<i8", "<u8" -> 8;
            case "<f4", "<i4", "<u4" -> 4;
            case "<f2", "<i2", "<u2" -> 2;
            case "|i1", "|u1", "|b1" -> 1;
            default -> 0;
        };
    }

    private static IllegalArgumentException bad(Path file, String why) {
        return new IllegalArgumentException(file + ": " + why);
    }

    Path file() {
        return file;
    }

    String descr() {
        return descr;
    }

    /** The shape; empty for a scalar. */
    long[] shape() {
        return shape.clone();
    }

    long count() {
        return count;
    }

    /** Whether the elements are floating point ({@code <f2 <f4 <f8}). */
    boolean isFloat() {
        return descr.charAt(1) == 'f';
    }

    /** Whether the elements are booleans ({@code |b1}). */
    boolean isBool() {
        return descr.equals("|b1");
    }

    /** Element {@code i} (C order) as a double. */
    double getDouble(long i) {
        int at = (int) i * itemSize(descr);
        return switch (descr) {
            case "<f8" -> data.getDouble(at);
            case "<f4" -> data.getFloat(at);
            case "<f2" -> Float.float16ToFloat(data.getShort(at));
            case "<u8" -> {
                long v = data.getLong(at);
                yield v >= 0 ? v : ((double) ((v >>> 1) | (v & 1))) * 2.0;    // above 2^63: halve keeping the sticky bit
            }
            default -> getLong(i);
        };
    }

    /**
     * Element {@code i} (C order) as a long (an integer or boolean file); a {@code <u8} element
     * above {@link Long#MAX_VALUE} comes back as its bits, negative (see {@link #isAboveLongMax}).
     */
    long getLong(long i) {
        int at = (int) i * itemSize(descr);
        return switch (descr) {
            case "<i8" -> data.getLong(at);
            case "<u8" -> data.getLong(at);
            case "<i4" -> data.getInt(at);
            case "<u4" -> data.getInt(at) & 0xFFFF_FFFFL;
            case "<i2" -> data.getShort(at);
            case "<u2" -> data.getShort(at) & 0xFFFF;
            case "|i1" -> data.get(at);
            case "|u1" -> data.get(at) & 0xff;
            case "|b1" -> data.get(at) != 0 ? 1 : 0;
            default -> throw new IllegalStateException("not an integer descr: " + descr);
        };
    }

    /** Whether element {@code i} is a {@code <u8} value of 2^63 or more, which {@link #getLong} returns as negative bits. */
    boolean isAboveLongMax(long i) {
        return descr.equals("<u8") && getLong(i) < 0;
    }

    /** The raw 16 bits of element {@code i} of a {@code <f2} file. */
    short getHalfBits(long i) {
        return data.getShort((int) i * 2);
    }
}
