package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing of {@link HttpRequestReader}: streams of generated requests, mostly
 * valid and often subtly not (methods, targets, versions, line endings, duplicate or malformed
 * lengths, chunked bodies, 100-continue, Connection lists, folded lines, control bytes, bodies
 * over the limit), cut at random points, go through the transport's pipeline with the reader
 * and through the same pipeline without it (Netty's decoder and the server's aggregator only).
 * Both must hand the handler the same requests, in the same order, and write the same bytes
 * back (100 Continue, 413). Seeds are fixed: a failure reproduces.
 */
class HttpRequestReaderFuzzTest {
    static final int LIMIT = 300;

    static EmbeddedChannel withReader() {
        return HttpRequestReaderTest.readerChannel(LIMIT);
    }

    static EmbeddedChannel nettyOnly() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline()
                .addLast("decode", new HttpRequestDecoder(8192, 16384, 1 << 16))
                .addLast("encode", new ResponseHead.Encoder())
                .addLast("aggregate", new HttpTransport.LimitedAggregator(LIMIT));
        return ch;
    }

    private static final String[] METHODS = {"GET", "GET", "POST", "POST", "POST", "HEAD", "PUT", "get", "OPTIONS", "GE"};
    private static final String[] TARGETS = {"/v2/models/mlp/infer", "/v2/models/mlp/infer", "/v2/health/live", "/v2?x=1&y=%20",
        "/a%2Fb", "*", "http://h/v2", "/\u00e9", "/a\u0001b", "", "/v2/models/mlp/versions/1/infer"};
    private static final String[] VERSIONS = {"HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "http/1.1", "HTTP/1.1 ", "HTTP/2.0"};
    private static final String[] SEPARATORS = {" ", " ", " ", " ", "  ", "\t"};

    /** One request: its text (ISO-8859-1 bytes). */
    static String request(Random rnd) {
        return rnd.nextBoolean() ? plain(rnd) : odd(rnd);
    }

    /** A request the reader takes: a valid method, target and version, one right length, harmless headers. */
    static String plain(Random rnd) {
        String method = pick(rnd, new String[] {"GET", "POST", "HEAD"});
        int n = rnd.nextInt(8) == 0 ? 0 : rnd.nextInt(LIMIT);
        StringBuilder b = new StringBuilder(method).append(' ').append(pick(rnd, new String[] {"/v2/models/mlp/infer", "/v2/health/live",
            "/v2?x=1"})).append(" HTTP/1.1\r\nHost: h\r\n");
        if (rnd.nextBoolean()) {
            b.append("Inference-Header-Content-Length: ").append(rnd.nextInt(n + 1)).append("\r\n");
        }
        if (rnd.nextInt(4) == 0) {
            b.append(pick(rnd, new String[] {"Connection: close", "connection: Keep-Alive", "Connection: Upgrade", "Upgrade: h2c"})).append("\r\n");
        }
        if (n > 0 || rnd.nextBoolean()) {
            b.append("Content-Length: ").append(n).append("\r\n");
        }
        b.append("\r\n");
        for (int i = 0; i < n; i++) {
            b.append((char) rnd.nextInt(256));
        }
        return b.toString();
    }

    /** A request that is often, not always, one the reader leaves to Netty. */
    static String odd(Random rnd) {
        String eol = rnd.nextInt(12) == 0 ? (rnd.nextBoolean() ? "\n" : "\r") : "\r\n";
        StringBuilder b = new StringBuilder();
        if (rnd.nextInt(10) == 0) {
            b.append(rnd.nextBoolean() ? "\r\n" : "\n");
        }
        b.append(pick(rnd, METHODS)).append(pick(rnd, SEPARATORS)).append(pick(rnd, TARGETS)).append(pick(rnd, SEPARATORS))
                .append(pick(rnd, VERSIONS)).append(eol);
        int bodyLength = rnd.nextInt(8) == 0 ? LIMIT - 5 + rnd.nextInt(10) : rnd.nextInt(40);
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < bodyLength; i++) {
            body.append((char) rnd.nextInt(256));
        }
        boolean chunked = rnd.nextInt(8) == 0;
        boolean length = !chunked && rnd.nextInt(10) != 0;
        List<String> headers = new ArrayList<>();
        headers.add("Host: 127.0.0.1:8000");
        if (length) {
            String n = Integer.toString(bodyLength);
            headers.add(switch (rnd.nextInt(14)) {
                case 0 -> "Content-Length: " + (bodyLength + 1);
                case 1 -> "Content-Length: +" + n;
                case 2 -> "Content-Length:  " + n + " \t";
                case 3 -> "Content-Length: " + n + ", " + n;
                case 4 -> "content-LENGTH: " + n;
                case 5 -> "Content-Length: -1";
                case 6 -> "Content-Length: 0x10";
                default -> "Content-Length: " + n;
            });
            if (rnd.nextInt(15) == 0) {
                headers.add("Content-Length: " + (rnd.nextBoolean() ? n : bodyLength + 2));
            }
        }
        if (chunked) {
            headers.add(pick(rnd, new String[] {"Transfer-Encoding: chunked", "transfer-encoding: Chunked", "Transfer-Encoding: gzip, chunked"}));
            if (rnd.nextInt(4) == 0) {
                headers.add("Content-Length: " + bodyLength);
            }
        }
        int extra = rnd.nextInt(5);
        for (int i = 0; i < extra; i++) {
            headers.add(switch (rnd.nextInt(22)) {
                case 0 -> "Connection: close";
                case 1 -> "Connection: keep-alive";
                case 2 -> "Connection: Upgrade, HTTP2-Settings";
                case 3 -> "Connection: keep-alive, CLOSE";
                case 4 -> "Connection: x;y";
                case 5 -> "Upgrade: h2c";
                case 6 -> "Expect: 100-continue";
                case 7 -> "Inference-Header-Content-Length: " + rnd.nextInt(50);
                case 8 -> "Inference-Header-Content-Length: " + pick(rnd, new String[] {"abc", " 7 ", "-3", "", "99999999999999999999", "1 2"});
                case 9 -> "Inference-Timeout-Us: " + pick(rnd, new String[] {"0", "2500", "+4", "-1", "x", "1234567890123456789012345"});
                case 10 -> "X-Folded: a" + eol + " b";
                case 11 -> "Bad Name: v";
                case 12 -> "X-Space : v";
                case 13 -> "NoColon";
                case 14 -> ": empty name";
                case 15 -> "X-Ctl: a\u0001b";
                case 16 -> "X-Obs: caf\u00e9";
                case 17 -> "X-Tab:\tv\t";
                case 18 -> "X-Empty:";
                case 19 -> "X-Long: " + "a".repeat(rnd.nextInt(3) == 0 ? 9000 : 50);
                default -> "Content-Type: application/octet-stream";
            });
        }
        java.util.Collections.shuffle(headers, rnd);
        for (String h : headers) {
            b.append(h).append(eol);
        }
        b.append(eol);
        if (chunked) {
            int at = 0;
            while (at < bodyLength) {
                int n = Math.min(bodyLength - at, 1 + rnd.nextInt(20));
                b.append(Integer.toHexString(n)).append("\r\n").append(body, at, at + n).append("\r\n");
                at += n;
            }
            b.append("0\r\n\r\n");
        } else {
            b.append(body);
        }
        return b.toString();
    }

    static String pick(Random rnd, String[] from) {
        return from[rnd.nextInt(from.length)];
    }

    /** What the handler is given and what went back on the wire. */
    record Outcome(List<HttpRequestReaderTest.Seen> requests, String written, List<String> failures) {
    }

    /** Last in the pipeline: what the handler would get as exceptionCaught (it closes the connection). */
    static final class Failures extends io.netty.channel.ChannelInboundHandlerAdapter {
        final List<String> seen = new ArrayList<>();

        @Override
        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
            // a connection closed part-way through a request: Netty's aggregator reports it, the reader
            // drops the partial request; neither has anyone to answer, so it is not compared
            if (!(cause instanceof io.netty.handler.codec.PrematureChannelClosureException)) {
                seen.add(cause.getClass().getSimpleName());
            }
            ctx.close();
        }
    }

    /** Feeds the stream in pieces; counts the requests the reader read ({@code counts[0]}) and those Netty read ({@code [1]}). */
    static Outcome run(EmbeddedChannel ch, byte[] stream, int[] cuts, int[] counts) {
        Failures failures = new Failures();
        ch.pipeline().addLast("failures", failures);
        List<HttpRequestReaderTest.Seen> seen = new ArrayList<>();
        StringBuilder written = new StringBuilder();
        int from = 0;
        for (int i = 0; i <= cuts.length && ch.isOpen(); i++) {
            int to = i < cuts.length ? cuts[i] : stream.length;
            if (to > from) {
                ch.writeInbound(Unpooled.wrappedBuffer(stream, from, to - from));
            }
            from = Math.max(from, to);
            Object m;
            while ((m = ch.readInbound()) != null) {
                counts[m instanceof HttpRequestReader.Lean ? 0 : 1]++;
                seen.add(HttpRequestReaderTest.Seen.of(m instanceof FullHttpRequest f ? InboundRequest.of(f) : (InboundRequest) m));
            }
            while ((m = ch.readOutbound()) != null) {
                written.append(((ByteBuf) m).toString(StandardCharsets.ISO_8859_1));
                ((ByteBuf) m).release();
            }
        }
        ch.close();
        Object m;
        while ((m = ch.readInbound()) != null) {      // what closing the connection flushed out
            seen.add(HttpRequestReaderTest.Seen.of(m instanceof FullHttpRequest f ? InboundRequest.of(f) : (InboundRequest) m));
        }
        ch.finishAndReleaseAll();
        return new Outcome(seen, written.toString(), failures.seen);
    }

    @Test
    void theReaderNeverReadsARequestOtherwiseThanNetty() {
        Random rnd = new Random(20261203);
        int[] counts = new int[2];
        for (int c = 0; c < 4000; c++) {
            StringBuilder s = new StringBuilder();
            int n = 1 + rnd.nextInt(4);
            for (int i = 0; i < n; i++) {
                s.append(request(rnd));
            }
            byte[] stream = s.toString().getBytes(StandardCharsets.ISO_8859_1);
            int[] cuts = new int[rnd.nextInt(4)];
            for (int i = 0; i < cuts.length; i++) {
                cuts[i] = rnd.nextInt(stream.length + 1);
            }
            java.util.Arrays.sort(cuts);
            Outcome expected = run(nettyOnly(), stream, cuts, new int[2]);
            Outcome got = run(withReader(), stream, cuts, counts);
            int which = c;
            assertEquals(expected, got, () -> "case " + which + ": " + show(stream) + " cut at " + java.util.Arrays.toString(cuts));
        }
        // the generator is useful only if both paths are taken often
        assertTrue(counts[0] > 2000 && counts[1] > 1000, "requests read here " + counts[0] + ", by Netty " + counts[1]);
    }

    static String show(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xff;
            s.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : c == '\r' ? "\\r" : c == '\n' ? "\\n" : String.format("\\x%02x", c));
        }
        return s.length() > 2000 ? s.substring(0, 2000) + "..." : s.toString();
    }
}
