package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hotpath.redis.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real {@code hotpath serve} processes serving MiniLM INT8 ({@code minilm-q}) with one real
 * {@code redis-server} as their shared cache tier: every request sent to the second instance
 * repeats one the first instance computed, so the second answers from Redis, bit for bit the
 * first one's engine answer, and its engine runs for none of them (read from its own
 * {@code /metrics}).
 */
class SharedCacheServeTest {
    static final int SEQ = 16;
    static final int REQUESTS = 60;

    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    @AfterEach
    void stopAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    Process serve(String tag, int httpPort, int metricsPort, String redisUri) throws IOException {
        Process p = ServeProcesses.start(dir.resolve(tag + ".log"), "--model", "minilm-q", "--http-port", Integer.toString(httpPort),
                "--grpc-port", "-1", "--metrics-port", Integer.toString(metricsPort), "--max-batch", "8", "--cache-bytes", "67108864",
                "--redis", redisUri, "--redis-budget-us", "2000000");   // 2 s: this test checks where answers come from, not this VM's scheduling (a lookup abandoned at the budget would rightly run on the engine)
        processes.add(p);
        return p;
    }

    void awaitReady(int port, Process p, String tag) throws Exception {
        ServeProcesses.awaitReady(port, p, dir.resolve(tag + ".log"), 120);
    }

    /** A tokenized-looking request: [CLS], SEQ-2 word ids from {@code seed}, [SEP]; mask all ones. */
    static String body(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder ids = new StringBuilder("101");
        for (int i = 1; i < SEQ - 1; i++) {
            ids.append(',').append(1000 + r.nextInt(28000));
        }
        ids.append(",102");
        String ones = String.join(",", java.util.Collections.nCopies(SEQ, "1"));
        String zeros = String.join(",", java.util.Collections.nCopies(SEQ, "0"));
        return "{\"inputs\":["
                + "{\"name\":\"input_ids\",\"shape\":[1," + SEQ + "],\"datatype\":\"INT64\",\"data\":[" + ids + "]},"
                + "{\"name\":\"attention_mask\",\"shape\":[1," + SEQ + "],\"datatype\":\"INT64\",\"data\":[" + ones + "]},"
                + "{\"name\":\"token_type_ids\",\"shape\":[1," + SEQ + "],\"datatype\":\"INT64\",\"data\":[" + zeros + "]}]}";
    }

    String infer(int port, long seed) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/minilm-q/infer"))
                .POST(HttpRequest.BodyPublishers.ofString(body(seed))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /** One sample's value from a Prometheus text page ({@code name{model="minilm-q",...}}), 0 when absent. */
    long metric(int metricsPort, String name) throws Exception {
        String page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : page.split("\n")) {
            if (line.startsWith(name + "{model=\"minilm-q\"")) {
                return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    @Test
    void theSecondInstanceAnswersWhatTheFirstComputedFromRedisBitForBit() throws Exception {
        assumeTrue(RedisServer.installed(), "redis-server is not installed (.ci/run installs Debian's redis-server)");
        try (RedisServer redis = RedisServer.start()) {
            int httpA = RedisServer.freePort();
            int metricsA = RedisServer.freePort();
            int httpB = RedisServer.freePort();
            int metricsB = RedisServer.freePort();
            Process a = serve("a", httpA, metricsA, redis.uri());
            Process b = serve("b", httpB, metricsB, redis.uri());
            awaitReady(httpA, a, "a");
            awaitReady(httpB, b, "b");
            // each instance's tier connects, warms up and closes its breaker on a probe: send fresh inputs until it has
            long probe = 1_000_000;
            for (int port : new int[] {httpA, httpB}) {
                int metrics = port == httpA ? metricsA : metricsB;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                do {
                    infer(port, probe++);
                    assertTrue(System.nanoTime() < end, "the shared tier did not connect: " + Files.readString(dir.resolve(port == httpA ? "a.log" : "b.log")));
                } while (metric(metrics, "hotpath_cache_l2_breaker_open") != 0);
            }

            List<String> fromA = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                fromA.add(infer(httpA, i));
            }
            long writesEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (metric(metricsA, "hotpath_cache_l2_writes_total") < REQUESTS) {
                assertTrue(System.nanoTime() < writesEnd, "A's answers did not all reach Redis");
                Thread.sleep(20);
            }

            long execs0 = metric(metricsB, "nv_inference_exec_count");
            long hits0 = metric(metricsB, "hotpath_cache_l2_hits_total");
            for (int i = 0; i < REQUESTS; i++) {
                assertEquals(fromA.get(i), infer(httpB, i), "request " + i + ": B's answer is A's engine answer, byte for byte");
            }
            long engineRuns = metric(metricsB, "nv_inference_exec_count") - execs0;
            long hits = metric(metricsB, "hotpath_cache_l2_hits_total") - hits0;
            assertTrue(engineRuns <= REQUESTS / 100, "B's engine ran " + engineRuns + " times for " + REQUESTS + " requests A had computed");
            assertEquals(REQUESTS, hits, "every request answered by the shared tier");
            assertEquals(0, metric(metricsB, "hotpath_cache_l2_corrupt_total"));
        }
    }
}
