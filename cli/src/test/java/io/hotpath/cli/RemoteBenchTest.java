package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hotpath.models.ModelCatalog;
import io.hotpath.serve.GrpcTransport;
import io.hotpath.serve.HotpathServer;
import io.hotpath.serve.ModelRegistry;
import io.hotpath.serve.ModelSettings;
import io.hotpath.serve.ServerInfo;
import io.hotpath.serve.client.GrpcInferClient;
import io.hotpath.serve.client.HttpInferClient;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hotpath bench --url} against a real server in this JVM, over HTTP (binary and JSON) and gRPC, closed and open loop. */
class RemoteBenchTest {
    static HotpathServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        ModelRegistry registry = new ModelRegistry();
        registry.add(ModelSettings.defaults("mlp", ModelCatalog.resolve("mlp")).open(null));
        // a lone request waits 10 s for company in the batcher: a server that stalls as far as one client can tell
        registry.add(ModelSettings.defaults("stalled", ModelCatalog.resolve("mlp")).withSlots(8).withBatching(32, 10_000_000).open(null));
        server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, 0, -1, 1),
                GrpcTransport::start);
        // four rows at once make four request handles: a later lone row then waits for company (with one handle it could
        // not: no company can come)
        try (GrpcInferClient c = new GrpcInferClient("127.0.0.1", server.grpcPort(), "stalled",
                java.util.List.of(new HttpInferClient.Input("features", "FP32", new long[] {4, 64}, 4 * 64 * 4)))) {
            assertEquals(GrpcInferClient.OK, c.infer(java.nio.ByteBuffer.allocateDirect(4 * 64 * 4)), c.statusMessage());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    JsonNode bench(String url, String... more) throws Exception {
        Path json = dir.resolve("bench-" + System.nanoTime() + ".json");
        String[] args = new String[6 + more.length];
        System.arraycopy(new String[] {"bench", "--url", url, "--model", "mlp", "--json=" + json}, 0, args, 0, 6);
        System.arraycopy(more, 0, args, 6, more.length);
        CliRun.Result r = CliRun.run(args);
        assertEquals(0, r.code(), r.out() + r.err());
        return new ObjectMapper().readTree(json.toFile());
    }

    @Test
    void everyTransportAndLoopAnswersEveryRequest() throws Exception {
        String http = "http://127.0.0.1:" + server.httpPort();
        String grpc = "grpc://127.0.0.1:" + server.grpcPort();
        for (JsonNode doc : new JsonNode[] {
            bench(http, "--concurrency", "1,3", "--iterations", "300", "--warmup", "20"),
            bench(http, "--wire", "json", "--concurrency", "2", "--iterations", "200", "--warmup", "20"),
            bench(grpc, "--concurrency", "1,3", "--iterations", "300", "--warmup", "20"),
            bench(http, "--rate", "400", "--duration-s", "0.5", "--warmup", "5"),
            bench(grpc, "--rate", "400", "--duration-s", "0.5", "--warmup", "5")}) {
            for (JsonNode step : doc.get("steps")) {
                assertTrue(step.get("ok").asLong() > 0, doc.toString());
                assertEquals(0, step.get("errors").size(), doc.toString());
                assertTrue(step.get("p50_us").asDouble() > 0 && step.get("p99_us").asDouble() >= step.get("p50_us").asDouble(), doc.toString());
            }
        }
    }

    @Test
    void aRequestUnansweredPastTheTimeoutEndsTheRunWithTimeouts() {
        for (String url : new String[] {"http://127.0.0.1:" + server.httpPort(), "grpc://127.0.0.1:" + server.grpcPort()}) {
            CliRun.Result r = CliRun.run("bench", "--url", url, "--model", "stalled", "--concurrency", "1", "--iterations", "3", "--warmup", "0",
                    "--request-timeout-s", "1");
            assertEquals(1, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("no request was answered") && r.err().contains("timeout="), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }

    @Test
    void anUnknownModelOrAMissingServerIsOneLineAndExitCode2() {
        CliRun.Result r = CliRun.run("bench", "--url", "http://127.0.0.1:" + server.httpPort(), "--model", "nope");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("hotpath: NOT_FOUND: the server at http://127.0.0.1:") && r.err().contains("has no model 'nope'"), r.err());
        r = CliRun.run("bench", "--url", "grpc://127.0.0.1:" + server.grpcPort(), "--model", "nope");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("answered ModelMetadata for 'nope' with NOT_FOUND"), r.err());
        r = CliRun.run("bench", "--url", "ftp://127.0.0.1:1", "--model", "mlp");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("give http://HOST:PORT"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
