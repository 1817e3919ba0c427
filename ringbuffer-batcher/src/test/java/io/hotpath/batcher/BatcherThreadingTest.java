package io.hotpath.batcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The three ways to run the batcher (own thread, the application's ThreadFactory, the application's duty cycle) and any idle strategy. */
class BatcherThreadingTest {
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

    /** A thread that calls invoke() until told to stop, as an application's duty cycle would. */
    private static final class DutyCycle implements AutoCloseable {
        final AgentInvoker invoker;
        final Thread thread;
        volatile boolean stop;

        DutyCycle(AgentInvoker invoker) {
            this.invoker = invoker;
            this.thread = new Thread(() -> {
                while (!stop) {
                    if (invoker.invoke() == 0) {
                        Thread.onSpinWait();
                    }
                }
            }, "app-duty-cycle");
            this.thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(10_000);
            assertFalse(thread.isAlive(), "the application's duty cycle returned from invoke");
        }
    }

    @Test
    void theBatcherRunsOnAThreadFromTheApplicationsFactory() throws Exception {
        Set<Thread> made = ConcurrentHashMap.newKeySet();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            made.add(t);
            return t;
        };
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        p.beforeRun = () -> ranOn.set(Thread.currentThread());
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).threadName("pinned-batcher").threadFactory(factory).build(), p)) {
            assertEquals(BatcherConfig.Threading.THREAD_FACTORY, b.config().threading());
            BatchRequest r = b.newRequest();
            write(r, 7);
            assertEquals(BatchStatus.OK, b.infer(r));
            assertDoubled(r, 7);
            assertEquals(1, made.size(), "one thread, from the factory");
            assertSame(made.iterator().next(), ranOn.get(), "the engine ran on the factory's thread");
            assertEquals("pinned-batcher", ranOn.get().getName(), "named after the batcher (the agent's role name)");
            assertThrows(IllegalStateException.class, b::invoker, "no invoker when the batcher has a thread");
        }
        Thread t = made.iterator().next();
        t.join(5_000);
        assertFalse(t.isAlive(), "the factory's thread ends when the batcher has finished");
    }

    @Test
    void theApplicationDrivesTheInvokerAndRequestsFromOtherThreadsComplete() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        p.beforeRun = () -> ranOn.set(Thread.currentThread());
        DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(100).agentInvoker().build(), p);
        assertEquals(BatcherConfig.Threading.INVOKER, b.config().threading());
        assertTrue(b.invoker().isRunning(), "started by the batcher");
        try (DutyCycle app = new DutyCycle(b.invoker())) {
            int threads = 4;
            CountDownLatch done = new CountDownLatch(threads);
            AtomicInteger wrong = new AtomicInteger();
            for (int t = 0; t < threads; t++) {
                long base = t * 1000L;
                new Thread(() -> {
                    BatchRequest r = b.newRequest();
                    for (int i = 0; i < 200; i++) {
                        write(r, base + i);
                        if (b.infer(r) != BatchStatus.OK || r.output().getAtIndex(ValueLayout.JAVA_LONG, 0) != (base + i) * 2) {
                            wrong.incrementAndGet();
                        }
                    }
                    done.countDown();
                }).start();
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            assertEquals(0, wrong.get());
            assertEquals(800, b.metrics().completed());
            assertSame(app.thread, ranOn.get(), "batches ran on the application's thread, inside invoke");
            b.close();
            assertTrue(b.isTerminated());
        }
        assertEquals(0, b.invoker().invoke(), "an invoke after the end does nothing");
        assertTrue(b.invoker().isClosed(), "and closes the invoker");
    }

    @Test
    void withNobodyInvokingCloseDrainsOnTheCallingThread() {
        for (BatcherConfig.CloseMode mode : BatcherConfig.CloseMode.values()) {
            DoublingProcessor p = new DoublingProcessor(WIDTH, 4);
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            p.beforeRun = () -> ranOn.set(Thread.currentThread());
            DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(4).maxQueueDelayMicros(0).agentInvoker().build(), p);
            List<BatchRequest> rs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                assertEquals(BatchStatus.PENDING, b.submit(r));
                rs.add(r);
            }
            b.invoker().invoke();       // one duty cycle: some run, some stay queued
            b.close(mode);
            assertTrue(b.isTerminated(), "close finished the work itself");
            for (int i = 0; i < rs.size(); i++) {
                BatchRequest r = rs.get(i);
                if (mode == BatcherConfig.CloseMode.DRAIN) {
                    assertEquals(BatchStatus.OK, r.status(), "drained: request " + i);
                    assertDoubled(r, i);
                } else {
                    assertTrue(r.status() == BatchStatus.OK || r.status() == BatchStatus.SHUTDOWN, BatchStatus.name(r.status()));
                }
            }
            if (mode == BatcherConfig.CloseMode.DRAIN) {
                assertSame(Thread.currentThread(), ranOn.get(), "the last batches ran on the closing thread");
            }
            assertEquals(0, b.invoker().invoke(), "an invoke after the end does nothing");
            assertTrue(b.invoker().isClosed());
            assertEquals(BatchStatus.SHUTDOWN, b.submit(b.newRequest().inputLength(8)));
            b.close();      // idempotent
        }
    }

    @Test
    void aBlockingInferOnTheInvokingThreadIsRefused() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).agentInvoker().build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 3);
            b.invoker().invoke();       // this thread now drives the batcher
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.infer(r));
            assertTrue(e.getMessage().contains("invoker"), e.getMessage());
            assertEquals(BatchStatus.PENDING, b.submit(r), "the refusal came before anything was queued");
            while (r.status() == BatchStatus.PENDING) {
                b.invoker().invoke();
            }
            assertEquals(BatchStatus.OK, r.status());
            assertDoubled(r, 3);
        }
    }

    /**
     * One request at a time, each followed by invokes until one does nothing: the request is answered by then, also
     * when its record is the first after the ring wraps (the read that meets the padding at the buffer's end returns
     * no record; the invoke must not report "nothing to do" with the record waiting).
     */
    @Test
    void anInvokeThatReportsNoWorkLeavesNothingQueuedAcrossRingWraps() {
        int width = 5;      // 40-byte rows: 72-byte records, which do not divide the ring, so it pads before it wraps
        DoublingProcessor p = new DoublingProcessor(width, 8);
        BatcherConfig c = BatcherConfig.builder().maxPayloadBytes(width * 8).maxOutputBytes(width * 8).queueCapacityBytes(1 << 12)
                .maxQueueDelayMicros(0).agentInvoker().build();
        try (DynamicBatcher b = new DynamicBatcher(c, p)) {
            BatchRequest r = b.newRequest();
            for (int i = 0; i < 2_000; i++) {        // a 4 KiB ring wraps many times over
                for (int k = 0; k < width; k++) {
                    r.input().setAtIndex(ValueLayout.JAVA_LONG, k, i + k);
                }
                r.inputLength(width * 8);
                assertEquals(BatchStatus.PENDING, b.submit(r));
                int invokes = 0;
                while (b.invoker().invoke() > 0) {
                    invokes++;
                }
                assertTrue(invokes > 0, "request " + i + ": the invoke after it found no work");
                assertEquals(BatchStatus.OK, r.status(), "request " + i + " answered once an invoke found nothing to do");
                for (int k = 0; k < width; k++) {
                    assertEquals(2L * (i + k), r.output().getAtIndex(ValueLayout.JAVA_LONG, k));
                }
            }
        }
    }

    /** An invoke from a callback inside an invoke does nothing; the outer invoke's batch and the next go on unharmed. */
    @Test
    void anInvokeFromACallbackInsideAnInvokeDoesNothing() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(2).maxQueueDelayMicros(0).agentInvoker().build(), p)) {
            BatchRequest first = b.newRequest();
            BatchRequest second = b.newRequest();
            BatchRequest third = b.newRequest();
            write(first, 1);
            write(second, 2);
            write(third, 3);
            AtomicInteger nested = new AtomicInteger(-1);
            assertEquals(BatchStatus.PENDING, b.inferAsync(first, (req, s) -> {
                assertEquals(BatchStatus.PENDING, b.submit(third));
                nested.set(b.invoker().invoke());
            }));
            assertEquals(BatchStatus.PENDING, b.submit(second));
            assertTrue(b.invoker().invoke() > 0);
            assertEquals(0, nested.get(), "the nested invoke did no work");
            assertEquals(BatchStatus.OK, first.status());
            assertEquals(BatchStatus.OK, second.status(), "the outer batch finished after the nested invoke");
            assertDoubled(first, 1);
            assertDoubled(second, 2);
            assertEquals(BatchStatus.PENDING, third.status(), "queued from the callback: left for the next invoke");
            while (third.status() == BatchStatus.PENDING) {
                b.invoker().invoke();
            }
            assertDoubled(third, 3);
        }
    }

    @Test
    void closeFromACallbackInsideAnInvokeIsFinishedByThatInvoke() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).agentInvoker().build(), p);
        BatchRequest first = b.newRequest();
        BatchRequest second = b.newRequest();
        write(first, 1);
        write(second, 2);
        assertEquals(BatchStatus.PENDING, b.inferAsync(first, (req, s) -> b.close()));
        assertEquals(BatchStatus.PENDING, b.submit(second));
        b.invoker().invoke();
        assertTrue(b.isTerminated(), "the invoke that ran the callback finished the close");
        assertEquals(BatchStatus.OK, first.status());
        assertEquals(BatchStatus.OK, second.status(), "accepted before the close: drained");
    }

    /** A close finishing the work runs callbacks on the closing thread: a blocking await there would wait for itself, so it is refused. */
    @Test
    void aBlockingAwaitInACallbackRunByCloseIsRefused() {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 1);
        DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).agentInvoker().build(), p);
        BatchRequest first = b.newRequest();
        BatchRequest second = b.newRequest();
        write(first, 1);
        write(second, 2);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        b.inferAsync(first, (req, s) -> {
            try {
                b.await(second);
            } catch (Throwable t) {
                seen.set(t);
            }
        });
        b.submit(second);
        b.close();
        assertTrue(seen.get() instanceof IllegalStateException, String.valueOf(seen.get()));
        assertEquals(BatchStatus.OK, first.status());
        assertEquals(BatchStatus.OK, second.status());
        assertTrue(b.isTerminated());
    }

    /** close() on one thread while the application keeps invoking on another: every accepted request is answered exactly once. */
    @Test
    void closeRacingInvokeAnswersEveryAcceptedRequestExactlyOnce() throws Exception {
        for (int round = 0; round < 30; round++) {
            BatcherConfig.CloseMode mode = round % 2 == 0 ? BatcherConfig.CloseMode.DRAIN : BatcherConfig.CloseMode.FAIL_PENDING;
            DoublingProcessor p = new DoublingProcessor(WIDTH, 4);
            DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(4).maxQueueDelayMicros(50).agentInvoker().build(), p);
            int n = 64;
            AtomicIntegerArray answers = new AtomicIntegerArray(n);
            int[] submitted = new int[n];
            CountDownLatch halfway = new CountDownLatch(1);
            try (DutyCycle app = new DutyCycle(b.invoker())) {
                Thread producer = new Thread(() -> {
                    for (int i = 0; i < n; i++) {
                        BatchRequest r = b.newRequest();
                        write(r, i);
                        int id = i;
                        submitted[i] = b.inferAsync(r, (req, s) -> answers.incrementAndGet(id));
                        if (i == n / 2) {
                            halfway.countDown();
                        }
                    }
                });
                producer.start();
                assertTrue(halfway.await(10, TimeUnit.SECONDS));
                b.close(mode);
                producer.join(10_000);
                assertTrue(b.isTerminated(), "round " + round);
            }
            for (int i = 0; i < n; i++) {
                if (submitted[i] == BatchStatus.PENDING) {
                    assertEquals(1, answers.get(i), "round " + round + ": accepted request " + i + " answered exactly once");
                } else {
                    assertEquals(BatchStatus.SHUTDOWN, submitted[i]);
                    assertEquals(0, answers.get(i), "refused, never answered");
                }
            }
        }
    }

    @Test
    void aCallbacksErrorGoesToTheHandlerAndAThrowingHandlerEndsTheBatcherWithEverythingAnswered() {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).agentInvoker().errorHandler(errors::add).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 1);
            b.inferAsync(r, (req, s) -> {
                throw new AssertionError("a callback's Error");
            });
            while (r.status() == BatchStatus.PENDING) {
                b.invoker().invoke();
            }
            assertEquals(BatchStatus.OK, r.status());
            assertEquals(1, errors.size());
            assertTrue(errors.get(0) instanceof AssertionError);
            assertTrue(b.isRunning(), "the batcher keeps serving");
        }

        DoublingProcessor q = new DoublingProcessor(WIDTH, 1);
        DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).agentInvoker()
                .errorHandler(t -> {
                    throw new IllegalStateException("error handler gives up");
                }).build(), q);
        AtomicInteger answers = new AtomicInteger();
        BatchRequest first = b.newRequest();
        write(first, 1);
        b.inferAsync(first, (req, s) -> {
            answers.incrementAndGet();
            throw new StackOverflowError("callback");
        });
        BatchRequest[] queued = new BatchRequest[3];
        for (int i = 0; i < queued.length; i++) {
            queued[i] = b.newRequest();
            write(queued[i], 10 + i);
            assertEquals(BatchStatus.PENDING, b.inferAsync(queued[i], (req, s) -> answers.incrementAndGet()));
        }
        for (int i = 0; i < 10 && !b.isTerminated(); i++) {
            b.invoker().invoke();
        }
        assertTrue(b.isTerminated(), "the handler threw: the batcher ended");
        assertFalse(b.isRunning());
        assertEquals(1 + queued.length, answers.get(), "every accepted request answered exactly once");
        for (BatchRequest x : queued) {
            assertTrue(x.status() != BatchStatus.PENDING);
        }
        assertEquals(BatchStatus.SHUTDOWN, b.submit(b.newRequest().inputLength(8)));
        b.close();
    }

    static Stream<Arguments> idleStrategies() {
        return Stream.of(
                Arguments.of("busy-spin", (Supplier<IdleStrategy>) BusySpinIdleStrategy::new),
                Arguments.of("no-op", (Supplier<IdleStrategy>) NoOpIdleStrategy::new),
                Arguments.of("yielding", (Supplier<IdleStrategy>) YieldingIdleStrategy::new),
                Arguments.of("backoff", (Supplier<IdleStrategy>) BackoffIdleStrategy::new),
                // parks for 10 s at a time: a producer's commit unparks it, and rows waiting for company never wait on it
                Arguments.of("sleeping 10 s", (Supplier<IdleStrategy>) () -> new SleepingIdleStrategy(TimeUnit.SECONDS.toNanos(10))),
                // Thread.sleep, not unparkable: only the first request after a sleep can wait for it (1 ms here)
                Arguments.of("sleeping-millis 1 ms", (Supplier<IdleStrategy>) () -> new SleepingMillisIdleStrategy(1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("idleStrategies")
    void anyIdleStrategyServesRequestsAndHoldsTheQueueDelay(String name, Supplier<IdleStrategy> strategy) throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        long delayNanos = 20_000_000L;
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(8).maxQueueDelayMicros(delayNanos / 1000).idleStrategy(strategy)
                .build(), p)) {
            BatchRequest lone = b.newRequest();
            b.newRequest();     // another handle exists, so the lone request waits for company, then runs alone
            Thread.sleep(20);   // let the batcher go idle (asleep, for the sleeping strategies)
            write(lone, 5);
            CountDownLatch done = new CountDownLatch(1);
            assertEquals(BatchStatus.PENDING, b.inferAsync(lone, (r, s) -> done.countDown()));
            assertTrue(done.await(5, TimeUnit.SECONDS), name + ": answered, long before a 10 s sleep would end");
            assertEquals(BatchStatus.OK, b.await(lone));
            assertDoubled(lone, 5);
            assertTrue(lone.completeNanos() - lone.enqueueNanos() >= delayNanos, name + ": it waited maxQueueDelay for company");
            assertEquals(1, p.maxRowsSeen.get());
            for (int i = 0; i < 50; i++) {
                write(lone, i);
                assertEquals(BatchStatus.OK, b.infer(lone));
                assertDoubled(lone, i);
            }
        }
    }

    @Test
    void theIdleStrategyKindsStillChooseTheStrategy() {
        for (IdleStrategyKind kind : IdleStrategyKind.values()) {
            DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
            try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).batcherIdle(kind).build(), p)) {
                BatchRequest r = b.newRequest();
                write(r, 2);
                assertEquals(BatchStatus.OK, b.infer(r), kind.name());
            }
        }
    }

    @Test
    void conflictingOrSharedSettingsAreClearErrors() {
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> config().threadFactory(Thread::new).agentInvoker().build());
        assertTrue(both.getMessage().contains("threadFactory") && both.getMessage().contains("agentInvoker"), both.getMessage());
        assertThrows(IllegalArgumentException.class, () -> config().agentInvoker().idleStrategy(new BusySpinIdleStrategy()).build());
        BatcherConfig shared = config().idleStrategy(new BackoffIdleStrategy()).build();
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher first = new DynamicBatcher(shared, p)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new DynamicBatcher(shared, p));
            assertTrue(e.getMessage().contains("Supplier"), e.getMessage());
            assertTrue(first.isRunning());
        }
        BatcherConfig perBatcher = config().idleStrategy(BackoffIdleStrategy::new).build();
        try (DynamicBatcher one = new DynamicBatcher(perBatcher, p); DynamicBatcher two = new DynamicBatcher(perBatcher, p)) {
            assertTrue(one.isRunning() && two.isRunning(), "a supplier gives each batcher its own strategy");
        }
    }
}
