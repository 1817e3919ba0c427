package io.hotpath.jcstress;

import io.hotpath.cache.PredictionCache;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.openjdk.jcstress.infra.results.II_Result;

/** The reader side of the cache races: a value's first and last byte, or (-1, -1) for a miss. */
final class CacheProbe {
    private CacheProbe() {
    }

    static void read(PredictionCache cache, MemorySegment key, MemorySegment out, int valueLength, II_Result r) {
        if (cache.get(1, key, 0, (int) key.byteSize(), out, 0, valueLength) == valueLength) {
            r.r1 = out.get(ValueLayout.JAVA_BYTE, 0);
            r.r2 = out.get(ValueLayout.JAVA_BYTE, valueLength - 1);
        } else {
            r.r1 = -1;
            r.r2 = -1;
        }
    }
}
