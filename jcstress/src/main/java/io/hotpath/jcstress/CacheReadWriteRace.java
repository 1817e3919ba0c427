package io.hotpath.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.hotpath.cache.PredictionCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A reader races a writer replacing the value of a key that is present: the reader sees the old
 * value or the new one, whole; never a mix of the two, and never a miss.
 */
@JCStressTest
@Outcome(id = "17, 17", expect = ACCEPTABLE, desc = "the old value, whole")
@Outcome(id = "34, 34", expect = ACCEPTABLE, desc = "the new value, whole")
@Outcome(expect = FORBIDDEN, desc = "a torn value, or a miss for a key that was present all along")
@State
public class CacheReadWriteRace {
    static final int VALUE = 512;

    final PredictionCache cache = PredictionCache.builder().budgetBytes(64 * 1024).segments(1).gcManaged(true).build();
    final MemorySegment key;
    final MemorySegment newValue;
    final MemorySegment out;

    public CacheReadWriteRace() {
        Arena arena = Arena.ofAuto();
        key = arena.allocate(32, 8).fill((byte) 5);
        MemorySegment oldValue = arena.allocate(VALUE, 8).fill((byte) 17);
        newValue = arena.allocate(VALUE, 8).fill((byte) 34);
        out = arena.allocate(VALUE, 8);
        cache.put(1, key, 0, 32, oldValue, 0, VALUE);
    }

    @Actor
    public void writer() {
        cache.put(1, key, 0, 32, newValue, 0, VALUE);
    }

    @Actor
    public void reader(II_Result r) {
        CacheProbe.read(cache, key, out, VALUE, r);
    }
}
