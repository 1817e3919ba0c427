package io.hotpath.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.hotpath.batcher.BatchProcessor;
import io.hotpath.batcher.BatchRequest;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.DynamicBatcher;
import java.lang.foreign.MemorySegment;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A producer submits while another thread closes the batcher (DRAIN). The submission is either
 * refused (SHUTDOWN) or accepted and, by the time close() has returned, answered OK: an accepted
 * request is never left pending, and none is answered without having been accepted.
 */
@JCStressTest
@Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "accepted before the close, drained: answered OK")
@Outcome(id = "-4, 0", expect = ACCEPTABLE, desc = "refused: the close came first; the handle was never used")
@Outcome(expect = FORBIDDEN, desc = "accepted but still pending after close returned, or answered although refused")
@State
public class BatcherSubmitCloseRace {
    /** Copies each 8-byte row through: a real, trivial batch computation. */
    static final class Echo implements BatchProcessor {
        final MemorySegment rows = MemorySegment.ofArray(new long[4]);

        @Override
        public void stage(int bucket, int row, MemorySegment src, long offset, int length, int lengthKey) {
            MemorySegment.copy(src, offset, rows, row * 8L, 8);
        }

        @Override
        public void moveRow(int bucket, int from, int to) {
            MemorySegment.copy(rows, from * 8L, rows, to * 8L, 8);
        }

        @Override
        public void run(int bucket, int n) {
        }

        @Override
        public void output(int bucket, int row, BatchRequest request) {
            MemorySegment.copy(rows, row * 8L, request.output(), 0, 8);
        }
    }

    final DynamicBatcher batcher = new DynamicBatcher(BatcherConfig.builder().maxBatchSize(4).maxQueueDelayMicros(0)
            .maxPayloadBytes(8).maxOutputBytes(8).queueCapacityBytes(4096).maxRequests(1).build(), new Echo());
    final BatchRequest request = batcher.newRequest().inputLength(8);

    @Actor
    public void producer(II_Result r) {
        r.r1 = batcher.submit(request);
    }

    @Actor
    public void closer() {
        batcher.close();
    }

    @Arbiter
    public void afterBoth(II_Result r) {
        r.r2 = request.status();
    }
}
