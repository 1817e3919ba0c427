package io.hotpath.batcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The counters as another process sees them: a CountersReader over the mapped file reads what BatcherMetrics reads. */
class BatcherCountersTest {
    private static final int WIDTH = 4;

    @TempDir
    Path tmp;

    private static void write(BatchRequest r, long base) {
        for (int i = 0; i < WIDTH; i++) {
            r.input().setAtIndex(ValueLayout.JAVA_LONG, i, base + i);
        }
        r.inputLength(WIDTH * 8);
    }

    private static BatcherConfig.Builder config() {
        return BatcherConfig.builder().maxPayloadBytes(WIDTH * 8).maxOutputBytes(WIDTH * 8).queueCapacityBytes(1 << 16);
    }

    /** label -> value, read through an independent reader of the file. */
    private static Map<String, Long> read(BatcherCountersFile f) {
        Map<String, Long> values = new HashMap<>();
        f.counters().forEach((value, id, label) -> values.put(label, value));
        return values;
    }

    @Test
    void aSecondReaderOfTheFileSeesWhatBatcherMetricsSees() throws Exception {
        Path file = tmp.resolve("batcher.counters");
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).threadName("counted").countersFile(file)
                .errorHandler(t -> { }).build(), p);
        assertEquals(file, b.metrics().countersFile());
        BatchRequest r = b.newRequest();
        for (int i = 0; i < 10; i++) {
            write(r, i);
            assertEquals(BatchStatus.OK, b.infer(r));
        }
        p.failNext = true;
        assertEquals(BatchStatus.FAILED, b.infer(r));
        r.deadlineNanos(System.nanoTime() - 1);
        assertEquals(BatchStatus.TIMEOUT, b.infer(r));
        r.deadlineNanos(0);
        r.priority(BatchRequest.PRIORITY_NORMAL);
        BatchRequest cb = b.newRequest();
        write(cb, 1);
        b.inferAsync(cb, (x, s) -> {
            throw new IllegalStateException("a callback fails");
        });
        b.await(cb);

        try (BatcherCountersFile f = BatcherCountersFile.open(file)) {
            assertEquals(ProcessHandle.current().pid(), f.pid());
            assertEquals("counted", f.name());
            assertTrue(f.isProcessAlive());
            assertFalse(f.isClosed());
            Map<String, Long> v = read(f);
            BatcherMetrics m = b.metrics();
            assertEquals(13, m.submitted());
            assertEquals(m.submitted(), v.get("submitted"));
            assertEquals(11, m.completed());
            assertEquals(m.completed(), v.get("completed"));
            assertEquals(1, m.failed());
            assertEquals(m.failed(), v.get("failed"));
            assertEquals(1, m.failedBatches());
            assertEquals(m.failedBatches(), v.get("failed batches"));
            assertEquals(1, m.timedOut());
            assertEquals(m.timedOut(), v.get("timed out"));
            assertEquals(1, m.errors());
            assertEquals(m.errors(), v.get("errors"));
            assertEquals(12, m.batches());
            assertEquals(m.batches(), v.get("batches"));
            assertEquals(12, m.batchRows());
            assertEquals(m.batchRows(), v.get("batch rows"));
            assertEquals(0, v.get("rejected"));
            assertEquals(0, v.get("shutdown"));
            assertEquals(0, v.get("in flight"), "everything answered");
            assertEquals(0, v.get("staged rows"));
            b.close();
            assertTrue(f.isClosed(), "a reader that has it mapped sees the batcher finish");
            assertEquals(13, read(f).get("submitted"), "and keeps the last values");
        }
        assertFalse(Files.exists(file), "deleted when the batcher finished");
        write(r, 1);
        assertEquals(BatchStatus.SHUTDOWN, b.submit(r));
        assertEquals(1, b.metrics().shutdown(), "metrics stay readable after close");
    }

    @Test
    void rejectionsAndInFlightAreCounted() throws Exception {
        Path file = tmp.resolve("full.counters");
        DoublingProcessor p = new DoublingProcessor(WIDTH, 1);
        java.util.concurrent.CountDownLatch inRun = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        p.beforeRun = () -> {
            inRun.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (DynamicBatcher b = new DynamicBatcher(config().maxBatchSize(1).maxQueueDelayMicros(0).queueCapacityBytes(4096)
                .countersFile(file).build(), p);
             BatcherCountersFile f = BatcherCountersFile.open(file)) {
            BatchRequest first = b.newRequest();
            write(first, 0);
            b.submit(first);
            assertTrue(inRun.await(5, java.util.concurrent.TimeUnit.SECONDS));
            int accepted = 1;
            int rejected = 0;
            for (int i = 0; i < 200; i++) {
                BatchRequest r = b.newRequest();
                write(r, i);
                if (b.submit(r) == BatchStatus.PENDING) {
                    accepted++;
                } else {
                    rejected++;
                }
            }
            assertTrue(rejected > 0);
            Map<String, Long> v = read(f);
            assertEquals(rejected, v.get("rejected"));
            assertEquals(accepted, v.get("submitted"));
            release.countDown();
            b.close();
            v = read(f);
            assertEquals(accepted, v.get("completed"));
            assertEquals(0, v.get("in flight"));
        }
    }

    @Test
    void theDefaultFileIsNamedAfterTheProcessAndTheBatcherAndNeverShared() throws Exception {
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        BatcherConfig cfg = config().threadName("default-dir test").publishCounters().build();
        try (DynamicBatcher one = new DynamicBatcher(cfg, p); DynamicBatcher two = new DynamicBatcher(cfg, p)) {
            Path a = one.metrics().countersFile();
            Path b = two.metrics().countersFile();
            assertEquals(BatcherCountersDescriptor.defaultDirectory(), a.getParent());
            long pid = ProcessHandle.current().pid();
            assertEquals(pid + "-default-dir_test.counters", a.getFileName().toString());
            assertEquals(pid + "-default-dir_test-2.counters", b.getFileName().toString(), "a second batcher of the same name gets its own file");
            assertEquals(pid, BatcherCountersDescriptor.pidOf(b.getFileName().toString()));
            assertTrue(BatcherCountersFile.list(a.getParent()).contains(a));
            one.close();
            two.close();
            assertFalse(Files.exists(a));
            assertFalse(Files.exists(b));
        }
        try (DynamicBatcher inMemory = new DynamicBatcher(config().build(), p)) {
            assertNull(inMemory.metrics().countersFile(), "no file unless asked for");
        }
    }

    @Test
    void anExistingFileIsNeverOverwritten() throws Exception {
        Path file = Files.writeString(tmp.resolve("taken.counters"), "someone else's");
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class,
                () -> new DynamicBatcher(config().countersFile(file).build(), p));
        assertTrue(e.getMessage().contains("taken.counters"), e.getMessage());
        assertEquals("someone else's", Files.readString(file));
    }

    @Test
    void aReaderRefusesWhatIsNotALiveCountersFile() throws Exception {
        assertThrows(NoSuchFileException.class, () -> BatcherCountersFile.open(tmp.resolve("missing.counters")));
        Path shortFile = Files.writeString(tmp.resolve("short.counters"), "hello");
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> BatcherCountersFile.open(shortFile));
        assertTrue(s.getMessage().contains("5 bytes"), s.getMessage());
        Path zeros = Files.write(tmp.resolve("zeros.counters"), new byte[BatcherCountersDescriptor.FILE_LENGTH]);
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> BatcherCountersFile.open(zeros));
        assertTrue(m.getMessage().contains("magic"), m.getMessage());
        ByteBuffer future = ByteBuffer.allocate(BatcherCountersDescriptor.FILE_LENGTH).order(ByteOrder.nativeOrder());
        future.putInt(BatcherCountersDescriptor.MAGIC_OFFSET, BatcherCountersDescriptor.MAGIC).putInt(BatcherCountersDescriptor.VERSION_OFFSET, 99);
        Path v99 = Files.write(tmp.resolve("v99.counters"), future.array());
        IllegalArgumentException v = assertThrows(IllegalArgumentException.class, () -> BatcherCountersFile.open(v99));
        assertTrue(v.getMessage().contains("99"), v.getMessage());

        // a file a dead process left: the header is fine, its process is gone
        Path live = tmp.resolve("live.counters");
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().countersFile(live).build(), p)) {
            byte[] copy = Files.readAllBytes(live);
            ByteBuffer.wrap(copy).order(ByteOrder.nativeOrder()).putLong(BatcherCountersDescriptor.PID_OFFSET, Long.MAX_VALUE - 1);
            Path stale = Files.write(tmp.resolve("stale.counters"), copy);
            try (BatcherCountersFile f = BatcherCountersFile.open(stale)) {
                assertFalse(f.isProcessAlive());
                assertNotEquals(ProcessHandle.current().pid(), f.pid());
            }
        }
    }

    /** Counting is off-heap increments: still no allocation per request, on a thread from a factory or driven by an invoker. */
    @Test
    void countingAllocatesNothingPerRequest() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        AtomicReference<Thread> batcherThread = new AtomicReference<>();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            batcherThread.set(t);
            return t;
        };
        DoublingProcessor p = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).callerIdle(IdleStrategyKind.BUSY_SPIN)
                .idleStrategy(new BusySpinIdleStrategy()).threadFactory(factory).countersFile(tmp.resolve("alloc.counters")).build(), p)) {
            BatchRequest r = b.newRequest();
            write(r, 1);
            Completion noop = (x, s) -> { };
            for (int i = 0; i < 20_000; i++) {
                b.infer(r);
                b.inferAsync(r, noop);
                b.await(r);
            }
            long batcherId = batcherThread.get().threadId();
            long before = mx.getCurrentThreadAllocatedBytes();
            long batcherBefore = mx.getThreadAllocatedBytes(batcherId);
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                b.infer(r);
                b.inferAsync(r, noop);
                b.await(r);
            }
            long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / (2L * n);
            long batcherPerCall = (mx.getThreadAllocatedBytes(batcherId) - batcherBefore) / (2L * n);
            assertEquals(0, perCall, "caller bytes per request");
            assertEquals(0, batcherPerCall, "batcher-thread bytes per request");
            assertEquals(2L * (20_000 + n), b.metrics().completed());
        }

        DoublingProcessor q = new DoublingProcessor(WIDTH, 8);
        try (DynamicBatcher b = new DynamicBatcher(config().maxQueueDelayMicros(0).agentInvoker()
                .countersFile(tmp.resolve("alloc-invoker.counters")).build(), q)) {
            BatchRequest r = b.newRequest();
            write(r, 1);
            org.agrona.concurrent.AgentInvoker invoker = b.invoker();
            for (int i = 0; i < 20_000; i++) {
                b.submit(r);
                while (r.status() == BatchStatus.PENDING) {
                    invoker.invoke();
                }
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                b.submit(r);
                while (r.status() == BatchStatus.PENDING) {
                    invoker.invoke();
                }
            }
            long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / n;
            assertEquals(0, perCall, "bytes per request, submitted and invoked on one thread");
        }
    }
}
