package io.hotpath.serve;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;

/**
 * One whole HTTP request as {@link HttpInferHandler} answers it, read either by
 * {@link HttpRequestReader} (the common requests, nothing allocated) or by Netty's codec (every
 * other request, {@link #of(FullHttpRequest)}). The handler owns it until {@link #release()}.
 */
interface InboundRequest {
    /** {@link #number} of a header the request does not have. */
    long ABSENT = Long.MIN_VALUE;
    /** {@link #number} of a header whose value is not a decimal number. */
    long MALFORMED = Long.MIN_VALUE + 1;

    HttpMethod method();

    /** The request target as sent (origin form: path and query). */
    String uri();

    /** Whether the connection stays open after the answer (HTTP/1.1 without {@code Connection: close}). */
    boolean keepAlive();

    /** The body; valid until {@link #release()}. */
    ByteBuf content();

    /** Why the request could not be decoded, or null. */
    Throwable decodeFailure();

    /** The header's value as a decimal number (surrounding spaces allowed), {@link #ABSENT} or {@link #MALFORMED}. */
    long number(AsciiString name);

    /** The header's value as sent, or null: for error messages. */
    String header(AsciiString name);

    /** Gives the request (and its body) back; called exactly once. */
    void release();

    /** A request decoded and aggregated by Netty's codec. */
    static InboundRequest of(FullHttpRequest r) {
        return new InboundRequest() {
            @Override
            public HttpMethod method() {
                return r.method();
            }

            @Override
            public String uri() {
                return r.uri();
            }

            @Override
            public boolean keepAlive() {
                return HttpUtil.isKeepAlive(r);
            }

            @Override
            public ByteBuf content() {
                return r.content();
            }

            @Override
            public Throwable decodeFailure() {
                return r.decoderResult().isSuccess() ? null : r.decoderResult().cause();
            }

            @Override
            public long number(AsciiString name) {
                String v = r.headers().get(name);
                return v == null ? ABSENT : parse(v);
            }

            @Override
            public String header(AsciiString name) {
                return r.headers().get(name);
            }

            @Override
            public void release() {
                r.release();
            }
        };
    }

    /** A decimal number with optional surrounding spaces and sign, or {@link #MALFORMED}. */
    static long parse(String v) {
        try {
            long n = Long.parseLong(v.trim());
            return n == ABSENT || n == MALFORMED ? MALFORMED : n;
        } catch (NumberFormatException e) {
            return MALFORMED;
        }
    }
}
