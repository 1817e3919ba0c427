package io.hotpath.jmh;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.engine.jvm.JvmEngine;
import io.hotpath.engine.jvm.JvmEngineOptions;
import io.hotpath.models.BuiltinModels;
import io.hotpath.models.ModelCatalog;
import io.hotpath.models.TreeEnsembleModels;
import io.hotpath.models.XgboostModels;
import io.hotpath.nativebindings.ort.GraphOptimization;
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
 * The built-in {@code trees} model (a 500-tree regression ensemble of depth 6 to 8 over 32
 * features, {@code ai.onnx.ml TreeEnsembleRegressor}, every branch {@code BRANCH_LEQ}) or
 * {@code -p model=lt-missing} (500 trees of depth up to 8 over 32 features, every branch
 * {@code BRANCH_LT}, half of them sending missing values to their true child, 5 % of the inputs NaN:
 * how XGBoost's trees come out of the converters) on the JVM engine, with its walkers
 * ({@code jvmPacked}: one packed node array walked without branches, eight walks side by side;
 * {@code jvmArray}: flat node arrays; {@code jvmBytecode}: one generated method per tree; {@code jvm}:
 * the default, which is the packed walker for this model), against
 * ONNX Runtime through Hotpath's engine with one and two intra-op threads ({@code ort1},
 * {@code ort2}). Rows drawn from the distribution the thresholds come from, so branches go both
 * ways. Each call takes the next of {@code distinct} batches filled with different rows: with one,
 * the same rows repeat every call and the CPU's branch predictor learns their paths (the walks
 * then cost far less than on fresh data); with 64 it cannot. Sample mode for percentiles.
 *
 * <p>{@code ./hotpath jmh TreeEnsembleBenchmark -prof gc} (add {@code -p distinct=1} for repeated rows)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class TreeEnsembleBenchmark {
    @Param({"1", "8", "32"})
    public int batch;

    /**
     * {@code trees} (the built-in model), {@code lt-missing}, {@code trees-N}: N trees generated as
     * the built-in ones are (depth 6 to 8, 32 features, BRANCH_LEQ), for the size crossover, or one of
     * {@link XgboostModels#NAMES} (trained by XGBoost; its rows are the data it was trained on).
     */
    @Param({"trees"})
    public String model;

    /**
     * The share of generated input values that are NaN; negative: the model's own (0 for {@code trees},
     * 0.05 for the other generated ones). The {@code xgb-*} models run their own rows and refuse it.
     */
    @Param({"-1"})
    public double nan;

    /** How many differently filled batches the calls go round (a power of two). */
    @Param({"64"})
    public int distinct;

    /** An engine with its batches filled once, with the same rows for every engine. */
    public abstract static class Run {
        Engine engine;
        Batch[] batches;
        Tensor[] outs;
        int next;

        abstract Engine open(java.nio.file.Path model, int batch);

        @Setup(Level.Trial)
        public void setUp(TreeEnsembleBenchmark p) {
            if (Integer.bitCount(p.distinct) != 1) {
                throw new IllegalArgumentException("distinct must be a power of two, not " + p.distinct);
            }
            engine = open(p.modelFile(), p.batch);
            batches = new Batch[p.distinct];
            outs = new Tensor[p.distinct];
            XgboostModels.Trained trained = p.trained;
            int f = trained != null ? trained.features() : BuiltinModels.TREES_FEATURES;
            float[] row = new float[f];
            SplittableRandom r = new SplittableRandom(42);
            int next = 0;
            for (int d = 0; d < p.distinct; d++) {
                Batch b = engine.newBatch();
                Tensor in = b.input(TreeEnsembleModels.INPUT).reshape(p.batch, f);
                for (int i = 0; i < p.batch; i++) {
                    if (trained != null) {      // the data the model was trained on, row after row
                        System.arraycopy(trained.inputs(), (next++ % trained.rows()) * f, row, 0, f);
                    } else {
                        TreeEnsembleModels.sampleRow(r, row, 0, f, p.nan >= 0 ? p.nan : p.model.equals("trees") ? 0 : 0.05);
                    }
                    for (int k = 0; k < f; k++) {
                        in.putFloat((long) i * f + k, row[k]);
                    }
                }
                batches[d] = b;
                outs[d] = b.output(engine.outputs().getLast().name());   // a classifier's probabilities, not its labels
            }
        }

        /** Runs the next batch; returns its first score. */
        final float call() {
            int d = next++ & (batches.length - 1);
            engine.run(batches[d]);
            return outs[d].getFloat(0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            engine.close();
        }
    }

    private java.nio.file.Path file;
    private XgboostModels.Trained trained;

    /** The model's file: the built-in one, or the generated one written once per trial. */
    synchronized java.nio.file.Path modelFile() {
        if (file == null) {
            if (model.equals("trees")) {
                file = ModelCatalog.resolve("trees");
            } else if (model.equals("lt-missing")) {
                file = written(TreeEnsembleModels.build(TreeEnsembleModels.Spec.regressor(500, 8, BuiltinModels.TREES_FEATURES, 11)
                        .modes("BRANCH_LT").missingTracksTrue(0.5)));
            } else if (model.startsWith("xgb-")) {
                if (nan >= 0) {
                    throw new IllegalArgumentException("-p nan does not apply to " + model + ": it runs the rows it was trained on");
                }
                trained = XgboostModels.load(model);
                file = trained.model();
            } else if (model.matches("trees-[0-9]+")) {
                file = written(BuiltinModels.trees(Integer.parseInt(model.substring(6)), 8, BuiltinModels.TREES_FEATURES, 42));
            } else {
                throw new IllegalArgumentException("model " + model + ": trees, lt-missing, trees-N or one of " + XgboostModels.NAMES);
            }
        }
        return file;
    }

    private java.nio.file.Path written(io.hotpath.onnx.proto.Onnx.ModelProto m) {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("hotpath-trees");
            dir.toFile().deleteOnExit();
            java.nio.file.Path f = io.hotpath.onnx.OnnxBuilder.write(m, dir.resolve(model + ".onnx"));
            f.toFile().deleteOnExit();
            return f;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static JvmEngine jvm(java.nio.file.Path model, int batch, String walker) {
        String before = System.getProperty("hotpath.jvm.trees");
        System.setProperty("hotpath.jvm.trees", walker);
        try {
            return JvmEngine.open(model, JvmEngineOptions.builder().maxBatchSize(batch).build());
        } finally {
            if (before == null) {
                System.clearProperty("hotpath.jvm.trees");
            } else {
                System.setProperty("hotpath.jvm.trees", before);
            }
        }
    }

    /** The default: packed for both models. */
    @State(Scope.Thread)
    public static class JvmAuto extends Run {
        @Override
        Engine open(java.nio.file.Path model, int batch) {
            return jvm(model, batch, "auto");
        }
    }

    @State(Scope.Thread)
    public static class JvmArray extends Run {
        @Override
        Engine open(java.nio.file.Path model, int batch) {
            return jvm(model, batch, "array");
        }
    }

    @State(Scope.Thread)
    public static class JvmPacked extends Run {
        @Override
        Engine open(java.nio.file.Path model, int batch) {
            return jvm(model, batch, "packed");
        }
    }

    @State(Scope.Thread)
    public static class JvmBytecode extends Run {
        @Override
        Engine open(java.nio.file.Path model, int batch) {
            return jvm(model, batch, "bytecode");
        }
    }

    @State(Scope.Thread)
    public static class Ort1 extends Run {
        @Override
        Engine open(java.nio.file.Path model, int batch) {
            return OrtCpuEngine.open(model, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL)
                    .intraOpThreads(1).maxBatchSize(batch).build());
        }
    }

    @State(Scope.Thread)
    public static class Ort2 extends Run {
        @Override
        Engine open(java.nio.file.Path model, int batch) {
            return OrtCpuEngine.open(model, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL)
                    .intraOpThreads(2).maxBatchSize(batch).build());
        }
    }

    @Benchmark
    public float jvm(JvmAuto s) {
        return s.call();
    }

    @Benchmark
    public float jvmArray(JvmArray s) {
        return s.call();
    }

    @Benchmark
    public float jvmPacked(JvmPacked s) {
        return s.call();
    }

    @Benchmark
    public float jvmBytecode(JvmBytecode s) {
        return s.call();
    }

    @Benchmark
    public float ort1(Ort1 s) {
        return s.call();
    }

    @Benchmark
    public float ort2(Ort2 s) {
        return s.call();
    }
}
