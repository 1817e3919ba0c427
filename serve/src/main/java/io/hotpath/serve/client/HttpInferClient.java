package io.hotpath.serve.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * A small blocking client for one model of an Open Inference Protocol server over HTTP/1.1 with
 * Triton's binary tensor data extension: one keep-alive connection, the request's JSON header
 * built once, the tensors' bytes written from the caller's buffer, the answer read into a reused
 * buffer. After the first call it allocates nothing; the load generator and the overhead
 * benchmark use it so that what they measure is the server, not a client library.
 *
 * <p>Not thread-safe: one per thread.
 */
public final class HttpInferClient implements AutoCloseable {
    private final SocketChannel channel;
    private final ByteBuffer head;
    private final long payloadBytes;
    private final ByteBuffer[] out = new ByteBuffer[2];
    private ByteBuffer in = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
    private int status;
    private int bodyStart;
    private int bodyLength;
    private int responseHeaderLength;
    private boolean spin;

    /** One input tensor of the request: its name, protocol datatype, shape and byte size. */
    public record Input(String name, String datatype, long[] shape, long bytes) {
    }

    /**
     * Connects to {@code host:port} for model {@code model}; every call sends {@code inputs}' bytes
     * (in order, concatenated) and asks for every output in binary.
     */
    public HttpInferClient(String host, int port, String model, java.util.List<Input> inputs) throws IOException {
        this(host, port, model, null, inputs, null);
    }

    /** The same for one version of the model ({@code /v2/models/{model}/versions/{version}/infer}); null: the server's choice. */
    public HttpInferClient(String host, int port, String model, String version, java.util.List<Input> inputs) throws IOException {
        this(host, port, model, version, inputs, null);
    }

    /**
     * A client whose every call sends the same JSON request: {@code inputs} with {@code values}
     * (each input's elements in row-major order, as JSON numbers) in their {@code data} fields; the
     * answer comes back as JSON. {@link #infer} then takes an empty payload.
     */
    public static HttpInferClient json(String host, int port, String model, java.util.List<Input> inputs, java.util.List<String[]> values)
            throws IOException {
        if (values == null || values.size() != inputs.size()) {
            throw new IllegalArgumentException("one array of values per input");
        }
        return new HttpInferClient(host, port, model, null, inputs, values);
    }

    private HttpInferClient(String host, int port, String model, String version, java.util.List<Input> inputs, java.util.List<String[]> values)
            throws IOException {
        String target = "/v2/models/" + model + (version == null || version.isEmpty() ? "" : "/versions/" + version) + "/infer";
        String hostHeader = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;     // an IPv6 literal
        if (values != null) {
            StringBuilder json = new StringBuilder("{\"inputs\":[");
            for (int i = 0; i < inputs.size(); i++) {
                Input t = inputs.get(i);
                json.append(i == 0 ? "" : ",").append("{\"name\":\"").append(t.name()).append("\",\"datatype\":\"").append(t.datatype())
                        .append("\",\"shape\":").append(java.util.Arrays.toString(t.shape()).replace(" ", "")).append(",\"data\":[")
                        .append(String.join(",", values.get(i))).append("]}");
            }
            json.append("]}");
            byte[] j = json.toString().getBytes(StandardCharsets.UTF_8);
            this.payloadBytes = 0;
            String h = "POST " + target + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + j.length + "\r\n\r\n";
            byte[] hb = h.getBytes(StandardCharsets.US_ASCII);
            this.head = ByteBuffer.allocateDirect(hb.length + j.length);
            head.put(hb).put(j).flip();
            this.channel = SocketChannel.open(new InetSocketAddress(host, port));
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            return;
        }
        StringBuilder json = new StringBuilder("{\"inputs\":[");
        long payload = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Input t = inputs.get(i);
            json.append(i == 0 ? "" : ",").append("{\"name\":\"").append(t.name()).append("\",\"datatype\":\"").append(t.datatype())
                    .append("\",\"shape\":").append(java.util.Arrays.toString(t.shape()).replace(" ", ""))
                    .append(",\"parameters\":{\"binary_data_size\":").append(t.bytes()).append("}}");
            payload += t.bytes();
        }
        json.append("],\"parameters\":{\"binary_data_output\":true}}");
        byte[] j = json.toString().getBytes(StandardCharsets.UTF_8);
        this.payloadBytes = payload;
        String h = "POST " + target + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nContent-Type: application/octet-stream\r\n"
                + "Inference-Header-Content-Length: " + j.length + "\r\nContent-Length: " + (j.length + payload) + "\r\n\r\n";
        byte[] hb = h.getBytes(StandardCharsets.US_ASCII);
        this.head = ByteBuffer.allocateDirect(hb.length + j.length);
        head.put(hb).put(j).flip();
        this.channel = SocketChannel.open(new InetSocketAddress(host, port));
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }

    /**
     * Waits for answers by polling the socket instead of sleeping in the kernel: no thread wake-up
     * per request (tens of microseconds on a virtual machine), one core kept busy while waiting.
     */
    public HttpInferClient spin(boolean on) throws IOException {
        channel.configureBlocking(!on);
        this.spin = on;
        return this;
    }

    /** The bytes every call's tensors take (what {@link #infer} must be given). */
    public long payloadBytes() {
        return payloadBytes;
    }

    /**
     * Sends one request with {@code payload} (position to limit: every input's bytes, in order) and
     * reads the answer; returns the HTTP status. The payload buffer's position is left at its limit.
     */
    public int infer(ByteBuffer payload) throws IOException {
        if (payload.remaining() != payloadBytes) {
            throw new IllegalArgumentException("payload has " + payload.remaining() + " bytes; the inputs take " + payloadBytes);
        }
        head.rewind();
        out[0] = head;
        out[1] = payload;
        while (head.hasRemaining() || payload.hasRemaining()) {
            if (channel.write(out) == 0 && spin) {
                Thread.onSpinWait();
            }
        }
        out[1] = null;
        readResponse();
        return status;
    }

    private void readResponse() throws IOException {
        in.clear();
        int headEnd;
        while ((headEnd = headEnd(in)) < 0) {
            fill();
        }
        status = parseStatus();
        int contentLength = -1;
        responseHeaderLength = -1;
        // headers: "name: value\r\n" from after the status line to headEnd
        int p = lineEnd(0) + 2;
        while (p < headEnd - 2) {
            int e = lineEnd(p);
            int colon = indexOf(p, e, (byte) ':');
            if (colon > 0) {
                if (nameIs(p, colon, "content-length")) {
                    contentLength = parseInt(colon + 1, e);
                } else if (nameIs(p, colon, "inference-header-content-length")) {
                    responseHeaderLength = parseInt(colon + 1, e);
                }
            }
            p = e + 2;
        }
        if (contentLength < 0) {
            throw new IOException("response without Content-Length");
        }
        bodyStart = headEnd;
        bodyLength = contentLength;
        int need = headEnd + contentLength;
        if (need > in.capacity()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Integer.highestOneBit(need) << 1).order(ByteOrder.LITTLE_ENDIAN);
            in.flip();
            bigger.put(in);
            in = bigger;
        }
        while (in.position() < need) {
            fill();
        }
    }

    private void fill() throws IOException {
        if (!in.hasRemaining()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(in.capacity() * 2).order(ByteOrder.LITTLE_ENDIAN);
            in.flip();
            bigger.put(in);
            in = bigger;
        }
        int n;
        while ((n = channel.read(in)) == 0 && spin) {
            Thread.onSpinWait();
        }
        if (n < 0) {
            throw new IOException("the server closed the connection");
        }
    }

    private static int headEnd(ByteBuffer b) {
        for (int i = 3; i < b.position(); i++) {
            if (b.get(i) == '\n' && b.get(i - 1) == '\r' && b.get(i - 2) == '\n' && b.get(i - 3) == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    private int lineEnd(int from) {
        for (int i = from; i < in.position() - 1; i++) {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                return i;
            }
        }
        return in.position();
    }

    private int indexOf(int from, int to, byte c) {
        for (int i = from; i < to; i++) {
            if (in.get(i) == c) {
                return i;
            }
        }
        return -1;
    }

    private boolean nameIs(int from, int to, String lower) {
        if (to - from != lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            if (Character.toLowerCase((char) in.get(from + i)) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private int parseInt(int from, int to) {
        int v = 0;
        boolean any = false;
        for (int i = from; i < to; i++) {
            byte c = in.get(i);
            if (c >= '0' && c <= '9') {
                v = v * 10 + (c - '0');
                any = true;
            } else if (c != ' ' && c != '\t') {
                break;
            }
        }
        return any ? v : -1;
    }

    private int parseStatus() {
        // "HTTP/1.1 200 OK"
        return (in.get(9) - '0') * 100 + (in.get(10) - '0') * 10 + (in.get(11) - '0');
    }

    /** The last response's status. */
    public int status() {
        return status;
    }

    /** The last response's body (JSON header, then binary outputs when OK): a view of the reused buffer. */
    public ByteBuffer body() {
        return in.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(bodyStart).limit(bodyStart + bodyLength).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Where the last OK response's binary outputs start in {@link #body()}; -1 when it had none. */
    public int binaryOffset() {
        return responseHeaderLength;
    }

    /** Reads element {@code index} of the last response's first binary output as a float (no allocation). */
    public float outputFloat(int index) {
        return in.getFloat(bodyStart + responseHeaderLength + index * 4);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
