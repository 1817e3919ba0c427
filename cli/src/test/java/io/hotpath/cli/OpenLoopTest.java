package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.service.InferenceService;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OpenLoopTest {
    /** The real mlp engine, made to stall once for {@link #STALL_MS} on its {@code stallAt}-th run. */
    static final class StallingEngine extends DelegatingEngine {
        static final int STALL_MS = 400;
        final int stallAt;
        final AtomicInteger runs = new AtomicInteger();

        StallingEngine(OrtCpuEngine real, int stallAt) {
            super(real);
            this.stallAt = stallAt;
        }

        @Override
        public void run(Batch batch) {
            if (runs.incrementAndGet() == stallAt) {
                try {
                    Thread.sleep(STALL_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            real.run(batch);
        }

        @Override
        public String name() {
            return "stalling-" + real.name();
        }

        @Override
        public String describe() {
            return real.describe() + " (stalls once for " + STALL_MS + " ms)";
        }
    }

    @Test
    void aStallShowsInTheCorrectedTailAndHidesInTheUncorrectedOne() throws Exception {
        OrtCpuEngine mlp = OrtCpuEngine.open(ModelCatalog.resolve("mlp"), CpuEngineOptions.builder().maxBatchSize(8).intraOpThreads(1).build());
        StallingEngine engine = new StallingEngine(mlp, 1_500);
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(0)).build()) {
            // 2,000 requests/s for 2 s, one request in flight at a time: a naive client would have been blocked by the stall
            OpenLoop.Result r = OpenLoop.run(svc, 2_000, 500, 4_000, 1, 1, 30522, 7);
            double correctedP999 = r.corrected().getValueAtPercentile(99.9) / 1e6;
            double uncorrectedP999 = r.uncorrected().getValueAtPercentile(99.9) / 1e6;
            System.out.printf("open loop with one 400 ms stall: corrected p99 %.2f ms p99.9 %.2f ms max %.2f ms; uncorrected p99.9 %.2f ms max %.2f ms%n",
                    r.corrected().getValueAtPercentile(99) / 1e6, correctedP999, r.corrected().getMaxValue() / 1e6, uncorrectedP999,
                    r.uncorrected().getMaxValue() / 1e6);
            assertEquals(4_000, r.ok() + r.notOk());
            assertEquals(0, r.notOk());
            assertTrue(engine.runs.get() >= 1_500, "the stall happened");
            // thresholds at half the stall: far from both the stall and ordinary latencies, even on a loaded machine
            assertTrue(correctedP999 >= StallingEngine.STALL_MS / 2.0, "corrected p99.9 shows the stall: " + correctedP999 + " ms");
            assertTrue(uncorrectedP999 < StallingEngine.STALL_MS / 2.0, "uncorrected p99.9 hides it: " + uncorrectedP999 + " ms");
            assertTrue(r.uncorrected().getMaxValue() / 1e6 >= StallingEngine.STALL_MS * 0.9, "the one request caught in the stall is still its max");
        }
    }
}
