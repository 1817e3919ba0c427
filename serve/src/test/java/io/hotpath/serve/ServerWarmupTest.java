package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.EngineChoice;
import io.hotpath.serve.client.HttpInferClient;
import io.netty.channel.EventLoop;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link ServerWarmup} on a real server over {@code mlp}: the server says not ready while it runs
 * and ready after {@link HotpathServer#markReady}; every request it sends is answered over both
 * transports on kept-alive connections; the statistics start over afterwards; its budget stops it,
 * also when a call never comes back; a drain is never undone by a late {@code markReady}.
 */
class ServerWarmupTest {
    private static final Path MLP = ModelCatalog.resolve("mlp");
    private final HttpClient http = HttpClient.newHttpClient();

    private static HotpathServer open(ModelRegistry registry) {
        return HotpathServer.open(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, 0, -1, 1),
                GrpcTransport::start);
    }

    private int ready(HotpathServer s) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.httpPort() + "/v2/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void answersEveryRequestOnBothTransportsWhileNotReadyThenStatisticsStartOver() throws Exception {
        for (boolean batching : new boolean[] {false, true}) {
            ModelRegistry registry = new ModelRegistry();
            registry.add(ModelSettings.defaults("mlp", MLP).withDynamicBatching(batching).withBatcherOnEventLoop(batching).open(null));
            try (HotpathServer s = open(registry)) {
                assertEquals(503, ready(s), "open() binds without saying ready");
                List<ServerWarmup.ModelResult> r = ServerWarmup.run(s, 300, 60_000);
                assertEquals(1, r.size());
                ServerWarmup.ModelResult m = r.get(0);
                assertNull(m.note(), m.toString());
                assertEquals(0, m.failed(), m.toString());
                assertEquals(300, m.http(), m.toString());
                assertEquals(300, m.grpc(), m.toString());
                assertEquals(503, ready(s), "still loading until markReady");

                ModelStats.Snapshot after = registry.find("mlp", null).stats().snapshot();
                assertEquals(0, after.success(), "the warm-up's 600 requests are not in the statistics");
                assertEquals(0, after.inferences());
                assertEquals(0, after.executions());
                assertEquals(0, after.requestMicros().getTotalCount());

                s.markReady();
                assertEquals(200, ready(s));
                try (HttpInferClient c = new HttpInferClient("127.0.0.1", s.httpPort(), "mlp", ServerWarmup.inputsAtBatchOne(registry.find("mlp", null)))) {
                    ByteBuffer zeros = ByteBuffer.allocateDirect((int) c.payloadBytes());
                    assertEquals(200, c.infer(zeros));
                }
                ModelStats.Snapshot one = registry.find("mlp", null).stats().snapshot();
                assertEquals(1, one.success(), "counting goes on after the reset");
                assertEquals(1, one.requestMicros().getTotalCount());
            }
        }
    }

    private static ModelSettings version(String v) {
        return new ModelSettings("mlp", v, MLP, EngineChoice.BEST, 32, 0, new int[0], 0, 1024, 0, 0, true, null, false);
    }

    /** Two versions of one model: each is sent its share, addressed by its version (not twice the newest). */
    @Test
    void everyVersionGetsItsShareAddressedByVersion() {
        ModelRegistry registry = new ModelRegistry();
        registry.add(version("1").open(null));
        registry.add(version("2").open(null));
        try (HotpathServer s = open(registry)) {
            List<ServerWarmup.ModelResult> r = ServerWarmup.run(s, 100, 60_000);
            assertEquals(2, r.size());
            for (ServerWarmup.ModelResult m : r) {
                assertNull(m.note(), m.toString());
                assertEquals(50, m.http(), "100 requests shared by two versions: " + m);
                assertEquals(50, m.grpc(), m.toString());
                ServedModel v = registry.find("mlp", m.version());
                assertEquals(100, v.service().metrics().completed(), "version " + m.version() + " ran its own 50 + 50");
            }
        }
    }

    /** With a response cache only the first request reaches the engine; the Triton statistics of the cache start over too. */
    @Test
    void aCachedModelKeepsOneEntryAndItsCacheStatisticsStartOver() {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("mlp", MLP).withCacheBytes(1 << 20).open(null));
        try (HotpathServer s = open(registry)) {
            ServerWarmup.ModelResult m = ServerWarmup.run(s, 40, 60_000).get(0);
            assertNull(m.note(), m.toString());
            ServedModel model = registry.find("mlp", null);
            assertEquals(1, model.service().cache().misses(), "zeros are one key");
            assertEquals(79, model.service().cache().hits());
            ModelStats.Snapshot after = model.stats().snapshot();
            assertEquals(0, after.cacheHits());
            assertEquals(0, after.cacheMisses());
        }
    }

    /** Every answer a failure (cnn's 3,136-byte input over a 1,024-byte request limit): counted, then it stops after ten in a row. */
    @Test
    void failedAnswersAreCountedAndTenInARowStopIt() {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("cnn", ModelCatalog.resolve("cnn")).withDynamicBatching(false).open(null));
        try (HotpathServer s = HotpathServer.open(registry, ServerInfo.of("test", 1024), new HotpathServer.Listen("127.0.0.1", 0, 0, -1, 1),
                GrpcTransport::start)) {
            ServerWarmup.ModelResult m = ServerWarmup.run(s, 1000, 60_000).get(0);
            assertEquals(0, m.http() + m.grpc(), m.toString());
            assertEquals(ServerWarmup.MAX_FAILURES_IN_A_ROW, m.failed(), m.toString());
            assertTrue(m.trouble());
            assertTrue(m.note().startsWith("stopped after 10 failed answers in a row; last failure: "), m.toString());
        }
    }

    /** A server on the wildcard address is warmed over loopback. */
    @Test
    void aServerOnTheWildcardAddressIsReachedOnLoopback() {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("mlp", MLP).withDynamicBatching(false).open(null));
        try (HotpathServer s = HotpathServer.open(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("0.0.0.0", 0, 0, -1, 1),
                GrpcTransport::start)) {
            assertEquals("127.0.0.1", s.connectHost());
            ServerWarmup.ModelResult m = ServerWarmup.run(s, 20, 60_000).get(0);
            assertNull(m.note(), m.toString());
            assertEquals(20, m.http(), m.toString());
            assertEquals(20, m.grpc(), m.toString());
        }
    }

    @Test
    void wildcardAddressesInEverySpellingAreReachedOnLoopback() {
        for (String w : new String[] {"0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "::0", ""}) {
            assertEquals("127.0.0.1", HotpathServer.loopbackIfWildcard(w), w);
        }
        for (String h : new String[] {"127.0.0.1", "::1", "10.1.2.3", "localhost", "host.example"}) {
            assertEquals(h, HotpathServer.loopbackIfWildcard(h), h);
        }
    }

    @Test
    void itsBudgetStopsIt() {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("mlp", MLP).withDynamicBatching(false).open(null));
        try (HotpathServer s = open(registry)) {
            assertNull(ServerWarmup.run(s, 200, 60_000).get(0).note(), "a first warm-up, so that no call of the next is slow");
            long t0 = System.nanoTime();
            ServerWarmup.ModelResult m = ServerWarmup.run(s, 10_000_000, 200).get(0);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals("stopped at its share of the time budget", m.note(), m.toString());
            assertFalse(m.trouble(), "running out of time is not a failure");
            assertTrue(m.http() < 10_000_000 && m.grpc() < 10_000_000, m.toString());
            assertTrue(ms < 30_000, "returned after " + ms + " ms");
        }
    }

    /** The event loop held still: no answer ever comes; the watchdog closes the warm-up's connection a second after the budget. */
    @Test
    void aCallThatNeverComesBackIsAbandonedAtTheBudget() throws Exception {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("mlp", MLP).withDynamicBatching(false).open(null));
        try (HotpathServer s = open(registry)) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch held = new CountDownLatch(1);
            EventLoop loop = s.eventLoops().next();
            loop.execute(() -> {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(held.await(10, TimeUnit.SECONDS));
            try {
                long t0 = System.nanoTime();
                ServerWarmup.ModelResult m = ServerWarmup.run(s, 100, 500).get(0);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(0, m.http() + m.grpc(), m.toString());
                assertEquals("a call got no answer within 1000 ms after its deadline; abandoned", m.note(), m.toString());
                assertTrue(m.trouble());
                assertTrue(ms >= 1450 && ms < 20_000, "returned after " + ms + " ms: abandoned 1 s after its 500 ms deadline");
            } finally {
                release.countDown();
            }
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.httpPort() + "/v2/health/live")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode(), "the server goes on");
        }
    }

    @Test
    void aDrainIsNotUndoneByALateMarkReadyAndBadArgumentsAreRefused() throws Exception {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("mlp", MLP).withDynamicBatching(false).open(null));
        HotpathServer s = open(registry);
        try {
            assertThrows(HotpathException.class, () -> ServerWarmup.run(s, -1, 10));
            assertThrows(HotpathException.class, () -> ServerWarmup.run(s, 1, -1));
            assertTrue(ServerWarmup.run(s, 0, 1000).isEmpty(), "0 requests: no warm-up");
            assertTrue(ServerWarmup.run(s, 10, 0).isEmpty(), "0 ms: no warm-up");
            Thread drain = Thread.ofPlatform().start(() -> s.drain(300, 1000));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (registry.state() != ModelRegistry.State.DRAINING && System.nanoTime() < end) {
                Thread.sleep(1);
            }
            assertEquals(ModelRegistry.State.DRAINING, registry.state());
            s.markReady();
            assertEquals(ModelRegistry.State.DRAINING, registry.state(), "markReady after a drain began changes nothing");
            drain.join(10_000);
            s.markReady();
            assertEquals(ModelRegistry.State.STOPPED, registry.state());
        } finally {
            s.close();
        }
    }
}
