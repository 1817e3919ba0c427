package io.hotpath.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.hotpath.cache.PredictionCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A reader races a writer whose inserts evict the key being read (and overwrite its bytes in the
 * log with other entries): the reader gets the key's own value, whole, or a miss; never bytes of
 * the entries that took its place.
 */
@JCStressTest
@Outcome(id = "17, 17", expect = ACCEPTABLE, desc = "read before the eviction: the value, whole")
@Outcome(id = "-1, -1", expect = ACCEPTABLE, desc = "read after the eviction: a miss")
@Outcome(expect = FORBIDDEN, desc = "a torn value or another entry's bytes")
@State
public class CacheEvictReadRace {
    static final int VALUE = 256;
    static final int INSERTS = 300;

    final PredictionCache cache = PredictionCache.builder().budgetBytes(64 * 1024).segments(1).gcManaged(true).build();
    final MemorySegment key;
    final MemorySegment otherKey;
    final MemorySegment otherValue;
    final MemorySegment out;

    public CacheEvictReadRace() {
        Arena arena = Arena.ofAuto();
        key = arena.allocate(32, 8).fill((byte) 5);
        MemorySegment value = arena.allocate(VALUE, 8).fill((byte) 17);
        otherKey = arena.allocate(32, 8).fill((byte) 6);
        otherValue = arena.allocate(VALUE, 8).fill((byte) 99);
        out = arena.allocate(VALUE, 8);
        // fill the main FIFO first, so the key lands in the small FIFO, where the evictor's
        // inserts push it out (or, if the reader touched it, move it to main)
        MemorySegment filler = arena.allocate(32, 8).fill((byte) 7);
        for (int i = 0; i < INSERTS; i++) {
            filler.set(ValueLayout.JAVA_INT, 0, i);
            cache.put(2, filler, 0, 32, otherValue, 0, VALUE);
        }
        cache.put(1, key, 0, 32, value, 0, VALUE);
    }

    @Actor
    public void evictor() {
        for (int i = 0; i < INSERTS; i++) {
            otherKey.set(ValueLayout.JAVA_INT, 0, i);
            cache.put(1, otherKey, 0, 32, otherValue, 0, VALUE);
        }
    }

    @Actor
    public void reader(II_Result r) {
        CacheProbe.read(cache, key, out, VALUE, r);
    }
}
