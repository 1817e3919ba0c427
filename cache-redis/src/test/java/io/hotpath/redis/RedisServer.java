package io.hotpath.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} of the test's own, on a free loopback port, without persistence,
 * with the faults the shared tier must survive: {@link #kill()}, {@link #pause()} /
 * {@link #resume()} (SIGSTOP / SIGCONT), {@link #debugSleep} and {@link #restart()} on the same
 * port. Commands go over a plain socket in RESP, so the tests check Redis with no client of ours.
 * Tests skip (assumption) only where {@code redis-server} is not installed; {@code .ci/run} installs it.
 */
public final class RedisServer implements AutoCloseable {
    private final int port;
    private final Path dir;
    private Process process;

    private RedisServer(int port, Path dir) {
        this.port = port;
        this.dir = dir;
    }

    /** Whether {@code redis-server} is on the PATH. */
    public static boolean installed() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, "redis-server"))) {
                return true;
            }
        }
        return false;
    }

    /** Starts one on a free port and waits until it answers PING. */
    public static RedisServer start() throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            RedisServer s = new RedisServer(freePort(), Files.createTempDirectory("hotpath-redis"));
            try {
                s.launch();
                return s;
            } catch (IOException e) {
                last = e;     // the port was taken between choosing and binding it: choose again
                s.close();
            }
        }
        throw last;
    }

    /** A loopback port nothing listens on now (for "Redis is down" cases). */
    public static int freePort() throws IOException {
        try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return ss.getLocalPort();
        }
    }

    /** A server on {@code port}, which must be free (a Redis that comes up where the service expected it). */
    public static RedisServer startOn(int port) throws IOException, InterruptedException {
        RedisServer s = new RedisServer(port, Files.createTempDirectory("hotpath-redis"));
        s.launch();
        return s;
    }

    private void launch() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no",
                "--enable-debug-command", "local", "--loglevel", "warning"));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            if (!process.isAlive()) {
                throw new IOException("redis-server on port " + port + " exited: " + Files.readString(dir.resolve("redis.log")));
            }
            try {
                if ("PONG".equals(command("PING"))) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("redis-server on port " + port + " did not answer PING within 10 s");
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Sends one command in RESP and returns a simple, integer or bulk reply as text (null for a nil), or the elements of an array joined by newlines. */
    public String command(String... args) throws IOException {
        byte[][] b = new byte[args.length][];
        for (int i = 0; i < args.length; i++) {
            b[i] = args[i].getBytes(StandardCharsets.UTF_8);
        }
        byte[] r = commandBytes(b);
        return r == null ? null : new String(r, StandardCharsets.UTF_8);
    }

    /** As {@link #command(String...)}, with binary arguments and reply. */
    public byte[] commandBytes(byte[]... args) throws IOException {
        try (Socket s = new Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            java.io.ByteArrayOutputStream req = new java.io.ByteArrayOutputStream();
            req.write(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (byte[] a : args) {
                req.write(("$" + a.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                req.write(a);
                req.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write(req.toByteArray());
            out.flush();
            return reply(new java.io.BufferedInputStream(s.getInputStream()));
        }
    }

    private static byte[] reply(InputStream in) throws IOException {
        int type = in.read();
        String line = readLine(in);
        switch (type) {
            case '+', ':' -> {
                return line.getBytes(StandardCharsets.UTF_8);
            }
            case '-' -> throw new IOException("redis error: " + line);
            case '$' -> {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(n);
                in.readNBytes(2);
                return b;
            }
            case '*' -> {
                int n = Integer.parseInt(line);
                java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
                for (int i = 0; i < n; i++) {
                    byte[] e = reply(in);
                    if (i > 0) {
                        all.write('\n');
                    }
                    if (e != null) {
                        all.write(e);
                    }
                }
                return all.toByteArray();
            }
            default -> throw new IOException("unexpected RESP reply type " + type);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != -1; ) {
            if (c == '\r') {
                in.read();
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    /** Every key matching {@code pattern}. */
    public List<String> keys(String pattern) throws IOException {
        String r = command("KEYS", pattern);
        return r == null || r.isEmpty() ? List.of() : List.of(r.split("\n"));
    }

    /** SIGKILL: the connection drops at once. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Starts a fresh (empty) server on the same port after {@link #kill()}. */
    public void restart() throws IOException, InterruptedException {
        launch();
    }

    /** SIGSTOP: the connection stays up and nothing answers. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String sig) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("kill -" + sig + " " + process.pid() + " failed");
        }
    }

    /** {@code DEBUG SLEEP seconds} on a thread of its own: the server answers nothing for that long. */
    public Thread debugSleep(double seconds) {
        Thread t = new Thread(() -> {
            try {
                command("DEBUG", "SLEEP", Double.toString(seconds));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "redis-debug-sleep");
        t.start();
        return t;
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
