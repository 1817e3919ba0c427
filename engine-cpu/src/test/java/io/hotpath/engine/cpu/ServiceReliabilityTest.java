package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The service under close races, throwing callbacks and build/close cycles, on the real mlp engine. */
class ServiceReliabilityTest {

    /**
     * Before: closing an engine under a running InferenceService crashed the JVM in ONNX Runtime.
     * Now callers get OK, or SHUTDOWN once the close began; nothing else, nobody hangs.
     */
    @Test
    void closingABusyServiceAnswersEveryCallerAndNeverCrashes() throws Exception {
        for (int round = 0; round < 40; round++) {
            OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(8).intraOpThreads(1).build());
            InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(50))
                    .cache(c -> c.budgetBytes(1 << 20)).build();
            int threads = 4;
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger shutdown = new AtomicInteger();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            List<Thread> callers = new ArrayList<>();
            Request spare = svc.newRequest();
            CountDownLatch started = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int seed = t;
                Request r = svc.newRequest();
                Thread th = new Thread(() -> {
                    started.countDown();
                    try {
                        for (int i = 0; ; i++) {
                            r.input("features").putFloat(0, seed * 1000 + (i % 50));     // some repeats: cache hits too
                            int s = svc.infer(r);
                            if (s == BatchStatus.OK) {
                                ok.incrementAndGet();
                            } else if (s == BatchStatus.SHUTDOWN) {
                                shutdown.incrementAndGet();
                                return;
                            } else {
                                unexpected.set(new AssertionError("status " + s + " error " + r.error()));
                                return;
                            }
                        }
                    } catch (IllegalStateException closedMemory) {
                        // the request's memory was freed by the close between two calls: the defined outcome of writing after close
                        if (!String.valueOf(closedMemory.getMessage()).contains("closed")) {
                            unexpected.set(closedMemory);
                        }
                    } catch (Throwable x) {
                        unexpected.set(x);
                    }
                });
                th.start();
                callers.add(th);
            }
            started.await();
            Thread.sleep(round % 5);
            svc.close();
            for (Thread th : callers) {
                th.join(20_000);
                assertFalse(th.isAlive(), "a caller is stuck after close");
            }
            assertEquals(null, unexpected.get());
            assertEquals(BatchStatus.SHUTDOWN, svc.infer(spare), "calls after close answer SHUTDOWN");
        }
    }

    /** Before: closing the engine under a running service crashed the JVM in ONNX Runtime. Now the batches after it fail cleanly. */
    @Test
    void closingTheEngineUnderABusyServiceFailsLaterBatchesCleanly() throws Exception {
        for (int round = 0; round < 20; round++) {
            OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(8).intraOpThreads(1).build());
            try (InferenceService svc = InferenceService.builder(engine).closeEngine(false)
                    .batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(20)).build()) {
                AtomicInteger ok = new AtomicInteger();
                AtomicInteger failedClosed = new AtomicInteger();
                AtomicReference<Throwable> unexpected = new AtomicReference<>();
                List<Thread> callers = new ArrayList<>();
                CountDownLatch started = new CountDownLatch(3);
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                for (int t = 0; t < 3; t++) {
                    Request r = svc.newRequest();
                    Thread th = new Thread(() -> {
                        started.countDown();
                        while (!stop.get()) {
                            int s = svc.infer(r);
                            if (s == BatchStatus.OK) {
                                ok.incrementAndGet();
                            } else if (s == BatchStatus.FAILED && r.error() instanceof IllegalStateException e && e.getMessage().contains("closed")) {
                                failedClosed.incrementAndGet();
                            } else {
                                unexpected.set(new AssertionError("status " + s + " error " + r.error()));
                                return;
                            }
                        }
                    });
                    th.start();
                    callers.add(th);
                }
                started.await();
                Thread.sleep(round % 4);
                engine.close();                    // under the service, while batches run
                long end = System.nanoTime() + 10_000_000_000L;
                while (failedClosed.get() == 0 && System.nanoTime() < end) {
                    Thread.sleep(1);
                }
                stop.set(true);
                for (Thread th : callers) {
                    th.join(20_000);
                    assertFalse(th.isAlive());
                }
                assertEquals(null, unexpected.get());
                assertTrue(failedClosed.get() > 0, "after the close, batches fail with the engine's closed error");
            }
        }
    }

    /** Before: a service over a model with tiny rows refused every cache budget up to 64 MiB (index sized from a 36-byte entry). */
    @Test
    void aModelWithTinyRowsGetsACacheAtEveryReasonableBudget(@org.junit.jupiter.api.io.TempDir Path tmp) {
        Path tiny = new io.hotpath.onnx.OnnxBuilder("tiny", 13)
                .input("x", 1, "batch", 2)
                .output("y", 1, "batch", 2)
                .node("Relu", "x", "y")
                .write(tmp.resolve("tiny.onnx"));
        for (long budget : new long[] {64 << 10, 1 << 20, 64 << 20}) {
            OrtCpuEngine engine = OrtCpuEngine.open(tiny, CpuEngineOptions.builder().maxBatchSize(4).build());
            try (InferenceService svc = InferenceService.builder(engine).cache(c -> c.budgetBytes(budget)).build()) {
                Request r = svc.newRequest();
                r.input("x").putFloat(0, 2f);
                assertEquals(BatchStatus.OK, svc.infer(r));
                assertFalse(r.fromCache());
                assertEquals(BatchStatus.OK, svc.infer(r));
                assertTrue(r.fromCache(), "budget " + budget + ": the repeat is a hit");
                assertEquals(2f, r.output("y").getFloat(0));
            }
        }
    }

    @Test
    void anErrorFromAnAsyncCallbackIsReportedAndTheServiceKeepsServing() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(4).build());
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxQueueDelayMicros(0).errorHandler(errors::add)).build()) {
            Request r = svc.newRequest();
            CountDownLatch called = new CountDownLatch(1);
            assertEquals(BatchStatus.PENDING, svc.inferAsync(r, (req, status) -> {
                called.countDown();
                throw new OutOfMemoryError("thrown by the application's callback");
            }));
            assertTrue(called.await(10, TimeUnit.SECONDS));
            assertEquals(BatchStatus.OK, svc.await(r));
            assertEquals(BatchStatus.OK, svc.infer(r), "the service still serves");
            assertEquals(1, errors.size());
            assertEquals(1, svc.metrics().errors());
            // a blocking infer inside a callback would wait for the batcher thread it runs on: refused
            AtomicReference<Throwable> refused = new AtomicReference<>();
            Request other = svc.newRequest();
            CountDownLatch done = new CountDownLatch(1);
            svc.inferAsync(r, (req, status) -> {
                try {
                    svc.infer(other);
                } catch (Throwable t) {
                    refused.set(t);
                }
                done.countDown();
            });
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertTrue(refused.get() instanceof IllegalStateException, String.valueOf(refused.get()));
        }
    }

    /**
     * Before: 100 build/close cycles grew RSS from 143 to 720 MiB: the rings (8 MiB a service)
     * waited for a garbage collection and the service's own arena was never closed. Now close
     * frees them itself. Measured without forcing a GC, as RSS less the committed Java heap (the
     * JVM may grow the heap for ordinary garbage). The C allocator keeps some freed memory for
     * reuse (glibc raises its mmap threshold after a large free, so later multi-MiB blocks come
     * from its heap and stay resident when freed; ONNX Runtime's sessions add to it): a plateau of
     * about 120 MiB on the 2-vCPU machines here, reached within a few hundred cycles. The stated
     * bound: at most 256 MiB above the warmed-up level over 1,000 cycles, and at most 32 MiB of
     * growth over the last 500 (where a leak of 64 KiB a cycle would show as 32 MiB), both for
     * services over one engine and for cycles that open and close the engine too.
     */
    @Test
    void buildCloseCyclesReturnTheirNativeMemory() throws Exception {
        OrtCpuEngine shared = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(8).build());
        Runnable service = () -> {
            try (InferenceService svc = InferenceService.builder(shared).closeEngine(false).cache(c -> c.budgetBytes(4 << 20)).build()) {
                Request r = svc.newRequest();
                assertEquals(BatchStatus.OK, svc.infer(r));
            }
        };
        long[] s = cycles(service, 1000);
        shared.close();
        System.out.println("services over one engine: RSS less committed heap, MiB above warm-up every 100 cycles:" + mib(s));
        assertTrue(max(s, 0) < 256L << 20 && s[9] - s[4] < 32L << 20, "services' memory grew past the bound:" + mib(s));

        Runnable engineAndService = () -> {
            OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(8).build());
            try (InferenceService svc = InferenceService.builder(engine).cache(c -> c.budgetBytes(4 << 20)).build()) {
                Request r = svc.newRequest();
                assertEquals(BatchStatus.OK, svc.infer(r));
            }
        };
        long[] e = cycles(engineAndService, 1000);
        System.out.println("engine + service: RSS less committed heap, MiB above warm-up every 100 cycles:" + mib(e));
        assertTrue(max(e, 0) < 256L << 20 && e[9] - e[4] < 32L << 20, "native memory grew past the bound:" + mib(e));
    }

    /** Runs {@code cycle} 50 times to warm up, then {@code n} times; the growth after every 100. */
    private static long[] cycles(Runnable cycle, int n) throws Exception {
        for (int i = 0; i < 50; i++) {
            cycle.run();
        }
        long baseline = nativeBytes();
        long[] grown = new long[n / 100];
        for (int i = 1; i <= n; i++) {
            cycle.run();
            if (i % 100 == 0) {
                grown[i / 100 - 1] = nativeBytes() - baseline;
            }
        }
        return grown;
    }

    private static long max(long[] v, int from) {
        long m = Long.MIN_VALUE;
        for (int i = from; i < v.length; i++) {
            m = Math.max(m, v[i]);
        }
        return m;
    }

    private static String mib(long[] v) {
        StringBuilder sb = new StringBuilder();
        for (long x : v) {
            sb.append(' ').append(x >> 20);
        }
        return sb.toString();
    }

    /** Resident memory less the committed Java heap: what native allocations (and the JVM's own) hold. */
    static long nativeBytes() throws Exception {
        return rssBytes() - java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }

    static long rssBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
