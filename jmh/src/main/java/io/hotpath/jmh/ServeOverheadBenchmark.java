package io.hotpath.jmh;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.models.ModelCatalog;
import io.hotpath.serve.HotpathServer;
import io.hotpath.serve.ModelRegistry;
import io.hotpath.serve.ModelSettings;
import io.hotpath.serve.ServedModel;
import io.hotpath.serve.ServerInfo;
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
 * counts the server's allocation). Loopback TCP on the same two cores as the server.
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
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ServeOverheadBenchmark {
    HotpathServer server;
    ServedModel model;

    @Setup(Level.Trial)
    public void start() {
        ModelRegistry registry = new ModelRegistry();
        model = ModelSettings.defaults("mlp", ModelCatalog.resolve("mlp")).open(null);
        registry.add(model);
        server = HotpathServer.start(registry, ServerInfo.of("jmh", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, -1, -1, 1), null);
    }

    @TearDown(Level.Trial)
    public void stop() {
        server.close();
    }

    /** One caller: its in-process request and its HTTP connection, both filled with the same row. */
    @State(Scope.Thread)
    public static class Caller {
        Request req;
        HttpInferClient http;
        ByteBuffer payload;

        @Setup(Level.Trial)
        public void open(ServeOverheadBenchmark b) throws Exception {
            float[] f = BenchmarkInputs.mlp(1).features;
            req = b.model.service().newRequest();
            payload = ByteBuffer.allocateDirect(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < f.length; i++) {
                req.input(0).putFloat(i, f[i]);
                payload.putFloat(i * 4, f[i]);
            }
            http = new HttpInferClient("127.0.0.1", b.server.httpPort(), "mlp",
                    List.of(new HttpInferClient.Input("features", "FP32", new long[] {1, f.length}, f.length * 4L)));
        }

        @TearDown(Level.Trial)
        public void close() throws Exception {
            http.close();
        }
    }

    @Benchmark
    public float inProcess(ServeOverheadBenchmark b, Caller c) {
        if (b.model.service().infer(c.req) != BatchStatus.OK) {
            throw new IllegalStateException("status " + c.req.status());
        }
        return c.req.output(0).getFloat(0);
    }

    @Benchmark
    public float httpBinary(Caller c) throws Exception {
        c.payload.clear();
        if (c.http.infer(c.payload) != 200) {
            throw new IllegalStateException("HTTP " + c.http.status());
        }
        return c.http.outputFloat(0);
    }
}
