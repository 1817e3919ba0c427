package io.hotpath.serve;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * HTTP/1.1 response heads written as bytes. {@link HttpInferHandler} writes every answer as a head
 * and a body buffer straight to the channel: no response object, no header table, no encoder
 * state, nothing allocated on the Java heap per response. The few responses Netty's aggregator
 * makes itself ({@code 100 Continue}, an oversized body's {@code 413}) go through
 * {@link Encoder}, the pipeline's one outbound handler.
 */
final class ResponseHead {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CONTENT_TYPE = bytes("content-type: ");
    private static final byte[] CONTENT_LENGTH = bytes("\r\ncontent-length: ");
    private static final byte[] HEADER_LENGTH = bytes("\r\n" + HttpInferHandler.HEADER_LENGTH.toString().toLowerCase(java.util.Locale.ROOT) + ": ");
    private static final byte[] KEEP_ALIVE = bytes("\r\nconnection: keep-alive\r\n\r\n");
    private static final byte[] CLOSE = bytes("\r\nconnection: close\r\n\r\n");
    /** "HTTP/1.1 code reason\r\n" for every code 100 to 599, made once. */
    private static final byte[][] STATUS = new byte[600][];

    static {
        for (int code = 100; code < STATUS.length; code++) {
            STATUS[code] = bytes("HTTP/1.1 " + code + " " + HttpResponseStatus.valueOf(code).reasonPhrase() + "\r\n");
        }
    }

    private ResponseHead() {
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The status line and headers of a response with a body of {@code contentLength} bytes. */
    static void write(ByteBuf out, int code, AsciiString type, int contentLength, int headerLength, boolean close) {
        if (code < 100 || code >= STATUS.length) {
            throw new IllegalArgumentException("HTTP status " + code + " outside 100..599");
        }
        out.writeBytes(STATUS[code]);
        out.writeBytes(CONTENT_TYPE);
        out.writeBytes(type.array(), type.arrayOffset(), type.length());
        out.writeBytes(CONTENT_LENGTH);
        writeDecimal(out, contentLength);
        if (headerLength >= 0) {
            out.writeBytes(HEADER_LENGTH);
            writeDecimal(out, headerLength);
        }
        out.writeBytes(close ? CLOSE : KEEP_ALIVE);
    }

    /** A number in decimal digits. */
    static void writeDecimal(ByteBuf out, long v) {
        if (v < 0) {
            out.writeByte('-');
            v = -v;
        }
        long div = 1;
        while (v / div >= 10) {
            div *= 10;
        }
        for (; div > 0; div /= 10) {
            out.writeByte((int) ('0' + (v / div) % 10));
        }
    }

    /**
     * Encodes the {@link FullHttpResponse}s Netty's aggregator writes (status line, its headers,
     * its content); every other message, the handler's own bytes, passes through.
     */
    static final class Encoder extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (!(msg instanceof FullHttpResponse r)) {
                ctx.write(msg, promise);
                return;
            }
            ByteBuf out = ctx.alloc().buffer(128 + r.content().readableBytes());
            try {
                int code = r.status().code();
                out.writeBytes(code >= 100 && code < STATUS.length ? STATUS[code] : bytes("HTTP/1.1 " + code + " " + r.status().reasonPhrase() + "\r\n"));
                for (var it = r.headers().iteratorCharSequence(); it.hasNext(); ) {
                    Map.Entry<CharSequence, CharSequence> h = it.next();
                    out.writeCharSequence(h.getKey(), StandardCharsets.US_ASCII);
                    out.writeByte(':').writeByte(' ');
                    out.writeCharSequence(h.getValue(), StandardCharsets.US_ASCII);
                    out.writeBytes(CRLF);
                }
                out.writeBytes(CRLF);
                out.writeBytes(r.content(), r.content().readerIndex(), r.content().readableBytes());
            } catch (RuntimeException e) {
                out.release();
                r.release();
                promise.setFailure(e);
                return;
            }
            r.release();
            ctx.write(out, promise);
        }
    }
}
