package io.hotpath.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.models.ModelCatalog;
import io.hotpath.serve.HotpathServer;
import io.hotpath.serve.ModelRegistry;
import io.hotpath.serve.ModelSettings;
import io.hotpath.serve.ServedModel;
import io.hotpath.serve.ServerInfo;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A real {@code hotpath serve} (in process, the built-in mlp with a response cache) after real
 * requests: every series the Micrometer binder registers in a {@link SimpleMeterRegistry} is in the
 * server's {@code /metrics} text under the Prometheus form of the same name, with the same value.
 */
class HotpathMetersTest {
    static final String BODY = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":["
            + String.join(",", java.util.Collections.nCopies(64, "0.5")) + "]}]}";

    @Test
    void micrometerAndTheServersMetricsCarryTheSameSeries() throws Exception {
        ModelRegistry registry = new ModelRegistry();
        ServedModel mlp = ModelSettings.defaults("mlp", ModelCatalog.resolve("mlp")).withCacheBytes(1 << 20).open(null);
        registry.add(mlp);
        HotpathServer server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, -1, 0, 1), null);
        SimpleMeterRegistry micrometer = new SimpleMeterRegistry();
        List<Meter> meters = HotpathMeters.bind(mlp.service(), "mlp", micrometer);
        try {
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < 5; i++) {      // one engine run, then four cache hits
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/v2/models/mlp/infer"))
                        .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            String page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Double> served = new HashMap<>();
            for (String line : page.split("\n")) {
                if (line.startsWith("hotpath_") && line.contains("{model=\"mlp\",version=\"1\"}")) {
                    served.put(line.substring(0, line.indexOf('{')), Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
                }
            }
            assertTrue(meters.size() >= 12, "the batcher's and the cache's series: " + meters.size());
            for (Meter m : micrometer.getMeters()) {
                boolean counter = m instanceof FunctionCounter;
                String prometheus = m.getId().getName().replace('.', '_') + (counter ? "_total" : "");
                double value = counter ? ((FunctionCounter) m).count() : ((Gauge) m).value();
                assertTrue(served.containsKey(prometheus), prometheus + " (Micrometer " + m.getId().getName() + ") is not in /metrics:\n" + page);
                assertEquals(value, served.get(prometheus), prometheus);
                assertEquals("mlp", m.getId().getTag("model"));
            }
            assertEquals(4.0, micrometer.get("hotpath.cache.hits").functionCounter().count(), "four repeats answered by the cache");
            assertEquals(1.0, micrometer.get("hotpath.requests.completed").functionCounter().count(), "one engine answer");
        } finally {
            HotpathMeters.unbind(meters, micrometer);
            assertTrue(micrometer.getMeters().isEmpty());
            server.drain(0, 1000);
        }
    }
}
