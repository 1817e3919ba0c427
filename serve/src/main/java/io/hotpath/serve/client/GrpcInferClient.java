package io.hotpath.serve.client;

import io.hotpath.serve.GrpcInferenceMethods;
import io.hotpath.serve.proto.ModelInferRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A small blocking gRPC client for {@code ModelInfer} with {@code raw_input_contents}: HTTP/2 with
 * prior knowledge over one plain TCP connection, written and read by the calling thread. The
 * request's headers and message prefix are encoded once; each call copies the tensors' bytes into
 * a reused buffer, writes one HEADERS and the DATA frames, and reads the answer into a reused
 * buffer. After the first calls it allocates nothing and, unlike grpc-java's client, hands no work
 * to another thread (grpc-java's blocking stub wakes its event loop to write and is woken by it to
 * read: two thread wake-ups per call). The overhead benchmark uses it so that what it measures
 * over gRPC is the server, as {@link HttpInferClient} does over HTTP.
 *
 * <p>What it does of HTTP/2 (RFC 9113): the preface and SETTINGS (it asks for no dynamic HPACK
 * table, no server push and the largest receive windows), SETTINGS and PING acknowledgements,
 * flow control on what it sends (it waits for WINDOW_UPDATE when a window is spent) and replenishes
 * what it receives, padded frames, CONTINUATION, RST_STREAM and GOAWAY (the next call reconnects).
 * One call at a time. The trailers of an OK answer are recognised by their bytes once decoded;
 * any other header block is decoded with Netty's HPACK decoder to read {@code grpc-status} and
 * {@code grpc-message}.
 *
 * <p>Not thread-safe: one per thread.
 */
public final class GrpcInferClient implements AutoCloseable {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int FRAME_HEADER = 9;
    /** Every HTTP/2 peer accepts frames of this size; the client sends none larger and accepts none larger. */
    private static final int MAX_FRAME = 16_384;
    private static final int DEFAULT_WINDOW = 65_535;
    private static final int MAX_WINDOW = Integer.MAX_VALUE;
    private static final int LAST_STREAM_ID = Integer.MAX_VALUE;

    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int PUSH_PROMISE = 0x5;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int WINDOW_UPDATE = 0x8;
    private static final int CONTINUATION = 0x9;

    private static final int FLAG_END_STREAM = 0x1;
    private static final int FLAG_ACK = 0x1;
    private static final int FLAG_END_HEADERS = 0x4;
    private static final int FLAG_PADDED = 0x8;
    private static final int FLAG_PRIORITY = 0x20;

    private static final int SETTINGS_HEADER_TABLE_SIZE = 0x1;
    private static final int SETTINGS_ENABLE_PUSH = 0x2;
    private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    private static final int CANCEL = 0x8;
    /** The largest header block read (a long grpc-message included). */
    private static final int MAX_HEADER_BLOCK = 64 << 10;

    /** gRPC's status codes this client reports itself (the server's come from its trailers). */
    public static final int OK = 0;
    public static final int INTERNAL = 13;

    /** {@code ModelInferRequest.raw_input_contents} (field 7) and {@code ModelInferResponse.raw_output_contents} (field 6), length-delimited. */
    private static final int RAW_INPUT_TAG = 7 << 3 | 2;
    private static final int RAW_OUTPUT_FIELD = 6;

    private final InetSocketAddress address;
    private final byte[] headerBlock;
    private final byte[] messageHead;
    private final long[] inputBytes;
    private final long payloadBytes;
    private final int messageBytes;

    /** Replaced on reconnecting; volatile so that {@link #close} from another thread closes the current one. */
    private volatile SocketChannel channel;
    private volatile boolean closed;
    private boolean spin;
    private boolean reconnect;
    private int nextStream;

    private final ByteBuffer out;
    private final ByteBuffer message;
    private ByteBuffer in = ByteBuffer.allocateDirect(64 << 10);
    private int readAt;
    private ByteBuffer answer = ByteBuffer.allocateDirect(16 << 10).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer headerIn = ByteBuffer.allocateDirect(MAX_HEADER_BLOCK);
    private ByteBuffer okTrailers;

    private long connectionSendWindow;
    private long streamSendWindow;
    private long peerInitialWindow;
    private long received;

    /** The call in progress has had its response headers; its trailers. */
    private boolean headersSeen;
    private boolean done;
    /** The flags of the frame {@link #readFrame} last returned (a header block's: its first frame's END_STREAM). */
    private int lastFlags;
    private int status;
    private String statusMessage;
    private int answerStart;
    private int answerEnd;
    private int[] rawOffset = new int[4];
    private int[] rawLength = new int[4];
    private int rawCount;
    private int varintEnd;

    /**
     * Connects to the gRPC port {@code host:port} for model {@code model}; every call sends
     * {@code inputs}' bytes (in order, concatenated) as {@code raw_input_contents}.
     */
    public GrpcInferClient(String host, int port, String model, List<HttpInferClient.Input> inputs) throws IOException {
        this(host, port, model, null, inputs);
    }

    /** The same for one version of the model ({@code model_version}); null or empty: the server's choice. */
    public GrpcInferClient(String host, int port, String model, String version, List<HttpInferClient.Input> inputs) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("at least one input");
        }
        ModelInferRequest.Builder q = ModelInferRequest.newBuilder().setModelName(model);
        if (version != null && !version.isEmpty()) {
            q.setModelVersion(version);
        }
        inputBytes = new long[inputs.size()];
        long payload = 0;
        long wire = 0;
        for (int i = 0; i < inputs.size(); i++) {
            HttpInferClient.Input t = inputs.get(i);
            ModelInferRequest.InferInputTensor.Builder b = q.addInputsBuilder().setName(t.name()).setDatatype(t.datatype());
            for (long d : t.shape()) {
                b.addShape(d);
            }
            if (t.bytes() < 0) {
                throw new IllegalArgumentException("input '" + t.name() + "' has " + t.bytes() + " bytes");
            }
            inputBytes[i] = t.bytes();
            payload += t.bytes();
            wire += 1 + varintSize(t.bytes()) + t.bytes();
        }
        // raw_input_contents is the request's last field, so the message is this head, then each input's tag, length and bytes
        messageHead = q.build().toByteArray();
        if (messageHead.length + wire > Integer.MAX_VALUE - 5) {
            throw new IllegalArgumentException("a request of " + (messageHead.length + wire) + " bytes is over gRPC's 4 GiB frame");
        }
        payloadBytes = payload;
        messageBytes = (int) (messageHead.length + wire);
        message = ByteBuffer.allocateDirect(5 + messageBytes);
        address = new InetSocketAddress(host, port);
        headerBlock = requestHeaders((host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port, "/" + GrpcInferenceMethods.MODEL_INFER.getFullMethodName());
        out = ByteBuffer.allocateDirect(FRAME_HEADER + headerBlock.length + 64 + FRAME_HEADER + MAX_FRAME);
        connect();
    }

    /**
     * Waits for answers by polling the socket instead of sleeping in the kernel (see
     * {@link HttpInferClient#spin}).
     */
    public GrpcInferClient spin(boolean on) throws IOException {
        channel.configureBlocking(!on);
        this.spin = on;
        return this;
    }

    /** The bytes every call's tensors take (what {@link #infer} must be given). */
    public long payloadBytes() {
        return payloadBytes;
    }

    /**
     * Sends one {@code ModelInfer} with {@code payload} (position to limit: every input's bytes, in
     * order) and reads the answer; returns its gRPC status code ({@link #OK}, or the server's). The
     * payload buffer's position is left at its limit. A broken connection or an HTTP/2 protocol
     * error is an {@link IOException}; the next call opens a new connection.
     */
    public int infer(ByteBuffer payload) throws IOException {
        if (payload.remaining() != payloadBytes) {
            throw new IllegalArgumentException("payload has " + payload.remaining() + " bytes; the inputs take " + payloadBytes);
        }
        for (int attempt = 0; ; attempt++) {
            if (reconnect || nextStream > LAST_STREAM_ID - 2) {
                channel.close();
                connect();
            }
            int from = payload.position();
            try {
                return call(payload);
            } catch (NotTaken e) {
                // the server closed the connection before this stream: it never saw the call, so it is sent once more
                reconnect = true;
                if (attempt > 0) {
                    throw e;
                }
                payload.position(from);
            } catch (IOException | RuntimeException e) {
                reconnect = true;
                throw e;
            }
        }
    }

    /** GOAWAY named a last stream below the call's: the server did not process it. */
    private static final class NotTaken extends IOException {
        NotTaken(String message) {
            super(message);
        }
    }

    private int call(ByteBuffer payload) throws IOException {
        int stream = nextStream;
        nextStream += 2;
        message.clear();
        message.put((byte) 0).putInt(messageBytes).put(messageHead);
        int from = payload.position();
        for (long n : inputBytes) {
            message.put((byte) RAW_INPUT_TAG);
            putVarint(message, n);
            message.put(message.position(), payload, from, (int) n);
            message.position(message.position() + (int) n);
            from += (int) n;
        }
        payload.position(payload.limit());
        message.flip();

        status = -1;
        statusMessage = null;
        answer.clear();
        rawCount = 0;
        headersSeen = false;
        done = false;
        if (received > 1L << 30) {
            windowUpdate(out, 0, (int) received);
            received = 0;
        }
        frameHeader(out, headerBlock.length, HEADERS, FLAG_END_HEADERS, stream);
        out.put(headerBlock);
        streamSendWindow = peerInitialWindow;
        while (message.hasRemaining()) {
            long n = Math.min(Math.min(message.remaining(), MAX_FRAME), Math.min(connectionSendWindow, streamSendWindow));
            if (n <= 0) {
                flush();
                // a server may answer before it has read the whole request (a refusal): then stop sending
                if (receive(stream)) {
                    frameHeader(out, 4, RST_STREAM, 0, stream);
                    out.putInt(CANCEL);
                    flush();
                    return finish();
                }
                continue;
            }
            if (out.remaining() < FRAME_HEADER + n) {
                flush();
            }
            frameHeader(out, (int) n, DATA, n == message.remaining() ? FLAG_END_STREAM : 0, stream);
            int end = message.position() + (int) n;
            out.put(out.position(), message, message.position(), (int) n);
            out.position(out.position() + (int) n);
            message.position(end);
            connectionSendWindow -= n;
            streamSendWindow -= n;
        }
        flush();
        while (!receive(stream)) {
            // until the trailers
        }
        return finish();
    }

    private int finish() throws IOException {
        if (status == OK) {
            parseAnswer();
        }
        return status;
    }

    /** Reads one frame and applies it to the call on {@code stream}; true once the call has its trailers. */
    private boolean receive(int stream) throws IOException {
        int kind = readFrame(stream);
        if (kind == HEADERS) {
            boolean end = (lastFlags & FLAG_END_STREAM) != 0;
            if (!headersSeen && !end) {
                headersSeen = true;     // the response headers (:status 200, content-type): the message follows
            } else if (!end) {
                throw protocol("a second header block on stream " + stream + " that does not end it");
            } else {
                trailers(stream);
                done = true;
            }
        } else if (kind == DATA && (lastFlags & FLAG_END_STREAM) != 0) {
            throw new IOException("stream " + stream + " ended without trailers");
        }
        return done;
    }

    /**
     * Reads and handles one frame; called with nothing queued in {@link #out}, so an
     * acknowledgement it owes is written at once. Returns {@link #DATA} or {@link #HEADERS} for frames of
     * {@code stream} (a DATA frame's bytes appended to the answer, a header block, continuations
     * included, in {@link #headerIn}), -1 for any other frame.
     */
    private int readFrame(int stream) throws IOException {
        if (readAt == in.position()) {
            in.clear();         // all read: the next bytes go to the front
            readAt = 0;
        }
        need(FRAME_HEADER);
        int length = (in.get(readAt) & 0xff) << 16 | (in.get(readAt + 1) & 0xff) << 8 | in.get(readAt + 2) & 0xff;
        int type = in.get(readAt + 3) & 0xff;
        int flags = in.get(readAt + 4) & 0xff;
        int id = in.getInt(readAt + 5) & 0x7fffffff;
        if (length > MAX_FRAME) {
            throw protocol("a " + length + "-byte frame (type " + type + ") over the 16,384 bytes this client accepts");
        }
        need(FRAME_HEADER + length);
        int p = readAt + FRAME_HEADER;
        readAt = p + length;
        lastFlags = flags;
        switch (type) {
            case DATA -> {
                received += length;
                if (id != stream) {
                    return -1;
                }
                int pad = (flags & FLAG_PADDED) != 0 ? (in.get(p++) & 0xff) + 1 : 0;
                int n = length - pad;
                if (n < 0) {
                    throw protocol("DATA frame padding longer than the frame");
                }
                if (answer.remaining() < n) {
                    ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(answer.capacity() * 2, answer.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                    answer.flip();
                    bigger.put(answer);
                    answer = bigger;
                }
                answer.put(answer.position(), in, p, n);
                answer.position(answer.position() + n);
                return DATA;
            }
            case HEADERS -> {
                if (id != stream) {
                    throw protocol("HEADERS on stream " + id + " while waiting on stream " + stream);
                }
                int pad = (flags & FLAG_PADDED) != 0 ? (in.get(p++) & 0xff) : 0;
                if ((flags & FLAG_PRIORITY) != 0) {
                    p += 5;
                }
                int n = readAt - p - pad;
                if (n < 0) {
                    throw protocol("HEADERS frame padding longer than the frame");
                }
                headerIn.clear();
                appendHeaders(p, n);
                int endStream = flags & FLAG_END_STREAM;
                while ((lastFlags & FLAG_END_HEADERS) == 0) {
                    need(FRAME_HEADER);
                    int cl = (in.get(readAt) & 0xff) << 16 | (in.get(readAt + 1) & 0xff) << 8 | in.get(readAt + 2) & 0xff;
                    if ((in.get(readAt + 3) & 0xff) != CONTINUATION || cl > MAX_FRAME || (in.getInt(readAt + 5) & 0x7fffffff) != stream) {
                        throw protocol("a header block not followed by its CONTINUATION frame");
                    }
                    lastFlags = in.get(readAt + 4) & 0xff;
                    need(FRAME_HEADER + cl);
                    appendHeaders(readAt + FRAME_HEADER, cl);
                    readAt += FRAME_HEADER + cl;
                }
                lastFlags = endStream;
                return HEADERS;
            }
            case RST_STREAM -> {
                if (length != 4) {
                    throw protocol("RST_STREAM of " + length + " bytes");
                }
                if (id == stream && done) {
                    return -1;      // after the trailers: nothing lost
                }
                if (id == stream) {
                    throw new IOException("the server reset stream " + id + " (HTTP/2 error code " + in.getInt(p) + ")");
                }
                return -1;
            }
            case SETTINGS -> {
                if (length % 6 != 0) {
                    throw protocol("SETTINGS of " + length + " bytes");
                }
                if ((flags & FLAG_ACK) == 0) {
                    for (int s = p; s + 6 <= readAt; s += 6) {
                        if ((in.getShort(s) & 0xffff) == SETTINGS_INITIAL_WINDOW_SIZE) {
                            long w = in.getInt(s + 2) & 0xffffffffL;
                            streamSendWindow += w - peerInitialWindow;
                            peerInitialWindow = w;
                        }
                    }
                    frameHeader(out, 0, SETTINGS, FLAG_ACK, 0);
                    flush();
                }
                return -1;
            }
            case PING -> {
                if (length != 8) {
                    throw protocol("PING of " + length + " bytes");
                }
                if ((flags & FLAG_ACK) == 0) {
                    frameHeader(out, 8, PING, FLAG_ACK, 0);
                    out.putLong(in.getLong(p));
                    flush();
                }
                return -1;
            }
            case GOAWAY -> {
                if (length < 8) {
                    throw protocol("GOAWAY of " + length + " bytes");
                }
                int last = in.getInt(p) & 0x7fffffff;
                reconnect = true;
                if (last < stream) {
                    throw new NotTaken("the server is closing the connection (GOAWAY, HTTP/2 error code " + in.getInt(p + 4)
                            + ") and did not take stream " + stream);
                }
                return -1;
            }
            case WINDOW_UPDATE -> {
                if (length != 4) {
                    throw protocol("WINDOW_UPDATE of " + length + " bytes");
                }
                int inc = in.getInt(p) & 0x7fffffff;
                if (id == 0) {
                    connectionSendWindow += inc;
                } else if (id == stream) {
                    streamSendWindow += inc;
                }
                return -1;
            }
            case PUSH_PROMISE, CONTINUATION -> throw protocol("unexpected frame type " + type);
            default -> {
                return -1;      // PRIORITY and unknown types are ignored, as RFC 9113 asks
            }
        }
    }

    private void appendHeaders(int from, int n) throws IOException {
        if (headerIn.remaining() < n) {
            throw protocol("a header block over " + headerIn.capacity() + " bytes");
        }
        headerIn.put(headerIn.position(), in, from, n);
        headerIn.position(headerIn.position() + n);
    }

    /** The call's last header block: OK when it is byte for byte an OK seen before, else decoded. */
    private void trailers(int stream) throws IOException {
        int n = headerIn.position();
        if (okTrailers != null && headerIn.flip().mismatch(okTrailers) < 0) {
            status = OK;
            return;
        }
        byte[] block = new byte[n];
        headerIn.get(0, block);
        io.netty.handler.codec.http2.Http2Headers h;
        try {
            h = new io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder(false, MAX_HEADER_BLOCK)
                    .decodeHeaders(stream, io.netty.buffer.Unpooled.wrappedBuffer(block));
        } catch (io.netty.handler.codec.http2.Http2Exception e) {
            throw protocol("undecodable trailers: " + e.getMessage());
        }
        CharSequence code = h.get("grpc-status");
        if (code == null) {
            CharSequence http = h.status();
            status = INTERNAL;
            statusMessage = "no grpc-status in the answer" + (http == null ? "" : " (HTTP status " + http + ")");
            return;
        }
        try {
            status = Integer.parseInt(code.toString());
        } catch (NumberFormatException e) {
            status = INTERNAL;
            statusMessage = "grpc-status '" + code + "' is not a number";
            return;
        }
        CharSequence m = h.get("grpc-message");
        statusMessage = m == null ? "" : percentDecode(m.toString());
        if (status == OK && h.status() == null) {
            okTrailers = ByteBuffer.wrap(block);
        }
    }

    private void parseAnswer() throws IOException {
        int end = answer.position();
        if (end < 5 || answer.get(0) != 0) {
            throw protocol(end < 5 ? "an answer without its 5-byte gRPC message prefix" : "a compressed answer (none was asked for)");
        }
        long length = (answer.get(1) & 0xffL) << 24 | (answer.get(2) & 0xff) << 16 | (answer.get(3) & 0xff) << 8 | answer.get(4) & 0xff;
        if (5 + length != end) {
            throw protocol("a gRPC message of " + length + " bytes in " + (end - 5) + " bytes of DATA");
        }
        answerStart = 5;
        answerEnd = end;
        int p = answerStart;
        while (p < answerEnd) {
            long tag = varint(p);
            p = varintEnd;
            int field = (int) (tag >>> 3);
            switch ((int) (tag & 7)) {
                case 0 -> {
                    varint(p);
                    p = varintEnd;
                }
                case 1 -> p += 8;
                case 5 -> p += 4;
                case 2 -> {
                    long len = varint(p);
                    p = varintEnd;
                    if (len < 0 || len > answerEnd - p) {
                        throw protocol("a field of " + len + " bytes past the end of the answer");
                    }
                    if (field == RAW_OUTPUT_FIELD) {
                        if (rawCount == rawOffset.length) {
                            rawOffset = Arrays.copyOf(rawOffset, rawCount * 2);
                            rawLength = Arrays.copyOf(rawLength, rawCount * 2);
                        }
                        rawOffset[rawCount] = p;
                        rawLength[rawCount++] = (int) len;
                    }
                    p += (int) len;
                }
                default -> throw protocol("protobuf wire type " + (tag & 7) + " in the answer");
            }
        }
        if (p != answerEnd) {
            throw protocol("the answer's last field runs past its end");
        }
    }

    /** The varint at {@code p} in the answer; where it ends in {@link #varintEnd}. */
    private long varint(int p) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= answerEnd) {
                throw protocol("a varint past the end of the answer");
            }
            byte b = answer.get(p++);
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                varintEnd = p;
                return v;
            }
        }
        throw protocol("a varint over 10 bytes");
    }

    /** The last call's gRPC status code. */
    public int status() {
        return status;
    }

    /** The last failed call's {@code grpc-message} (or this client's reason), "" or null when it had none. */
    public String statusMessage() {
        return statusMessage;
    }

    /** How many {@code raw_output_contents} the last OK answer carried. */
    public int rawOutputs() {
        return rawCount;
    }

    /** The last OK answer's {@code raw_output_contents[o]}: a view of the reused buffer, little-endian. */
    public ByteBuffer rawOutput(int o) {
        if (o < 0 || o >= rawCount) {
            throw new IndexOutOfBoundsException("raw output " + o + " of " + rawCount);
        }
        return answer.duplicate().position(rawOffset[o]).limit(rawOffset[o] + rawLength[o]).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reads element {@code index} of the last answer's first raw output as a float (no allocation). */
    public float outputFloat(int index) {
        if (rawCount == 0 || index < 0 || index * 4L + 4 > rawLength[0]) {
            throw new IndexOutOfBoundsException("float " + index + " of the first raw output (" + (rawCount == 0 ? 0 : rawLength[0]) + " bytes)");
        }
        return answer.getFloat(rawOffset[0] + index * 4);
    }

    @Override
    /**
     * Closes the connection; may be called from another thread to abandon a call in progress (its
     * read or write then fails, and no later call reconnects).
     */
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    private void connect() throws IOException {
        SocketChannel ch = SocketChannel.open();
        channel = ch;           // published before connecting, so that close() can abort the connect too
        if (closed) {
            ch.close();
            throw new java.nio.channels.ClosedChannelException();
        }
        try {
            ch.connect(address);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.configureBlocking(!spin);
            nextStream = 1;
            connectionSendWindow = DEFAULT_WINDOW;
            peerInitialWindow = DEFAULT_WINDOW;
            received = 0;
            okTrailers = null;
            in.clear();
            readAt = 0;
            out.clear();
            out.put(PREFACE);
            frameHeader(out, 18, SETTINGS, 0, 0);
            out.putShort((short) SETTINGS_HEADER_TABLE_SIZE).putInt(0);     // no dynamic table: header blocks stand alone
            out.putShort((short) SETTINGS_ENABLE_PUSH).putInt(0);
            out.putShort((short) SETTINGS_INITIAL_WINDOW_SIZE).putInt(MAX_WINDOW);
            windowUpdate(out, 0, MAX_WINDOW - DEFAULT_WINDOW);
            flush();
            reconnect = false;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private void flush() throws IOException {
        out.flip();
        while (out.hasRemaining()) {
            if (channel.write(out) == 0 && spin) {
                Thread.onSpinWait();
            }
        }
        out.clear();
    }

    /** At least {@code n} bytes readable from {@link #readAt}. */
    private void need(int n) throws IOException {
        while (in.position() - readAt < n) {
            if (in.capacity() - readAt < n) {
                // move what is unread to the front (compact: no allocation), or into a larger buffer
                in.limit(in.position()).position(readAt);
                if (in.capacity() < n) {
                    ByteBuffer bigger = ByteBuffer.allocateDirect(Integer.highestOneBit(n) << 1);
                    bigger.put(in);
                    in = bigger;
                } else {
                    in.compact();
                }
                readAt = 0;
            }
            int r;
            while ((r = channel.read(in)) == 0 && spin) {
                Thread.onSpinWait();
            }
            if (r < 0) {
                throw new IOException("the server closed the connection");
            }
        }
    }

    private static void frameHeader(ByteBuffer b, int length, int type, int flags, int stream) {
        b.put((byte) (length >>> 16)).put((byte) (length >>> 8)).put((byte) length).put((byte) type).put((byte) flags).putInt(stream);
    }

    private static void windowUpdate(ByteBuffer b, int stream, int increment) {
        frameHeader(b, 4, WINDOW_UPDATE, 0, stream);
        b.putInt(increment);
    }

    private static IOException protocol(String what) {
        return new IOException("HTTP/2 protocol error from the server: " + what);
    }

    /**
     * The request's header block in HPACK (RFC 7541) without the dynamic table or Huffman coding:
     * :method POST and :scheme http from the static table, the rest as literals.
     */
    private static byte[] requestHeaders(String authority, String path) {
        ByteBuffer b = ByteBuffer.allocate(256 + authority.length() + path.length());
        b.put((byte) 0x83);                         // :method: POST (static index 3)
        b.put((byte) 0x86);                         // :scheme: http (static index 6)
        literal(b, 4, null, path);                  // :path (static name 4)
        literal(b, 1, null, authority);             // :authority (static name 1)
        literal(b, 31, null, "application/grpc");   // content-type (static name 31)
        literal(b, 0, "te", "trailers");
        b.flip();
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    /** A literal header field without indexing: a static-table name index, or 0 and the name. */
    private static void literal(ByteBuffer b, int nameIndex, String name, String value) {
        hpackInt(b, 0x00, 4, nameIndex);
        if (nameIndex == 0) {
            string(b, name);
        }
        string(b, value);
    }

    private static void string(ByteBuffer b, String s) {
        byte[] v = s.getBytes(StandardCharsets.US_ASCII);
        hpackInt(b, 0x00, 7, v.length);             // H = 0: not Huffman-coded
        b.put(v);
    }

    /** RFC 7541 section 5.1: an integer in an N-bit prefix, then 7 bits per byte. */
    private static void hpackInt(ByteBuffer b, int high, int prefixBits, int v) {
        int max = (1 << prefixBits) - 1;
        if (v < max) {
            b.put((byte) (high | v));
            return;
        }
        b.put((byte) (high | max));
        v -= max;
        while (v >= 0x80) {
            b.put((byte) (v & 0x7f | 0x80));
            v >>>= 7;
        }
        b.put((byte) v);
    }

    private static void putVarint(ByteBuffer b, long v) {
        while ((v & ~0x7fL) != 0) {
            b.put((byte) (v & 0x7f | 0x80));
            v >>>= 7;
        }
        b.put((byte) v);
    }

    private static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7fL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    /** gRPC percent-encodes grpc-message (UTF-8 bytes outside printable ASCII and '%'). */
    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    o.write(hi << 4 | lo);
                    i += 2;
                    continue;
                }
            }
            o.write(c);
        }
        return o.toString(StandardCharsets.UTF_8);
    }
}
