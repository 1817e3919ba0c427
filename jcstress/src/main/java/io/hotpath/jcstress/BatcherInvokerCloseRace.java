package io.hotpath.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import io.hotpath.batcher.BatchRequest;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.DynamicBatcher;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A batcher driven by the application's invoker (no thread of its own): one thread submits, one
 * invokes, one closes (DRAIN). close() finishes the work itself unless an invoke holds it, and the
 * two never both run it: the submission is refused, or accepted and answered OK by the time
 * close() has returned, and the batcher has finished either way.
 */
@JCStressTest
@Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "accepted before the close, drained (by the invoke or by close): answered OK")
@Outcome(id = "-4, 0, 1", expect = ACCEPTABLE, desc = "refused: the close came first; the handle was never used")
@Outcome(expect = FORBIDDEN, desc = "accepted but unanswered after close returned, answered although refused, or not finished")
@State
public class BatcherInvokerCloseRace {
    final DynamicBatcher batcher = new DynamicBatcher(BatcherConfig.builder().maxBatchSize(4).maxQueueDelayMicros(0).agentInvoker()
            .maxPayloadBytes(8).maxOutputBytes(8).queueCapacityBytes(4096).maxRequests(1).build(), new BatcherSubmitCloseRace.Echo());
    final BatchRequest request = batcher.newRequest().inputLength(8);

    @Actor
    public void producer(III_Result r) {
        r.r1 = batcher.submit(request);
    }

    @Actor
    public void application() {
        batcher.invoker().invoke();
        batcher.invoker().invoke();
    }

    @Actor
    public void closer() {
        batcher.close();
    }

    @Arbiter
    public void afterAll(III_Result r) {
        r.r2 = request.status();
        r.r3 = batcher.isTerminated() ? 1 : 0;
    }
}
