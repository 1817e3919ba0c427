package io.hotpath.redis;

import io.hotpath.core.HotpathException;
import io.hotpath.service.SharedStore;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A {@link SharedStore} on one Redis over one Lettuce connection (RESP, pipelined: every caller's
 * command shares it). Lettuce's own reconnection is off and commands are rejected while
 * disconnected, so a Redis that is down answers at once instead of queueing requests behind a
 * reconnect; the service's circuit breaker decides when to {@link #connect} again. Every command
 * expires after the command timeout, so a paused Redis cannot hold commands for ever.
 *
 * <p>All stores of a process share one set of Lettuce threads (two I/O threads, two computation
 * threads, Lettuce's minimum), made with the first store and shut down with the last.
 */
final class RedisSharedStore implements SharedStore {
    private static final System.Logger LOG = System.getLogger(RedisSharedStore.class.getName());

    private final RedisURI uri;
    private final String description;
    private final ClientResources resources;
    private final RedisClient client;
    private final AtomicBoolean connecting = new AtomicBoolean();
    /** Lookups; writes go on their own connection, so a lookup never waits behind a large answer being written. */
    private volatile StatefulRedisConnection<byte[], byte[]> connection;
    private volatile StatefulRedisConnection<byte[], byte[]> writeConnection;
    private volatile boolean closed;

    RedisSharedStore(URI u, Duration commandTimeout) {
        this.description = withoutCredentials(u);
        try {
            this.uri = RedisURI.create(u);
        } catch (RuntimeException e) {
            throw HotpathException.invalidArgument("redis URI " + description + " is not usable (" + e.getMessage()
                    + "); expected redis://[user:password@]host:port[/db] or rediss://... for TLS");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw HotpathException.invalidArgument("redis URI " + description + " names no host; expected redis://host:port");
        }
        uri.setTimeout(commandTimeout);
        this.resources = acquireResources();
        this.client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).tcpNoDelay(true).keepAlive(true).build())
                .build());
    }

    /** scheme://host:port/db, never the user or password. */
    static String withoutCredentials(URI u) {
        String host = u.getHost() != null ? u.getHost() : "?";
        return u.getScheme() + "://" + host + (u.getPort() >= 0 ? ":" + u.getPort() : "") + (u.getPath() == null ? "" : u.getPath());
    }

    @Override
    public boolean get(byte[] key, Reply reply) {
        StatefulRedisConnection<byte[], byte[]> c = connection;
        if (c == null || !c.isOpen()) {
            return false;
        }
        ValueOutput out = new ValueOutput(reply);
        c.async().dispatch(CommandType.GET, out, new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(key)).whenComplete((v, e) -> out.finish(e));
        return true;
    }

    /**
     * GET's reply, handed over while Lettuce parses it: the value is a view of the connection's
     * receive buffer (no {@code byte[]} per answer; the tier copies it once, into the request). Exactly
     * one {@link Reply#done} per command: the value when it arrives, else the command's error or
     * expiry when it completes (on Lettuce's timer thread for an expired command).
     */
    private static final class ValueOutput extends CommandOutput<byte[], byte[], Void> {
        private final Reply reply;
        private final java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();

        ValueOutput(Reply reply) {
            super(ByteArrayCodec.INSTANCE, null);
            this.reply = reply;
        }

        @Override
        public void set(java.nio.ByteBuffer bytes) {
            if (!hasError() && answered.compareAndSet(false, true)) {
                reply.done(bytes, null);        // null: no such key
            }
        }

        void finish(Throwable error) {
            if (answered.compareAndSet(false, true)) {
                reply.done(null, error != null ? error : hasError() ? new io.lettuce.core.RedisException(getError()) : null);
            }
        }
    }

    @Override
    public boolean set(byte[] key, byte[] value, long ttlMillis, Reply reply) {
        StatefulRedisConnection<byte[], byte[]> c = writeConnection;
        if (c == null || !c.isOpen()) {
            return false;
        }
        c.async().set(key, value, SetArgs.Builder.px(ttlMillis)).whenComplete((v, e) -> reply.done(null, e));
        return true;
    }

    @Override
    public boolean connected() {
        return open(connection) && open(writeConnection);
    }

    private static boolean open(StatefulRedisConnection<byte[], byte[]> c) {
        return c != null && c.isOpen();
    }

    @Override
    public void connect(Consumer<Throwable> done) {
        if (closed || !connecting.compareAndSet(false, true)) {
            return;
        }
        if (connected()) {
            connecting.set(false);
            report(done, null);
            return;
        }
        // whichever of the two is still open stays: a connection no longer open needs no close (Lettuce warns when asked to)
        connectOne(open(connection), c -> connection = c, e -> {
            if (e != null) {
                connecting.set(false);
                report(done, e);
                return;
            }
            connectOne(open(writeConnection), c -> writeConnection = c, e2 -> {
                connecting.set(false);
                report(done, e2);
            });
        });
    }

    /** Opens one connection unless {@code alreadyOpen}; {@code then} gets null or the failure. */
    private void connectOne(boolean alreadyOpen, Consumer<StatefulRedisConnection<byte[], byte[]>> keep, Consumer<Throwable> then) {
        if (alreadyOpen) {
            then.accept(null);
            return;
        }
        try {
            client.connectAsync(ByteArrayCodec.INSTANCE, uri).whenComplete((c, e) -> {
                if (e == null && closed) {
                    c.closeAsync();
                } else if (e == null) {
                    keep.accept(c);
                }
                then.accept(e);
            });
        } catch (RuntimeException e) {
            then.accept(e);
        }
    }

    /** The connect callback runs on Lettuce's thread: whatever it throws is logged, not lost. */
    private static void report(Consumer<Throwable> done, Throwable failure) {
        try {
            done.accept(failure);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "shared cache connect callback failed: " + t, t);
        }
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        client.shutdown(0, 2, TimeUnit.SECONDS);       // closes the connection too
        releaseResources();
    }

    private static ClientResources sharedResources;
    private static int users;

    private static synchronized ClientResources acquireResources() {
        if (users++ == 0) {
            sharedResources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
        }
        return sharedResources;
    }

    private static synchronized void releaseResources() {
        if (--users == 0) {
            sharedResources.shutdown(0, 2, TimeUnit.SECONDS);
            sharedResources = null;
        }
    }
}
