package io.hotpath.cli;

import io.hotpath.models.ModelCatalog;
import io.hotpath.serve.HotpathServer;
import io.hotpath.serve.ModelRegistry;
import io.hotpath.serve.ModelSettings;
import io.hotpath.serve.ServedModel;
import io.hotpath.serve.ServerInfo;
import io.hotpath.service.EngineChoice;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hotpath serve}: a model server over the Open Inference Protocol (KServe v2): HTTP/REST
 * and gRPC, Prometheus metrics with Triton's names. Prints one line when ready; SIGTERM (or
 * Ctrl-C) drains it (not ready, finishes what it accepted) and it exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serves models over the Open Inference Protocol (KServe v2): HTTP on --http-port, gRPC on --grpc-port, "
                + "Prometheus metrics on --metrics-port (Triton's defaults 8000, 8001, 8002). Prints one line when ready. "
                + "SIGTERM: not ready at once, answers what it accepted, exits 0.")
final class ServeCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--model", paramLabel = "FILE|ALIAS", description = "One model: an ONNX file or a built-in alias "
                + "(served under the alias, or the file name without .onnx, version 1).", completionCandidates = BenchCommand.Aliases.class)
        String model;

        @Option(names = "--model-repository", paramLabel = "DIR", description = "A Triton-style repository: DIR/<model>/<version>/model.onnx "
                + "with config.pbtxt and hotpath.properties (docs/serve-repository.md).")
        Path repository;
    }

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--http-port", defaultValue = "8000", description = "HTTP/REST port (default ${DEFAULT-VALUE}; 0: any free port; -1: off).")
    int httpPort;

    @Option(names = "--grpc-port", defaultValue = "8001", description = "gRPC port (default ${DEFAULT-VALUE}; 0: any free port; -1: off).")
    int grpcPort;

    @Option(names = "--metrics-port", defaultValue = "8002", description = "Prometheus metrics port (default ${DEFAULT-VALUE}; 0: any free port; -1: off).")
    int metricsPort;

    @Option(names = "--engine", defaultValue = "best", description = "With --model: best, cpu or tensorrt (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--max-batch", defaultValue = "32", description = "With --model: the batcher's largest batch and the most rows one request may carry (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-queue-delay-us", defaultValue = "0", description = "With --model: how long the batcher waits for a fuller batch (default ${DEFAULT-VALUE}).")
    long maxQueueDelayUs;

    @Option(names = "--batching", defaultValue = "on", paramLabel = "on|off", description = "With --model: group concurrent requests "
            + "into engine batches (on), or run each at once on the thread that read it (off: the lowest latency for a small model; "
            + "Triton's config without dynamic_batching) (default ${DEFAULT-VALUE}).")
    String batching;

    @Option(names = "--batcher-thread", defaultValue = "event-loop", paramLabel = "event-loop|own", description = "Where a batching "
            + "model's batcher runs: on the event loop that read the requests (event-loop: the requests read in one pass over the sockets "
            + "become one engine run, no hand-off between threads; for models with no queue delay and no Redis tier, and only with "
            + "--event-loop-threads 1: otherwise a thread) or on a thread of its own per model (own) (default ${DEFAULT-VALUE}).")
    String batcherThread;

    @Option(names = "--cache-bytes", defaultValue = "0", description = "With --model: the response cache's budget; 0: no cache (default ${DEFAULT-VALUE}).")
    long cacheBytes;

    @Option(names = "--redis", paramLabel = "URI", description = "A shared cache tier on Redis behind the response cache, shared by every "
            + "instance pointed at it: redis://host:port or rediss://host:port (TLS; credentials in the URI are never logged). With --model it "
            + "applies to the model (and gives it a 16 MiB response cache when --cache-bytes is 0); with --model-repository to every model "
            + "whose config enables response_cache (hotpath.properties cache.redis overrides). Needs hotpath-cache-redis, which the CLI carries.")
    String redis;

    @Option(names = "--redis-ttl-s", defaultValue = "3600", description = "With --redis: how long an entry lives in Redis, seconds (default ${DEFAULT-VALUE}).")
    long redisTtlS;

    @Option(names = "--redis-budget-us", defaultValue = "300", description = "With --redis: how long a lookup may take before the request "
            + "goes to the engine, µs (default ${DEFAULT-VALUE}).")
    long redisBudgetUs;

    @Option(names = "--slots", defaultValue = "1024", description = "With --model: rows in flight before requests are refused with 429 / RESOURCE_EXHAUSTED (default ${DEFAULT-VALUE}).")
    int slots;

    @Option(names = "--request-timeout-ms", defaultValue = "0", description = "With --model: the deadline of a request that carries none; 0: none (default ${DEFAULT-VALUE}).")
    long requestTimeoutMs;

    @Option(names = "--max-request-bytes", defaultValue = "67108864", description = "Largest request body or gRPC message (default ${DEFAULT-VALUE}).")
    long maxRequestBytes;

    @Option(names = "--event-loop-threads", defaultValue = "1", description = "Netty event loop threads shared by HTTP, gRPC and metrics (default ${DEFAULT-VALUE}).")
    int eventLoopThreads;

    @Option(names = "--busy-poll", description = "The event loops poll their sockets without sleeping: the lowest latency (no thread "
            + "wake-up per request), one core kept busy per event loop. Native epoll only.")
    boolean busyPoll;

    @Option(names = "--warmup-requests", defaultValue = "10000", description = "Before it says ready: requests the server sends itself over each "
            + "of its own listeners (HTTP binary and gRPC, zeros at batch 1, one at a time, shared out over the models), so the JIT has compiled "
            + "the transports' path (with a response cache, only the first reaches the engine); statistics start over afterwards; 0: none "
            + "(default ${DEFAULT-VALUE}).")
    int warmupRequests;

    @Option(names = "--warmup-ms", defaultValue = "10000", description = "The most time the warm-up may take, all models together (default ${DEFAULT-VALUE}).")
    long warmupMs;

    @Option(names = "--drain-grace-ms", defaultValue = "3000", description = "After SIGTERM: how long to keep answering new requests while not ready, "
            + "so load balancers take the instance out (default ${DEFAULT-VALUE}).")
    long drainGraceMs;

    @Option(names = "--drain-timeout-ms", defaultValue = "30000", description = "After the grace period: how long to wait for accepted requests (default ${DEFAULT-VALUE}).")
    long drainTimeoutMs;

    @Override
    public Integer call() throws Exception {
        Checks checks = new Checks(spec);
        checks.range("--http-port", httpPort, -1, 65535, null);
        checks.range("--grpc-port", grpcPort, -1, 65535, null);
        checks.range("--metrics-port", metricsPort, -1, 65535, null);
        checks.range("--max-batch", maxBatch, 1, 4096, null);
        checks.range("--max-queue-delay-us", maxQueueDelayUs, 0, 10_000_000, null);
        checks.range("--cache-bytes", cacheBytes, 0, 1L << 40, null);
        checks.range("--slots", slots, 1, 1 << 20, null);
        checks.range("--request-timeout-ms", requestTimeoutMs, 0, 86_400_000, null);
        checks.range("--max-request-bytes", maxRequestBytes, 1024, Integer.MAX_VALUE - 1024, null);
        checks.oneOf("--batching", batching, "on", "off");
        checks.oneOf("--batcher-thread", batcherThread, "event-loop", "own");
        checks.range("--event-loop-threads", eventLoopThreads, 1, 256, null);
        checks.range("--warmup-requests", warmupRequests, 0, 10_000_000, null);
        checks.range("--warmup-ms", warmupMs, 0, 3_600_000, null);
        checks.range("--drain-grace-ms", drainGraceMs, 0, 600_000, null);
        checks.range("--drain-timeout-ms", drainTimeoutMs, 0, 3_600_000, null);
        checks.range("--redis-ttl-s", redisTtlS, 1, 315_360_000, null);
        checks.range("--redis-budget-us", redisBudgetUs, 1, 60_000_000, null);
        if (redis != null && !redis.matches("(?i)rediss?://\\S+")) {
            throw checks.fail("--redis: expected redis://host:port or rediss://host:port (TLS)");
        }
        oneLineLogs();
        HotpathServer.leakDetectionOffUnlessAsked();
        ServerInfo info = ServerInfo.of("0.1.0", maxRequestBytes);
        ModelRegistry registry = new ModelRegistry();
        try {
            load(registry);
        } catch (RuntimeException | Error e) {
            for (ServedModel m : registry.all()) {
                m.close();
            }
            throw e;
        }
        HotpathServer server;
        try {
            server = HotpathServer.open(registry, info, new HotpathServer.Listen(host, httpPort, grpcPort, metricsPort, eventLoopThreads, busyPoll),
                    io.hotpath.serve.GrpcTransport::start);
        } catch (RuntimeException | Error e) {
            for (ServedModel m : registry.all()) {
                m.close();
            }
            throw e;
        }
        long warmupStart = System.nanoTime();
        List<io.hotpath.serve.ServerWarmup.ModelResult> warmed;
        try {
            warmed = io.hotpath.serve.ServerWarmup.run(server, warmupRequests, warmupMs);
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
        long warmupMillis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - warmupStart);
        System.Logger log = System.getLogger("io.hotpath.serve.warmup");
        for (io.hotpath.serve.ServerWarmup.ModelResult r : warmed) {
            log.log(r.trouble() ? System.Logger.Level.WARNING : System.Logger.Level.INFO, "warm-up " + r);
        }
        server.markReady();
        CountDownLatch stop = new CountDownLatch(1);
        sun.misc.SignalHandler onStop = sig -> stop.countDown();
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), onStop);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), onStop);
        System.out.println("hotpath serve ready: http " + listening(host, server.httpPort()) + " grpc " + listening(host, server.grpcPort())
                + " metrics " + listening(host, server.metricsPort()) + " transport " + server.transport() + " models "
                + registry.all().stream().map(m -> m.name() + "/" + m.version() + " (" + m.service().engine().describe().split("\n")[0]
                        + (m.batchesOnEventLoop() ? "; batches on the event loop" : "") + ")").toList()
                + (warmed.isEmpty() ? "" : " warm-up " + warmupMillis + " ms"));
        System.out.flush();
        stop.await();
        System.out.println("hotpath serve draining: not ready; answering what was accepted");
        System.out.flush();
        boolean drained = server.drain(drainGraceMs, drainTimeoutMs);
        System.out.println("hotpath serve stopped" + (drained ? "" : " (the drain timeout passed with requests still in flight)"));
        System.out.flush();
        return drained ? 0 : 1;
    }

    private void load(ModelRegistry registry) {
        if (source.repository != null) {
            for (ServedModel m : io.hotpath.serve.RepositoryLoader.load(source.repository, sharedCache(), batcherOnEventLoop())) {
                registry.add(m);
            }
            return;
        }
        Path file = ModelCatalog.resolve(source.model);
        String name = ModelCatalog.ALIASES.contains(source.model) ? source.model : stripOnnx(file.getFileName().toString());
        ModelSettings s = ModelSettings.defaults(name, file).withEngine(EngineChoice.parse(engine)).withBatching(maxBatch, maxQueueDelayUs)
                .withCacheBytes(cacheBytes).withSlots(slots).withRequestTimeoutMillis(requestTimeoutMs).withDynamicBatching(batching.equals("on"))
                .withSharedCache(sharedCache()).withBatcherOnEventLoop(batcherOnEventLoop());
        registry.add(s.open(null));
    }

    /**
     * The batcher goes on the event loop with one loop only: with more, all of a model's batches would run on one of
     * them and the others would hand their calls over and back, as to a batcher thread, with the engine's work added
     * to one loop's sockets.
     */
    private boolean batcherOnEventLoop() {
        return batcherThread.equals("event-loop") && eventLoopThreads == 1;
    }

    private ModelSettings.SharedCacheSettings sharedCache() {
        return redis == null ? null : new ModelSettings.SharedCacheSettings(redis, java.time.Duration.ofSeconds(redisTtlS),
                java.time.Duration.ofNanos(redisBudgetUs * 1000));
    }

    private static String stripOnnx(String f) {
        return f.endsWith(".onnx") ? f.substring(0, f.length() - 5) : f;
    }

    /** One line per log record (time, level, logger, message with its line breaks escaped) for log collectors. */
    private static void oneLineLogs() {
        io.hotpath.serve.OneLineLogFormat.install();
    }

    /** {@code host:port}, or {@code off} for a listener turned off (-1). */
    private static String listening(String host, int port) {
        return port < 0 ? "off" : host + ":" + port;
    }
}
