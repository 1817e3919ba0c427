package io.hotpath.service;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The layout of one entry of the shared cache tier: the Redis key that names it and the value
 * stored under that key. Every process that runs the same model names an input the same way, and
 * a reader accepts a value only when every header field and the full input key match its own
 * request, so neither a hash collision nor a foreign or damaged value can become an answer.
 *
 * <pre>
 * Key (ASCII):  hotpath:1:&lt;model identity, 16 hex&gt;:&lt;precision&gt;:&lt;length&gt;:&lt;128-bit input hash, 32 hex&gt;
 *
 * Value (little-endian):
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     Magic 'H' 'P' 'L' '2'                      |  0
 *  +---------------+-----------------------------------------------+
 *  |   Version 1   |                 Reserved (0)                  |  4
 *  +---------------+-----------------------------------------------+
 *  |       Layout: model identity mixed with every output's         |  8
 *  |       name, dtype and shape (64 bits)                          |
 *  +---------------------------------------------------------------+
 *  |                  Request length (variable dim)                 | 16
 *  +---------------------------------------------------------------+
 *  |                Key length K (the L1 key: length + inputs)      | 20
 *  +---------------------------------------------------------------+
 *  |                Answer length A (output rows, bytes)            | 24
 *  +---------------------------------------------------------------+
 *  |                          Reserved (0)                          | 28
 *  +---------------------------------------------------------------+
 *  |                       Key bytes (K)  ...                       | 32
 *  +---------------------------------------------------------------+
 *  |                      Answer bytes (A)  ...                     | 32 + K
 *  +---------------------------------------------------------------+
 * </pre>
 */
final class SharedRecordDescriptor {
    static final int MAGIC = 'H' | 'P' << 8 | 'L' << 16 | '2' << 24;
    static final byte VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int LAYOUT_OFFSET = 8;
    static final int LENGTH_OFFSET = 16;
    static final int KEY_LENGTH_OFFSET = 20;
    static final int ANSWER_LENGTH_OFFSET = 24;
    static final int HEADER_LENGTH = 32;
    /** Redis's largest string is 512 MiB; an entry must fit with room to spare. */
    static final long MAX_RECORD_BYTES = 256L << 20;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private SharedRecordDescriptor() {
    }

    /** A value: the header, {@code keyLength} key bytes from {@code key}, {@code answerLength} answer bytes from {@code answer}. */
    static byte[] encode(long layout, int length, MemorySegment key, int keyLength, MemorySegment answer, int answerLength) {
        long total = (long) HEADER_LENGTH + keyLength + answerLength;
        if (total > MAX_RECORD_BYTES) {
            return null;
        }
        byte[] v = new byte[(int) total];
        MemorySegment s = MemorySegment.ofArray(v);
        s.set(INT, MAGIC_OFFSET, MAGIC);
        s.set(ValueLayout.JAVA_BYTE, VERSION_OFFSET, VERSION);
        s.set(LONG, LAYOUT_OFFSET, layout);
        s.set(INT, LENGTH_OFFSET, length);
        s.set(INT, KEY_LENGTH_OFFSET, keyLength);
        s.set(INT, ANSWER_LENGTH_OFFSET, answerLength);
        MemorySegment.copy(key, 0, s, HEADER_LENGTH, keyLength);
        MemorySegment.copy(answer, 0, s, HEADER_LENGTH + keyLength, answerLength);
        return v;
    }

    /**
     * Copies the answer of {@code value} into {@code out} when the value is well formed and belongs
     * to exactly this request (layout, length, key bytes, answer size); returns false otherwise,
     * leaving {@code out} untouched.
     */
    static boolean decode(java.nio.ByteBuffer value, long layout, int length, MemorySegment key, int keyLength, MemorySegment out, int answerLength) {
        if (value.remaining() != (long) HEADER_LENGTH + keyLength + answerLength) {
            return false;
        }
        MemorySegment s = MemorySegment.ofBuffer(value);
        if (s.get(INT, MAGIC_OFFSET) != MAGIC || s.get(ValueLayout.JAVA_BYTE, VERSION_OFFSET) != VERSION
                || s.get(LONG, LAYOUT_OFFSET) != layout || s.get(INT, LENGTH_OFFSET) != length
                || s.get(INT, KEY_LENGTH_OFFSET) != keyLength || s.get(INT, ANSWER_LENGTH_OFFSET) != answerLength) {
            return false;
        }
        if (MemorySegment.mismatch(s, HEADER_LENGTH, HEADER_LENGTH + keyLength, key, 0, keyLength) != -1) {
            return false;
        }
        MemorySegment.copy(s, HEADER_LENGTH + keyLength, out, 0, answerLength);
        return true;
    }

    /** The key prefix {@code hotpath:1:<model>:<precision>:} as ASCII. */
    static byte[] keyPrefix(long modelId, String precision) {
        String p = precision == null || precision.isEmpty() ? "-" : precision.replaceAll("[^A-Za-z0-9_.-]", "_");
        return ("hotpath:1:" + hex16(modelId) + ":" + p + ":").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** The full key: the prefix, the length in decimal, ':', the two hash halves in hex. */
    static byte[] key(byte[] prefix, int length, long h1, long h2) {
        int digits = Integer.toString(length).length();     // lengths are small; the key is allocated anyway
        byte[] k = new byte[prefix.length + digits + 1 + 32];
        System.arraycopy(prefix, 0, k, 0, prefix.length);
        int at = prefix.length;
        for (int i = digits - 1, n = length; i >= 0; i--, n /= 10) {
            k[at + i] = (byte) ('0' + n % 10);
        }
        at += digits;
        k[at++] = ':';
        at = putHex(k, at, h1);
        putHex(k, at, h2);
        return k;
    }

    private static int putHex(byte[] b, int at, long v) {
        for (int i = 15; i >= 0; i--) {
            b[at + i] = (byte) "0123456789abcdef".charAt((int) (v & 15));
            v >>>= 4;
        }
        return at + 16;
    }

    static String hex16(long v) {
        byte[] b = new byte[16];
        putHex(b, 0, v);
        return new String(b, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
