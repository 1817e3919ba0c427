package io.hotpath.cache;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * XXH3, 64-bit, with a seed (the algorithm of xxHash's published specification) over bytes in a
 * {@link MemorySegment}, read in place. Allocation-free. An instance holds the secret derived
 * from its seed; a cache picks a random seed so that clients cannot aim inputs at one probe chain.
 *
 * <p>Why XXH3 and not XXH64 for cache keys: XXH64 runs four lanes of dependent
 * multiply-rotate-multiply rounds, so a 256-byte key costs its latency chain (~64 cycles before
 * the merge); XXH3's long-input loop is eight independent 32x32-bit multiply-adds per 64-byte
 * stripe, which keeps the multiplier busy instead of waiting on it. Measured on the cache's hit
 * path with 256-byte keys in {@code CacheBenchmark} (README, "Off-heap prediction cache").
 *
 * <p>Inputs longer than 240 bytes run the stripe loop with the 8 accumulators held in locals and
 * the secret's words pre-read into constant arrays; shorter inputs take the specification's
 * size-class paths.
 */
final class Xxh3 {
    private static final long P32_1 = 0x9E3779B1L;
    private static final long P32_2 = 0x85EBCA77L;
    private static final long P32_3 = 0xC2B2AE3DL;
    private static final long P64_1 = 0x9E3779B185EBCA87L;
    private static final long P64_2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P64_3 = 0x165667B19E3779F9L;
    private static final long P64_4 = 0x85EBCA77C2B2AE63L;
    private static final long P64_5 = 0x27D4EB2F165667C5L;
    private static final long MX1 = 0x165667919E3779F9L;
    private static final long MX2 = 0x9FB21C651E98DF25L;
    private static final long LOW32 = 0xFFFFFFFFL;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The specification's 192-byte default secret. */
    private static final byte[] SECRET_BYTES = bytes(
            0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
            0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
            0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
            0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
            0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
            0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
            0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
            0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
            0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
            0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
            0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
            0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e);
    private static final MemorySegment SECRET = MemorySegment.ofArray(SECRET_BYTES);
    private static final int SECRET_SIZE = 192;
    private static final int STRIPE = 64;
    private static final int STRIPES_PER_BLOCK = (SECRET_SIZE - STRIPE) / 8;     // 16
    private static final int BLOCK = STRIPE * STRIPES_PER_BLOCK;                   // 1024

    /** Seed 0: the specification's default secret. */
    static final Xxh3 UNSEEDED = new Xxh3(0);

    private final long seed;
    /** Secret word at byte 8k: stripe n, lane i reads k[n + i]. */
    private final long[] k;
    /** Scramble keys: the secret's last stripe. */
    private final long[] scrambleKeys;
    /** Keys of the last stripe: 7 bytes before the secret's last stripe. */
    private final long[] lastKeys;
    /** Keys of the accumulator merge: from byte 11. */
    private final long[] mergeKeys;

    /** The long-input secret is the default one with the seed added to its first and subtracted from its second word of every 16 bytes. */
    Xxh3(long seed) {
        this.seed = seed;
        byte[] custom = SECRET_BYTES.clone();
        MemorySegment c = MemorySegment.ofArray(custom);
        for (int i = 0; i < SECRET_SIZE / 16; i++) {
            c.set(LONG, 16L * i, SECRET.get(LONG, 16L * i) + seed);
            c.set(LONG, 16L * i + 8, SECRET.get(LONG, 16L * i + 8) - seed);
        }
        k = words(c, 0, 24);
        scrambleKeys = words(c, SECRET_SIZE - STRIPE, 8);
        lastKeys = words(c, SECRET_SIZE - STRIPE - 7, 8);
        mergeKeys = words(c, 11, 8);
    }

    /** XXH3 with seed 0. */
    static long hash(MemorySegment s, long offset, long length) {
        return UNSEEDED.hashOf(s, offset, length);
    }

    long hashOf(MemorySegment s, long offset, long length) {
        if (length <= 16) {
            return hashUpTo16(s, offset, length);
        }
        if (length <= 128) {
            return hash17To128(s, offset, length);
        }
        if (length <= 240) {
            return hash129To240(s, offset, length);
        }
        return hashLong(s, offset, length);
    }

    private long hashUpTo16(MemorySegment s, long p, long len) {
        if (len > 8) {
            long lo = s.get(LONG, p) ^ ((secret(24) ^ secret(32)) + seed);
            long hi = s.get(LONG, p + len - 8) ^ ((secret(40) ^ secret(48)) - seed);
            long acc = len + Long.reverseBytes(lo) + hi + fold(lo, hi);
            return avalanche(acc);
        }
        if (len >= 4) {
            long sd = seed ^ ((Integer.reverseBytes((int) seed) & LOW32) << 32);
            long in1 = s.get(INT, p) & LOW32;
            long in2 = s.get(INT, p + len - 4) & LOW32;
            long keyed = (in2 + (in1 << 32)) ^ ((secret(8) ^ secret(16)) - sd);
            return rrmxmx(keyed, len);
        }
        if (len > 0) {
            long c1 = s.get(ValueLayout.JAVA_BYTE, p) & 0xFF;
            long c2 = s.get(ValueLayout.JAVA_BYTE, p + (len >> 1)) & 0xFF;
            long c3 = s.get(ValueLayout.JAVA_BYTE, p + len - 1) & 0xFF;
            long combined = (c1 << 16) | (c2 << 24) | c3 | (len << 8);
            long flip = ((SECRET.get(INT, 0) & LOW32) ^ (SECRET.get(INT, 4) & LOW32)) + seed;
            return xxh64Avalanche(combined ^ flip);
        }
        return xxh64Avalanche(seed ^ (secret(56) ^ secret(64)));
    }

    private long hash17To128(MemorySegment s, long p, long len) {
        long acc = len * P64_1;
        if (len > 32) {
            if (len > 64) {
                if (len > 96) {
                    acc += mix16(s, p + 48, 96);
                    acc += mix16(s, p + len - 64, 112);
                }
                acc += mix16(s, p + 32, 64);
                acc += mix16(s, p + len - 48, 80);
            }
            acc += mix16(s, p + 16, 32);
            acc += mix16(s, p + len - 32, 48);
        }
        acc += mix16(s, p, 0);
        acc += mix16(s, p + len - 16, 16);
        return avalanche(acc);
    }

    private long hash129To240(MemorySegment s, long p, long len) {
        long acc = len * P64_1;
        int rounds = (int) (len / 16);
        for (int i = 0; i < 8; i++) {
            acc += mix16(s, p + 16L * i, 16 * i);
        }
        acc = avalanche(acc);
        for (int i = 8; i < rounds; i++) {
            acc += mix16(s, p + 16L * i, 16 * (i - 8) + 3);
        }
        acc += mix16(s, p + len - 16, 136 - 17);
        return avalanche(acc);
    }

    private long hashLong(MemorySegment s, long p, long len) {
        long a0 = P32_3;
        long a1 = P64_1;
        long a2 = P64_2;
        long a3 = P64_3;
        long a4 = P64_4;
        long a5 = P32_2;
        long a6 = P64_5;
        long a7 = P32_1;
        // every full stripe (a scramble after each 1 KiB block), then the stripe ending at the input's end with its own keys
        long blocks = (len - 1) / BLOCK;
        long inBlocks = blocks * STRIPES_PER_BLOCK;
        long stripes = inBlocks + ((len - 1) - BLOCK * blocks) / STRIPE;
        for (long n = 0; n <= stripes; n++) {
            boolean last = n == stripes;
            long q = last ? p + len - STRIPE : p + n * STRIPE;
            long[] keys = last ? lastKeys : k;
            int ki = last ? 0 : (int) (n & (STRIPES_PER_BLOCK - 1));
            long d0 = s.get(LONG, q);
            long d1 = s.get(LONG, q + 8);
            long d2 = s.get(LONG, q + 16);
            long d3 = s.get(LONG, q + 24);
            long d4 = s.get(LONG, q + 32);
            long d5 = s.get(LONG, q + 40);
            long d6 = s.get(LONG, q + 48);
            long d7 = s.get(LONG, q + 56);
            long k0 = d0 ^ keys[ki];
            long k1 = d1 ^ keys[ki + 1];
            long k2 = d2 ^ keys[ki + 2];
            long k3 = d3 ^ keys[ki + 3];
            long k4 = d4 ^ keys[ki + 4];
            long k5 = d5 ^ keys[ki + 5];
            long k6 = d6 ^ keys[ki + 6];
            long k7 = d7 ^ keys[ki + 7];
            a0 += d1 + (k0 & LOW32) * (k0 >>> 32);
            a1 += d0 + (k1 & LOW32) * (k1 >>> 32);
            a2 += d3 + (k2 & LOW32) * (k2 >>> 32);
            a3 += d2 + (k3 & LOW32) * (k3 >>> 32);
            a4 += d5 + (k4 & LOW32) * (k4 >>> 32);
            a5 += d4 + (k5 & LOW32) * (k5 >>> 32);
            a6 += d7 + (k6 & LOW32) * (k6 >>> 32);
            a7 += d6 + (k7 & LOW32) * (k7 >>> 32);
            if (ki == STRIPES_PER_BLOCK - 1 && n < inBlocks) {
                a0 = scramble(a0, scrambleKeys[0]);
                a1 = scramble(a1, scrambleKeys[1]);
                a2 = scramble(a2, scrambleKeys[2]);
                a3 = scramble(a3, scrambleKeys[3]);
                a4 = scramble(a4, scrambleKeys[4]);
                a5 = scramble(a5, scrambleKeys[5]);
                a6 = scramble(a6, scrambleKeys[6]);
                a7 = scramble(a7, scrambleKeys[7]);
            }
        }

        long r = len * P64_1;
        r += fold(a0 ^ mergeKeys[0], a1 ^ mergeKeys[1]);
        r += fold(a2 ^ mergeKeys[2], a3 ^ mergeKeys[3]);
        r += fold(a4 ^ mergeKeys[4], a5 ^ mergeKeys[5]);
        r += fold(a6 ^ mergeKeys[6], a7 ^ mergeKeys[7]);
        return avalanche(r);
    }

    private static long scramble(long acc, long key) {
        acc ^= acc >>> 47;
        acc ^= key;
        return acc * P32_1;
    }

    private long mix16(MemorySegment s, long p, int secretOffset) {
        return fold(s.get(LONG, p) ^ (secret(secretOffset) + seed), s.get(LONG, p + 8) ^ (secret(secretOffset + 8) - seed));
    }

    /** The 128-bit product of a and b, its halves xor-ed. */
    private static long fold(long a, long b) {
        return (a * b) ^ Math.unsignedMultiplyHigh(a, b);
    }

    static long avalanche(long h) {
        h ^= h >>> 37;
        h *= MX1;
        return h ^ (h >>> 32);
    }

    private static long rrmxmx(long h, long len) {
        h ^= Long.rotateLeft(h, 49) ^ Long.rotateLeft(h, 24);
        h *= MX2;
        h ^= (h >>> 35) + len;
        h *= MX2;
        return h ^ (h >>> 28);
    }

    private static long xxh64Avalanche(long h) {
        h ^= h >>> 33;
        h *= P64_2;
        h ^= h >>> 29;
        h *= P64_3;
        return h ^ (h >>> 32);
    }

    private static long secret(int offset) {
        return SECRET.get(LONG, offset);
    }

    private static long[] words(MemorySegment secret, int from, int n) {
        long[] w = new long[n];
        for (int i = 0; i < n; i++) {
            w[i] = secret.get(LONG, from + 8L * i);
        }
        return w;
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }
}
