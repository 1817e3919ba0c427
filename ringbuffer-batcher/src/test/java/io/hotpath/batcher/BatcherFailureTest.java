package io.hotpath.batcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** What callers, callbacks and processors throw, interrupts, deadlines and stuck engines: each has a defined outcome. */
class BatcherFailureTest {
    private static final int WIDTH = 4;

    private static void write(BatchRequest r, long base) {
        for (int i = 0; i < WIDTH; i++) {
            r.input().setAtIndex(ValueLayout.JAVA_LONG, i, base + i);
        }
        r.inputLength(WIDTH * 8);
    }

    /** Every run of {@code p} signals {@code inRun}, then blocks until {@code release} opens: an engine stuck in a run. */
    private static void stuckUntil(DoublingProcessor p, CountDownLatch inRun, CountDownLatch release) {
        p.beforeRun = () -> {
            inRun.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    /** Waits (at most 5 s) for the batcher thread to end, and checks that it did. */
    private static void awaitTermination(DynamicBatcher b) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!b.isTerminated() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(b.isTerminated());
    }

    private static BatcherConfig.Builder config(List<Throwable> errors) {
        return BatcherConfig.builder().maxPayloadBytes(WIDTH * 8).maxOutputBytes(WIDTH * 8).queueCapacityBytes(1 << 16)
                .errorHandler(errors::add);
    }

    /**
     * Before: a library that set the interrupt flag on the batcher's thread (a test harness's output
     * channel did, inside an error log) stopped Agrona's runner, and the live batcher answered every
     * later request SHUTDOWN. Now the flag is cleared, reported once, and the batcher keeps serving.
     */
    @Test
    void anInterruptOfTheBatcherThreadIsReportedOnceAndDoesNotStopIt() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        p.beforeRun = () -> Thread.currentThread().interrupt();     // every run: what such a library does
        try (DynamicBatcher b = new DynamicBatcher(config(errors).maxBatchSize(8).maxQueueDelayMicros(0).build(), p)) {
            BatchRequest r = b.newRequest();
            for (int i = 0; i < 200; i++) {
                write(r, i);
                assertEquals(BatchStatus.OK, b.infer(r), "request " + i);
            }
            assertTrue(b.isRunning());
            assertEquals(1, errors.stream().filter(e -> e.getMessage() != null && e.getMessage().contains("its thread was interrupted")).count(),
                    "reported once: " + errors);
        }
    }

    /** Before: an Error from a callback killed the only batcher thread; the batch's other requests and every later infer hung. */
    @Test
    void anErrorThrownByACallbackIsReportedAndTheBatcherKeepsServing() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        p.runDelayNanos = 2_000_000;
        try (DynamicBatcher b = new DynamicBatcher(config(errors).maxBatchSize(8).maxQueueDelayMicros(5_000).build(), p)) {
            CountDownLatch answered = new CountDownLatch(4);
            AtomicInteger oks = new AtomicInteger();
            for (int i = 0; i < 4; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                int n = i;
                assertEquals(BatchStatus.PENDING, b.inferAsync(r, (req, status) -> {
                    if (status == BatchStatus.OK) {
                        oks.incrementAndGet();
                    }
                    answered.countDown();
                    if (n == 1) {
                        throw new AssertionError("a callback's Error");
                    }
                }));
            }
            assertTrue(answered.await(10, TimeUnit.SECONDS), "every request of the batch is answered");
            assertEquals(4, oks.get());
            BatchRequest later = b.newRequest();
            write(later, 100);
            assertEquals(BatchStatus.OK, b.infer(later), "the batcher still serves after the Error");
            assertEquals(1, errors.size());
            assertTrue(errors.get(0) instanceof AssertionError);
            assertEquals(1, b.metrics().errors());
        }
    }

    @Test
    void anErrorFromStageOrAnOutOfRangeBucketFailsThatRequestOnly() {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config(errors).maxQueueDelayMicros(0).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 1);
            p.stageError = new OutOfMemoryError("injected in stage");
            assertEquals(BatchStatus.FAILED, b.infer(r));
            assertTrue(r.error() instanceof OutOfMemoryError);
            p.badBucket = 7;
            assertEquals(BatchStatus.FAILED, b.infer(r));
            assertTrue(r.error().getMessage().contains("bucketOf"), r.error().getMessage());
            assertEquals(BatchStatus.OK, b.infer(r));
            assertEquals(2, errors.size());
        }
    }

    /** A row that cannot be moved (to close the gap a timed-out request left) fails alone; the rest of the batch runs. */
    @Test
    void aFailedRowMoveFailsThatRequestOnly() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        // a 500 ms deadline inside a 1 s queue delay: the record is staged long before its deadline, and the
        // deadline passes long before the batch runs (20 ms inside 300 ms let a slow intake find it expired already)
        try (DynamicBatcher b = new DynamicBatcher(config(errors).maxBatchSize(4).maxQueueDelayMicros(1_000_000).build(), p)) {
            BatchRequest[] r = new BatchRequest[3];
            for (int i = 0; i < r.length; i++) {
                r[i] = b.newRequest();
                write(r[i], 10L * i);
            }
            b.newRequest();      // a fourth handle that never submits: the batch waits for its delay, not for "everyone is in"
            p.moveError = new StackOverflowError("injected in moveRow");
            r[0].deadlineNanos(System.nanoTime() + 500_000_000L);   // expires while the batch waits: rows 1 and 2 move up
            for (BatchRequest q : r) {
                assertEquals(BatchStatus.PENDING, b.submit(q));
            }
            assertEquals(BatchStatus.TIMEOUT, b.await(r[0]));
            assertEquals(BatchStatus.FAILED, b.await(r[1]), "its move failed");
            assertTrue(r[1].error() instanceof StackOverflowError);
            assertEquals(BatchStatus.OK, b.await(r[2]), "moved into the first row and answered");
            assertEquals(40L, r[2].output().getAtIndex(ValueLayout.JAVA_LONG, 0));
            assertEquals(1, errors.size());
        }
    }

    /** If the thread dies anyway (its error handler throws), the batcher turns closed and answers everything pending. */
    @Test
    void whenTheBatcherThreadDiesEverythingPendingIsAnsweredAndLaterCallsAreRefused() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        CountDownLatch inRun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        stuckUntil(p, inRun, release);
        BatcherConfig cfg = BatcherConfig.builder().maxPayloadBytes(WIDTH * 8).maxOutputBytes(WIDTH * 8).queueCapacityBytes(1 << 16)
                .maxBatchSize(1).maxQueueDelayMicros(0)
                .errorHandler(t -> {
                    throw new IllegalStateException("error handler gives up");
                }).build();
        DynamicBatcher b = new DynamicBatcher(cfg, p);
        AtomicInteger answers = new AtomicInteger();
        BatchRequest first = b.newRequest();
        write(first, 1);
        assertEquals(BatchStatus.PENDING, b.inferAsync(first, (req, s) -> {
            answers.incrementAndGet();
            throw new StackOverflowError("callback");      // the handler throws on this: the thread dies
        }));
        assertTrue(inRun.await(5, TimeUnit.SECONDS));
        BatchRequest[] queued = new BatchRequest[5];
        for (int i = 0; i < queued.length; i++) {
            queued[i] = b.newRequest();
            write(queued[i], 10 + i);
            assertEquals(BatchStatus.PENDING, b.inferAsync(queued[i], (req, s) -> answers.incrementAndGet()));
        }
        release.countDown();
        for (BatchRequest q : queued) {
            int s = b.await(q);
            assertTrue(s == BatchStatus.SHUTDOWN || s == BatchStatus.FAILED || s == BatchStatus.OK, "status " + s);
        }
        awaitTermination(b);
        assertFalse(b.isRunning());
        assertEquals(1 + queued.length, answers.get(), "every accepted request answered exactly once");
        BatchRequest after = b.newRequest();
        assertEquals(BatchStatus.SHUTDOWN, b.infer(after), "no hang after the thread died");
        b.close();
    }

    @Test
    void aBlockingInferFromACallbackIsRefusedInsteadOfDeadlocking() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config(errors).maxQueueDelayMicros(0).build(), p)) {
            BatchRequest other = b.newRequest();
            write(other, 5);
            AtomicReference<Throwable> seen = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            BatchRequest r = b.newRequest();
            write(r, 1);
            b.inferAsync(r, (req, s) -> {
                try {
                    b.infer(other);
                } catch (Throwable t) {
                    seen.set(t);
                }
                done.countDown();
            });
            assertTrue(done.await(5, TimeUnit.SECONDS));
            assertTrue(seen.get() instanceof IllegalStateException && seen.get().getMessage().contains("inferAsync"), String.valueOf(seen.get()));
            assertEquals(BatchStatus.OK, b.infer(other));
        }
    }

    /** Before: an interrupted caller spun at full CPU until its answer came (parkNanos returns at once while interrupted). */
    @Test
    void anInterruptedCallerWaitsParkedAndKeepsItsInterruptStatus() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        p.beforeRun = () -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (DynamicBatcher b = new DynamicBatcher(config(new CopyOnWriteArrayList<>()).maxQueueDelayMicros(0).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 3);
            var threads = ManagementFactory.getThreadMXBean();
            Thread.currentThread().interrupt();
            long cpu0 = threads.getCurrentThreadCpuTime();
            long wall0 = System.nanoTime();
            assertEquals(BatchStatus.OK, b.infer(r));
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            long wall = System.nanoTime() - wall0;
            assertTrue(Thread.interrupted(), "the interrupt status is kept (and cleared here)");
            // spinning would burn about as much CPU as the wait lasted; parking burns a small part of it
            assertTrue(cpu < wall / 2, "the waiting caller used " + cpu / 1000 + " us of CPU in " + wall / 1000 + " us");
        }
    }

    @Test
    void aBoundedWaitReturnsPendingWhileALongEngineRunGoesOnAndTheRequestNeverRunsLate() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        CountDownLatch inRun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        stuckUntil(p, inRun, release);
        try (DynamicBatcher b = new DynamicBatcher(config(new CopyOnWriteArrayList<>()).maxBatchSize(1).maxQueueDelayMicros(0).build(), p)) {
            BatchRequest slow = b.newRequest();
            write(slow, 1);
            b.inferAsync(slow, null);
            assertTrue(inRun.await(5, TimeUnit.SECONDS));
            BatchRequest r = b.newRequest();
            write(r, 2);
            r.deadlineNanos(System.nanoTime() + 20_000_000L);
            assertEquals(BatchStatus.PENDING, b.submit(r));
            assertEquals(BatchStatus.PENDING, b.await(r, 50_000_000L), "the bounded wait ends though the engine is still busy");
            assertEquals(1, release.getCount(), "the engine run was still going when the caller left");
            release.countDown();
            assertEquals(BatchStatus.OK, b.await(slow));
            assertEquals(BatchStatus.TIMEOUT, b.await(r), "it never runs late: the batcher answers it TIMEOUT too");
        }
    }

    @Test
    void closeReturnsAfterItsBoundWhenTheEngineIsStuckAndTheThreadFinishesLater() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        CountDownLatch inRun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        stuckUntil(p, inRun, release);
        DynamicBatcher b = new DynamicBatcher(config(new CopyOnWriteArrayList<>()).maxBatchSize(1).maxQueueDelayMicros(0)
                .closeTimeout(Duration.ofMillis(100)).build(), p);
        BatchRequest stuck = b.newRequest();
        write(stuck, 1);
        b.inferAsync(stuck, null);
        assertTrue(inRun.await(5, TimeUnit.SECONDS));
        BatchRequest queued = b.newRequest();
        write(queued, 2);
        assertEquals(BatchStatus.PENDING, b.inferAsync(queued, null));
        b.close();                                   // returns after ~100 ms although the engine never returned
        assertFalse(b.isTerminated());
        assertEquals(BatchStatus.SHUTDOWN, b.infer(b.newRequest()), "closed: new work is refused at once");
        release.countDown();
        assertEquals(BatchStatus.OK, b.await(stuck));
        assertEquals(BatchStatus.OK, b.await(queued), "DRAIN: what was accepted still runs once the engine is back");
        awaitTermination(b);
        write(stuck, 9);
        assertEquals(BatchStatus.SHUTDOWN, b.submit(stuck), "a handle stays usable after close: its submit answers SHUTDOWN");
    }

    @Test
    void sizesAreCheckedBeforeAnythingIsAllocated() {
        IllegalArgumentException batch = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BatcherConfig.builder().maxBatchSize(2_000_000_000).build());
        assertTrue(batch.getMessage().contains("2000000000") && batch.getMessage().contains("" + BatcherConfig.MAX_BATCH_SIZE), batch.getMessage());
        IllegalArgumentException inFlight = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> BatcherConfig.builder().maxRequests(Integer.MAX_VALUE).build());
        assertTrue(inFlight.getMessage().contains("maxRequests") && inFlight.getMessage().contains("" + BatcherConfig.MAX_REQUESTS), inFlight.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> BatcherConfig.builder().queueCapacityBytes(3 << 20).build());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> BatcherConfig.builder().closeTimeout(Duration.ofSeconds(-1)).build());
    }
}
