package io.hotpath.jmh;

import io.hotpath.core.Engine;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.engine.jvm.JvmEngine;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.io.IOException;
import java.nio.file.Path;
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
 * One request through {@code InferenceService} in direct mode (no batcher: the engine runs on the
 * calling thread), {@code mlp} at batch 1, on the JVM engine ({@code jvm}) and on ONNX Runtime
 * ({@code cpu}, one intra-op thread): what a single latency-critical caller sees end to end,
 * request copy-in and copy-out included. Sample mode for percentiles. {@code -p model=dense-128}
 * (a third of the multiply-adds, about half the time) beside {@code JitterFloorBenchmark} shows which
 * part of the tail is the machine's.
 *
 * <p>{@code ./hotpath jmh DirectServiceBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DirectServiceBenchmark {
    @Param({"jvm", "cpu"})
    public String engine;

    /**
     * {@code mlp}, or {@code dense-N}: the same three layers with N hidden units
     * ({@link SmallModelBenchmark#dense}), to see the service's tail on a shorter or longer call.
     */
    @Param({"mlp"})
    public String model;

    InferenceService svc;

    @Setup(Level.Trial)
    public void open() throws IOException {
        if (!engine.equals("jvm") && !engine.equals("cpu")) {
            throw new IllegalArgumentException("-p engine=" + engine + ": jvm or cpu");
        }
        Path file = SmallModelBenchmark.modelFile(model);
        Engine e = engine.equals("jvm") ? JvmEngine.open(file)
                : OrtCpuEngine.open(file, CpuEngineOptions.builder().intraOpThreads(1).build());
        svc = InferenceService.builder(e).direct().build();
    }

    @TearDown(Level.Trial)
    public void close() {
        svc.close();
    }

    /** The calling thread's request, filled once. */
    @State(Scope.Thread)
    public static class Caller {
        Request req;
        Tensor score;

        @Setup(Level.Trial)
        public void fill(DirectServiceBenchmark b) {
            req = b.svc.newRequest();
            float[] f = BenchmarkInputs.mlp(1).features;
            for (int i = 0; i < f.length; i++) {
                req.input("features").putFloat(i, f[i]);
            }
            score = req.output("score");
        }
    }

    @Benchmark
    public float infer(Caller c) {
        svc.infer(c.req);
        return c.score.getFloat(0);
    }
}
