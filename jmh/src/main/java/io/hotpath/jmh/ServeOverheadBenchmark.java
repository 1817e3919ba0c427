package io.hotpath.jmh;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.models.ModelCatalog;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.hotpath.serve.GrpcInferenceMethods;
import io.hotpath.serve.GrpcTransport;
import io.hotpath.serve.HotpathServer;
import io.hotpath.serve.proto.ModelInferRequest;
import io.hotpath.serve.proto.ModelInferResponse;
import io.hotpath.serve.ModelRegistry;
import io.hotpath.serve.ModelSettings;
import io.hotpath.serve.ServedModel;
import io.hotpath.serve.ServerInfo;
import io.hotpath.serve.client.GrpcInferClient;
import io.hotpath.serve.client.HttpInferClient;
import io.hotpath.service.Request;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What serving over the network costs over calling the same {@code InferenceService} in process:
 * {@code mlp}, one row per request, one {@code hotpath serve} server in this JVM (its default
 * batching: max batch 32, no queue delay) and, per benchmark thread, either the service's own
 * request ({@code inProcess}) or a keep-alive HTTP/1.1 connection sending the binary tensor
 * extension ({@code httpBinary}, {@link HttpInferClient}: allocation-free, so {@code -prof gc}
 * counts the server's allocation) or a gRPC channel sending {@code raw_input_contents}
 * ({@code grpcRaw}, grpc-java's blocking client: its own allocation and two thread wake-ups per call
 * are counted too; {@code grpcWire}, {@link GrpcInferClient}: the same RPC written and read on the
 * benchmark thread, allocation-free, so what it adds is the server's). Loopback TCP
 * on the same two cores as the server. {@code batching}: the served model's dynamic batching on
 * (a batcher thread between the event loop and the engine), loop (the event loop runs the batcher:
 * the requests of one pass over the sockets are one engine run) or off (the engine runs on the
 * thread that read the request).
 *
 * <pre>
 * ./hotpath jmh ServeOverheadBenchmark -t 1 -prof gc            # latency per request, concurrency 1
 * ./hotpath jmh ServeOverheadBenchmark -t 16 -bm thrpt -tu s    # throughput, 16 callers
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 15, time = 1)      // the gRPC path needs ~10 s of calls on two vCPUs before its p50 settles (docs/serve.md)
@Measurement(iterations = 5, time = 1)
public class ServeOverheadBenchmark {
    /**
     * {@code off}: no batcher; {@code on}: a batcher thread; {@code loop}: the batcher run by the event loop that read
     * the requests ({@code hotpath serve --batcher-thread event-loop}; in process, with no event loop, it is {@code on}).
     */
    @org.openjdk.jmh.annotations.Param({"off", "on"})
    public String batching;

    /**
     * {@code sleep}: the server's event loop and the clients wait in the kernel (a thread wake-up
     * per hop); {@code spin}: they poll ({@code hotpath serve --busy-poll}, {@link HttpInferClient#spin},
     * a busy-polling gRPC client event loop).
     */
    @org.openjdk.jmh.annotations.Param({"sleep", "spin"})
    public String wait;

    HotpathServer server;
    ServedModel model;

    @Setup(Level.Trial)
    public void start(org.openjdk.jmh.infra.BenchmarkParams params) {
        HotpathServer.leakDetectionOffUnlessAsked();      // as `hotpath serve` does (-Dio.netty.leakDetection.level=simple measures it on)
        ModelRegistry registry = new ModelRegistry();
        // a blocking in-process call has no event loop to run its batch: in process, loop is on
        boolean onLoop = batching.equals("loop") && !params.getBenchmark().endsWith(".inProcess");
        model = ModelSettings.defaults("mlp", ModelCatalog.resolve("mlp")).withDynamicBatching(!batching.equals("off"))
                .withBatcherOnEventLoop(onLoop).open(null);
        registry.add(model);
        server = HotpathServer.start(registry, ServerInfo.of("jmh", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, 0, -1, 1, wait.equals("spin")),
                GrpcTransport::start);
    }

    @TearDown(Level.Trial)
    public void stop() {
        server.close();
    }

    private static final int FEATURES = BenchmarkInputs.mlp(1).features.length;
    /** One row of {@code mlp}'s input as the wire clients declare it. */
    static final List<HttpInferClient.Input> ROW_INPUT = List.of(new HttpInferClient.Input("features", "FP32", new long[] {1, FEATURES},
            FEATURES * 4L));

    /** The benchmark's row as little-endian FP32 bytes in a direct buffer. */
    static ByteBuffer row() {
        float[] f = BenchmarkInputs.mlp(1).features;
        ByteBuffer b = ByteBuffer.allocateDirect(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < f.length; i++) {
            b.putFloat(i * 4, f[i]);
        }
        return b;
    }

    /** An in-process caller: the service's own request, filled with the row. */
    @State(Scope.Thread)
    public static class InProcessCaller {
        Request req;

        @Setup(Level.Trial)
        public void open(ServeOverheadBenchmark b) {
            float[] f = BenchmarkInputs.mlp(1).features;
            req = b.model.service().newRequest();
            for (int i = 0; i < f.length; i++) {
                req.input(0).putFloat(i, f[i]);
            }
        }
    }

    /** An HTTP caller: one keep-alive connection and the row's bytes. */
    @State(Scope.Thread)
    public static class HttpCaller {
        HttpInferClient http;
        ByteBuffer payload;

        @Setup(Level.Trial)
        public void open(ServeOverheadBenchmark b) throws Exception {
            payload = row();
            http = new HttpInferClient("127.0.0.1", b.server.httpPort(), "mlp", ROW_INPUT).spin(b.wait.equals("spin"));
        }

        @TearDown(Level.Trial)
        public void close() throws Exception {
            http.close();
        }
    }

    /** A gRPC caller of Hotpath's own: HTTP/2 frames written and read on the benchmark thread ({@link GrpcInferClient}). */
    @State(Scope.Thread)
    public static class GrpcWireCaller {
        GrpcInferClient grpc;
        ByteBuffer payload;

        @Setup(Level.Trial)
        public void open(ServeOverheadBenchmark b) throws Exception {
            payload = row();
            grpc = new GrpcInferClient("127.0.0.1", b.server.grpcPort(), "mlp", ROW_INPUT).spin(b.wait.equals("spin"));
        }

        @TearDown(Level.Trial)
        public void close() throws Exception {
            grpc.close();
        }
    }

    /** A gRPC caller: a channel on its own client event loop (busy-polling when spinning) and the request message. */
    @State(Scope.Thread)
    public static class GrpcCaller {
        ManagedChannel channel;
        ModelInferRequest request;
        io.netty.channel.EventLoopGroup clientLoop;
        boolean spin;
        volatile ModelInferResponse answer;
        volatile Throwable failure;
        final io.grpc.stub.StreamObserver<ModelInferResponse> observer = new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(ModelInferResponse value) {
                answer = value;
            }

            @Override
            public void onError(Throwable t) {
                failure = t;
            }

            @Override
            public void onCompleted() {
            }
        };

        @Setup(Level.Trial)
        public void open(ServeOverheadBenchmark b) {
            spin = b.wait.equals("spin");
            clientLoop = new io.netty.channel.MultiThreadIoEventLoopGroup(1, spin
                    ? io.netty.channel.epoll.EpollIoHandler.newFactory(0, () -> (ready, tasks) -> tasks ? ready.get() : io.netty.channel.SelectStrategy.BUSY_WAIT)
                    : io.netty.channel.epoll.EpollIoHandler.newFactory());
            channel = NettyChannelBuilder.forAddress("127.0.0.1", b.server.grpcPort()).usePlaintext().directExecutor().flowControlWindow(1 << 20)
                    .eventLoopGroup(clientLoop).channelType(io.netty.channel.epoll.EpollSocketChannel.class).build();
            request = ModelInferRequest.newBuilder().setModelName("mlp")
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32").addShape(1).addShape(FEATURES))
                    .addRawInputContents(ByteString.copyFrom(row())).build();
        }

        @TearDown(Level.Trial)
        public void close() throws Exception {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    public float inProcess(ServeOverheadBenchmark b, InProcessCaller c) {
        if (b.model.service().infer(c.req) != BatchStatus.OK) {
            throw new IllegalStateException("status " + c.req.status());
        }
        return c.req.output(0).getFloat(0);
    }

    @Benchmark
    public float httpBinary(HttpCaller c) throws Exception {
        c.payload.clear();
        if (c.http.infer(c.payload) != 200) {
            throw new IllegalStateException("HTTP " + c.http.status());
        }
        return c.http.outputFloat(0);
    }

    @Benchmark
    public float grpcWire(GrpcWireCaller c) throws Exception {
        c.payload.clear();
        if (c.grpc.infer(c.payload) != GrpcInferClient.OK) {
            throw new IllegalStateException("gRPC status " + c.grpc.status() + ": " + c.grpc.statusMessage());
        }
        return c.grpc.outputFloat(0);
    }

    @Benchmark
    public float grpcRaw(GrpcCaller c) throws Exception {
        ModelInferResponse r;
        if (c.spin) {
            // the answer arrives on the client's event loop (direct executor); this thread polls for it instead of parking
            c.answer = null;
            c.failure = null;
            ClientCalls.asyncUnaryCall(c.channel.newCall(GrpcInferenceMethods.MODEL_INFER, CallOptions.DEFAULT), c.request, c.observer);
            while (c.answer == null && c.failure == null) {
                Thread.onSpinWait();
            }
            if (c.failure != null) {
                throw new IllegalStateException(c.failure);
            }
            r = c.answer;
        } else {
            r = ClientCalls.blockingUnaryCall(c.channel, GrpcInferenceMethods.MODEL_INFER, CallOptions.DEFAULT, c.request);
        }
        return r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
    }
}
