package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpRequestReader}: what it reads itself, and that every request it leaves to Netty is
 * read by Netty exactly as Netty's codec alone reads it, on the same connection, in order.
 */
class HttpRequestReaderTest {
    static final int LIMIT = 1 << 20;
    static final String BINARY_HEAD = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,2],"
            + "\"parameters\":{\"binary_data_size\":8}}]}";

    /** The transport's pipeline with the reader, the encoder and a last handler that keeps what arrives. */
    static EmbeddedChannel readerChannel() {
        return readerChannel(LIMIT);
    }

    /** The transport's pipeline with the reader and the encoder (Netty's codec installed on a hand-over), for bodies up to {@code limit}. */
    static EmbeddedChannel readerChannel(int limit) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline()
                .addLast("read", new HttpRequestReader(limit, p -> p
                        .addBefore("encode", "decode", new HttpRequestDecoder(8192, 16384, 1 << 16))
                        .addAfter("encode", "aggregate", new HttpTransport.LimitedAggregator(limit))))
                .addLast("encode", new ResponseHead.Encoder());
        return ch;
    }

    static EmbeddedChannel nettyChannel() {
        return new EmbeddedChannel(new HttpRequestDecoder(8192, 16384, 1 << 16), new HttpObjectAggregator(LIMIT));
    }

    static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    static String infer(String extraHeaders) {
        String body = BINARY_HEAD + "\0\0\u0080?\0\0\0@";
        return "POST /v2/models/mlp/infer HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/octet-stream\r\n"
                + "Inference-Header-Content-Length: " + BINARY_HEAD.length() + "\r\n" + extraHeaders
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    /** What the handler reads of a request: comparable between the two readers. */
    record Seen(String method, String uri, boolean keepAlive, String body, long headerLength, long timeout, String headerLengthText,
            String timeoutText, boolean failed) {
        static Seen of(InboundRequest r) {
            try {
                boolean ok = r.decodeFailure() == null;
                return new Seen(r.method().name(), r.uri(), r.keepAlive(), r.content().toString(StandardCharsets.ISO_8859_1),
                        ok ? r.number(HttpInferHandler.HEADER_LENGTH) : 0, ok ? r.number(HttpInferHandler.TIMEOUT_US) : 0,
                        ok ? r.header(HttpInferHandler.HEADER_LENGTH) : null, ok ? r.header(HttpInferHandler.TIMEOUT_US) : null, !ok);
            } finally {
                r.release();
            }
        }
    }

    static List<Seen> drain(EmbeddedChannel ch) {
        List<Seen> seen = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            seen.add(Seen.of(m instanceof FullHttpRequest f ? InboundRequest.of(f) : (InboundRequest) m));
        }
        return seen;
    }

    @Test
    void aPlainInferIsReadHereWithEveryFieldTheHandlerUses() {
        EmbeddedChannel ch = readerChannel();
        ch.writeInbound(bytes(infer("Inference-Timeout-Us:  2500 \r\n")));
        InboundRequest r = ch.readInbound();
        assertInstanceOf(HttpRequestReader.Lean.class, r);
        assertSame(HttpMethod.POST, r.method());
        assertEquals("/v2/models/mlp/infer", r.uri());
        assertTrue(r.keepAlive());
        assertNull(r.decodeFailure());
        assertEquals(BINARY_HEAD.length(), r.number(HttpInferHandler.HEADER_LENGTH));
        assertEquals(2500, r.number(HttpInferHandler.TIMEOUT_US));
        assertEquals("2500", r.header(HttpInferHandler.TIMEOUT_US));
        assertEquals(BINARY_HEAD + "\0\0\u0080?\0\0\0@", r.content().toString(StandardCharsets.ISO_8859_1));
        assertTrue(r.content().hasMemoryAddress(), "the body is in direct memory (copied into the tensors by address)");
        r.release();
        assertNotNull(ch.pipeline().get("read"));
        assertNull(ch.pipeline().get("decode"));
        assertFalse(ch.finish());
    }

    @Test
    void aConnectionReusesItsRequestAndTheTargetString() {
        EmbeddedChannel ch = readerChannel();
        ch.writeInbound(bytes(infer("")));
        InboundRequest first = ch.readInbound();
        String uri = first.uri();
        first.release();
        ch.writeInbound(bytes(infer("")));
        InboundRequest second = ch.readInbound();
        assertSame(first, second, "the released request is used again");
        assertSame(uri, second.uri(), "the same target bytes give the same string");
        second.release();
        assertThrows(IllegalStateException.class, second::release);
        // pipelined: the first is still held, so the second is another object
        ch.writeInbound(bytes(infer("") + "GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n"));
        InboundRequest a = ch.readInbound();
        InboundRequest b = ch.readInbound();
        assertEquals("/v2/models/mlp/infer", a.uri());
        assertEquals("/v2/health/ready", b.uri());
        assertSame(HttpMethod.GET, b.method());
        assertEquals(0, b.content().readableBytes());
        assertTrue(a != b);
        a.release();
        b.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void aRequestSplitAnywhereIsReadTheSame() {
        String req = infer("Connection: keep-alive\r\n") + "HEAD /v2 HTTP/1.1\r\nconnection: Close\r\n\r\n";
        List<Seen> whole = drainAfter(readerChannel(), req, req.length());
        assertEquals(2, whole.size());
        assertFalse(whole.get(1).keepAlive());
        assertEquals("HEAD", whole.get(1).method());
        for (int piece : new int[] {1, 2, 3, 7, 64}) {
            assertEquals(whole, drainAfter(readerChannel(), req, piece), "in pieces of " + piece);
        }
        assertEquals(whole, drainAfter(nettyChannel(), req, req.length()), "as Netty reads it");
    }

    static List<Seen> drainAfter(EmbeddedChannel ch, String req, int piece) {
        List<Seen> seen = new ArrayList<>();
        for (int i = 0; i < req.length(); i += piece) {
            ch.writeInbound(bytes(req.substring(i, Math.min(req.length(), i + piece))));
            seen.addAll(drain(ch));
        }
        ch.finishAndReleaseAll();
        return seen;
    }

    @Test
    void numericHeadersReadAsTheNettyPathReadsThem() {
        for (String v : new String[] {"42", " 42 ", "-5", "+7", "abc", "4 2", "", "1234567890123456789", "12345678901234567890"}) {
            EmbeddedChannel ch = readerChannel();
            ch.writeInbound(bytes("POST /x HTTP/1.1\r\nInference-Timeout-Us:" + v + "\r\nContent-Length: 0\r\n\r\n"));
            InboundRequest r = ch.readInbound();
            assertInstanceOf(HttpRequestReader.Lean.class, r, v);
            assertEquals(InboundRequest.parse(v), r.number(HttpInferHandler.TIMEOUT_US), "'" + v + "'");
            assertEquals(InboundRequest.ABSENT, r.number(HttpInferHandler.HEADER_LENGTH));
            assertNull(r.header(HttpInferHandler.HEADER_LENGTH));
            r.release();
            ch.finishAndReleaseAll();
        }
        assertEquals(InboundRequest.MALFORMED, InboundRequest.parse("abc"));
        assertEquals(1234567890123456789L, InboundRequest.parse("1234567890123456789"));
    }

    /** Requests the reader leaves to Netty: each is read by Netty as Netty alone reads it, and the connection stays with Netty. */
    @ParameterizedTest
    @ValueSource(strings = {
        "POST /v2/models/mlp/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /v2/models/mlp/infer HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
        "GET /v2/health/live HTTP/1.0\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nHost : x\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
        "GET /v2/health/live HTTP/1.1\nHost: x\n\n",
        "GET http://host/v2/health/live HTTP/1.1\r\n\r\n",
        "PUT /v2/models/mlp/infer HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "get /v2/health/live HTTP/1.1\r\n\r\n",
        "GET /v2/h\u00e9alth HTTP/1.1\r\n\r\n",
        "POST /x HTTP/1.1\r\nInference-Timeout-Us: 1111111111111111111111111\r\nContent-Length: 0\r\n\r\n",
        "POST /x HTTP/1.1\r\nInference-Header-Content-Length: 1\r\nInference-Header-Content-Length: 2\r\nContent-Length: 0\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nX-Bad: a\u0001b\r\n\r\n",
        "GET  /v2 HTTP/1.1\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nConnection: close;x\r\n\r\n",
    })
    void whatTheReaderLeavesNettyReadsAsItAlwaysDid(String odd) {
        EmbeddedChannel ch = readerChannel();
        List<Object> got = readBothWays(ch, infer("") + odd + infer(""));
        assertInstanceOf(HttpRequestReader.Lean.class, got.get(0), "the plain request before it is read here");
        for (int i = 1; i < got.size(); i++) {
            assertInstanceOf(FullHttpRequest.class, got.get(i), "from the odd request on, Netty reads the connection");
        }
        assertNull(ch.pipeline().get("read"));
        assertNotNull(ch.pipeline().get("decode"));
        ch.finishAndReleaseAll();
    }

    /**
     * Feeds {@code stream} to Netty's codec alone and to {@code ch}; asserts both give the handler
     * the same requests in the same order; returns what {@code ch} gave (released).
     */
    static List<Object> readBothWays(EmbeddedChannel ch, String stream) {
        EmbeddedChannel netty = nettyChannel();
        netty.writeInbound(bytes(stream));
        List<Seen> expected = drain(netty);
        netty.finishAndReleaseAll();
        ch.writeInbound(bytes(stream));
        List<Object> got = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            got.add(m);
        }
        List<Seen> seen = new ArrayList<>();
        for (Object o : got) {
            seen.add(Seen.of(o instanceof FullHttpRequest f ? InboundRequest.of(f) : (InboundRequest) o));
        }
        assertEquals(expected, seen);
        return got;
    }

    /** Requests the reader takes although they are not the plainest: read here exactly as Netty reads them. */
    @ParameterizedTest
    @ValueSource(strings = {
        "\r\nGET /v2/health/live HTTP/1.1\r\n\r\n",
        "\r\n\r\n\nGET /v2/health/live HTTP/1.1\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nConnection: Upgrade,  CLOSE \r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nConnection: ,\r\n\r\n",
        "GET /v2/health/live HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
        "POST /v2/models/mlp/infer HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\r\n",
        "GET /v2/health/live?x=1&y=%20 HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb\t\r\n\r\n",
    })
    void whatTheReaderTakesItReadsAsNettyDoes(String req) {
        EmbeddedChannel ch = readerChannel();
        for (Object m : readBothWays(ch, infer("") + req + infer(""))) {
            assertInstanceOf(HttpRequestReader.Lean.class, m, req);
        }
        assertNotNull(ch.pipeline().get("read"));
        ch.finishAndReleaseAll();
    }

    @Test
    void aPipeliningBurstLeavesOnlyAFewRequestsPooled() {
        EmbeddedChannel ch = readerChannel();
        HttpRequestReader reader = (HttpRequestReader) ch.pipeline().get("read");
        ch.writeInbound(bytes("GET /v2/health/live HTTP/1.1\r\n\r\n".repeat(100)));
        List<InboundRequest> held = new ArrayList<>();
        InboundRequest r;
        while ((r = ch.readInbound()) != null) {
            held.add(r);
        }
        assertEquals(100, held.size());
        assertEquals(0, held.get(99).content().readableBytes());
        held.forEach(InboundRequest::release);
        assertEquals(HttpRequestReader.POOLED, reader.pooled(), "the rest were freed");
        ch.finishAndReleaseAll();
    }

    @Test
    void aHeadLongerThanTheReaderTakesGoesToNetty() {
        String huge = "GET /v2/health/live HTTP/1.1\r\nX-Long: " + "a".repeat(HttpRequestReader.MAX_HEAD) + "\r\n\r\n";
        EmbeddedChannel ch = readerChannel();
        ch.writeInbound(bytes(huge));
        FullHttpRequest r = ch.readInbound();
        assertEquals("/v2/health/live", r.uri());
        r.release();
        assertNull(ch.pipeline().get("read"));
        ch.finishAndReleaseAll();
    }

    @Test
    void aBodyOverTheLimitIsNettysAnd413() {
        EmbeddedChannel ch = readerChannel();
        ch.writeInbound(bytes("POST /v2/models/mlp/infer HTTP/1.1\r\nContent-Length: " + (LIMIT + 1) + "\r\n\r\n"));
        assertNull(ch.readInbound(), "no request reaches the handler");
        ByteBuf answer = Unpooled.buffer();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            answer.writeBytes((ByteBuf) o);
            ((ByteBuf) o).release();
        }
        String text = answer.toString(StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("HTTP/1.1 413 "), text);
        assertTrue(text.contains("larger than the server's limit"), text);
        ch.finishAndReleaseAll();
    }

    @Test
    void aLargeBodyIsASliceAndIsReleasedWithTheRequest() {
        int n = HttpRequestReader.OWNED_BODY_LIMIT + 100;
        byte[] body = new byte[n];
        for (int i = 0; i < n; i++) {
            body[i] = (byte) (i * 31);
        }
        ByteBuf in = Unpooled.directBuffer();
        in.writeCharSequence("POST /v2/models/big/infer HTTP/1.1\r\nContent-Length: " + n + "\r\n\r\n", StandardCharsets.US_ASCII);
        in.writeBytes(body);
        EmbeddedChannel ch = readerChannel();
        ch.writeInbound(in);
        InboundRequest r = ch.readInbound();
        ByteBuf content = r.content();
        assertEquals(ByteBufUtil.hexDump(body), ByteBufUtil.hexDump(content));
        r.release();
        assertEquals(0, content.refCnt(), "the slice gave its bytes back");
        ch.finishAndReleaseAll();
    }

    @Test
    void requestsHeldWhenTheConnectionEndsFreeTheirBuffers() {
        EmbeddedChannel ch = readerChannel();
        ch.writeInbound(bytes(infer("")));
        InboundRequest r = ch.readInbound();
        ByteBuf content = r.content();
        ch.finishAndReleaseAll();       // the connection closes while the request is answered
        assertEquals(1, content.refCnt());
        r.release();
        assertEquals(0, content.refCnt(), "released after the reader was removed: freed, not pooled");
    }
}
