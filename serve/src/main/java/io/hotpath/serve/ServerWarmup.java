package io.hotpath.serve;

import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import io.hotpath.serve.client.GrpcInferClient;
import io.hotpath.serve.client.HttpInferClient;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Warms a server that is open but not yet ready: its models get requests over the server's own
 * HTTP (binary tensors) and gRPC listeners, from a client in this process over loopback, one at a
 * time, alternating between the two. The JIT compiles the path a request takes through Netty,
 * the HTTP/2 and gRPC stacks, the batcher and the engine only after it has run it many times: a
 * server that says ready without this answers its first thousands of gRPC requests an order of
 * magnitude slower (measured: docs/serve.md, "Warm-up before ready").
 *
 * <p>Every input is zeros at batch 1 (a variable dimension is 1): valid for every numeric model,
 * and one cache key, so a response cache keeps one entry from it (with a cache, the later
 * requests are cache hits). Models with an input the wire has no fixed-size binary form for are
 * skipped. The requests are shared out over every model version in turn, each addressed by its
 * version; so is the time budget (time one leaves goes to the next). When it is done every
 * model's statistics start over ({@link ModelStats#reset}): what {@code /metrics} and the
 * statistics endpoints report counts only what came after (an outside client that sent requests
 * meanwhile, ignoring readiness, is not counted either).
 *
 * <p>A model's warm-up ends at the first call that starts after its deadline; a call still
 * unanswered {@value #ABANDON_AFTER_MILLIS} ms after the deadline is abandoned (its connection
 * closed by a watchdog thread); a failed answer is counted and the warm-up goes on (a cold first call
 * may well miss a deadline), stopping for that model after {@value #MAX_FAILURES_IN_A_ROW} in a
 * row. Nothing a model does makes it throw: a warm-up never stops a server from starting.
 */
public final class ServerWarmup {
    /** The largest request body a warm-up sends (a model with larger inputs is skipped); its outputs may take four times this. */
    static final long MAX_PAYLOAD_BYTES = 16L << 20;
    /** Failed answers in a row after which a model's warm-up stops. */
    static final int MAX_FAILURES_IN_A_ROW = 10;
    /** How long past its model's deadline a call may still take before it is abandoned (a slow model's last call is no failure). */
    static final long ABANDON_AFTER_MILLIS = 1000;

    private ServerWarmup() {
    }

    /**
     * What the warm-up did for one model version: requests answered with success on each transport,
     * answers that failed, how long it took, and a note (null when all went as asked): why it
     * stopped early or skipped the model, or what the last failure was.
     */
    public record ModelResult(String model, String version, int http, int grpc, int failed, long millis, String note, boolean trouble) {
        @Override
        public String toString() {
            return model + "/" + version + ": " + http + " HTTP + " + grpc + " gRPC in " + millis + " ms" + (failed == 0 ? "" : ", " + failed + " failed")
                    + (note == null ? "" : " (" + note + ")");
        }
    }

    /**
     * Sends {@code requests} requests over each of the server's listeners that are on, shared out
     * over its model versions, within {@code budgetMillis} in all, then resets every model's
     * statistics. Call it between {@link HotpathServer#open} and {@link HotpathServer#markReady}.
     */
    public static List<ModelResult> run(HotpathServer server, int requests, long budgetMillis) {
        if (requests < 0) {
            throw io.hotpath.core.HotpathException.invalidArgument("warm-up requests " + requests + " < 0");
        }
        if (budgetMillis < 0) {
            throw io.hotpath.core.HotpathException.invalidArgument("warm-up budget " + budgetMillis + " ms < 0");
        }
        List<ModelResult> results = new ArrayList<>();
        List<ServedModel> models = new ArrayList<>(server.registry().all());
        if (requests == 0 || budgetMillis == 0 || models.isEmpty() || (server.httpPort() < 0 && server.grpcPort() < 0)) {
            return results;
        }
        int quota = (requests + models.size() - 1) / models.size();
        long start = System.nanoTime();
        long budget = TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        Watchdog watchdog = new Watchdog();
        Thread t = Thread.ofPlatform().daemon().name("hotpath-warmup-watchdog").start(watchdog);
        try {
            for (int i = 0; i < models.size(); i++) {
                long deadline = start + budget / models.size() * (i + 1);
                results.add(warm(server, models.get(i), quota, deadline, watchdog));
            }
        } finally {
            watchdog.stop();
            t.interrupt();
            for (ServedModel m : models) {
                m.stats().reset();
            }
        }
        return results;
    }

    private static ModelResult warm(HotpathServer server, ServedModel m, int requests, long deadline, Watchdog watchdog) {
        long start = System.nanoTime();
        int http = 0;
        int grpc = 0;
        int failed = 0;
        int inARow = 0;
        String note = null;
        boolean trouble = false;
        List<HttpInferClient.Input> inputs;
        try {
            inputs = inputsAtBatchOne(m);
        } catch (IllegalArgumentException e) {
            return new ModelResult(m.name(), m.version(), 0, 0, 0, 0, "skipped: " + e.getMessage(), false);
        }
        HttpInferClient hc = null;
        GrpcInferClient gc = null;
        try {
            ByteBuffer payload = ByteBuffer.allocateDirect((int) inputs.stream().mapToLong(HttpInferClient.Input::bytes).sum());
            String host = server.connectHost();
            hc = server.httpPort() < 0 ? null : new HttpInferClient(host, server.httpPort(), m.name(), m.version(), inputs);
            long abandonAt = deadline + TimeUnit.MILLISECONDS.toNanos(ABANDON_AFTER_MILLIS);
            watchdog.watch(abandonAt, hc, null);
            gc = server.grpcPort() < 0 ? null : new GrpcInferClient(host, server.grpcPort(), m.name(), m.version(), inputs);
            watchdog.watch(abandonAt, hc, gc);
            int sent = 0;
            while (sent < requests) {
                if (System.nanoTime() - deadline >= 0) {
                    note = "stopped at its share of the time budget";
                    break;
                }
                for (int transport = 0; transport < 2; transport++) {
                    String failure;
                    if (transport == 0) {
                        if (hc == null) {
                            continue;
                        }
                        int st = hc.infer(payload.clear());
                        failure = st == 200 ? null : "HTTP " + st;
                        http += failure == null ? 1 : 0;
                    } else {
                        if (gc == null) {
                            continue;
                        }
                        int st = gc.infer(payload.clear());
                        failure = st == GrpcInferClient.OK ? null : "gRPC status " + st + ": " + gc.statusMessage();
                        grpc += failure == null ? 1 : 0;
                    }
                    if (failure == null) {
                        inARow = 0;
                    } else {
                        failed++;
                        inARow++;
                        note = "last failure: " + failure;
                        trouble = true;
                    }
                }
                sent++;
                if (inARow >= MAX_FAILURES_IN_A_ROW) {
                    note = "stopped after " + inARow + " failed answers in a row; " + note;
                    break;
                }
            }
        } catch (Throwable e) {
            trouble = true;             // an abandoned call (closed by the watchdog), a broken connection, anything: never the server's start
            note = System.nanoTime() - deadline - TimeUnit.MILLISECONDS.toNanos(ABANDON_AFTER_MILLIS) >= 0
                    ? "a call got no answer within " + ABANDON_AFTER_MILLIS + " ms after its deadline; abandoned"
                    : "stopped: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } finally {
            watchdog.watch(Long.MAX_VALUE, null, null);
            closeQuietly(hc);
            closeQuietly(gc);
        }
        return new ModelResult(m.name(), m.version(), http, grpc, failed, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), note, trouble);
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
            if (wire == null || wire.equals("BYTES") || t.dtype().byteSize() <= 0) {
                throw new IllegalArgumentException("input " + t.name() + " is " + t.dtype() + ", which the warm-up does not send");
            }
            long[] dims = dimsAtBatchOne(m, t);
            long b = bytesAtMost(dims, t.dtype().byteSize(), MAX_PAYLOAD_BYTES - bytes, MAX_PAYLOAD_BYTES, "inputs");
            bytes += b;
            inputs.add(new HttpInferClient.Input(t.name(), wire, dims, b));
        }
        long out = 0;
        for (TensorSpec t : m.outputs()) {
            out += bytesAtMost(dimsAtBatchOne(m, t), Math.max(1, t.dtype().byteSize()), 4 * MAX_PAYLOAD_BYTES - out, 4 * MAX_PAYLOAD_BYTES, "outputs");
        }
        return inputs;
    }

    /** A tensor's dimensions in a one-row request: the batch and every variable dimension 1. */
    private static long[] dimsAtBatchOne(ServedModel m, TensorSpec t) {
        Shape s = t.shape();
        long[] dims = new long[s.rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = s.isDynamic(i) || (i == 0 && m.batched()) ? 1 : s.dim(i);
        }
        return dims;
    }

    /** The bytes of a tensor of {@code dims}, refused over {@code left} (of {@code cap} in all); no product can overflow. */
    private static long bytesAtMost(long[] dims, int elementBytes, long left, long cap, String what) {
        long n = elementBytes;
        for (long d : dims) {
            if (d < 0 || d > cap || n > cap) {
                n = Long.MAX_VALUE;
                break;
            }
            n *= d;                     // both at most 2^26: below 2^52
        }
        if (n > left) {
            throw new IllegalArgumentException("its " + what + " take more than " + cap + " bytes at batch 1");
        }
        return n;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // a loopback socket the warm-up is done with: nothing to retry, worth a line only when debugging
            System.getLogger(ServerWarmup.class.getName()).log(System.Logger.Level.DEBUG, "closing a warm-up connection: " + e);
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
                // the watchdog's thread ends here: a call blocked after this is no longer abandoned at its deadline
                System.getLogger(ServerWarmup.class.getName()).log(System.Logger.Level.ERROR, "warm-up watchdog failed", t);
            }
        }
    }
}
