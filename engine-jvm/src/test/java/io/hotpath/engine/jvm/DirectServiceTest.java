package io.hotpath.engine.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** InferenceService in direct mode: each caller's request runs the engine on the caller's thread. */
class DirectServiceTest {
    static float[] row(int seed) {
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) {
            x[i] = ((i * 31 + seed * 17) % 100) / 100f - 0.5f;
        }
        return x;
    }

    static float reference(Path model, float[] x) {
        try (OrtCpuEngine e = OrtCpuEngine.open(model)) {
            Batch b = e.newBatch();
            b.input("features").reshape(1, 64);
            for (int i = 0; i < 64; i++) {
                b.input("features").putFloat(i, x[i]);
            }
            e.run(b);
            return b.output("score").getFloat(0);
        }
    }

    static int infer(InferenceService svc, Request r, float[] x) {
        for (int i = 0; i < 64; i++) {
            r.input("features").putFloat(i, x[i]);
        }
        return svc.infer(r);
    }

    /** Four callers at once on the JVM engine (concurrent runs) and on ONNX Runtime (callers take turns): every answer right. */
    @Test
    void manyCallersEachOnTheirOwnThread() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        float[][] rows = new float[8][];
        float[] want = new float[8];
        for (int i = 0; i < 8; i++) {
            rows[i] = row(i);
            want[i] = reference(mlp, rows[i]);
        }
        for (Engine engine : List.<Engine>of(JvmEngine.open(mlp), OrtCpuEngine.open(mlp))) {
            try (InferenceService svc = InferenceService.builder(engine).direct().build()) {
                AtomicInteger wrong = new AtomicInteger();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int id = t;
                    Thread th = new Thread(() -> {
                        Request r = svc.newRequest();
                        for (int n = 0; n < 2_000; n++) {
                            int k = (n + id) % 8;
                            if (infer(svc, r, rows[k]) != BatchStatus.OK || Math.abs(r.output("score").getFloat(0) - want[k]) > 1e-5) {
                                wrong.incrementAndGet();
                            }
                        }
                    });
                    threads.add(th);
                    th.start();
                }
                for (Thread th : threads) {
                    th.join();
                }
                assertEquals(0, wrong.get(), engine.name());
                assertEquals(0, svc.metrics().batches(), "no batcher ran");
            }
        }
    }

    @Test
    void theCacheAnswersRepeatsAndAFailureIsAStatusNotAnException() {
        Path mlp = ModelCatalog.resolve("mlp");
        JvmEngine engine = JvmEngine.open(mlp);
        try (InferenceService svc = InferenceService.builder(engine).direct().closeEngine(false).cache(c -> c.budgetBytes(1L << 20)).build()) {
            Request r = svc.newRequest();
            assertEquals(BatchStatus.OK, infer(svc, r, row(1)));
            assertFalse(r.fromCache());
            float first = r.output("score").getFloat(0);
            assertEquals(BatchStatus.OK, infer(svc, r, row(1)));
            assertTrue(r.fromCache());
            assertEquals(first, r.output("score").getFloat(0));
            engine.close();                                  // closed under the service: the next miss fails
            assertEquals(BatchStatus.FAILED, infer(svc, r, row(2)));
            assertNotNull(r.error());
            assertTrue(r.error().getMessage().contains("closed"), r.error().getMessage());
            assertEquals(BatchStatus.OK, infer(svc, r, row(1)), "the cache still answers");
        }
    }

    @Test
    void aDirectCallAllocatesNothing() {
        Path mlp = ModelCatalog.resolve("mlp");
        try (InferenceService svc = InferenceService.builder(JvmEngine.open(mlp)).direct().build()) {
            Request r = svc.newRequest();
            float[] x = row(3);
            for (int i = 0; i < 64; i++) {
                r.input("features").putFloat(i, x[i]);
            }
            // blocks of 100,000 calls until the JIT has compiled the path (at most 40 blocks); one 16-byte object per call would be 1.6 MB
            long bytes = SteadyState.bytesPerBlock(() -> svc.infer(r), 100_000, 10_000, 40);
            assertTrue(bytes < 10_000, "heap bytes over 100,000 direct calls: " + bytes);
            // an asynchronous call answers on this thread through its callback (inside the callback's JFR event check): nothing either
            long[] answered = new long[1];
            io.hotpath.service.RequestCallback cb = (req, status) -> answered[0]++;
            long async = SteadyState.bytesPerBlock(() -> svc.inferAsync(r, cb), 100_000, 10_000, 40);
            assertTrue(async < 10_000, "heap bytes over 100,000 asynchronous direct calls: " + async);
            assertTrue(answered[0] >= 100_000);
        }
    }
}
