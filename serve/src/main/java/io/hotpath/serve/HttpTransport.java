package io.hotpath.serve;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The REST transport: a Netty server (native epoll where the platform has it) for the protocol's
 * HTTP endpoints, and a second one on the metrics port. {@link HttpRequestReader} reads the
 * plain requests a serving client sends, allocating nothing; at the first request it leaves to
 * Netty, the connection switches to Netty's decoder and aggregator, which aggregate bodies up to
 * the request size limit (a larger one is answered 413 with a one-line JSON reason,
 * {@link LimitedAggregator}). Answers are written as bytes ({@link ResponseHead}).
 */
final class HttpTransport implements AutoCloseable {
    private final ChannelGroup connections = new DefaultChannelGroup("hotpath-http", GlobalEventExecutor.INSTANCE);
    private final Channel listener;

    HttpTransport(EventLoopGroup group, Class<? extends io.netty.channel.ServerChannel> channelType, String host, int port,
            ModelRegistry registry, ServerInfo info, boolean metricsPort) {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline()
                                // Netty's codec where it always stood: the aggregator's own answers (100 Continue, 413) pass the encoder
                                .addLast("read", new HttpRequestReader(info.maxRequestBytes(), p -> p
                                        .addBefore("encode", "decode", new HttpRequestDecoder(8192, 16384, 1 << 16))
                                        .addAfter("encode", "aggregate", new LimitedAggregator((int) info.maxRequestBytes()))))
                                .addLast("encode", new ResponseHead.Encoder())
                                .addLast("oip", new HttpInferHandler(registry, info, metricsPort));
                    }
                });
        try {
            this.listener = b.bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
        } catch (Exception e) {     // Netty rethrows bind's IOException (NativeIoException) unchecked
            throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.INVALID_ARGUMENT,
                    "cannot listen on " + host + ":" + port + " (" + (metricsPort ? "metrics" : "http") + "): " + e.getMessage(), e);
        }
    }

    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Stops accepting connections; open ones stay until {@link #close()}. */
    void stopAccepting() {
        listener.close().syncUninterruptibly();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly();
    }

    /**
     * Answers a body over the limit with 413 and a one-line JSON reason, as Netty's own aggregator
     * does but for the body: a request whose Content-Length announces too much on a keep-alive
     * connection (or that waits for 100-continue) keeps the connection, and the rest of its body is
     * read and dropped; closing while a client still sends makes the kernel reset the connection,
     * and the client (Node's fetch, say) can lose the 413 to that reset. A body found too large
     * part-way through, or a request that asked to close, is answered and the connection closed.
     */
    static final class LimitedAggregator extends HttpObjectAggregator {
        private final int limit;

        LimitedAggregator(int limit) {
            super(limit);
            this.limit = limit;
            // a body of a few TCP reads: the default (1024) sizes each request's composite buffer's component
            // array for 1024 entries, about 4 KB allocated per request; past 16 the parts are merged
            setMaxCumulationBufferComponents(16);
        }

        /** {@code Expect: 100-continue} with a Content-Length over the limit: our 413 instead of Netty's empty one. */
        @Override
        protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
            Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
            if (answer instanceof FullHttpResponse r && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
                r.release();
                return tooLarge(false);
            }
            return answer;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            boolean keep = !(oversized instanceof FullHttpMessage) && ctx.channel().config().isAutoRead()
                    && (HttpUtil.is100ContinueExpected(oversized) || HttpUtil.isKeepAlive(oversized));
            ctx.writeAndFlush(tooLarge(!keep)).addListener(keep ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
        }

        private FullHttpResponse tooLarge(boolean close) {
            String why = "{\"error\":\"request body larger than the server's limit of " + limit + " bytes (--max-request-bytes)\"}";
            ByteBuf body = Unpooled.copiedBuffer(why, StandardCharsets.UTF_8);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            res.headers().set(HttpHeaderNames.CONNECTION, close ? HttpHeaderValues.CLOSE : HttpHeaderValues.KEEP_ALIVE);
            return res;
        }
    }
}
