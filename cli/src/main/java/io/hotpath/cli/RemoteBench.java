package io.hotpath.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hotpath.core.HotpathException;
import io.hotpath.serve.client.GrpcInferClient;
import io.hotpath.serve.client.HttpInferClient;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * {@code hotpath bench --url http://HOST:PORT} or {@code grpc://HOST:PORT}: the load generator against a running Open
 * Inference Protocol server (Hotpath's own or any other), one row per request, closed loop (one
 * keep-alive connection per client thread, one step per --concurrency) or open loop (Poisson
 * arrivals at each --rate, latency from each request's intended send time: coordinated omission
 * corrected). Requests carry the binary tensor extension ({@code --wire binary}, the default) or
 * JSON ({@code --wire json}); the clients allocate nothing per request, so what is measured is the
 * server and the network.
 */
final class RemoteBench {
    private final URI url;
    private final String model;
    private final String wire;
    private final int seq;
    private final long seed;
    private final int warmup;
    private final int iterations;
    private final LoadGeneratorOptions load;
    private final Path json;
    private int distinct = 1;
    private long timeoutNanos = 30_000_000_000L;
    /** Every client opened, for the watchdog. */
    private final java.util.concurrent.CopyOnWriteArrayList<Watched> watched = new java.util.concurrent.CopyOnWriteArrayList<>();

    RemoteBench(URI url, String model, String wire, int seq, long seed, int warmup, int iterations, LoadGeneratorOptions load, Path json) {
        this.url = url;
        this.model = model;
        this.wire = wire;
        this.seq = seq;
        this.seed = seed;
        this.warmup = warmup;
        this.iterations = iterations;
        this.load = load;
        this.json = json;
    }

    /** One input as the server's metadata describes it, with the shape one request sends. */
    record Input(String name, String datatype, long[] shape, int elementBytes) {
        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Each client cycles through {@code n} different inputs (HTTP binary only; checked by the command). */
    RemoteBench distinct(int n) {
        this.distinct = n;
        return this;
    }

    /** How long a request may go unanswered before its connection is closed and it counts as "timeout". */
    RemoteBench requestTimeout(int seconds) {
        this.timeoutNanos = seconds * 1_000_000_000L;
        return this;
    }

    int run(PrintStream out) throws IOException, InterruptedException {
        String host = url.getHost();
        boolean grpc = "grpc".equals(url.getScheme());
        int port = url.getPort() < 0 ? (grpc ? 8001 : 80) : url.getPort();
        List<Input> inputs = grpc ? grpcMetadata(host, port) : metadata(host, port);
        ByteBuffer[] payloads = payloads(inputs, distinct);
        ByteBuffer payload = payloads[0];
        List<String[]> values = !grpc && wire.equals("json") ? jsonValues(inputs, payload) : null;
        List<HttpInferClient.Input> ins = inputs.stream().map(t -> new HttpInferClient.Input(t.name(), t.datatype(), t.shape(),
                t.elements() * t.elementBytes())).toList();
        Factory open = grpc ? () -> grpc(new GrpcInferClient(host, port, model, ins), payloads)
                : () -> http(values != null ? HttpInferClient.json(host, port, model, ins, values) : new HttpInferClient(host, port, model, ins),
                        payloads);
        Factory factory = () -> {
            Watched w = new Watched(open.open());
            watched.add(w);
            return w;
        };
        Thread watchdog = Thread.ofPlatform().daemon().name("bench-watchdog").start(this::watch);
        try {
            return measure(out, grpc, inputs, factory, payload);
        } finally {
            watchdog.interrupt();
        }
    }

    private int measure(PrintStream out, boolean grpc, List<Input> inputs, Factory factory, ByteBuffer payload)
            throws IOException, InterruptedException {
        out.println("hotpath bench (remote, " + (load.rates != null ? "open loop" : "closed loop") + "): model " + model + " at " + url
                + (grpc ? " over gRPC, raw tensors" : " over HTTP/1.1, " + wire + " tensors"));
        for (Input t : inputs) {
            out.println("  input   " + t.name() + " " + t.datatype() + " " + java.util.Arrays.toString(t.shape()));
        }
        out.println("  system  " + SystemInfo.detect().summary() + " (the client; the server's machine is its own)");
        out.println();
        out.printf("  %-12s %9s %9s %9s %10s %10s %12s %9s%n", load.rates != null ? "rate/s" : "concurrency", "p50 us", "p90 us", "p99 us",
                "p99.9 us", "max us", "requests/s", "errors");
        List<Map<String, Object>> steps = new ArrayList<>();
        if (load.rates != null) {
            for (double rate : load.rates) {
                steps.add(openLoop(out, factory, payload, rate));
            }
        } else {
            int[] concs = load.concurrency == null ? new int[] {1} : load.concurrency;
            for (int c : concs) {
                steps.add(closedLoop(out, factory, payload, c));
            }
        }
        if (json != null) {
            Map<String, Object> doc = new java.util.LinkedHashMap<>();
            doc.put("url", url.toString());
            doc.put("model", model);
            doc.put("wire", wire);
            doc.put("open_loop", load.rates != null);
            doc.put("steps", steps);
            Files.writeString(json, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
            out.println("\n  wrote " + json);
        }
        long ok = steps.stream().mapToLong(s -> (Long) s.get("ok")).sum();
        if (ok == 0) {
            throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "no request was answered 200 by " + url + "; errors "
                    + steps.get(0).get("errors"));
        }
        return 0;
    }

    /**
     * A client whose call is watched: when one goes unanswered past the timeout, the watchdog closes
     * the client (its blocked read then fails) and this call and every later one count as "timeout".
     */
    final class Watched implements Caller {
        /** {@link #since} of a call the watchdog gave up on. */
        static final long EXPIRED = Long.MIN_VALUE;
        final Caller client;
        /** When the call in progress began ({@link System#nanoTime()}), 0 between calls, {@link #EXPIRED} once given up on. */
        final java.util.concurrent.atomic.AtomicLong since = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean expired;

        Watched(Caller client) {
            this.client = client;
        }

        @Override
        public String call() throws IOException {
            if (expired) {
                return "timeout";
            }
            since.set(Math.max(1, System.nanoTime()));
            String status;
            IOException failed = null;
            try {
                status = client.call();
            } catch (IOException e) {
                status = null;
                failed = e;
            }
            // the watchdog marks a call it gives up on before closing the client: that call is a timeout, however it ended
            if (since.getAndSet(0) == EXPIRED) {
                return "timeout";
            }
            if (failed != null) {
                throw failed;
            }
            return status;
        }

        /** The watchdog: gives up on a call older than the timeout, and closes the client again while that call has not returned. */
        void check(long now) {
            long s = since.get();
            if (s == EXPIRED || (s > 0 && now - s > timeoutNanos && since.compareAndSet(s, EXPIRED))) {
                expired = true;
                client.close();
            }
        }

        @Override
        public void close() {
            watched.remove(this);
            client.close();
        }
    }

    /** The watchdog's loop: every 50 ms, closes the clients whose call has gone unanswered past the timeout. */
    private void watch() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(50);
                long now = System.nanoTime();
                for (Watched w : watched) {
                    w.check(now);
                }
            }
        } catch (InterruptedException e) {
            // the run is over
        } catch (Throwable t) {
            System.err.println("hotpath: the bench watchdog stopped: " + t);
        }
    }

    /** One client connection sending the same request: returns null when answered OK, else what went wrong ("HTTP 429", "RESOURCE_EXHAUSTED"). */
    interface Caller extends AutoCloseable {
        String call() throws IOException;

        @Override
        void close();
    }

    @FunctionalInterface
    interface Factory {
        Caller open() throws IOException;
    }

    /** HTTP/1.1 keep-alive, binary or JSON tensors; a binary client sends its payloads in turn. */
    static Caller http(HttpInferClient c, ByteBuffer... payloads) {
        // a JSON client carries its data in the request it built: it sends no separate payload
        ByteBuffer[] ps = new ByteBuffer[c.payloadBytes() == 0 ? 1 : payloads.length];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = c.payloadBytes() == 0 ? ByteBuffer.allocate(0) : payloads[i].duplicate();
        }
        return new Caller() {
            int next;

            @Override
            public String call() throws IOException {
                ByteBuffer p = ps[next];
                next = next + 1 == ps.length ? 0 : next + 1;
                p.clear();
                int s = c.infer(p);
                return s == 200 ? null : HTTP_STATUS[Math.min(s, 599)];
            }

            @Override
            public void close() {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing a connection we no longer use: nothing to report
                }
            }
        };
    }

    private static final String[] HTTP_STATUS = new String[600];

    static {
        for (int i = 0; i < HTTP_STATUS.length; i++) {
            HTTP_STATUS[i] = "HTTP " + i;
        }
    }

    /**
     * gRPC: one HTTP/2 connection per client, {@code ModelInfer} with {@code raw_input_contents}, its
     * payloads in turn; Hotpath's own client, which writes and reads on the client's thread and
     * allocates nothing per call (grpc-java's blocking stub would add two thread hand-offs per call).
     */
    static Caller grpc(GrpcInferClient c, ByteBuffer... payloads) {
        ByteBuffer[] ps = new ByteBuffer[payloads.length];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = payloads[i].duplicate();
        }
        return new Caller() {
            int next;

            @Override
            public String call() throws IOException {
                ByteBuffer p = ps[next];
                next = next + 1 == ps.length ? 0 : next + 1;
                p.clear();
                int s = c.infer(p);
                return s == GrpcInferClient.OK ? null : io.grpc.Status.fromCodeValue(s).getCode().name();
            }

            @Override
            public void close() {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing a connection we no longer use: nothing to report
                }
            }
        };
    }

    private List<Input> metadata(String host, int port) throws IOException, InterruptedException {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(java.time.Duration.ofSeconds(5)).build();
        HttpResponse<String> r;
        try {
            r = c.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/v2/models/" + model)).timeout(java.time.Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, "nothing answers at " + url + " (connection refused)");
        }
        if (r.statusCode() != 200) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, "the server at " + url + " has no model '" + model + "' (HTTP "
                    + r.statusCode() + ": " + r.body().lines().findFirst().orElse("") + ")");
        }
        JsonNode meta = new ObjectMapper().readTree(r.body());
        List<Input> inputs = new ArrayList<>();
        for (JsonNode in : meta.path("inputs")) {
            String dt = in.path("datatype").asText();
            int bytes = elementBytes(in.path("name").asText(), dt);
            JsonNode shape = in.path("shape");
            long[] s = new long[shape.size()];
            for (int i = 0; i < s.length; i++) {
                long d = shape.get(i).asLong();
                s[i] = d >= 0 ? d : i == 0 ? 1 : seq;     // one row per request; every other dynamic dimension is --seq
            }
            inputs.add(new Input(in.path("name").asText(), dt, s, bytes));
        }
        if (inputs.isEmpty()) {
            throw new HotpathException(HotpathException.Category.INVALID_MODEL, "model '" + model + "' at " + url + " lists no inputs");
        }
        return inputs;
    }

    private List<Input> grpcMetadata(String host, int port) {
        io.grpc.ManagedChannel ch = io.grpc.ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
        try {
            io.hotpath.serve.proto.ModelMetadataResponse meta = io.grpc.stub.ClientCalls.blockingUnaryCall(ch,
                    io.hotpath.serve.GrpcInferenceMethods.MODEL_METADATA, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS),
                    io.hotpath.serve.proto.ModelMetadataRequest.newBuilder().setName(model).build());
            List<Input> inputs = new ArrayList<>();
            for (var in : meta.getInputsList()) {
                long[] s = new long[in.getShapeCount()];
                for (int i = 0; i < s.length; i++) {
                    long d = in.getShape(i);
                    s[i] = d >= 0 ? d : i == 0 ? 1 : seq;
                }
                inputs.add(new Input(in.getName(), in.getDatatype(), s, elementBytes(in.getName(), in.getDatatype())));
            }
            if (inputs.isEmpty()) {
                throw new HotpathException(HotpathException.Category.INVALID_MODEL, "model '" + model + "' at " + url + " lists no inputs");
            }
            return inputs;
        } catch (io.grpc.StatusRuntimeException e) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, "the gRPC server at " + url + " answered ModelMetadata for '" + model
                    + "' with " + e.getStatus().getCode() + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription()));
        } finally {
            ch.shutdownNow();
        }
    }

    private static int elementBytes(String name, String dt) {
        return switch (dt) {
            case "BOOL", "UINT8", "INT8" -> 1;
            case "UINT16", "INT16", "FP16", "BF16" -> 2;
            case "UINT32", "INT32", "FP32" -> 4;
            case "UINT64", "INT64", "FP64" -> 8;
            default -> throw new HotpathException(HotpathException.Category.UNSUPPORTED, "input '" + name + "' has datatype " + dt
                    + "; the remote bench sends numeric tensors only");
        };
    }

    /** {@code n} requests' inputs, in order, from one generator seeded with --seed. */
    private ByteBuffer[] payloads(List<Input> inputs, int n) {
        long per = 0;
        for (Input t : inputs) {
            per += t.elements() * t.elementBytes();
        }
        if (n > 1 && per * n > 1L << 30) {
            throw HotpathException.invalidArgument("--distinct " + n + " inputs of " + per + " bytes each would take more than 1 GiB; give fewer");
        }
        Random r = new Random(seed);
        ByteBuffer[] all = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            all[i] = payload(inputs, r);
        }
        return all;
    }

    /**
     * Every input's bytes for one request: normal floats, small non-negative integers (valid token
     * ids), ones for masks and zeros for token types (BERT's segment ids take 0 or 1).
     */
    private ByteBuffer payload(List<Input> inputs, Random r) {
        long total = 0;
        for (Input t : inputs) {
            total += t.elements() * t.elementBytes();
        }
        if (total > Integer.MAX_VALUE / 2) {
            throw HotpathException.invalidArgument("one request's inputs would take " + total + " bytes; lower --seq");
        }
        ByteBuffer b = ByteBuffer.allocateDirect((int) total).order(ByteOrder.LITTLE_ENDIAN);
        for (Input t : inputs) {
            for (long e = 0; e < t.elements(); e++) {
                switch (t.datatype()) {
                    case "FP32" -> b.putFloat((float) r.nextGaussian());
                    case "FP64" -> b.putDouble(r.nextGaussian());
                    case "FP16" -> b.putShort(Float.floatToFloat16((float) r.nextGaussian()));
                    case "BF16" -> b.putShort((short) (Float.floatToRawIntBits((float) r.nextGaussian()) >>> 16));
                    case "BOOL" -> b.put((byte) r.nextInt(2));
                    default -> {
                        long v = t.name().contains("mask") ? 1 : t.name().contains("type") ? 0 : r.nextInt(100);
                        switch (t.elementBytes()) {
                            case 1 -> b.put((byte) v);
                            case 2 -> b.putShort((short) v);
                            case 4 -> b.putInt((int) v);
                            default -> b.putLong(v);
                        }
                    }
                }
            }
        }
        return b.flip();
    }

    private static List<String[]> jsonValues(List<Input> inputs, ByteBuffer payload) {
        List<String[]> all = new ArrayList<>();
        ByteBuffer b = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (Input t : inputs) {
            String[] v = new String[(int) t.elements()];
            for (int e = 0; e < v.length; e++) {
                v[e] = switch (t.datatype()) {
                    case "FP32" -> Float.toString(b.getFloat());
                    case "FP64" -> Double.toString(b.getDouble());
                    case "FP16" -> Float.toString(Float.float16ToFloat(b.getShort()));
                    case "BF16" -> Float.toString(Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16));
                    default -> Long.toString(switch (t.elementBytes()) {
                        case 1 -> b.get();
                        case 2 -> b.getShort();
                        case 4 -> b.getInt();
                        default -> b.getLong();
                    });
                };
            }
            all.add(v);
        }
        return all;
    }

    private Map<String, Object> closedLoop(PrintStream out, Factory factory, ByteBuffer payload, int clients) throws InterruptedException {
        int perClient = Math.max(1, iterations / clients);
        Histogram[] h = new Histogram[clients];
        long[] ok = new long[clients];
        @SuppressWarnings("unchecked")
        Map<String, Long>[] errors = new Map[clients];
        Throwable[] failure = new Throwable[1];
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(clients + 1);
        java.util.concurrent.CyclicBarrier measured = new java.util.concurrent.CyclicBarrier(clients + 1);
        Thread[] threads = new Thread[clients];
        for (int t = 0; t < clients; t++) {
            int id = t;
            h[t] = new Histogram(1, 3_600_000_000_000L, 3);
            errors[t] = new TreeMap<>();
            threads[t] = Thread.ofPlatform().name("bench-client-" + t).start(() -> {
                try (Caller c = factory.open()) {
                    for (int i = 0; i < warmup; i++) {
                        c.call();
                    }
                    start.await();
                    for (int i = 0; i < perClient; i++) {
                        long s = System.nanoTime();
                        String status = c.call();
                        long e = System.nanoTime();
                        if (status == null) {
                            h[id].recordValue(Math.max(1, e - s));
                            ok[id]++;
                        } else {
                            errors[id].merge(status, 1L, Long::sum);
                        }
                    }
                    measured.await();
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) {
                            failure[0] = e;
                        }
                    }
                    start.reset();
                    measured.reset();
                }
            });
        }
        long t0;
        long t1;
        try {
            start.await();
            t0 = System.nanoTime();
            measured.await();
            t1 = System.nanoTime();
        } catch (java.util.concurrent.BrokenBarrierException e) {
            for (Thread t : threads) {
                t.join();
            }
            throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "a client failed: " + failure[0]);
        }
        for (Thread t : threads) {
            t.join();
        }
        Histogram all = new Histogram(1, 3_600_000_000_000L, 3);
        long okN = 0;
        Map<String, Long> err = new TreeMap<>();
        for (int t = 0; t < clients; t++) {
            all.add(h[t]);
            okN += ok[t];
            errors[t].forEach((k, v) -> err.merge(k, v, Long::sum));
        }
        double rps = okN / ((t1 - t0) / 1e9);
        return row(out, Integer.toString(clients), all, rps, okN, err, Map.of("concurrency", clients));
    }

    private Map<String, Object> openLoop(PrintStream out, Factory factory, ByteBuffer payload, double rate) throws InterruptedException {
        int requests = Math.max(1, (int) (rate * load.durationS));
        long[] intended = new long[requests];
        Random r = new Random(seed);
        double t = 0;
        for (int i = 0; i < requests; i++) {
            t += -Math.log(1 - r.nextDouble()) / rate;
            intended[i] = (long) (t * 1e9);
        }
        int workers = Math.min(load.maxInFlight, requests);
        AtomicLong next = new AtomicLong();
        Histogram[] h = new Histogram[workers];
        long[] ok = new long[workers];
        @SuppressWarnings("unchecked")
        Map<String, Long>[] errors = new Map[workers];
        Caller[] clients = new Caller[workers];
        try {
            for (int w = 0; w < workers; w++) {
                clients[w] = factory.open();
                for (int i = 0; i < Math.min(warmup, 10); i++) {
                    clients[w].call();
                }
            }
        } catch (IOException | RuntimeException e) {
            closeAll(clients);
            throw new HotpathException(HotpathException.Category.ENGINE_FAILURE, "cannot open " + workers + " connections to " + url + ": " + e);
        }
        long base = System.nanoTime() + 1_000_000;
        Thread[] threads = new Thread[workers];
        for (int w = 0; w < workers; w++) {
            int id = w;
            h[w] = new Histogram(1, 3_600_000_000_000L, 3);
            errors[w] = new TreeMap<>();
            threads[w] = Thread.ofPlatform().name("bench-open-" + w).start(() -> {
                long i;
                while ((i = next.getAndIncrement()) < requests) {
                    long due = base + intended[(int) i];
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    String status;
                    try {
                        status = clients[id].call();
                    } catch (IOException e) {
                        status = "connection failed";
                    }
                    long e = System.nanoTime();
                    if (status == null) {
                        h[id].recordValue(Math.max(1, e - due));
                        ok[id]++;
                    } else {
                        errors[id].merge(status, 1L, Long::sum);
                    }
                }
            });
        }
        for (Thread th : threads) {
            th.join();
        }
        long t1 = System.nanoTime();
        closeAll(clients);
        Histogram all = new Histogram(1, 3_600_000_000_000L, 3);
        long okN = 0;
        Map<String, Long> err = new TreeMap<>();
        for (int w = 0; w < workers; w++) {
            all.add(h[w]);
            okN += ok[w];
            errors[w].forEach((k, v) -> err.merge(k, v, Long::sum));
        }
        double rps = okN / ((t1 - base) / 1e9);
        return row(out, String.format(Locale.ROOT, "%.0f", rate), all, rps, okN, err, Map.of("rate_per_s", rate, "max_in_flight", workers));
    }

    private static void closeAll(Caller[] clients) {
        for (Caller c : clients) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static Map<String, Object> row(PrintStream out, String step, Histogram h, double rps, long ok, Map<String, Long> errors,
            Map<String, Object> extra) {
        long errN = errors.values().stream().mapToLong(Long::longValue).sum();
        out.printf(Locale.ROOT, "  %-12s %9.1f %9.1f %9.1f %10.1f %10.1f %12.1f %9s%n", step, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3,
                rps, errN == 0 ? "0" : errN + " " + errors);
        Map<String, Object> m = new java.util.LinkedHashMap<>(extra);
        m.put("p50_us", h.getValueAtPercentile(50) / 1e3);
        m.put("p90_us", h.getValueAtPercentile(90) / 1e3);
        m.put("p99_us", h.getValueAtPercentile(99) / 1e3);
        m.put("p999_us", h.getValueAtPercentile(99.9) / 1e3);
        m.put("max_us", h.getMaxValue() / 1e3);
        m.put("requests_per_s", rps);
        m.put("ok", ok);
        m.put("errors", new TreeMap<>(errors));
        return m;
    }
}
