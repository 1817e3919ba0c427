package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import net.openhft.hashing.LongHashFunction;
import org.junit.jupiter.api.Test;

/** The cache's XXH64 gives the reference implementation's value for every length and seed tried. */
class XxHash64Test {
    @Test
    void matchesTheReferenceImplementation() {
        SplittableRandom r = new SplittableRandom(1);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(1100, 8);
            byte[] bytes = new byte[1100];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) r.nextInt();
                s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, bytes[i]);
            }
            for (long seed : new long[] {0, 1, -7, 0x123456789ABCDEFL}) {
                LongHashFunction ref = LongHashFunction.xx(seed);
                for (int len = 0; len <= 300; len++) {
                    for (int off : new int[] {0, 3}) {
                        assertEquals(ref.hashBytes(bytes, off, len), XxHash64.hash(s, off, len, seed), "len " + len + " off " + off + " seed " + seed);
                    }
                }
                assertEquals(ref.hashBytes(bytes, 0, 1100), XxHash64.hash(s, 0, 1100, seed));
            }
        }
        assertEquals(0xEF46DB3751D8E999L, XxHash64.hash(MemorySegment.ofArray(new byte[0]), 0, 0, 0), "XXH64 of nothing");
    }
}
