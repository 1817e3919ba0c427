package io.hotpath.serve;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads the HTTP/1.1 requests a serving client sends over and over without Netty's codec: no
 * request object, header table, header strings or aggregated buffer per request. A connection's
 * requests come out as {@link Lean} objects that the connection reuses, each with its own body
 * buffer, so a keep-alive client sending the same kind of request allocates nothing here.
 *
 * <p>It reads only requests it understands completely: {@code GET}, {@code POST} or {@code HEAD}
 * of an origin-form target (printable ASCII) over {@code HTTP/1.1}, lines ending in CRLF, header
 * names that are tokens, at most one decimal {@code Content-Length}, no {@code Transfer-Encoding}
 * or {@code Expect}, {@code Connection} a list of tokens, a head of at most {@link #MAX_HEAD}
 * bytes and {@link #MAX_HEADERS} headers, and a body within the server's limit. The first request that is anything else hands the
 * connection, from that request's first byte on, to Netty's decoder and aggregator (installed
 * after this handler, which then removes itself): Netty reads it and every later request on that
 * connection exactly as it would have without this reader (its 400s for malformed requests,
 * 100-continue, chunked bodies, the 413 of a body over the limit). Nothing is ever refused here.
 */
final class HttpRequestReader extends ByteToMessageDecoder {
    /** The longest request head (request line and headers) read here; a longer one goes to Netty's decoder. */
    static final int MAX_HEAD = 8192;
    /** The most header lines read here. */
    static final int MAX_HEADERS = 64;
    /**
     * Bodies up to this size are copied into the request's own reused buffer; larger ones are a
     * slice of what was read (an object per request). It bounds what an idle connection holds.
     */
    static final int OWNED_BODY_LIMIT = 4 << 10;
    /** Released requests a connection keeps for reuse; more (a pipelining burst) are freed. */
    static final int POOLED = 2;
    /** The longest value of a numeric header (Inference-Header-Content-Length, Inference-Timeout-Us) read here. */
    static final int MAX_NUMBER = 24;

    private static final int NEED_MORE = -1;
    private static final int HAND_OVER = -2;
    private static final byte[] GET = ascii("GET ");
    private static final byte[] POST = ascii("POST ");
    private static final byte[] HEAD = ascii("HEAD ");
    private static final byte[] VERSION = ascii(" HTTP/1.1\r\n");
    private static final byte[] CONTENT_LENGTH = ascii("content-length");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
    private static final byte[] EXPECT = ascii("expect");
    private static final byte[] CONNECTION = ascii("connection");
    private static final byte[] CLOSE = ascii("close");
    private static final byte[] HEADER_LENGTH = ascii(HttpInferHandler.HEADER_LENGTH.toString().toLowerCase(java.util.Locale.ROOT));
    private static final byte[] TIMEOUT_US = ascii(HttpInferHandler.TIMEOUT_US.toString().toLowerCase(java.util.Locale.ROOT));
    /** RFC 9110 tchar. */
    private static final boolean[] TOKEN = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TOKEN[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = true;
            TOKEN[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = true;
        }
    }

    private final long maxBody;
    private final Consumer<ChannelPipeline> installCodec;
    private final ArrayDeque<Lean> free = new ArrayDeque<>();
    private boolean removed;
    // the last request target and its string: a client sending to one endpoint makes one string
    private byte[] lastTarget = new byte[64];
    private int lastTargetLength = -1;
    private String lastUri;
    // the head being read
    private HttpMethod method;
    private int targetStart;
    private int targetEnd;
    private long contentLength;
    private boolean keepAlive;
    private int headerLengthStart;
    private int headerLengthEnd;
    private int timeoutStart;
    private int timeoutEnd;

    /**
     * @param maxBody the largest body read here (the server's request limit); a larger one is Netty's aggregator's 413
     * @param installCodec adds Netty's decoder and aggregator to the pipeline, after this handler
     */
    HttpRequestReader(long maxBody, Consumer<ChannelPipeline> installCodec) {
        this.maxBody = maxBody;
        this.installCodec = installCodec;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // empty lines before a request (a CRLF some clients send after a body) are skipped, as Netty's decoder skips them
        while (in.isReadable() && (in.getByte(in.readerIndex()) == '\r' || in.getByte(in.readerIndex()) == '\n')) {
            in.skipBytes(1);
        }
        int start = in.readerIndex();
        int available = in.writerIndex() - start;
        int limit = start + Math.min(available, MAX_HEAD);
        int headEnd = readHead(in, start, limit);
        if (headEnd == HAND_OVER || (headEnd == NEED_MORE && available >= MAX_HEAD)) {
            handOver(ctx);
            return;
        }
        if (headEnd == NEED_MORE) {
            return;
        }
        long body = Math.max(0, contentLength);
        if (body > maxBody) {
            handOver(ctx);
            return;
        }
        if (in.writerIndex() - headEnd < body) {
            return;     // the body is still arriving (at most maxBody bytes held)
        }
        Lean req = free.poll();
        if (req == null) {
            req = new Lean(this);
        }
        int n = (int) body;
        try {
            req.method = method;
            req.uri = uri(in);
            req.keepAlive = keepAlive;
            req.headerLength = copyNumber(in, headerLengthStart, headerLengthEnd, req.headerLengthBytes);
            req.timeout = copyNumber(in, timeoutStart, timeoutEnd, req.timeoutBytes);
            if (n == 0) {
                req.content = Unpooled.EMPTY_BUFFER;
            } else if (n <= OWNED_BODY_LIMIT) {
                if (req.owned == null) {
                    req.owned = ctx.alloc().directBuffer(Math.max(n, 1024), OWNED_BODY_LIMIT);
                }
                req.owned.clear().writeBytes(in, headEnd, n);
                req.content = req.owned;
            } else {
                req.content = in.retainedSlice(headEnd, n);
            }
        } catch (RuntimeException | Error e) {
            req.free();         // out of direct memory, say: the request is dropped with its buffer, not lost to the pool
            throw e;
        }
        req.inUse = true;
        in.readerIndex(headEnd + n);
        out.add(req);
    }

    /**
     * Reads the head from {@code start}; returns the index after its blank line, {@link #NEED_MORE}
     * (an incomplete head within {@code limit}) or {@link #HAND_OVER} (a request this reader
     * leaves to Netty's codec).
     */
    private int readHead(ByteBuf in, int start, int limit) {
        if (limit - start < 5) {
            return NEED_MORE;
        }
        int p;
        if (startsWith(in, start, GET)) {
            method = HttpMethod.GET;
            p = start + GET.length;
        } else if (startsWith(in, start, POST)) {
            method = HttpMethod.POST;
            p = start + POST.length;
        } else if (startsWith(in, start, HEAD)) {
            method = HttpMethod.HEAD;
            p = start + HEAD.length;
        } else {
            return HAND_OVER;
        }
        // origin-form target: '/' then printable ASCII up to the space
        if (p >= limit) {
            return NEED_MORE;
        }
        if (in.getByte(p) != '/') {
            return HAND_OVER;
        }
        targetStart = p;
        while (true) {
            if (p >= limit) {
                return NEED_MORE;
            }
            int c = in.getByte(p) & 0xff;
            if (c == ' ') {
                break;
            }
            if (c <= 0x20 || c >= 0x7f) {
                return HAND_OVER;
            }
            p++;
        }
        targetEnd = p;
        if (p + VERSION.length > limit) {
            return NEED_MORE;
        }
        if (!startsWith(in, p, VERSION)) {
            return HAND_OVER;
        }
        p += VERSION.length;
        contentLength = -1;
        keepAlive = true;
        headerLengthStart = -1;
        timeoutStart = -1;
        for (int lines = 0; ; lines++) {
            if (p + 2 > limit) {
                return NEED_MORE;
            }
            if (in.getByte(p) == '\r') {
                return in.getByte(p + 1) == '\n' ? p + 2 : HAND_OVER;
            }
            if (lines == MAX_HEADERS) {
                return HAND_OVER;
            }
            int nameStart = p;
            while (true) {
                if (p >= limit) {
                    return NEED_MORE;
                }
                int c = in.getByte(p) & 0xff;
                if (c == ':') {
                    break;
                }
                if (!TOKEN[c]) {
                    return HAND_OVER;      // whitespace before the colon, a folded line, a control character
                }
                p++;
            }
            int nameEnd = p++;
            if (nameEnd == nameStart) {
                return HAND_OVER;
            }
            int valueStart = p;
            while (true) {
                if (p >= limit) {
                    return NEED_MORE;
                }
                int c = in.getByte(p) & 0xff;
                if (c == '\r') {
                    break;
                }
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return HAND_OVER;
                }
                p++;
            }
            int valueEnd = p;
            if (p + 1 >= limit) {
                return NEED_MORE;
            }
            if (in.getByte(p + 1) != '\n') {
                return HAND_OVER;
            }
            p += 2;
            while (valueStart < valueEnd && isSpace(in.getByte(valueStart))) {
                valueStart++;
            }
            while (valueEnd > valueStart && isSpace(in.getByte(valueEnd - 1))) {
                valueEnd--;
            }
            if (!header(in, nameStart, nameEnd - nameStart, valueStart, valueEnd)) {
                return HAND_OVER;
            }
        }
    }

    /** Takes note of one header; false for a header this reader leaves to Netty's codec. */
    private boolean header(ByteBuf in, int name, int nameLength, int value, int valueEnd) {
        switch (nameLength) {
            case 14 -> {
                if (nameIs(in, name, CONTENT_LENGTH)) {
                    if (contentLength >= 0) {
                        return false;      // twice
                    }
                    contentLength = digits(in, value, valueEnd);
                    return contentLength >= 0;
                }
            }
            case 17 -> {
                return !nameIs(in, name, TRANSFER_ENCODING);
            }
            case 6 -> {
                return !nameIs(in, name, EXPECT);
            }
            case 10 -> {
                if (nameIs(in, name, CONNECTION)) {
                    return connection(in, value, valueEnd);
                }
            }
            default -> {
                if (nameLength == HEADER_LENGTH.length && nameIs(in, name, HEADER_LENGTH)) {
                    if (headerLengthStart >= 0 || valueEnd - value > MAX_NUMBER) {
                        return false;
                    }
                    headerLengthStart = value;
                    headerLengthEnd = valueEnd;
                } else if (nameLength == TIMEOUT_US.length && nameIs(in, name, TIMEOUT_US)) {
                    if (timeoutStart >= 0 || valueEnd - value > MAX_NUMBER) {
                        return false;
                    }
                    timeoutStart = value;
                    timeoutEnd = valueEnd;
                }
            }
        }
        return true;
    }

    /**
     * {@code Connection}: a comma-separated list of tokens; {@code close} among them (any case)
     * closes the connection after the answer, as Netty's {@code HttpUtil.isKeepAlive} reads it.
     * {@code Upgrade} is read and ignored, as the Netty pipeline ignores it (this server upgrades to nothing).
     */
    private boolean connection(ByteBuf in, int from, int to) {
        int p = from;
        while (p < to) {
            while (p < to && (isSpace(in.getByte(p)) || in.getByte(p) == ',')) {
                p++;
            }
            int t = p;
            while (p < to && TOKEN[in.getByte(p) & 0xff]) {
                p++;
            }
            int tEnd = p;
            while (p < to && isSpace(in.getByte(p))) {
                p++;
            }
            if (p < to && in.getByte(p) != ',') {
                return false;       // not a token list
            }
            if (tEnd - t == CLOSE.length && nameIs(in, t, CLOSE)) {
                keepAlive = false;
            }
        }
        return true;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t';
    }

    private static boolean startsWith(ByteBuf in, int at, byte[] s) {
        for (int i = 0; i < s.length; i++) {
            if (in.getByte(at + i) != s[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether the bytes at {@code at} are {@code lower} in any letter case (the caller checked the length). */
    private static boolean nameIs(ByteBuf in, int at, byte[] lower) {
        for (int i = 0; i < lower.length; i++) {
            int c = in.getByte(at + i);
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower[i]) {
                return false;
            }
        }
        return true;
    }

    /** One to eighteen decimal digits, or -1. */
    private static long digits(ByteBuf in, int from, int to) {
        if (to <= from || to - from > 18) {
            return -1;
        }
        long n = 0;
        for (int i = from; i < to; i++) {
            int d = in.getByte(i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            n = n * 10 + d;
        }
        return n;
    }

    private static int copyNumber(ByteBuf in, int from, int to, byte[] dst) {
        if (from < 0) {
            return -1;
        }
        in.getBytes(from, dst, 0, to - from);
        return to - from;
    }

    /** The target as a string: the last one again when the bytes are the same. */
    private String uri(ByteBuf in) {
        int n = targetEnd - targetStart;
        if (n == lastTargetLength) {
            int i = 0;
            while (i < n && in.getByte(targetStart + i) == lastTarget[i]) {
                i++;
            }
            if (i == n) {
                return lastUri;
            }
        }
        if (lastTarget.length < n) {
            lastTarget = new byte[Math.max(n, 2 * lastTarget.length)];
        }
        in.getBytes(targetStart, lastTarget, 0, n);
        lastTargetLength = n;
        lastUri = new String(lastTarget, 0, n, StandardCharsets.US_ASCII);
        return lastUri;
    }

    /** Installs Netty's codec after this handler and removes this one; what was read but not consumed goes to Netty's decoder. */
    private void handOver(ChannelHandlerContext ctx) {
        installCodec.accept(ctx.pipeline());
        ctx.pipeline().remove(this);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        removed = true;
        Lean r;
        while ((r = free.poll()) != null) {
            r.free();
        }
    }

    /** Released requests kept for reuse (for tests). */
    int pooled() {
        return free.size();
    }

    private void recycle(Lean r) {
        if (removed || free.size() >= POOLED) {
            r.free();
        } else {
            free.push(r);
        }
    }

    /** A request read by this reader; its connection reuses it after {@link #release()}. */
    static final class Lean implements InboundRequest {
        private final HttpRequestReader reader;
        private final byte[] headerLengthBytes = new byte[MAX_NUMBER];
        private final byte[] timeoutBytes = new byte[MAX_NUMBER];
        private HttpMethod method;
        private String uri;
        private boolean keepAlive;
        private ByteBuf owned;
        private ByteBuf content;
        private int headerLength;
        private int timeout;
        private boolean inUse;

        private Lean(HttpRequestReader reader) {
            this.reader = reader;
        }

        @Override
        public HttpMethod method() {
            return method;
        }

        @Override
        public String uri() {
            return uri;
        }

        @Override
        public boolean keepAlive() {
            return keepAlive;
        }

        @Override
        public ByteBuf content() {
            return content;
        }

        @Override
        public Throwable decodeFailure() {
            return null;
        }

        @Override
        public long number(AsciiString name) {
            if (HttpInferHandler.HEADER_LENGTH.contentEqualsIgnoreCase(name)) {
                return parse(headerLengthBytes, headerLength);
            }
            if (HttpInferHandler.TIMEOUT_US.contentEqualsIgnoreCase(name)) {
                return parse(timeoutBytes, timeout);
            }
            throw new IllegalArgumentException("header " + name + " is not kept by the reader");
        }

        @Override
        public String header(AsciiString name) {
            if (HttpInferHandler.HEADER_LENGTH.contentEqualsIgnoreCase(name)) {
                return headerLength < 0 ? null : new String(headerLengthBytes, 0, headerLength, StandardCharsets.ISO_8859_1);
            }
            if (HttpInferHandler.TIMEOUT_US.contentEqualsIgnoreCase(name)) {
                return timeout < 0 ? null : new String(timeoutBytes, 0, timeout, StandardCharsets.ISO_8859_1);
            }
            throw new IllegalArgumentException("header " + name + " is not kept by the reader");
        }

        /** As {@link InboundRequest#parse(String)}, from the value's bytes, without a string. */
        private static long parse(byte[] v, int n) {
            if (n < 0) {
                return ABSENT;
            }
            int i = 0;
            boolean negative = false;
            if (i < n && (v[i] == '-' || v[i] == '+')) {
                negative = v[i] == '-';
                i++;
            }
            if (i == n) {
                return MALFORMED;
            }
            if (n - i > 18) {       // might overflow: the rare long value takes the string route
                return InboundRequest.parse(new String(v, 0, n, StandardCharsets.ISO_8859_1));
            }
            long x = 0;
            for (; i < n; i++) {
                int d = v[i] - '0';
                if (d < 0 || d > 9) {
                    return MALFORMED;
                }
                x = x * 10 + d;
            }
            return negative ? -x : x;
        }

        @Override
        public void release() {
            if (!inUse) {
                throw new IllegalStateException("request released twice");
            }
            inUse = false;
            if (content != owned && content != Unpooled.EMPTY_BUFFER) {
                content.release();
            }
            content = null;
            reader.recycle(this);
        }

        private void free() {
            if (owned != null) {
                owned.release();
                owned = null;
            }
        }
    }
}
