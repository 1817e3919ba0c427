package io.hotpath.jmh;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.models.ModelCatalog;
import java.nio.FloatBuffer;
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
 * One inference on the CPU: Hotpath's ONNX Runtime engine ({@code hotpath}: inputs and outputs
 * bound once to off-heap memory) against Microsoft's ONNX Runtime Java API 1.29.0
 * ({@code officialOrt}: input tensors made once over direct buffers, {@code session.run(inputs)},
 * read the output, close the result; {@code officialOrtPinned}: the same with preallocated
 * "pinned" outputs, the API's leanest mode). Same model file, same inputs, graph optimization ALL,
 * intra-op threads = cores, one thread calling. Each method's engine lives in its own state, so a
 * fork loads only the runtime it measures.
 *
 * <p>{@code java -jar jmh/target/benchmarks.jar CpuEngineBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class CpuEngineBenchmark {
    @Param({"mlp", "minilm"})
    public String model;

    @Param({"1", "8"})
    public int batch;

    static int threads() {
        return Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors());
    }

    Path modelFile() {
        return ModelCatalog.resolve(model);
    }

    BenchmarkInputs inputs() {
        return model.equals("mlp") ? BenchmarkInputs.mlp(batch) : BenchmarkInputs.minilm(batch);
    }

    /** Hotpath's engine with its batch filled once. */
    @State(Scope.Thread)
    public static class HotpathRun {
        OrtCpuEngine engine;
        Batch batch;
        Tensor output;

        @Setup(Level.Trial)
        public void open(CpuEngineBenchmark p) {
            engine = OrtCpuEngine.open(p.modelFile(), CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL)
                    .intraOpThreads(threads()).maxBatchSize(p.batch)
                    .maxDimension("sequence_length", BenchmarkInputs.MINILM_SEQ).build());
            batch = engine.newBatch();
            BenchmarkInputs in = p.inputs();
            if (in.features != null) {
                Tensor t = batch.input("features").reshape(p.batch, 64);
                for (int i = 0; i < in.features.length; i++) {
                    t.putFloat(i, in.features[i]);
                }
            } else {
                put(batch.input("input_ids").reshape(p.batch, BenchmarkInputs.MINILM_SEQ), in.inputIds);
                put(batch.input("attention_mask").reshape(p.batch, BenchmarkInputs.MINILM_SEQ), in.attentionMask);
                put(batch.input("token_type_ids").reshape(p.batch, BenchmarkInputs.MINILM_SEQ), in.tokenTypeIds);
            }
            output = batch.output(0);
        }

        private static void put(Tensor t, long[] v) {
            for (int i = 0; i < v.length; i++) {
                t.putLong(i, v[i]);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            engine.close();
        }
    }

    /** Microsoft's ONNX Runtime Java API on the same model and inputs. */
    @State(Scope.Thread)
    public static class OfficialRun {
        OfficialOrt ort;
        FloatBuffer pinned;

        @Setup(Level.Trial)
        public void open(CpuEngineBenchmark p) throws Throwable {
            ort = new OfficialOrt(p.modelFile(), threads());
            BenchmarkInputs in = p.inputs();
            if (in.features != null) {
                ort.floatInput("features", in.features, p.batch, 64);
                pinned = ort.pinnedFloatOutput("score", p.batch, 1);
            } else {
                long s = BenchmarkInputs.MINILM_SEQ;
                ort.longInput("input_ids", in.inputIds, p.batch, s);
                ort.longInput("attention_mask", in.attentionMask, p.batch, s);
                ort.longInput("token_type_ids", in.tokenTypeIds, p.batch, s);
                pinned = ort.pinnedFloatOutput("last_hidden_state", p.batch, s, 384);
            }
        }

        @TearDown(Level.Trial)
        public void close() throws Exception {
            ort.close();
        }
    }

    @Benchmark
    public float hotpath(HotpathRun s) {
        s.engine.run(s.batch);
        return s.output.getFloat(0);
    }

    @Benchmark
    public float officialOrt(OfficialRun s) throws Throwable {
        return s.ort.runAndRead();
    }

    @Benchmark
    public float officialOrtPinned(OfficialRun s) throws Throwable {
        s.ort.runPinned();
        return s.pinned.get(0);
    }
}
