package io.hotpath.batcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {
    private static final int WIDTH = 4;

    private static void write(BatchRequest r, long base) {
        for (int i = 0; i < WIDTH; i++) {
            r.input().setAtIndex(ValueLayout.JAVA_LONG, i, base + i);
        }
        r.inputLength(WIDTH * 8);
    }

    private static void assertDoubled(BatchRequest r, long base) {
        for (int i = 0; i < WIDTH; i++) {
            assertEquals((base + i) * 2, r.output().getAtIndex(ValueLayout.JAVA_LONG, i), "request " + r.id() + " element " + i);
        }
    }

    private static BatcherConfig.Builder config() {
        return BatcherConfig.builder().maxPayloadBytes(WIDTH * 8).maxOutputBytes(WIDTH * 8).queueCapacityBytes(1 << 16);
    }

    @Test
    void aBlockingInferGetsItsOwnRowBack() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).build(), p)) {
            BatchRequest r = b.newRequest();
            for (int i = 0; i < 100; i++) {
                write(r, i * 10L);
                assertEquals(BatchStatus.OK, b.infer(r));
                assertDoubled(r, i * 10L);
            }
            assertEquals(100, b.metrics().completed());
        }
    }

    @Test
    void concurrentRequestsAreBatchedUpToMaxBatchAndEachGetsItsOwnAnswer() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        p.runDelayNanos = 200_000;     // a slow engine lets a queue build up
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(8).maxQueueDelayMicros(2_000).build(), p)) {
            int threads = 16;
            CountDownLatch done = new CountDownLatch(threads);
            AtomicInteger wrong = new AtomicInteger();
            for (int t = 0; t < threads; t++) {
                long base = t * 1000L;
                Thread th = new Thread(() -> {
                    BatchRequest r = b.newRequest();
                    for (int i = 0; i < 20; i++) {
                        write(r, base + i);
                        if (b.infer(r) != BatchStatus.OK || r.output().getAtIndex(ValueLayout.JAVA_LONG, 0) != (base + i) * 2) {
                            wrong.incrementAndGet();
                        }
                    }
                    done.countDown();
                });
                th.start();
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            assertEquals(0, wrong.get());
            assertEquals(8, p.maxRowsSeen.get(), "batches fill up to maxBatchSize and no further");
            Histogram sizes = b.metrics().intervalBatchSize(null);
            assertTrue(sizes.getMean() > 2, "mean batch size " + sizes.getMean());
        }
    }

    @Test
    void maxQueueDelayHoldsALoneRequestForCompany() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(8).maxQueueDelayMicros(20_000).build(), p)) {
            BatchRequest r = b.newRequest();
            b.newRequest();     // another caller exists, so company may come
            write(r, 1);
            long t0 = System.nanoTime();
            assertEquals(BatchStatus.OK, b.infer(r));
            long waited = System.nanoTime() - t0;
            assertTrue(waited >= 20_000_000L, "a lone request waits maxQueueDelay for company; waited " + waited + " ns");
            assertTrue(r.completeNanos() - r.enqueueNanos() >= 20_000_000L);
        }
    }

    @Test
    void aBatchRunsAtOnceWhenEveryRequestHandleIsInIt() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(8).maxQueueDelayMicros(10_000_000).build(), p)) {
            BatchRequest r1 = b.newRequest();
            BatchRequest r2 = b.newRequest();
            write(r1, 1);
            write(r2, 2);
            CountDownLatch both = new CountDownLatch(2);
            b.inferAsync(r1, (r, s) -> both.countDown());
            b.inferAsync(r2, (r, s) -> both.countDown());
            assertTrue(both.await(5, TimeUnit.SECONDS), "no other handle exists, so no company can come: run now, not in 10 s");
            assertEquals(2, p.maxRowsSeen.get());
        }
    }

    @Test
    void aPreferredBatchSizeRunsWithoutWaitingForTheDelay() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(8).preferredBatchSizes(2).maxQueueDelayMicros(10_000_000).build(), p)) {
            BatchRequest r1 = b.newRequest();
            BatchRequest r2 = b.newRequest();
            b.newRequest();     // more callers exist: only the preferred size makes it run early
            write(r1, 1);
            write(r2, 2);
            CountDownLatch both = new CountDownLatch(2);
            assertEquals(BatchStatus.PENDING, b.inferAsync(r1, (r, s) -> both.countDown()));
            assertEquals(BatchStatus.PENDING, b.inferAsync(r2, (r, s) -> both.countDown()));
            assertTrue(both.await(5, TimeUnit.SECONDS), "two requests form the preferred size and run long before the 10 s delay");
            assertEquals(BatchStatus.OK, b.await(r1));
            assertDoubled(r2, 2);
        }
    }

    @Test
    void aFullQueueRejectsAtOnceWithACode() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 1);
        p.runDelayNanos = 50_000_000;     // the batcher is stuck in a slow batch
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).queueCapacityBytes(4096).build(), p)) {
            List<BatchRequest> rs = new ArrayList<>();
            int accepted = 0;
            int rejected = 0;
            for (int i = 0; i < 200; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                rs.add(r);
                int s = b.submit(r);
                if (s == BatchStatus.PENDING) {
                    accepted++;
                } else {
                    assertEquals(BatchStatus.REJECTED, s);
                    rejected++;
                }
            }
            assertTrue(rejected > 0 && accepted > 0, "accepted " + accepted + ", rejected " + rejected);
            assertEquals(rejected, b.metrics().rejected());
            b.close(BatcherConfig.CloseMode.FAIL_PENDING);
            for (BatchRequest r : rs) {
                assertTrue(r.status() != BatchStatus.PENDING, "nothing left hanging after close");
            }
        }
    }

    @Test
    void aBoundedWaitGetsInOnceRoomFrees() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 1);
        p.runDelayNanos = 1_000_000;
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).queueCapacityBytes(4096).build(), p)) {
            List<BatchRequest> rs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                rs.add(r);
                assertEquals(BatchStatus.PENDING, b.submit(r, null, TimeUnit.SECONDS.toNanos(30)), "request " + i);
            }
            for (int i = 0; i < rs.size(); i++) {
                assertEquals(BatchStatus.OK, b.await(rs.get(i)));
                assertDoubled(rs.get(i), i);
            }
        }
    }

    @Test
    void aPassedDeadlineAnswersTimeoutAndNeverRuns() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 5);
            r.deadlineNanos(System.nanoTime() - 1);
            assertEquals(BatchStatus.TIMEOUT, b.infer(r));
            assertEquals(0, p.runs.get(), "a timed-out request never runs");
            assertEquals(1, b.metrics().timedOut());
            r.deadlineNanos(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
            assertEquals(BatchStatus.OK, b.infer(r));
        }
    }

    @Test
    void aDeadlineThatPassesWhileWaitingForCompanyDropsOnlyThatRow() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(8).maxQueueDelayMicros(50_000).build(), p)) {
            BatchRequest late = b.newRequest();
            BatchRequest ok = b.newRequest();
            b.newRequest();     // a third caller exists, so the batch waits for company
            write(late, 1);
            write(ok, 2);
            late.deadlineNanos(System.nanoTime() + 5_000_000);      // 5 ms: passes during the 50 ms wait
            CountDownLatch done = new CountDownLatch(2);
            b.inferAsync(late, (r, s) -> done.countDown());
            b.inferAsync(ok, (r, s) -> done.countDown());
            assertTrue(done.await(5, TimeUnit.SECONDS));
            assertEquals(BatchStatus.TIMEOUT, b.await(late));
            assertEquals(BatchStatus.OK, b.await(ok));
            assertDoubled(ok, 2);
            assertEquals(1, p.maxRowsSeen.get(), "the timed-out row was removed from the batch");
        }
    }

    @Test
    void anEngineFailureFailsExactlyThatBatchAndTheBatcherKeepsServing() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 3);
            p.failNext = true;
            assertEquals(BatchStatus.FAILED, b.infer(r));
            assertTrue(r.error() instanceof IllegalStateException && r.error().getMessage().contains("injected"));
            assertEquals(BatchStatus.OK, b.infer(r));
            assertDoubled(r, 3);
            assertEquals(1, b.metrics().failedBatches());
        }
    }

    @Test
    void highPriorityIsServedFirst() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 1);
        // hold the batcher inside the first batch until both queues are filled (a gate, not a clock: a 20 ms hold
        // could pass while a loaded machine had the test thread descheduled)
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();
        p.beforeRun = () -> {
            if (held.compareAndSet(false, true)) {
                inFirst.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>());
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).build(), p)) {
            BatchRequest first = b.newRequest();
            write(first, 0);
            b.inferAsync(first, (r, s) -> order.add(-1));
            assertTrue(inFirst.await(10, TimeUnit.SECONDS), "the batcher is inside the first batch");
            List<BatchRequest> normal = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                int n = i;
                b.inferAsync(r, (x, s) -> order.add(n));
                normal.add(r);
            }
            BatchRequest urgent = b.newRequest().priority(BatchRequest.PRIORITY_HIGH);
            write(urgent, 99);
            b.inferAsync(urgent, (x, s) -> order.add(99));
            release.countDown();
            b.close();
            assertEquals(List.of(-1, 99, 0, 1, 2), order);
        }
    }

    @Test
    void closeDrainsByDefaultAndFailPendingAnswersShutdown() {
        for (BatcherConfig.CloseMode mode : BatcherConfig.CloseMode.values()) {
            DoublingProcessor p = new DoublingProcessor(WIDTH, 4);
            // the first batch runs until close has begun, so work is still queued when close comes (2 ms batches
            // let a stalled test thread find all 40 done)
            java.util.concurrent.atomic.AtomicReference<DynamicBatcher> ref = new java.util.concurrent.atomic.AtomicReference<>();
            p.beforeRun = () -> {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                DynamicBatcher self;
                while ((self = ref.get()) == null || self.isRunning()) {
                    if (System.nanoTime() - end > 0) {
                        break;
                    }
                    Thread.onSpinWait();
                }
            };
            DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(4).maxQueueDelayMicros(0).build(), p);
            ref.set(b);
            List<BatchRequest> rs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                assertEquals(BatchStatus.PENDING, b.submit(r));
                rs.add(r);
            }
            b.close(mode);
            int ok = 0;
            int shut = 0;
            for (BatchRequest r : rs) {
                if (r.status() == BatchStatus.OK) {
                    ok++;
                } else {
                    assertEquals(BatchStatus.SHUTDOWN, r.status(), mode + ": " + BatchStatus.name(r.status()));
                    shut++;
                }
            }
            if (mode == BatcherConfig.CloseMode.DRAIN) {
                assertEquals(40, ok, "drain runs everything accepted");
            } else {
                assertTrue(shut > 0, "fail-pending answers what had not run with SHUTDOWN");
            }
            BatchRequest after = b.newRequest();
            write(after, 1);
            assertEquals(BatchStatus.SHUTDOWN, b.submit(after), "closed batcher refuses with a code");
            b.close();      // idempotent
        }
    }

    @Test
    void misuseIsAClearError() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher a = new DynamicBatcher(config().maxQueueDelayMicros(1_000_000).build(), p);
             DynamicBatcher other = new DynamicBatcher(config().build(), p)) {
            BatchRequest r = a.newRequest();
            a.newRequest();     // another caller exists: r waits the full second for company
            write(r, 1);
            assertThrows(IllegalArgumentException.class, () -> other.submit(r));
            assertEquals(BatchStatus.PENDING, a.submit(r));
            assertThrows(IllegalStateException.class, () -> a.submit(r), "one inference at a time per handle");
            assertThrows(IllegalArgumentException.class, () -> r.inputLength(WIDTH * 8 + 1));
            assertThrows(IllegalArgumentException.class, () -> r.priority(5));
        }
        assertThrows(IllegalArgumentException.class, () -> BatcherConfig.builder().maxBatchSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> BatcherConfig.builder().maxBatchSize(4).preferredBatchSizes(8).build());
        assertThrows(IllegalArgumentException.class, () -> BatcherConfig.builder().queueCapacityBytes(5000).build());
        assertThrows(IllegalArgumentException.class, () -> BatcherConfig.builder().maxQueueDelayMicros(-1).build());
    }

    @Test
    void steadyStateSubmitAndInferAllocateNothing() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).callerIdle(IdleStrategyKind.BUSY_SPIN)
                .batcherIdle(IdleStrategyKind.BUSY_SPIN).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 1);
            Completion noop = (x, s) -> { };
            for (int i = 0; i < 20_000; i++) {
                b.infer(r);
                b.inferAsync(r, noop);
                b.await(r);
            }
            long batcherThreadId = -1;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("hotpath-batcher")) {
                    batcherThreadId = t.threadId();
                }
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            long batcherBefore = mx.getThreadAllocatedBytes(batcherThreadId);
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                b.infer(r);
                b.inferAsync(r, noop);
                b.await(r);
            }
            long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / (2L * n);
            long batcherPerCall = (mx.getThreadAllocatedBytes(batcherThreadId) - batcherBefore) / (2L * n);
            assertTrue(perCall <= 1, "caller bytes per request: " + perCall);
            assertTrue(batcherPerCall <= 1, "batcher-thread bytes per request: " + batcherPerCall);
        }
    }
}
