package io.hotpath.serve;

import com.fasterxml.jackson.core.JsonFactory;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * The JSON header of an HTTP binary infer request read by {@code hotpath serve}'s per-connection
 * reader (in this package to reach it): {@code same}: every request's header is byte for byte the
 * last one's (a client sending one request shape; compared, not parsed); {@code alternating}: two
 * headers take turns (each parsed by the reused Jackson parser).
 *
 * <p>{@code ./hotpath jmh InferRequestJsonBenchmark -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class InferRequestJsonBenchmark {
    @Param({"same", "alternating"})
    public String headers;

    private static final List<String> INPUTS = List.of("features");
    private static final List<String> OUTPUTS = List.of("score");
    private final JsonFactory json = InferRequestJson.factory(1 << 20);
    private final InferRequestJson reader = new InferRequestJson(1 << 16);
    private ByteBuf body;
    private int first;
    private int second;
    private int k;
    private boolean alternate;

    @Setup(Level.Trial)
    public void setUp() {
        // as the HTTP clients write it for mlp at batch 1 (HttpInferClient, Triton's client)
        String a = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":256}}],"
                + "\"outputs\":[{\"name\":\"score\",\"parameters\":{\"binary_data\":true}}]}";
        String b = a.replace("[1,64]", "[2,64]").replace("256", "512");
        byte[] x = (a + b).getBytes(StandardCharsets.US_ASCII);
        body = Unpooled.directBuffer(x.length).writeBytes(x);
        first = a.length();
        second = b.length();
        alternate = headers.equals("alternating");
    }

    @Benchmark
    public int read() {
        boolean other = alternate && (k++ & 1) == 1;
        String err = other ? reader.parse(json, body, first, second, INPUTS, OUTPUTS) : reader.parse(json, body, 0, first, INPUTS, OUTPUTS);
        if (err != null) {
            throw new IllegalStateException(err);
        }
        return reader.inputCount;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        body.release();
    }
}
