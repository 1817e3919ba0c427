package io.hotpath.jmh;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The network floor under {@link ServeOverheadBenchmark}: two Java threads and nothing else, a
 * 300-byte request and a 200-byte answer over loopback TCP (about the size of an HTTP binary
 * infer of {@code mlp} and its answer). {@code sleep}: both wait in the kernel, so each round trip
 * wakes two threads, as a server's event loop and a blocking client do; {@code spin}: both poll
 * non-blocking sockets. Whatever a server adds over in-process inference is measured against this,
 * on the same machine in the same run.
 *
 * <p>{@code ./hotpath jmh 'LoopbackFloorBenchmark|ServeOverheadBenchmark.(inProcess|httpBinary)' -p batching=off}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class LoopbackFloorBenchmark {
    static final int REQUEST = 300;
    static final int ANSWER = 200;

    @Param({"sleep", "spin"})
    public String wait;

    ServerSocketChannel listener;
    SocketChannel client;
    Thread echo;
    final ByteBuffer out = ByteBuffer.allocateDirect(REQUEST);
    final ByteBuffer in = ByteBuffer.allocateDirect(ANSWER);

    @Setup(Level.Trial)
    public void start() throws IOException {
        boolean spin = wait.equals("spin");
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        client = SocketChannel.open(listener.getLocalAddress());
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        client.configureBlocking(!spin);
        SocketChannel peer = listener.accept();
        peer.setOption(StandardSocketOptions.TCP_NODELAY, true);
        peer.configureBlocking(!spin);
        echo = new Thread(() -> answer(peer), "loopback-echo");
        echo.setDaemon(true);
        echo.start();
    }

    /** The other side: reads each whole request, writes the answer, until the connection closes. */
    private static void answer(SocketChannel peer) {
        ByteBuffer req = ByteBuffer.allocateDirect(REQUEST);
        ByteBuffer ans = ByteBuffer.allocateDirect(ANSWER);
        try (peer) {
            while (true) {
                req.clear();
                while (req.hasRemaining()) {
                    if (peer.read(req) < 0) {
                        return;
                    }
                }
                ans.clear();
                while (ans.hasRemaining()) {
                    peer.write(ans);
                }
            }
        } catch (IOException closed) {
            // the benchmark closed its side: the trial is over
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        client.close();
        listener.close();
        echo.join(5000);
    }

    @Benchmark
    public int roundTrip() throws IOException {
        out.clear();
        while (out.hasRemaining()) {
            client.write(out);
        }
        in.clear();
        while (in.hasRemaining()) {
            if (client.read(in) < 0) {
                throw new IOException("the echo side closed");
            }
        }
        return in.get(0);
    }
}
