package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** close() racing run() on other threads, and sizes refused before anything is allocated. */
class EngineCloseAndSizeTest {
    @TempDir
    Path tmp;

    /**
     * Before the run/close guard this crashed the JVM inside ONNX Runtime (SIGSEGV, 4 of 4 tries):
     * close freed the session and the bound memory while a run was inside. Now every run either
     * completes or fails with the engine's closed error, and the process survives.
     */
    @Test
    void closeRacingRunsOnOtherThreadsNeverCrashesAndLaterRunsFailClearly() throws Exception {
        int rounds = 150;
        int completed = 0;
        int refused = 0;
        for (int round = 0; round < rounds; round++) {
            OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(4).build());
            List<Thread> runners = new ArrayList<>();
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger closedErrors = new AtomicInteger();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(2);
            for (int t = 0; t < 2; t++) {
                Batch b = e.newBatch();
                b.input(0).reshape(1 + t, 64);
                Thread th = new Thread(() -> {
                    started.countDown();
                    try {
                        while (true) {
                            e.run(b);
                            ok.incrementAndGet();
                        }
                    } catch (IllegalStateException closed) {
                        if (closed.getMessage().contains("is closed")) {
                            closedErrors.incrementAndGet();
                        } else {
                            unexpected.set(closed);    // e.g. touching freed batch memory: must not happen inside run
                        }
                    } catch (Throwable x) {
                        unexpected.set(x);
                    }
                });
                th.start();
                runners.add(th);
            }
            started.await();
            if (round % 3 != 0) {
                Thread.sleep(0, 1000 * (round % 200));
            }
            e.close();
            for (Thread th : runners) {
                th.join(10_000);
                assertTrue(!th.isAlive(), "a runner is stuck after close");
            }
            assertEquals(null, unexpected.get(), "only the closed error may end a run loop");
            assertEquals(2, closedErrors.get());
            completed += ok.get();
            refused += closedErrors.get();
        }
        System.out.println("close vs run: " + rounds + " rounds, " + completed + " runs completed, " + refused + " refused after close");
        assertTrue(completed > 0);
    }

    @Test
    void closeWaitsForARealRunInFlightThenFreesEverything() throws Exception {
        // MiniLM at batch 8 x 128 takes tens of milliseconds: close is sure to land inside a run
        for (int round = 0; round < 3; round++) {
            OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(), CpuEngineOptions.builder().maxBatchSize(8).defaultMaxDimension(128).build());
            Batch b = e.newBatch();
            b.input("input_ids").reshape(8, 128);
            b.input("attention_mask").reshape(8, 128);
            b.input("token_type_ids").reshape(8, 128);
            AtomicReference<Throwable> end = new AtomicReference<>();
            Thread th = runUntilItThrows(e, b, end);
            Thread.sleep(20);
            e.close();
            th.join(30_000);
            assertTrue(end.get() instanceof IllegalStateException, String.valueOf(end.get()));
            assertThrows(IllegalStateException.class, () -> b.input(0).getLong(0), "batch memory is freed once the run has left");
        }
    }

    @Test
    void aCloseThatTimesOutLeavesTheMemoryAllocatedInsteadOfFreeingItUnderARun() throws Exception {
        OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(), CpuEngineOptions.builder().maxBatchSize(8).defaultMaxDimension(128)
                .closeTimeout(java.time.Duration.ZERO).build());
        Batch b = e.newBatch();
        for (String in : List.of("input_ids", "attention_mask", "token_type_ids")) {
            b.input(in).reshape(8, 128);
        }
        AtomicReference<Throwable> end = new AtomicReference<>();
        Thread th = runUntilItThrows(e, b, end);
        Thread.sleep(30);
        e.close();          // zero timeout: almost surely a run is inside; nothing may be freed then
        th.join(30_000);
        assertTrue(end.get() instanceof IllegalStateException, String.valueOf(end.get()));
    }

    /** A thread that runs {@code e} on {@code b} until a run throws (kept in {@code end}); returned once it is running. */
    private static Thread runUntilItThrows(OrtCpuEngine e, Batch b, AtomicReference<Throwable> end) throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        Thread th = new Thread(() -> {
            try {
                running.countDown();
                while (true) {
                    e.run(b);
                }
            } catch (Throwable x) {
                end.set(x);
            }
        });
        th.start();
        running.await();
        return th;
    }

    @Test
    void aHugeFixedDimensionIsRefusedAtOpenNamingTheTensorAndTheCap() {
        Path m = new OnnxBuilder("huge", 13)
                .input("x", 1, 1, 2_000_000_000L)
                .output("y", 1, 1, 2_000_000_000L)
                .node("Relu", "x", "y")
                .write(tmp.resolve("huge.onnx"));
        HotpathException e = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(m));
        assertEquals(Category.INVALID_ARGUMENT, e.category());
        assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("maxTensorBytes=" + CpuEngineOptions.DEFAULT_MAX_TENSOR_BYTES),
                e.getMessage());
        // a product that overflows a long is the same clear error, never an ArithmeticException
        Path over = new OnnxBuilder("over", 13)
                .input("x", 1, 4_000_000_000L, 4_000_000_000L, 4_000_000_000L)
                .output("y", 1, 4_000_000_000L, 4_000_000_000L, 4_000_000_000L)
                .node("Relu", "x", "y")
                .write(tmp.resolve("over.onnx"));
        HotpathException o = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(over));
        assertEquals(Category.INVALID_ARGUMENT, o.category());
        // a capacity the user asked for is held to the batch cap too
        HotpathException b = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(Fixtures.minilm(),
                CpuEngineOptions.builder().maxBatchSize(4096).defaultMaxDimension(4096).build()));
        assertTrue(b.getMessage().contains("maxTensorBytes") || b.getMessage().contains("maxBatchBytes"), b.getMessage());
    }

    @Test
    void aRankAboveTheMaximumIsUnsupportedNamingTheTensor() {
        Object[] dims = new Object[40];
        java.util.Arrays.fill(dims, 1L);
        Path m = new OnnxBuilder("deep", 13).input("x", 1, dims).output("y", 1, dims).node("Relu", "x", "y").write(tmp.resolve("deep.onnx"));
        HotpathException e = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(m));
        assertEquals(Category.UNSUPPORTED, e.category());
        assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("rank 40"), e.getMessage());
    }
}
