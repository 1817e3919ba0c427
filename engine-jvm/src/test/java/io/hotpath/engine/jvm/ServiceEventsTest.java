package io.hotpath.engine.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JFR events an InferenceService emits, read back from a real recording: what each carries and how many. */
class ServiceEventsTest {
    @TempDir
    Path dir;

    static void fill(Request r, int seed) {
        for (int i = 0; i < 64; i++) {
            r.input(0).putFloat(i, ((i * 31 + seed * 17) % 100) / 100f - 0.5f);
        }
    }

    @Test
    void batchesRequestsAndCacheLookupsAreRecorded() throws Exception {
        Path file = dir.resolve("events.jfr");
        try (Recording rec = new Recording()) {
            for (String name : new String[] {"hotpath.CacheLookup", "hotpath.Batch", "hotpath.Request", "hotpath.Callback"}) {
                rec.enable(name).withoutThreshold();
            }
            rec.start();
            try (InferenceService batched = InferenceService.builder(JvmEngine.open(ModelCatalog.resolve("mlp")))
                    .batching(b -> b.maxBatchSize(8).maxQueueDelayMicros(0)).cache(c -> c.budgetBytes(1 << 20)).build();
                 InferenceService direct = InferenceService.builder(JvmEngine.open(ModelCatalog.resolve("mlp"))).direct().build()) {
                Request r = batched.newRequest();
                for (int i = 0; i < 3; i++) {
                    fill(r, 1);                     // the same input three times: one engine run, two cache hits
                    assertEquals(BatchStatus.OK, batched.infer(r));
                }
                Request d = direct.newRequest();
                fill(d, 2);
                assertEquals(BatchStatus.OK, direct.infer(d));
                // one asynchronous request through the batcher, its callback timed
                fill(r, 3);
                java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
                assertEquals(BatchStatus.PENDING, batched.inferAsync(r, (req, status) -> done.countDown()));
                assertTrue(done.await(10, java.util.concurrent.TimeUnit.SECONDS));
                assertEquals(BatchStatus.OK, batched.await(r));
                assertTrue(r.stages().stamped(), "stages are stamped while the events are recorded");
                assertTrue(r.stages().enqueued() <= r.stages().batchStarted() && r.stages().batchStarted() <= r.stages().assembled()
                        && r.stages().assembled() < r.stages().engineDone() && r.stages().engineDone() <= r.stages().answered(), "in order");
            }
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> batches = events.stream().filter(e -> e.getEventType().getName().equals("hotpath.Batch")).toList();
        List<RecordedEvent> requests = events.stream().filter(e -> e.getEventType().getName().equals("hotpath.Request")).toList();
        List<RecordedEvent> lookups = events.stream().filter(e -> e.getEventType().getName().equals("hotpath.CacheLookup")).toList();
        List<RecordedEvent> callbacks = events.stream().filter(e -> e.getEventType().getName().equals("hotpath.Callback")).toList();
        assertEquals(1, callbacks.size(), "the one asynchronous request's callback: " + callbacks);
        assertEquals(BatchStatus.OK, callbacks.get(0).getInt("status"));
        assertTrue(!callbacks.get(0).getBoolean("threw"));
        assertEquals("jvm", callbacks.get(0).getString("engine"));
        assertEquals(3, batches.size(), "two batches through the batcher, one direct run: " + batches);
        for (RecordedEvent b : batches) {
            assertEquals(1, b.getInt("rows"));
            assertEquals("jvm", b.getString("engine"));
            assertTrue(b.getLong("engineNanos") > 0, b.toString());
            assertTrue(b.getLong("assemblyNanos") >= 0, b.toString());
        }
        assertEquals(2, requests.size(), "the two requests the batcher answered (cache hits never reach it)");
        for (RecordedEvent q : requests) {
            assertTrue(q.getLong("queueNanos") >= 0 && q.getLong("queueNanos") <= q.getLong("totalNanos"), q.toString());
            assertTrue(q.getLong("scatterNanos") >= 0 && q.getLong("scatterNanos") <= q.getLong("totalNanos"), q.toString());
            assertEquals(1, q.getInt("batchRows"));
        }
        assertEquals(4, lookups.size(), "every request of the cached service looked up");
        assertEquals(2, lookups.stream().filter(e -> e.getBoolean("hit")).count());
        assertTrue(lookups.stream().allMatch(e -> "local".equals(e.getString("tier"))));
    }
}
