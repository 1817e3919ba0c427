package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.concurrent.TimeUnit;

/** Real {@code hotpath serve} processes for the tests that need several: started on this JVM's class path, each logging to its own file. */
final class ServeProcesses {
    private ServeProcesses() {
    }

    /** Starts {@code hotpath serve ARGS...} with the build's JVM flags, stdout and stderr to {@code log}. */
    static Process start(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(Files.readString(Path.of("target/jvm.flags")).trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.hotpath.cli.HotpathCommand", "serve"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until {@code port} answers 200 on /v2/health/ready (HAProxy's front end included); fails with the log when {@code p} exits. */
    static void awaitReady(int port, Process p, Path log, long seconds) throws Exception {
        HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            assertTrue(p.isAlive(), log.getFileName() + " exited: " + Files.readString(log));
            try {
                if (c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(log.getFileName() + " not ready in " + seconds + " s: " + Files.readString(log));
    }
}
