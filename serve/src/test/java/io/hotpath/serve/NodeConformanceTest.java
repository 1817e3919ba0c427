package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hotpath.models.ModelCatalog;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real {@link HotpathServer} (HTTP and gRPC over the built-in {@code mlp}) driven by clients
 * nobody here wrote: Node's fetch and grpc-js through {@code src/test/node/conformance.mjs}, and
 * nghttp2's h2load sending gRPC {@code ModelInfer} through {@code src/test/h2load/grpc-infer.sh}.
 * Skipped, with the command that fixes it, where node, the Node modules or h2load are missing;
 * {@code .ci/run} installs them.
 */
class NodeConformanceTest {
    private static final Path NODE_DIR = Path.of("src/test/node");
    private static final Path H2LOAD_SCRIPT = Path.of("src/test/h2load/grpc-infer.sh");
    private static final int MAX_REQUEST_BYTES = 1 << 20;
    private static final long TIMEOUT_SECONDS = 120;
    private static final int H2LOAD_REQUESTS = 2000;

    /** What conformance.mjs must report passed, in its order. */
    private static final List<String> CHECKS = List.of(
            "http.health.live", "http.health.ready", "http.server.metadata", "http.model.metadata", "http.model.version.metadata",
            "http.model.ready", "http.model.version.ready", "http.model.config", "http.model.stats", "http.models.stats",
            "http.infer.json", "http.infer.json.batch", "http.infer.binary", "http.infer.binary-in.json-out", "http.infer.json-in.binary-out",
            "http.error.unknown-model", "http.error.malformed-json", "http.error.datatype", "http.error.shape", "http.error.truncated-binary",
            "http.error.oversized", "http.error.oversized.expect-continue", "http.error.deadline",
            "grpc.ServerLive", "grpc.ServerReady", "grpc.ModelReady", "grpc.ServerMetadata", "grpc.ModelMetadata", "grpc.ModelConfig",
            "grpc.ModelInfer.raw", "grpc.ModelInfer.fp32_contents", "grpc.ModelInfer.gzip", "grpc.ModelInfer.timeout-parameter", "grpc.ModelStatistics",
            "grpc.error.INVALID_ARGUMENT", "grpc.error.NOT_FOUND", "grpc.error.UNIMPLEMENTED", "grpc.error.RESOURCE_EXHAUSTED",
            "grpc.error.DEADLINE_EXCEEDED.timeout-parameter", "grpc.error.DEADLINE_EXCEEDED.deadline",
            "stats.accounting");

    private static HotpathServer server;
    private static ServedModel mlp;

    @BeforeAll
    static void start() {
        Path file = ModelCatalog.resolve("mlp");
        ModelRegistry registry = new ModelRegistry();
        mlp = ModelSettings.defaults("mlp", file).open(null);
        registry.add(mlp);
        try {
            // a batcher that holds a lone row for a second: a deadline passes while the row is at the server
            registry.add(ModelSettings.defaults("slow", file).withSlots(4).withBatching(ModelSettings.DEFAULT_MAX_BATCH, 1_000_000).open(null));
            server = HotpathServer.start(registry, ServerInfo.of("test", MAX_REQUEST_BYTES), new HotpathServer.Listen("127.0.0.1", 0, 0, 0, 1),
                    GrpcTransport::start);
        } catch (RuntimeException | Error e) {
            registry.all().forEach(ServedModel::close);
            throw e;
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void nodeFetchAndGrpcJsGetTheProtocolsAnswers() throws Exception {
        String node = requireNodeModules();
        Run run = run(NODE_DIR, "node-conformance", node, "conformance.mjs",
                "--http", "http://127.0.0.1:" + server.httpPort(),
                "--grpc", "127.0.0.1:" + server.grpcPort(),
                "--model", "mlp",
                "--max-request-bytes", Integer.toString(MAX_REQUEST_BYTES),
                "--slow-model", "slow");
        assertEquals(0, run.exit, () -> "conformance.mjs failed:\n" + run.output);
        List<String> passed = run.output.lines().filter(l -> l.startsWith("ok   ")).map(l -> l.substring(5).split(" ", 2)[0]).toList();
        assertEquals(CHECKS, passed, () -> "the checks that passed, against the ones expected:\n" + run.output);
        assertTrue(run.output.contains("all " + CHECKS.size() + " checks passed"), run.output);
    }

    @Test
    void h2loadSendsGrpcModelInferAndEveryCallSucceeds() throws Exception {
        requireNodeModules();
        assumeTrue(onPath("h2load").isPresent(), "skipped: h2load is not installed (Debian's nghttp2-client; .ci/run installs it)");
        ModelStats.Snapshot before = mlp.stats().snapshot();
        Run run = run(Path.of("."), "h2load-grpc", "bash", H2LOAD_SCRIPT.toString(), "127.0.0.1:" + server.grpcPort(),
                Integer.toString(H2LOAD_REQUESTS), "4", "8");
        assertEquals(0, run.exit, () -> "grpc-infer.sh failed:\n" + run.output);
        Matcher requests = Pattern.compile("requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored")
                .matcher(run.output);
        assertTrue(requests.find(), () -> "no requests line in h2load's output:\n" + run.output);
        String all = Integer.toString(H2LOAD_REQUESTS);
        assertEquals(List.of(all, all, all, all, "0", "0"),
                List.of(requests.group(1), requests.group(2), requests.group(3), requests.group(4), requests.group(5), requests.group(6)),
                () -> "h2load's requests line (total, started, done, succeeded, failed, errored):\n" + run.output);
        // HTTP 200 is all h2load sees: a gRPC error travels in the trailers. The server's statistics tell.
        ModelStats.Snapshot after = mlp.stats().snapshot();
        assertEquals(H2LOAD_REQUESTS, after.success() - before.success(), () -> "successful calls counted by the server\n" + run.output);
        assertEquals(0, after.failure() - before.failure(), () -> "failed calls counted by the server\n" + run.output);
        assertEquals(H2LOAD_REQUESTS, after.inferences() - before.inferences(), "rows inferred");
    }

    /** Node and the modules of src/test/node, or the test is skipped saying how to get them; returns node's path. */
    private static String requireNodeModules() {
        Optional<Path> node = onPath("node");
        assumeTrue(node.isPresent(), "skipped: node is not on the PATH (Node 20 or later runs src/test/node/conformance.mjs)");
        assumeTrue(Files.isDirectory(NODE_DIR.resolve("node_modules")), "skipped: " + NODE_DIR.resolve("node_modules").toAbsolutePath()
                + " is missing; install it with `cd serve/src/test/node && npm ci --no-audit --no-fund` (.ci/run does)");
        return node.get().toString();
    }

    private static Optional<Path> onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, command);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private record Run(int exit, String output) {
    }

    /** Runs a command in {@code dir}, stdout and stderr into target/{tag}.log, for at most two minutes. */
    private static Run run(Path dir, String tag, String... command) throws IOException, InterruptedException {
        Path log = Path.of("target", tag + ".log").toAbsolutePath();
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail(String.join(" ", command) + " ran past " + TIMEOUT_SECONDS + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
