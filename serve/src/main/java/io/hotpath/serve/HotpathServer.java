package io.hotpath.serve;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code hotpath serve}: the models of a {@link ModelRegistry} over the Open Inference Protocol's
 * HTTP transport and Prometheus metrics, on one set of Netty event loops (native epoll when
 * available). Lifecycle: {@link #start} binds and marks the registry ready ({@link #open} binds
 * only, so that {@link ServerWarmup} can run before {@link #markReady}); {@link #drain}
 * (SIGTERM) marks it not ready, keeps answering for a grace period so load balancers notice,
 * stops accepting, waits for every accepted request to be answered, then closes everything.
 */
public final class HotpathServer implements AutoCloseable {
    private final ModelRegistry registry;
    private final ServerInfo info;
    private final EventLoopGroup loops;
    private final HttpTransport http;
    private final HttpTransport metrics;
    private final AutoCloseable grpc;
    private final int grpcPort;
    private final System.Logger log;
    private volatile boolean closed;
    private final String connectHost;

    /**
     * Where to listen. A port of 0 takes a free one (read it back with {@link #httpPort()} and
     * friends); -1 turns that listener off. {@code busyPoll}: the event loops poll the sockets
     * without sleeping (native epoll only): a request is read the moment it arrives instead of after
     * the thread wakes up (tens of microseconds on a virtual machine), at the price of one core per
     * event loop kept busy.
     */
    public record Listen(String host, int httpPort, int grpcPort, int metricsPort, int eventLoopThreads, boolean busyPoll) {
        public Listen(String host, int httpPort, int grpcPort, int metricsPort, int eventLoopThreads) {
            this(host, httpPort, grpcPort, metricsPort, eventLoopThreads, false);
        }

        public Listen {
            for (int p : new int[] {httpPort, grpcPort, metricsPort}) {
                if (p < -1 || p > 65535) {
                    throw io.hotpath.core.HotpathException.invalidArgument("port " + p + " outside [0, 65535] (-1: off)");
                }
            }
            if (eventLoopThreads < 1 || eventLoopThreads > 256) {
                throw io.hotpath.core.HotpathException.invalidArgument("event loop threads " + eventLoopThreads + " outside [1, 256]");
            }
        }
    }

    /** The system property that sets Netty's leak detection ({@code disabled}, {@code simple}, {@code advanced}, {@code paranoid}). */
    public static final String LEAK_DETECTION_PROPERTY = "io.netty.leakDetection.level";
    /** Netty's older name for it, still read by Netty 4.2. */
    static final String LEGACY_LEAK_DETECTION_PROPERTY = "io.netty.leakDetectionLevel";

    /**
     * Turns Netty's sampled leak detection off for this JVM (every detector, buffers included)
     * unless {@value #LEAK_DETECTION_PROPERTY} or Netty's older {@code io.netty.leakDetectionLevel}
     * is set. At Netty's default level it records a stack trace for one buffer in 128, about 55
     * bytes a request on average and the only garbage left on the HTTP binary path;
     * {@code hotpath serve} calls this (the process is the server's own), an application embedding
     * the server decides for itself. Returns whether it turned it off.
     */
    public static boolean leakDetectionOffUnlessAsked() {
        if (System.getProperty(LEAK_DETECTION_PROPERTY) != null || System.getProperty(LEGACY_LEAK_DETECTION_PROPERTY) != null) {
            return false;
        }
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        return true;
    }

    /** Opens the listeners over models already in {@code registry} and marks it ready. */
    public static HotpathServer start(ModelRegistry registry, ServerInfo info, Listen listen, GrpcFactory grpcFactory) {
        HotpathServer s = new HotpathServer(registry, info, listen, grpcFactory);
        s.markReady();
        return s;
    }

    /**
     * Opens the listeners over models already in {@code registry} and leaves it loading: the
     * health endpoints say not ready while requests are already answered (what a warm-up needs);
     * {@link #markReady} ends that.
     */
    public static HotpathServer open(ModelRegistry registry, ServerInfo info, Listen listen, GrpcFactory grpcFactory) {
        return new HotpathServer(registry, info, listen, grpcFactory);
    }

    /** Marks the registry ready (the health endpoints say so); no effect once draining or closed. */
    public void markReady() {
        synchronized (this) {
            if (!closed && registry.state() == ModelRegistry.State.LOADING) {
                registry.state(ModelRegistry.State.READY);
            }
        }
    }

    /** The address the server listens on as a client on this machine reaches it: loopback for a wildcard address. */
    public String connectHost() {
        return connectHost;
    }

    /** Makes the gRPC transport on the server's event loops (the serve module's own, or none). */
    @FunctionalInterface
    public interface GrpcFactory {
        /** Returns the running transport; {@link #port} reads its port back. */
        Grpc start(EventLoopGroup loops, Class<? extends ServerChannel> channelType, String host, int port, ModelRegistry registry,
                ServerInfo info);
    }

    /** A running gRPC transport. */
    public interface Grpc extends AutoCloseable {
        int port();

        /** Stops taking new calls; calls already accepted still complete. */
        void stopAccepting();

        /** Waits up to {@code millis} for accepted calls to finish. */
        boolean awaitTermination(long millis) throws InterruptedException;

        @Override
        void close();
    }

    private HotpathServer(ModelRegistry registry, ServerInfo info, Listen listen, GrpcFactory grpcFactory) {
        this.registry = registry;
        this.info = info;
        this.log = info.log();
        boolean epoll = Epoll.isAvailable();
        this.loops = new MultiThreadIoEventLoopGroup(listen.eventLoopThreads(), new io.netty.util.concurrent.DefaultThreadFactory("hotpath-io", true),
                !epoll ? NioIoHandler.newFactory()
                // busy-polling: epoll_wait(0) in a loop until a socket is ready; with tasks queued (grpc-java flushes
                // its answers from a task) one non-blocking poll instead, or the tasks would wait for the next packet
                : listen.busyPoll() ? EpollIoHandler.newFactory(0, () -> (ready, hasTasks) -> hasTasks ? ready.get()
                        : io.netty.channel.SelectStrategy.BUSY_WAIT)
                : EpollIoHandler.newFactory());
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            this.http = listen.httpPort() < 0 ? null : add(opened, new HttpTransport(loops, type, listen.host(), listen.httpPort(), registry, info, false));
            this.metrics = listen.metricsPort() < 0 ? null
                    : add(opened, new HttpTransport(loops, type, listen.host(), listen.metricsPort(), registry, info, true));
            Grpc g = listen.grpcPort() < 0 || grpcFactory == null ? null
                    : grpcFactory.start(loops, type, listen.host(), listen.grpcPort(), registry, info);
            this.grpc = g;
            this.grpcPort = g == null ? -1 : g.port();
        } catch (RuntimeException | Error e) {
            for (AutoCloseable c : opened) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        if (!epoll) {
            log.log(System.Logger.Level.WARNING, "native epoll unavailable (" + Epoll.unavailabilityCause() + "); using Java NIO");
        }
        this.connectHost = loopbackIfWildcard(listen.host());
    }

    /** A wildcard address in any spelling (0.0.0.0, ::, [::], 0:0:0:0:0:0:0:0) as 127.0.0.1 (a dual-stack bind takes it too); anything else as given. */
    static String loopbackIfWildcard(String host) {
        if (host == null || host.isEmpty()) {
            return "127.0.0.1";
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.indexOf(':') < 0 && !h.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            return host;                    // a name: never resolved here
        }
        try {
            return java.net.InetAddress.getByName(h).isAnyLocalAddress() ? "127.0.0.1" : host;     // a literal: no lookup
        } catch (java.net.UnknownHostException e) {
            return host;
        }
    }

    private static <T extends AutoCloseable> T add(List<AutoCloseable> opened, T c) {
        opened.add(c);
        return c;
    }

    public ModelRegistry registry() {
        return registry;
    }

    /** The server's event loops (for tests that hold a loop still). */
    EventLoopGroup eventLoops() {
        return loops;
    }

    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    public int metricsPort() {
        return metrics == null ? -1 : metrics.port();
    }

    public int grpcPort() {
        return grpcPort;
    }

    /** The transport in use: "epoll" or "nio". */
    public String transport() {
        return Epoll.isAvailable() ? "epoll" : "nio";
    }

    /**
     * A graceful stop: not ready at once; keeps serving for {@code graceMillis} (load balancers take
     * the instance out); stops accepting; waits up to {@code drainMillis} for every accepted request
     * to be answered; closes. Returns whether every accepted request was answered in time.
     */
    public boolean drain(long graceMillis, long drainMillis) {
        synchronized (this) {
            registry.state(ModelRegistry.State.DRAINING);     // never overwritten by a late markReady
        }
        sleep(graceMillis);
        if (http != null) {
            http.stopAccepting();
        }
        if (grpc instanceof Grpc g) {
            g.stopAccepting();
        }
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        boolean drained = false;
        while (System.nanoTime() < end) {
            if (pending() == 0) {
                drained = true;
                break;
            }
            sleep(2);
        }
        if (grpc instanceof Grpc g) {
            try {
                g.awaitTermination(Math.max(0, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close();
        return drained;
    }

    private long pending() {
        long n = 0;
        for (ServedModel m : registry.all()) {
            n += m.stats().pendingNow();
        }
        return n;
    }

    private static void sleep(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes listeners, connections, models and event loops; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        registry.state(ModelRegistry.State.STOPPED);
        if (grpc instanceof Grpc g) {
            g.close();
        }
        if (http != null) {
            http.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        for (ServedModel m : registry.all()) {
            try {
                m.close();
            } catch (RuntimeException e) {
                log.log(System.Logger.Level.ERROR, "closing model '" + m.name() + "': " + e, e);
            }
        }
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
