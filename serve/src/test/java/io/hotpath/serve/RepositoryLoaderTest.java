package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.hotpath.core.HotpathException;
import io.hotpath.models.ModelCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Triton-style repository served for real: configured, autocompleted, skipped and contradicted models. */
class RepositoryLoaderTest {
    @TempDir
    Path repo;

    void model(String name, String version, String config) throws Exception {
        Path v = Files.createDirectories(repo.resolve(name).resolve(version));
        Files.copy(ModelCatalog.resolve("mlp"), v.resolve("model.onnx"));
        if (config != null) {
            Files.writeString(repo.resolve(name).resolve("config.pbtxt"), config);
        }
    }

    @Test
    void servesConfiguredAndAutocompletedModelsAndSkipsWhatItCannot() throws Exception {
        model("scorer", "1", """
                name: "scorer"
                platform: "onnxruntime_onnx"
                max_batch_size: 16
                input [ { name: "features" data_type: TYPE_FP32 dims: [ 64 ] } ]
                output [ { name: "score" data_type: TYPE_FP32 dims: [ 1 ] } ]
                dynamic_batching { max_queue_delay_microseconds: 50 preferred_batch_size: [ 4, 8 ] }
                response_cache { enable: true }
                instance_group [ { count: 1 kind: KIND_CPU } ]
                """);
        model("scorer", "2", null);
        model("plain", "3", null);
        Files.createDirectories(repo.resolve("engine_plan").resolve("1"));
        Files.writeString(repo.resolve("engine_plan").resolve("config.pbtxt"), "platform: \"tensorrt_plan\"\n");
        List<ServedModel> models = RepositoryLoader.load(repo);
        ModelRegistry registry = new ModelRegistry();
        models.forEach(registry::add);
        assertEquals(List.of("plain", "scorer"), registry.all().stream().map(ServedModel::name).distinct().toList());
        ServedModel scorer = registry.find("scorer", null);
        assertEquals("2", scorer.version(), "version_policy latest: 1 serves the newest version only");
        assertEquals(16, scorer.maxRowsPerCall());
        assertTrue(scorer.service().cache() != null, "response_cache { enable: true } puts a cache in front");
        try (HotpathServer server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20),
                new HotpathServer.Listen("127.0.0.1", 0, -1, -1, 1), null)) {
            String base = "http://127.0.0.1:" + server.httpPort();
            java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
            java.util.function.Function<String, java.net.http.HttpResponse<byte[]>> get = path -> send(client,
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path)).GET().build());
            JsonNode config = HttpTransportTest.JSON.readTree(get.apply("/v2/models/scorer/config").body());
            assertEquals(16, config.get("max_batch_size").asInt());
            assertEquals(50, config.get("dynamic_batching").get("max_queue_delay_microseconds").asInt());
            JsonNode plain = HttpTransportTest.JSON.readTree(get.apply("/v2/models/plain/config").body());
            assertEquals("features", plain.get("input").get(0).get("name").asText(), "autocompleted from the model: " + plain);
            String body = HttpTransportTest.jsonInfer(HttpTransportTest.rows(2, 8), 2);
            for (String m : new String[] {"scorer", "plain"}) {
                var r = send(client, java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v2/models/" + m + "/infer"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build());
                assertEquals(200, r.statusCode(), new String(r.body()));
            }
            assertEquals(404, get.apply("/v2/models/engine_plan").statusCode());
        }
    }

    /** Its own client: HttpTransportTest's fields belong to that test's server. */
    static java.net.http.HttpResponse<byte[]> send(java.net.http.HttpClient c, java.net.http.HttpRequest r) {
        try {
            return c.send(r, java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aConfigThatContradictsTheModelFailsTheStartWithOneLine() throws Exception {
        model("wrong", "1", """
                name: "wrong"
                backend: "onnxruntime"
                max_batch_size: 8
                input [ { name: "features" data_type: TYPE_FP32 dims: [ 32 ] } ]
                output [ { name: "score" data_type: TYPE_FP32 dims: [ 1 ] } ]
                """);
        HotpathException e = assertThrows(HotpathException.class, () -> RepositoryLoader.load(repo));
        assertTrue(e.getMessage().contains("model 'wrong' version 1: its config.pbtxt disagrees with model.onnx"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    /** Which shared cache tier each model gets: its own cache.redis, else the server's when its response cache is on, never with cache.redis=off. */
    @Test
    void theSharedCacheTierComesFromTheModelOrTheServer() throws Exception {
        String cached = "max_batch_size: 8\nresponse_cache { enable: true }\n";
        model("plain", "1", "max_batch_size: 8\n");
        model("cached", "1", cached);
        model("own", "1", "max_batch_size: 8\n");
        Files.writeString(repo.resolve("own").resolve("hotpath.properties"), "cache.redis=redis://own:6379\ncache.redis.budget_us=900\n");
        model("optout", "1", cached);
        Files.writeString(repo.resolve("optout").resolve("hotpath.properties"), "cache.redis=off\n");
        var server = new ModelSettings.SharedCacheSettings("redis://server:6379", java.time.Duration.ofSeconds(60), java.time.Duration.ofNanos(2_000_000));
        java.util.Map<String, ModelSettings.SharedCacheSettings> got = new java.util.HashMap<>();
        for (var e : io.hotpath.serve.repository.ModelRepository.scan(repo).models()) {
            got.put(e.name(), RepositoryLoader.sharedCache(e, server));
        }
        assertEquals(null, got.get("plain"), "no response cache: the server's tier does not apply");
        assertEquals(server, got.get("cached"));
        assertEquals(new ModelSettings.SharedCacheSettings("redis://own:6379", java.time.Duration.ofSeconds(60), java.time.Duration.ofNanos(900_000)),
                got.get("own"), "the model's own URI and budget, the server's TTL");
        assertEquals(null, got.get("optout"));
        assertEquals("redis://h:1 ttl 60 s, budget 2000 µs", new ModelSettings.SharedCacheSettings("redis://user:pw@h:1",
                java.time.Duration.ofSeconds(60), java.time.Duration.ofNanos(2_000_000)).toString(), "credentials never shown");
    }

    @Test
    void aRepositoryWithNothingToServeSaysWhy() throws Exception {
        Files.createDirectories(repo.resolve("plan").resolve("1"));
        Files.writeString(repo.resolve("plan").resolve("config.pbtxt"), "platform: \"tensorrt_plan\"\n");
        HotpathException e = assertThrows(HotpathException.class, () -> RepositoryLoader.load(repo));
        assertTrue(e.getMessage().contains("has no model Hotpath can serve; skipped: "), e.getMessage());
    }
}
