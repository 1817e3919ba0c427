package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real {@code hotpath serve} processes behind a real HAProxy (Debian's, started here) on
 * loopback, under load from several keep-alive clients: a rolling restart of each instance in
 * turn (SIGTERM: drain, exit 0, a new process on the same port) fails no request; a killed
 * instance (SIGKILL) costs at most the requests in flight to it, each answered with an error,
 * and no request is left without an answer.
 */
class ServeClusterTest {
    static final String BODY = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":["
            + String.join(",", java.util.Collections.nCopies(64, "0.25")) + "]}]}";
    static final int CLIENTS = 4;

    final List<Process> processes = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stopAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    Process serve(int port, String tag) throws IOException {
        Process p = ServeProcesses.start(dir.resolve(tag + ".log"), "--model", "mlp", "--http-port", Integer.toString(port), "--grpc-port", "-1",
                "--metrics-port", "-1", "--drain-grace-ms", "2000");
        processes.add(p);
        return p;
    }

    void awaitReady(int port, Process p, String tag) throws Exception {
        ServeProcesses.awaitReady(port, p, dir.resolve(tag + ".log"), 90);
    }

    private static final java.util.regex.Pattern INFERENCES = java.util.regex.Pattern.compile("\"inference_count\"\\s*:\\s*(\\d+)");

    /**
     * Waits until the instance on {@code port} has run inferences sent through HAProxy (its own
     * statistics say so): HAProxy has marked it up and sends it traffic. A gate, not a sleep: a loaded
     * machine may take longer than a second to run HAProxy's checks.
     */
    void awaitServing(int port, String tag) throws Exception {
        HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest stats = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/mlp/stats")).timeout(Duration.ofSeconds(5)).build();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            java.util.regex.Matcher m = INFERENCES.matcher(c.send(stats, HttpResponse.BodyHandlers.ofString()).body());
            if (m.find() && Long.parseLong(m.group(1)) > 0) {
                return;
            }
            assertTrue(System.nanoTime() - end < 0, tag + " got no traffic through HAProxy within 60 s: " + Files.readString(dir.resolve("haproxy.log")));
            Thread.sleep(50);
        }
    }

    Process haproxy(int front, int s1, int s2) throws IOException {
        String cfg = """
                global
                    maxconn 256
                defaults
                    mode http
                    timeout connect 1s
                    timeout client 30s
                    timeout server 30s
                    retries 3
                    option redispatch
                    retry-on conn-failure empty-response response-timeout
                frontend fe
                    bind 127.0.0.1:%d
                    default_backend be
                backend be
                    balance roundrobin
                    option httpchk GET /v2/health/ready
                    timeout check 2s
                    default-server inter 250ms fall 3 rise 1
                    server s1 127.0.0.1:%d check
                    server s2 127.0.0.1:%d check
                """.formatted(front, s1, s2);
        Path f = dir.resolve("haproxy.cfg");
        Files.writeString(f, cfg);
        Process p = new ProcessBuilder("haproxy", "-db", "-f", f.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        processes.add(p);
        return p;
    }

    /** Clients that send the same request until stopped, counting answers by outcome. */
    static final class Load {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong ok = new AtomicLong();
        final AtomicLong sent = new AtomicLong();
        final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
        final List<Thread> threads = new ArrayList<>();
        volatile String firstAnswer;

        Load(int port) {
            for (int t = 0; t < CLIENTS; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
                    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/models/mlp/infer"))
                            .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
                    while (!stop.get()) {
                        sent.incrementAndGet();
                        try {
                            HttpResponse<String> r = c.send(req, HttpResponse.BodyHandlers.ofString());
                            String data = r.statusCode() == 200 ? r.body().substring(r.body().indexOf("\"data\"")) : null;
                            if (data != null && firstAnswer == null) {
                                firstAnswer = data;
                            }
                            if (data != null && data.equals(firstAnswer)) {
                                ok.incrementAndGet();
                            } else {
                                failures.computeIfAbsent(r.statusCode() == 200 ? "wrong answer" : "HTTP " + r.statusCode() + " "
                                        + r.body().lines().findFirst().orElse("").trim(), k -> new AtomicLong()).incrementAndGet();
                            }
                        } catch (IOException e) {
                            failures.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong()).incrementAndGet();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
        }

        long failed() {
            return failures.values().stream().mapToLong(AtomicLong::get).sum();
        }

        void finish() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
                assertTrue(!t.isAlive(), "a client is still waiting for an answer");
            }
        }
    }

    @Test
    void rollingRestartUnderLoadFailsNoRequestAndAKilledInstanceCostsOnlyItsInFlight() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/haproxy")) || Files.isExecutable(Path.of("/usr/bin/haproxy")),
                "HAProxy is not installed (Debian's haproxy package; .ci/run installs it)");
        int p1 = freePort();
        int p2 = freePort();
        int front = freePort();
        Process[] inst = {serve(p1, "s1"), serve(p2, "s2")};
        awaitReady(p1, inst[0], "s1");
        awaitReady(p2, inst[1], "s2");
        Process lb = haproxy(front, p1, p2);
        awaitReady(front, lb, "haproxy");
        Load load = new Load(front);
        awaitServing(p1, "s1");
        awaitServing(p2, "s2");
        int[] ports = {p1, p2};
        for (int k = 0; k < 2; k++) {
            long before = load.ok.get();
            inst[k].destroy();                                  // SIGTERM: drain
            assertTrue(inst[k].waitFor(60, TimeUnit.SECONDS), "instance " + k + " did not stop after SIGTERM");
            assertEquals(0, inst[k].exitValue(), "exit code after SIGTERM: " + Files.readString(dir.resolve("s" + (k + 1) + ".log")));
            assertTrue(load.ok.get() > before, "the other instance answered while instance " + k + " was away");
            inst[k] = serve(ports[k], "s" + (k + 1) + "b");
            awaitReady(ports[k], inst[k], "s" + (k + 1) + "b");
            awaitServing(ports[k], "s" + (k + 1) + "b");        // HAProxy marked it up (one check every 250 ms) and sends it traffic
        }
        long okAfterRestarts = load.ok.get();
        assertEquals(0, load.failed(), "failed requests across two rolling restarts: " + load.failures);
        assertTrue(okAfterRestarts > 100, "requests answered: " + okAfterRestarts);
        // now a crash: SIGKILL, no drain
        inst[0].destroyForcibly();
        inst[0].waitFor(10, TimeUnit.SECONDS);
        Thread.sleep(1500);
        load.finish();
        long failed = load.failed();
        assertTrue(failed <= CLIENTS, "a killed instance costs at most the requests in flight to it (" + CLIENTS + "), got " + load.failures);
        assertEquals(load.sent.get(), load.ok.get() + failed, "every request sent got an answer (a result or an error)");
        assertTrue(load.ok.get() > okAfterRestarts, "the surviving instance kept answering");
    }
}
