package io.hotpath.batcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 8 producer threads x 100,000 requests with random deadlines, a 1% engine failure rate and a
 * close() in the middle: every request id is answered exactly once, with the right output or a
 * defined code (REJECTED and SHUTDOWN at submit, TIMEOUT, FAILED or SHUTDOWN by completion).
 */
class BatcherStressTest {
    private static final int PRODUCERS = 8;
    private static final int PER_PRODUCER = 100_000;
    private static final int HANDLES_PER_PRODUCER = 16;
    private static final int WIDTH = 2;

    @Test
    void everyRequestIsAnsweredExactlyOnce() throws Exception {
        for (BatcherConfig.CloseMode mode : BatcherConfig.CloseMode.values()) {
            run(mode);
        }
    }

    private void run(BatcherConfig.CloseMode mode) throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 16);
        p.failureRate = 0.01;
        DynamicBatcher b = new DynamicBatcher(BatcherConfig.builder().maxBatchSize(16).maxQueueDelayMicros(50)
                .maxPayloadBytes(WIDTH * 8).maxOutputBytes(WIDTH * 8).queueCapacityBytes(4096)
                .maxRequests(PRODUCERS * HANDLES_PER_PRODUCER).build(), p);
        int total = PRODUCERS * PER_PRODUCER;
        AtomicIntegerArray answers = new AtomicIntegerArray(total);
        AtomicLong wrongOutput = new AtomicLong();
        AtomicLong undefined = new AtomicLong();
        AtomicLong submittedSoFar = new AtomicLong();
        long[] byStatus = new long[8];
        Object lock = new Object();

        Completion check = (r, status) -> {
            long id = r.input().getAtIndex(ValueLayout.JAVA_LONG, 0);
            answers.incrementAndGet((int) id);
            if (status == BatchStatus.OK) {
                if (r.output().getAtIndex(ValueLayout.JAVA_LONG, 0) != id * 2
                        || r.output().getAtIndex(ValueLayout.JAVA_LONG, 1) != (id + 7) * 2) {
                    wrongOutput.incrementAndGet();
                }
            } else if (status != BatchStatus.TIMEOUT && status != BatchStatus.FAILED && status != BatchStatus.SHUTDOWN) {
                undefined.incrementAndGet();
            }
            synchronized (lock) {
                byStatus[status + 4]++;
            }
        };

        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < PRODUCERS; t++) {
            int producer = t;
            Thread th = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(producer);
                BatchRequest[] hs = new BatchRequest[HANDLES_PER_PRODUCER];
                for (int i = 0; i < hs.length; i++) {
                    hs[i] = b.newRequest();
                }
                int next = 0;
                for (int i = 0; i < PER_PRODUCER; i++) {
                    long id = (long) producer * PER_PRODUCER + i;
                    BatchRequest h = hs[next];       // reuse a handle once its previous request is answered
                    next = (next + 1) % hs.length;
                    if (h.status() == BatchStatus.PENDING) {
                        b.await(h);
                    }
                    h.input().setAtIndex(ValueLayout.JAVA_LONG, 0, id);
                    h.input().setAtIndex(ValueLayout.JAVA_LONG, 1, id + 7);
                    h.inputLength(WIDTH * 8);
                    int d = rnd.nextInt(10);
                    h.deadlineNanos(d == 0 ? System.nanoTime() - 1          // already late
                            : d == 1 ? System.nanoTime() + rnd.nextLong(1, 200_000)    // tight
                            : 0);
                    int s = b.inferAsync(h, check);
                    submittedSoFar.incrementAndGet();
                    if (s != BatchStatus.PENDING) {
                        // answered by the return code; the callback will not run
                        if (s != BatchStatus.REJECTED && s != BatchStatus.SHUTDOWN) {
                            undefined.incrementAndGet();
                        }
                        answers.incrementAndGet((int) id);
                        synchronized (lock) {
                            byStatus[s + 4]++;
                        }
                    }
                }
                for (BatchRequest h : hs) {
                    b.await(h);
                }
            }, "producer-" + t);
            threads.add(th);
            th.start();
        }
        while (submittedSoFar.get() < total / 2) {
            Thread.sleep(1);
        }
        b.close(mode);
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(120));
            assertTrue(!th.isAlive(), th.getName() + " finished");
        }
        int missing = 0;
        int twice = 0;
        for (int i = 0; i < total; i++) {
            int n = answers.get(i);
            if (n == 0) {
                missing++;
            } else if (n > 1) {
                twice++;
            }
        }
        String summary = mode + ": OK=" + byStatus[BatchStatus.OK + 4] + " REJECTED=" + byStatus[BatchStatus.REJECTED + 4]
                + " TIMEOUT=" + byStatus[BatchStatus.TIMEOUT + 4] + " FAILED=" + byStatus[BatchStatus.FAILED + 4]
                + " SHUTDOWN=" + byStatus[BatchStatus.SHUTDOWN + 4];
        assertEquals(0, missing, "requests never answered; " + summary);
        assertEquals(0, twice, "requests answered twice; " + summary);
        assertEquals(0, wrongOutput.get(), "OK answers with another request's output; " + summary);
        assertEquals(0, undefined.get(), "answers outside the defined codes; " + summary);
        assertTrue(byStatus[BatchStatus.OK + 4] > 0 && byStatus[BatchStatus.TIMEOUT + 4] > 0 && byStatus[BatchStatus.REJECTED + 4] > 0
                && byStatus[BatchStatus.FAILED + 4] > 0 && byStatus[BatchStatus.SHUTDOWN + 4] > 0, summary);
        System.out.println("stress " + summary);
    }
}
