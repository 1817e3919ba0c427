package io.hotpath.jmh;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.engine.jvm.JvmEngine;
import io.hotpath.engine.jvm.JvmEngineOptions;
import io.hotpath.models.ModelCatalog;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
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
 * Small models on the JVM engine ({@code jvm}: compiled to plain Java loops) against ONNX Runtime
 * through Hotpath's engine ({@code ort1}: one intra-op thread, {@code ort2}: two; inputs and
 * outputs bound once, so this is ONNX Runtime's cost without the Java API's). Same model file,
 * same rows, one calling thread, sample mode for percentiles.
 *
 * <p>Models: {@code mlp} (64-256-256-1, the built-in) and {@code dense-N}, the same shape with N
 * hidden units (64-N-N-1), for the crossover that sets the JVM engine's small-model threshold.
 *
 * <p>{@code ./hotpath jmh SmallModelBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class SmallModelBenchmark {
    @Param({"mlp", "dense-128", "dense-512", "dense-1024", "dense-2048"})
    public String model;

    @Param({"1", "8", "32"})
    public int batch;

    Path modelFile;

    @Setup(Level.Trial)
    public void model() throws Exception {
        modelFile = modelFile(model);
    }

    /** The built-in {@code mlp}, or {@code dense-N} ({@link #dense}) written to a temporary file. */
    static Path modelFile(String model) throws java.io.IOException {
        if (model.equals("mlp")) {
            return ModelCatalog.resolve("mlp");
        }
        String n = model.startsWith("dense-") ? model.substring("dense-".length()) : "";
        if (!n.matches("[1-9][0-9]{0,3}") || Integer.parseInt(n) > 4096) {
            throw new IllegalArgumentException("-p model=" + model + ": mlp or dense-N with N hidden units, 1 <= N <= 4096");
        }
        Path file = Files.createTempFile("hotpath-" + model, ".onnx");
        file.toFile().deleteOnExit();
        OnnxBuilder.write(dense(Integer.parseInt(n), 7), file);
        return file;
    }

    /** 64 -> hidden -> hidden -> 1 with the built-in mlp's operators (Gemm+Relu, MatMul+Add+Relu, Gemm+Sigmoid). */
    static io.hotpath.onnx.proto.Onnx.ModelProto dense(int hidden, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new OnnxBuilder("dense_" + hidden, 17)
                .input("features", OnnxBuilder.FLOAT, "batch", 64)
                .initializer("w1", normal(r, 64 * hidden, Math.sqrt(2.0 / 64)), 64, hidden)
                .initializer("b1", normal(r, hidden, 0.01), hidden)
                .initializer("w2", normal(r, hidden * hidden, Math.sqrt(2.0 / hidden)), hidden, hidden)
                .initializer("b2", normal(r, hidden, 0.01), hidden)
                .initializer("w3", normal(r, hidden, Math.sqrt(1.0 / hidden)), hidden, 1)
                .initializer("b3", normal(r, 1, 0.01), 1)
                .node("Gemm", "features,w1,b1", "h1").node("Relu", "h1", "a1")
                .node("MatMul", "a1,w2", "m2").node("Add", "m2,b2", "h2").node("Relu", "h2", "a2")
                .node("Gemm", "a2,w3,b3", "logit").node("Sigmoid", "logit", "score")
                .output("score", OnnxBuilder.FLOAT, "batch", 1)
                .build();
    }

    static float[] normal(SplittableRandom r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    /** An engine with its batch filled once with the same rows for every engine. */
    public abstract static class Run {
        Engine engine;
        Batch batch;
        Tensor out;

        abstract Engine open(SmallModelBenchmark p);

        @Setup(Level.Trial)
        public void setUp(SmallModelBenchmark p) {
            engine = open(p);
            batch = engine.newBatch();
            Tensor in = batch.input("features").reshape(p.batch, 64);
            float[] f = BenchmarkInputs.mlp(p.batch).features;
            for (int i = 0; i < f.length; i++) {
                in.putFloat(i, f[i]);
            }
            out = batch.output("score");
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            engine.close();
        }
    }

    @State(Scope.Thread)
    public static class Jvm extends Run {
        @Override
        Engine open(SmallModelBenchmark p) {
            return JvmEngine.open(p.modelFile, JvmEngineOptions.builder().maxBatchSize(p.batch).build());
        }
    }

    @State(Scope.Thread)
    public static class Ort1 extends Run {
        @Override
        Engine open(SmallModelBenchmark p) {
            return OrtCpuEngine.open(p.modelFile, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL).intraOpThreads(1)
                    .maxBatchSize(p.batch).build());
        }
    }

    @State(Scope.Thread)
    public static class Ort2 extends Run {
        @Override
        Engine open(SmallModelBenchmark p) {
            return OrtCpuEngine.open(p.modelFile, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL).intraOpThreads(2)
                    .maxBatchSize(p.batch).build());
        }
    }

    @Benchmark
    public float jvm(Jvm s) {
        s.engine.run(s.batch);
        return s.out.getFloat(0);
    }

    @Benchmark
    public float ort1(Ort1 s) {
        s.engine.run(s.batch);
        return s.out.getFloat(0);
    }

    @Benchmark
    public float ort2(Ort2 s) {
        s.engine.run(s.batch);
        return s.out.getFloat(0);
    }
}
