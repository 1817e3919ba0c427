package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.models.ModelCatalog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A graceful stop: not ready at once, every accepted request answered, then nothing listens; with the batcher on a
 * thread of its own and on the event loop.
 */
class DrainTest {
    @ParameterizedTest(name = "batcher on the event loop: {0}")
    @ValueSource(booleans = {false, true})
    void drainAnswersWhatWasAcceptedAndStopsListening(boolean batcherOnEventLoop) throws Exception {
        ModelRegistry registry = new ModelRegistry();
        ServedModel model = ModelSettings.defaults("mlp", ModelCatalog.resolve("mlp")).withBatcherOnEventLoop(batcherOnEventLoop).open(null);
        assertEquals(batcherOnEventLoop, model.batchesOnEventLoop());
        registry.add(model);
        HotpathServer server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, -1, 0, 1),
                null);
        String base = "http://127.0.0.1:" + server.httpPort();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        assertEquals(200, client.send(HttpRequest.newBuilder(URI.create(base + "/v2/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        String body = HttpTransportTest.jsonInfer(HttpTransportTest.rows(4, 3), 4);
        List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            inFlight.add(client.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v2/models/mlp/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        // a 4 s grace: the 40 requests above and the three below must reach the server within it, on a loaded machine too
        CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> server.drain(4_000, 20_000));
        // during the grace period: not ready, but still answering
        long until = System.nanoTime() + 5_000_000_000L;
        while (registry.ready() && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        HttpClient fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        assertEquals(503, fresh.send(HttpRequest.newBuilder(URI.create(base + "/v2/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        assertEquals(200, fresh.send(HttpRequest.newBuilder(URI.create(base + "/v2/health/live")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        HttpResponse<String> late = fresh.send(HttpRequest.newBuilder(URI.create(base + "/v2/models/mlp/infer"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, late.statusCode(), "a request sent while draining is still answered");
        assertEquals("close", late.headers().firstValue("connection").orElse(""), "and its connection closed, so the client goes elsewhere");
        for (CompletableFuture<HttpResponse<String>> f : inFlight) {
            HttpResponse<String> r = f.get();
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"shape\":[4,1]"), r.body());
        }
        assertTrue(drained.get(), "every accepted request answered within the drain timeout");
        assertEquals(ModelRegistry.State.STOPPED, registry.state());
        HttpClient after = HttpClient.newHttpClient();
        assertThrows(java.io.IOException.class, () -> after.send(HttpRequest.newBuilder(URI.create(base + "/v2/health/live")).build(),
                HttpResponse.BodyHandlers.discarding()));
    }
}
