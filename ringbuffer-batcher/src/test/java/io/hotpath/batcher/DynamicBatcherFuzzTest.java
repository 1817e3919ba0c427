package io.hotpath.batcher;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Random scripts of submit / inferAsync / bounded submit / infer / early resubmit / close (both
 * modes) from 1-3 threads against a {@link DynamicBatcher} over the {@link DoublingProcessor}
 * (which can also fail batches and refuse rows). Checked:
 * <ul>
 *   <li>submit-like calls return PENDING, REJECTED or SHUTDOWN; infer returns a final status;</li>
 *   <li>every accepted request (PENDING returned) is answered, with a final status, within
 *       {@link #ANSWER_MILLIS}; one with a callback gets exactly one callback, and it runs before
 *       the status is published (so the status still reads PENDING in it);</li>
 *   <li>an OK answer carries that submission's input doubled;</li>
 *   <li>resubmitting a handle that is still pending is an IllegalStateException, nothing else;</li>
 *   <li>close returns, and after it and the callers are done no handle is PENDING;</li>
 *   <li>nothing hangs: each input runs under a watchdog.</li>
 * </ul>
 * Without JAZZER_FUZZ this replays {@code DynamicBatcherFuzzTestInputs/} (docs/fuzzing.md).
 */
class DynamicBatcherFuzzTest {
    private static final int WIDTH = 4;
    private static final long ANSWER_MILLIS = 10_000;
    private static final long WATCHDOG_MILLIS = 30_000;

    private enum Kind { SUBMIT, INFER_ASYNC, SUBMIT_WAIT, INFER, RESUBMIT_AT_ONCE, CLOSE }

    private record Op(Kind kind, int handle, int deadline, boolean high, int inputLength, long waitNanos,
                      BatcherConfig.CloseMode closeMode, boolean withCallback) {
    }

    @FuzzTest(maxDuration = "2m")
    void everyAcceptedRequestIsAnsweredOnce(FuzzedDataProvider d) throws Throwable {
        // everything is decoded before any thread starts: the data provider is not thread-safe
        int maxBatch = d.consumeInt(1, 16);
        BatcherConfig.Builder cb = BatcherConfig.builder().maxPayloadBytes(WIDTH * 8).maxOutputBytes(WIDTH * 8)
                .maxBatchSize(maxBatch)
                .maxQueueDelayMicros(d.pickValue(new long[] {0, 0, 50, 100, 1_000, 5_000}))
                .queueCapacityBytes(d.pickValue(new int[] {4096, 4096, 8192, 1 << 16}))
                .maxRequests(d.consumeInt(1, 8))
                .batcherIdle(d.pickValue(new IdleStrategyKind[] {IdleStrategyKind.BACKOFF_PARK, IdleStrategyKind.BACKOFF_PARK,
                        IdleStrategyKind.YIELD, IdleStrategyKind.BUSY_SPIN}))
                .callerIdle(d.pickValue(new IdleStrategyKind[] {IdleStrategyKind.BACKOFF_PARK, IdleStrategyKind.YIELD}))
                .closeMode(d.consumeBoolean() ? BatcherConfig.CloseMode.DRAIN : BatcherConfig.CloseMode.FAIL_PENDING);
        if (d.consumeBoolean()) {
            cb.preferredBatchSizes(d.consumeInt(1, maxBatch));
        }
        BatcherConfig config = cb.build();
        double failureRate = d.pickValue(new double[] {0, 0, 0.2, 1});
        long runDelayNanos = d.pickValue(new long[] {0, 0, 20_000, 200_000});
        int threads = d.consumeInt(1, 3);
        List<List<Op>> scripts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<Op> ops = new ArrayList<>();
            int n = d.consumeInt(0, 24);
            for (int i = 0; i < n && d.remainingBytes() > 0; i++) {
                Kind kind = Kind.values()[d.consumeInt(0, 19) < 19 ? d.consumeInt(0, Kind.values().length - 2) : Kind.CLOSE.ordinal()];
                ops.add(new Op(kind, d.consumeInt(0, 1), d.consumeInt(0, 3), d.consumeBoolean(),
                        d.consumeInt(0, 7) == 0 ? d.pickValue(new int[] {0, 8, 16, -1, WIDTH * 8 + 1}) : WIDTH * 8,
                        d.consumeLong(0, 2_000_000), d.pickValue(BatcherConfig.CloseMode.values()), d.consumeBoolean()));
            }
            scripts.add(ops);
        }
        BatcherConfig.CloseMode finalClose = d.pickValue(BatcherConfig.CloseMode.values());

        Scenario s = new Scenario(config, failureRate, runDelayNanos, scripts, finalClose);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread main = Thread.ofPlatform().daemon().name("batcher-fuzz").start(() -> {
            try {
                s.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        main.join(WATCHDOG_MILLIS);
        if (main.isAlive()) {
            AssertionError hang = new AssertionError("the scenario did not finish within " + WATCHDOG_MILLIS + " ms: " + s.describe());
            hang.setStackTrace(main.getStackTrace());
            throw hang;
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        if (!s.failures.isEmpty()) {
            Throwable first = s.failures.peek();
            first.addSuppressed(new Throwable("scenario: " + s.describe()));
            throw first;
        }
    }

    /** One batcher, its caller threads and their scripts. */
    private static final class Scenario {
        final BatcherConfig config;
        final DoublingProcessor processor;
        final List<List<Op>> scripts;
        final BatcherConfig.CloseMode finalClose;
        final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        final AtomicLong nextBase = new AtomicLong(1);
        final List<BatchRequest> allHandles = new java.util.concurrent.CopyOnWriteArrayList<>();
        DynamicBatcher batcher;

        Scenario(BatcherConfig config, double failureRate, long runDelayNanos, List<List<Op>> scripts, BatcherConfig.CloseMode finalClose) {
            this.config = config;
            this.processor = new DoublingProcessor(WIDTH, config.maxBatchSize());
            this.processor.failureRate = failureRate;
            this.processor.runDelayNanos = runDelayNanos;
            this.scripts = scripts;
            this.finalClose = finalClose;
        }

        String describe() {
            return config + " failureRate=" + processor.failureRate + " runDelayNanos=" + processor.runDelayNanos + " scripts=" + scripts
                    + " finalClose=" + finalClose;
        }

        void fail(String message) {
            failures.add(new AssertionError(message));
        }

        void run() throws InterruptedException {
            batcher = new DynamicBatcher(config, processor);
            try {
                List<Thread> callers = new ArrayList<>();
                for (List<Op> script : scripts) {
                    callers.add(Thread.ofPlatform().daemon().name("batcher-fuzz-caller").start(() -> {
                        try {
                            new Caller().run(script);
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
                for (Thread t : callers) {
                    t.join(WATCHDOG_MILLIS);
                    if (t.isAlive()) {
                        AssertionError hang = new AssertionError("a caller thread is stuck");
                        hang.setStackTrace(t.getStackTrace());
                        failures.add(hang);
                        return;
                    }
                }
            } finally {
                batcher.close(finalClose);
            }
            for (BatchRequest r : allHandles) {
                if (r.status() == BatchStatus.PENDING) {
                    fail("request " + r.id() + " is still PENDING after close returned and every caller finished");
                }
            }
        }

        /** One caller thread: up to two request handles, used one inference at a time (but for RESUBMIT_AT_ONCE). */
        private final class Caller {
            final BatchRequest[] handles = new BatchRequest[2];
            final long[] expectedBase = new long[2];
            final boolean[] awaitingAnswer = new boolean[2];
            /** Per handle: submissions accepted with a callback, and callbacks run. */
            final AtomicInteger[] acceptedWithCallback = {new AtomicInteger(), new AtomicInteger()};
            final AtomicInteger[] callbacks = {new AtomicInteger(), new AtomicInteger()};

            void run(List<Op> script) {
                for (Op op : script) {
                    if (op.kind() == Kind.CLOSE) {
                        batcher.close(op.closeMode());
                        if (batcher.isRunning()) {
                            fail("isRunning() after close returned");
                        }
                        continue;
                    }
                    int h = op.handle();
                    if (handles[h] == null) {
                        try {
                            handles[h] = batcher.newRequest();
                            allHandles.add(handles[h]);
                        } catch (IllegalStateException e) {
                            continue;       // documented: more than maxRequests handles
                        }
                    }
                    BatchRequest r = handles[h];
                    if (op.kind() != Kind.RESUBMIT_AT_ONCE) {
                        awaitAnswer(h);
                    }
                    step(op, h, r);
                }
                awaitAnswer(0);
                awaitAnswer(1);
                for (int h = 0; h < 2; h++) {
                    if (callbacks[h].get() != acceptedWithCallback[h].get()) {
                        fail("handle " + h + ": " + acceptedWithCallback[h].get() + " submissions with a callback were accepted, "
                                + callbacks[h].get() + " callbacks ran");
                    }
                }
            }

            private void step(Op op, int h, BatchRequest r) {
                long base = nextBase.getAndAdd(1_000);
                boolean wasPending = r.status() == BatchStatus.PENDING;
                if (!wasPending) {
                    for (int i = 0; i < WIDTH; i++) {
                        r.input().setAtIndex(ValueLayout.JAVA_LONG, i, base + i);
                    }
                    try {
                        r.inputLength(op.inputLength());
                    } catch (IllegalArgumentException e) {
                        if (op.inputLength() >= 0 && op.inputLength() <= config.maxPayloadBytes()) {
                            fail("inputLength(" + op.inputLength() + ") refused: " + e);
                        }
                        return;
                    }
                    r.priority(op.high() ? BatchRequest.PRIORITY_HIGH : BatchRequest.PRIORITY_NORMAL);
                    r.deadlineNanos(switch (op.deadline()) {
                        case 0 -> 0;
                        case 1 -> System.nanoTime() - 1;                  // already passed
                        case 2 -> System.nanoTime() + op.waitNanos();      // may pass while queued
                        default -> System.nanoTime() + 60_000_000_000L;
                    });
                    expectedBase[h] = base;
                }
                Completion callback = (req, status) -> {
                    int n = callbacks[h].incrementAndGet();
                    if (n > acceptedWithCallback[h].get()) {
                        fail("handle " + h + ": callback " + n + " for " + acceptedWithCallback[h].get() + " accepted submissions");
                    }
                    if (req.status() != BatchStatus.PENDING) {
                        fail("in its callback the request already reads " + BatchStatus.name(req.status()));
                    }
                    checkAnswer(h, req, status);
                };
                int s;
                try {
                    switch (op.kind()) {
                        case SUBMIT -> s = submitCounted(h, op.withCallback() ? callback : null, () -> op.withCallback()
                                ? batcher.inferAsync(r, callback) : batcher.submit(r));
                        case INFER_ASYNC -> s = submitCounted(h, callback, () -> batcher.inferAsync(r, callback));
                        case SUBMIT_WAIT -> s = submitCounted(h, op.withCallback() ? callback : null,
                                () -> batcher.submit(r, op.withCallback() ? callback : null, op.waitNanos()));
                        case INFER -> {
                            s = batcher.infer(r);
                            if (s == BatchStatus.PENDING || BatchStatus.name(s).startsWith("UNKNOWN") || s == BatchStatus.IDLE) {
                                fail("infer returned " + BatchStatus.name(s));
                            }
                            checkAnswer(h, r, s);
                        }
                        default -> s = submitCounted(h, null, () -> batcher.submit(r));    // RESUBMIT_AT_ONCE
                    }
                } catch (IllegalStateException e) {
                    if (!wasPending) {
                        fail("submitting a handle that was not pending threw " + e);
                    }
                    return;
                }
                if (wasPending && op.kind() == Kind.RESUBMIT_AT_ONCE && s == BatchStatus.PENDING) {
                    // it was answered between our look and the submit: a new submission, fine
                    return;
                }
            }

            private int submitCounted(int h, Completion callback, java.util.function.IntSupplier submit) {
                // counted before the submit: the callback may run before submit returns
                if (callback != null) {
                    acceptedWithCallback[h].incrementAndGet();
                }
                int s;
                try {
                    s = submit.getAsInt();
                } catch (RuntimeException e) {
                    if (callback != null) {
                        acceptedWithCallback[h].decrementAndGet();
                    }
                    throw e;
                }
                if (s != BatchStatus.PENDING && callback != null) {
                    acceptedWithCallback[h].decrementAndGet();
                }
                if (s != BatchStatus.PENDING && s != BatchStatus.REJECTED && s != BatchStatus.SHUTDOWN) {
                    fail("submit returned " + BatchStatus.name(s));
                }
                awaitingAnswer[h] = s == BatchStatus.PENDING;
                return s;
            }

            /** Waits (bounded) until handle h's accepted submission is answered, then checks the answer. */
            private void awaitAnswer(int h) {
                BatchRequest r = handles[h];
                if (r == null || !awaitingAnswer[h]) {
                    return;
                }
                long end = System.nanoTime() + ANSWER_MILLIS * 1_000_000;
                int spins = 0;
                while (r.status() == BatchStatus.PENDING) {
                    if (System.nanoTime() - end > 0) {
                        fail("an accepted request was not answered within " + ANSWER_MILLIS + " ms (batcher running: " + batcher.isRunning() + ")");
                        awaitingAnswer[h] = false;
                        return;
                    }
                    if (++spins < 100) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(50_000);
                    }
                }
                awaitingAnswer[h] = false;
                int s = r.status();
                checkAnswer(h, r, s);
                if (callbacks[h].get() != acceptedWithCallback[h].get()) {
                    fail("handle " + h + " reads " + BatchStatus.name(s) + " but " + callbacks[h].get() + " of "
                            + acceptedWithCallback[h].get() + " callbacks ran");
                }
            }

            private void checkAnswer(int h, BatchRequest r, int status) {
                switch (status) {
                    case BatchStatus.OK -> {
                        for (int i = 0; i < WIDTH; i++) {
                            long got = r.output().getAtIndex(ValueLayout.JAVA_LONG, i);
                            if (got != (expectedBase[h] + i) * 2) {
                                fail("OK answer of handle " + h + " element " + i + " is " + got + ", expected " + (expectedBase[h] + i) * 2);
                                return;
                            }
                        }
                    }
                    case BatchStatus.TIMEOUT, BatchStatus.FAILED, BatchStatus.SHUTDOWN, BatchStatus.REJECTED -> {
                    }
                    default -> fail("answered with status " + BatchStatus.name(status));
                }
            }
        }
    }
}
