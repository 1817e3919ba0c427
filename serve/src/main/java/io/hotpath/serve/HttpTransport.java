package io.hotpath.serve;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The REST transport: a Netty server (native epoll where the platform has it) for the protocol's
 * HTTP endpoints, and a second one on the metrics port. Bodies are aggregated up to the request
 * size limit; a larger one is answered 413 with a one-line JSON reason and the connection closed.
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
                                .addLast("codec", new HttpServerCodec(8192, 16384, 1 << 16))
                                .addLast("aggregate", new LimitedAggregator((int) info.maxRequestBytes()))
                                .addLast("oip", new HttpInferHandler(registry, info, metricsPort));
                    }
                });
        try {
            this.listener = b.bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
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

    /** Answers a body over the limit with 413 and a one-line JSON reason, then closes. */
    static final class LimitedAggregator extends HttpObjectAggregator {
        private final int limit;

        LimitedAggregator(int limit) {
            super(limit);
            this.limit = limit;
            // a body of a few TCP reads: the default (1024) sizes each request's composite buffer's component
            // array for 1024 entries, about 4 KB allocated per request; past 16 the parts are merged
            setMaxCumulationBufferComponents(16);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            String why = "{\"error\":\"request body larger than the server's limit of " + limit + " bytes (--max-request-bytes)\"}";
            ByteBuf body = Unpooled.copiedBuffer(why, StandardCharsets.UTF_8);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
