package io.hotpath.serve;

import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import io.hotpath.serve.client.GrpcInferClient;
import io.hotpath.serve.client.HttpInferClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Warms a server that is open but not yet ready: each model gets requests over the server's own
 * HTTP (binary tensors) and gRPC listeners, from a client in this process over loopback, one at a
 * time, alternating between the two. The JIT compiles the path a request takes through Netty,
 * the HTTP/2 and gRPC stacks, the batcher and the engine only after it has run it many times: a
 * server that says ready without this answers its first thousands of gRPC requests an order of
 * magnitude slower (measured: docs/serve.md, "Warm-up before ready").
 *
 * <p>Every input is zeros at batch 1 (a variable dimension is 1): valid for every numeric model,
 * and one cache key, so a response cache keeps one entry from it (with a cache, the later
 * requests are cache hits). Models with an input the wire has no binary form for are skipped.
 * When it is done every model's statistics start over ({@link ModelStats#reset}): what
 * {@code /metrics} and the statistics endpoints report counts only what came after.
 *
 * <p>Each model has its own time budget; a call that does not come back within it is abandoned
 * (its connection closed by a watchdog thread). A failed request ends that model's warm-up with
 * its reason in the result: a warm-up never stops a server from starting.
 */
public final class ServerWarmup {
    /** The largest request body a warm-up sends (a model with larger inputs is skipped). */
    static final long MAX_PAYLOAD_BYTES = 16L << 20;

    private ServerWarmup() {
    }

    /** What the warm-up did for one model: requests answered on each transport, how long, and why it stopped early (null if not). */
    public record ModelResult(String model, int http, int grpc, long millis, String stoppedBecause) {
        @Override
        public String toString() {
            return model + ": " + http + " HTTP + " + grpc + " gRPC in " + millis + " ms" + (stoppedBecause == null ? "" : " (stopped: " + stoppedBecause + ")");
        }
    }

    /**
     * Sends up to {@code requestsPerTransport} requests per model over each of the server's
     * listeners that are on, within {@code budgetMillis} per model, then resets every model's
     * statistics. Call it between {@link HotpathServer#open} and {@link HotpathServer#markReady}.
     */
    public static List<ModelResult> run(HotpathServer server, int requestsPerTransport, long budgetMillis) {
        if (requestsPerTransport < 0) {
            throw io.hotpath.core.HotpathException.invalidArgument("warm-up requests " + requestsPerTransport + " < 0");
        }
        if (budgetMillis < 0) {
            throw io.hotpath.core.HotpathException.invalidArgument("warm-up budget " + budgetMillis + " ms < 0");
        }
        List<ModelResult> results = new ArrayList<>();
        if (requestsPerTransport == 0 || budgetMillis == 0 || (server.httpPort() < 0 && server.grpcPort() < 0)) {
            return results;
        }
        Watchdog watchdog = new Watchdog();
        Thread t = Thread.ofPlatform().daemon().name("hotpath-warmup-watchdog").start(watchdog);
        try {
            for (ServedModel m : server.registry().all()) {
                results.add(warm(server, m, requestsPerTransport, budgetMillis, watchdog));
            }
        } finally {
            watchdog.stop();
            t.interrupt();
            for (ServedModel m : server.registry().all()) {
                m.stats().reset();
            }
        }
        return results;
    }

    private static ModelResult warm(HotpathServer server, ServedModel m, int requests, long budgetMillis, Watchdog watchdog) {
        long start = System.nanoTime();
        List<HttpInferClient.Input> inputs;
        try {
            inputs = inputsAtBatchOne(m);
        } catch (IllegalArgumentException e) {
            return new ModelResult(m.name(), 0, 0, 0, e.getMessage());
        }
        long bytes = 0;
        for (HttpInferClient.Input in : inputs) {
            bytes += in.bytes();
        }
        ByteBuffer payload = ByteBuffer.allocateDirect((int) bytes);
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        int http = 0;
        int grpc = 0;
        String stopped = null;
        HttpInferClient hc = null;
        GrpcInferClient gc = null;
        try {
            String host = server.connectHost();
            hc = server.httpPort() < 0 ? null : new HttpInferClient(host, server.httpPort(), m.name(), inputs);
            watchdog.watch(deadline, hc, null);
            gc = server.grpcPort() < 0 ? null : new GrpcInferClient(host, server.grpcPort(), m.name(), inputs);
            watchdog.watch(deadline, hc, gc);
            while ((hc != null && http < requests) || (gc != null && grpc < requests)) {
                if (System.nanoTime() - deadline >= 0) {
                    stopped = "its " + budgetMillis + " ms budget ran out";
                    break;
                }
                if (hc != null && http < requests) {
                    payload.clear();
                    int st = hc.infer(payload);
                    if (st != 200) {
                        stopped = "HTTP " + st + " from the model";
                        break;
                    }
                    http++;
                }
                if (gc != null && grpc < requests) {
                    payload.clear();
                    int st = gc.infer(payload);
                    if (st != GrpcInferClient.OK) {
                        stopped = "gRPC status " + st + ": " + gc.statusMessage();
                        break;
                    }
                    grpc++;
                }
            }
        } catch (IOException | RuntimeException e) {
            stopped = System.nanoTime() - deadline >= 0 ? "no answer within its " + budgetMillis + " ms budget"
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
        } finally {
            watchdog.watch(Long.MAX_VALUE, null, null);
            closeQuietly(hc);
            closeQuietly(gc);
        }
        return new ModelResult(m.name(), http, grpc, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), stopped);
    }

    /**
     * The model's inputs at batch 1 as the wire clients declare them (a variable dimension is 1);
     * an {@link IllegalArgumentException} saying why when the warm-up cannot send them.
     */
    static List<HttpInferClient.Input> inputsAtBatchOne(ServedModel m) {
        List<HttpInferClient.Input> inputs = new ArrayList<>();
        long bytes = 0;
        for (TensorSpec t : m.inputs()) {
            String wire = WireType.name(t.dtype());
            int size = t.dtype().byteSize();
            if (wire == null || wire.equals("BYTES") || size <= 0) {
                throw new IllegalArgumentException("input " + t.name() + " is " + t.dtype() + ", which the warm-up does not send");
            }
            Shape s = t.shape();
            long[] dims = new long[s.rank()];
            long n = 1;
            for (int i = 0; i < dims.length; i++) {
                dims[i] = s.isDynamic(i) || (i == 0 && m.batched()) ? 1 : s.dim(i);
                n = n * dims[i];
                if (dims[i] < 0 || n > MAX_PAYLOAD_BYTES) {
                    throw new IllegalArgumentException("its inputs take more than " + MAX_PAYLOAD_BYTES + " bytes at batch 1");
                }
            }
            long b = n * size;
            bytes += b;
            if (bytes > MAX_PAYLOAD_BYTES) {
                throw new IllegalArgumentException("its inputs take more than " + MAX_PAYLOAD_BYTES + " bytes at batch 1");
            }
            inputs.add(new HttpInferClient.Input(t.name(), wire, dims, b));
        }
        return inputs;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // a loopback socket the warm-up is done with: nothing to report or retry
        }
    }

    /** Closes the clients of a model whose budget has run out, so that a call that never comes back cannot hold the start-up. */
    private static final class Watchdog implements Runnable {
        private final Object lock = new Object();
        private long deadline = Long.MAX_VALUE;
        private AutoCloseable a;
        private AutoCloseable b;
        private boolean stopped;

        void watch(long deadlineNanos, AutoCloseable first, AutoCloseable second) {
            synchronized (lock) {
                deadline = deadlineNanos;
                a = first;
                b = second;
            }
        }

        void stop() {
            synchronized (lock) {
                stopped = true;
            }
        }

        @Override
        public void run() {
            try {
                while (true) {
                    AutoCloseable x = null;
                    AutoCloseable y = null;
                    long wait;
                    synchronized (lock) {
                        if (stopped) {
                            return;
                        }
                        wait = deadline == Long.MAX_VALUE ? TimeUnit.MILLISECONDS.toNanos(50) : deadline - System.nanoTime();
                        if (wait <= 0) {
                            x = a;
                            y = b;
                            a = null;
                            b = null;
                            deadline = Long.MAX_VALUE;
                        }
                    }
                    if (x != null || y != null) {
                        closeQuietly(x);
                        closeQuietly(y);
                        continue;
                    }
                    LockSupport.parkNanos(this, Math.min(wait, TimeUnit.MILLISECONDS.toNanos(50)));
                    if (Thread.interrupted()) {
                        synchronized (lock) {
                            if (stopped) {
                                return;
                            }
                        }
                    }
                }
            } catch (Throwable t) {
                // the watchdog's thread ends here; the warm-up still ends by its own clock checks
                System.getLogger(ServerWarmup.class.getName()).log(System.Logger.Level.ERROR, "warm-up watchdog failed", t);
            }
        }
    }
}
