package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rank-0 (scalar) inputs: a sample rate, a threshold, a temperature. Before: a raw ArrayIndexOutOfBoundsException. */
class ScalarTensorTest {
    @TempDir
    Path tmp;

    /** y = x * s, x float [batch, 4], s a float scalar. */
    static Path scaled(Path dir) {
        return new OnnxBuilder("scaled", 13)
                .input("x", 1, "batch", 4)
                .input("s", 1)
                .output("y", 1, "batch", 4)
                .node("Mul", "x,s", "y")
                .write(dir.resolve("scaled.onnx"));
    }

    @Test
    void aScalarInputIsFedAndUsed() {
        try (OrtCpuEngine e = OrtCpuEngine.open(scaled(tmp), CpuEngineOptions.builder().maxBatchSize(2).build())) {
            assertEquals(0, e.inputs().get(1).shape().rank());
            assertEquals(1, e.maxBatchSize(), "an input without a batch dimension: the engine runs one row at a time");
            Batch b = e.newBatch();
            b.input("x").reshape(1, 4);
            for (int i = 0; i < 4; i++) {
                b.input("x").putFloat(i, i + 1);
            }
            b.input("s").putFloat(0, 2.5f);
            e.run(b);
            for (int i = 0; i < 4; i++) {
                assertEquals((i + 1) * 2.5f, b.output("y").getFloat(i));
            }
        }
    }

    @Test
    void theServiceRunsBatchesOfOneWithEachRequestsOwnScalar() throws Exception {
        OrtCpuEngine e = OrtCpuEngine.open(scaled(tmp));
        try (InferenceService svc = InferenceService.builder(e).build()) {
            Thread[] threads = new Thread[3];
            int[] wrong = new int[1];
            for (int t = 0; t < threads.length; t++) {
                float scale = t + 0.5f;
                threads[t] = new Thread(() -> {
                    Request r = svc.newRequest();
                    for (int n = 0; n < 200; n++) {
                        for (int i = 0; i < 4; i++) {
                            r.input("x").putFloat(i, n + i);
                        }
                        r.input("s").putFloat(0, scale);
                        if (svc.infer(r) != BatchStatus.OK || r.output("y").getFloat(3) != (n + 3) * scale) {
                            synchronized (wrong) {
                                wrong[0]++;
                            }
                        }
                    }
                });
                threads[t].start();
            }
            for (Thread th : threads) {
                th.join();
            }
            assertEquals(0, wrong[0], "each request's answer uses its own scalar");
            assertEquals(1, svc.metrics().intervalBatchSize(null).getMaxValue(), "batches of one");
        }
    }
}
