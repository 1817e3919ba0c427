package io.hotpath.engine.jvm;

import io.hotpath.core.Engine;
import io.hotpath.core.EngineProvider;
import io.hotpath.core.HotpathException;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JVM engine as {@link EngineProvider} {@code jvm}: usable for a model when every node compiles
 * and the model is small ({@link #MAX_OPS_PER_ROW} multiply-adds per row and {@link #MAX_WEIGHT_BYTES}
 * of weights at most: past those, ONNX Runtime's kernels are faster; see docs/engine-jvm.md for
 * the measured crossover). Preferred over every other engine when usable: for a model this small
 * the per-call overhead of a native runtime (or a trip to a GPU) is most of the latency.
 */
public final class JvmEngineProvider implements EngineProvider {
    /**
     * The most multiply-adds per row for which the JVM engine is chosen. Measured at batch 1 on the
     * AMD EPYC (Zen 3) here (docs/engine-jvm.md): 64-512-512-1 (295K, 1.2 MB of weights) is 1.5x
     * faster on the JVM engine, 64-1024-1024-1 (1.1M, 4.5 MB) 1.15x slower; the threshold sits between.
     */
    public static final long MAX_OPS_PER_ROW = 1L << 19;
    /** The most bytes of weights for which the JVM engine is chosen (between the same two models: 1.2 MB wins, 4.5 MB loses). */
    public static final long MAX_WEIGHT_BYTES = 2L << 20;
    /**
     * The most bytes of node arrays for which the JVM engine is chosen for a tree ensemble. Measured
     * at batch 1 against ONNX Runtime on two threads, ensembles like the built-in one (depth 6 to 8,
     * 32 features), fresh rows, AMD EPYC Zen 5, three interleaved rounds each (docs/engine-jvm.md):
     * 1,000 trees (4.1 MB) 1.8-2.2x faster on the JVM engine in every round; 1,500 trees (6.2 MB)
     * 2.1x faster in one round and 1.3-1.5x slower in two (the JVM engine's time doubles between runs
     * as the nodes fit the caches or not); 2,000 trees (8.3 MB) slower in two rounds of three. ONNX
     * Runtime walks trees on both cores. Set just above the size that won every round.
     * Measured with the packed walker on one-target ensembles; ensembles the packed walker does not
     * take (LEQ mixed with LT, EQ, NEQ) run slower walkers, for which it may be generous.
     */
    public static final long MAX_TREE_BYTES = 9L << 19;
    /**
     * Files larger than this are refused from their size without being read. Not the weight
     * threshold itself: a tree ensemble's file holds node ids and mode names beside its thresholds
     * (the built-in 500-tree model is a 4.1 MB file whose node arrays are under the 2 MiB weight threshold).
     */
    public static final long MAX_FILE_BYTES = 32L << 20;

    @Override
    public String kind() {
        return "jvm";
    }

    @Override
    public int preference() {
        return 200;
    }

    @Override
    public Availability availability(Path model) {
        try {
            long size = Files.size(model);
            if (size > MAX_FILE_BYTES) {
                // no model this large can be under the threshold, and parsing it (MiniLM is 90 MB) would only delay the answer
                return Availability.unusable("the model file is " + size + " bytes; the JVM engine takes models only up to " + MAX_WEIGHT_BYTES
                        + " weight bytes (" + MAX_TREE_BYTES + " for tree ensembles), and files up to " + MAX_FILE_BYTES + " are read to check");
            }
            Program p = JvmCompiler.compile(ModelProto.parseFrom(JvmEngine.read(model)));
            Program.Cost c = p.cost();
            long maxBytes = p instanceof TreeProgram ? MAX_TREE_BYTES : MAX_WEIGHT_BYTES;
            if (c.operationsPerRow() > MAX_OPS_PER_ROW || c.weightBytes() > maxBytes) {
                return Availability.unusable("compiles, but " + c.operationsPerRow() + " multiply-adds per row and " + c.weightBytes()
                        + " weight bytes exceed the small-model threshold (" + MAX_OPS_PER_ROW + ", " + maxBytes + ")");
            }
            return Availability.usable("compiled for the JVM: " + p.describe() + ", " + c.operationsPerRow() + " multiply-adds per row, "
                    + c.weightBytes() + " weight bytes (under the small-model threshold)");
        } catch (HotpathException e) {
            return Availability.unusable(e.getMessage().replaceFirst("^[A-Z_]+: ", ""));
        } catch (java.io.IOException | RuntimeException e) {
            return Availability.unusable("the model could not be read: " + e.getMessage());
        }
    }

    @Override
    public Engine open(Path model, Settings settings) {
        return JvmEngine.open(model, JvmEngineOptions.builder().maxBatchSize(settings.maxBatchSize()).build());
    }

    @Override
    public boolean runsContribOperators() {
        return false;
    }
}
