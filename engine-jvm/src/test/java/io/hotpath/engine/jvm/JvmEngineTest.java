package io.hotpath.engine.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.core.EngineProvider;
import io.hotpath.core.HotpathException;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every model is run by the JVM engine and by ONNX Runtime on the same rows; the outputs must agree within 1e-5. */
class JvmEngineTest {
    @TempDir
    Path tmp;

    static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    /** Runs {@code rows} random rows through both engines and returns the largest difference relative to max(1, |ort|). */
    static double compare(Path model, int rows, long seed) {
        try (JvmEngine jvm = JvmEngine.open(model); OrtCpuEngine ort = OrtCpuEngine.open(model, CpuEngineOptions.builder().maxBatchSize(64).build())) {
            assertEquals(ort.inputs().size(), jvm.inputs().size());
            Batch a = jvm.newBatch();
            Batch b = ort.newBatch();
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < jvm.inputs().size(); i++) {
                String name = jvm.inputs().get(i).name();
                int width = (int) jvm.inputs().get(i).shape().dim(1);
                a.input(name).reshape(rows, width);
                b.input(name).reshape(rows, width);
                float[] x = gaussian(r, rows * width, 1.0);
                for (int k = 0; k < x.length; k++) {
                    a.input(name).putFloat(k, x[k]);
                    b.input(name).putFloat(k, x[k]);
                }
            }
            jvm.run(a);
            ort.run(b);
            double worst = 0;
            for (int o = 0; o < jvm.outputs().size(); o++) {
                String name = jvm.outputs().get(o).name();
                assertEquals(b.output(name).elementCount(), a.output(name).elementCount(), name);
                for (long k = 0; k < a.output(name).elementCount(); k++) {
                    float want = b.output(name).getFloat(k);
                    float got = a.output(name).getFloat(k);
                    worst = Math.max(worst, Math.abs(got - want) / Math.max(1.0, Math.abs(want)));
                }
            }
            return worst;
        }
    }

    @Test
    void theBuiltInMlpAgreesWithOnnxRuntimeAtEveryBatchSize() {
        Path mlp = ModelCatalog.resolve("mlp");
        for (int rows : new int[] {1, 2, 8, 33, 64}) {
            double d = compare(mlp, rows, rows);
            assertTrue(d <= 1e-5, "batch " + rows + ": difference " + d);
        }
        try (JvmEngine e = JvmEngine.open(mlp)) {
            assertEquals("[dense 64x256+bias+relu -> dense 256x256+bias+relu -> dense 256x1+bias+sigmoid]", e.describe().replaceAll(".* \\[", "[")
                    .replaceAll("] .*", "]"), "the bias Add and every activation fold into the matrix loops: " + e.describe());
            assertEquals(64 * 256 + 256 * 256 + 256, e.operationsPerRow());
        }
    }

    /** A generated MLP: depth hidden layers of width, each a different op mix. */
    static ModelProto generated(int features, int width, int depth, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        OnnxBuilder b = new OnnxBuilder("gen", 17).input("x", OnnxBuilder.FLOAT, "batch", features);
        String cur = "x";
        int in = features;
        for (int l = 0; l < depth; l++) {
            String w = "w" + l;
            String h = "h" + l;
            b.initializer(w, gaussian(r, in * width, Math.sqrt(2.0 / in)), in, width);
            b.initializer("b" + l, gaussian(r, width, 0.1), width);
            switch (l % 4) {
                case 0 -> b.node("Gemm", cur + "," + w + ",b" + l, h).node("Relu", h, h + "a");
                case 1 -> b.node("MatMul", cur + "," + w, h).node("Add", h + ",b" + l, h + "b").node("Tanh", h + "b", h + "a");
                case 2 -> {
                    b.initializer("s" + l, gaussian(r, width, 1.0), width)
                            .initializer("m" + l, gaussian(r, width, 0.1), width)
                            .initializer("v" + l, abs(gaussian(r, width, 1.0)), width);
                    b.node("MatMul", cur + "," + w, h).node("BatchNormalization", h + ",s" + l + ",b" + l + ",m" + l + ",v" + l, h + "n")
                            .node("LeakyRelu", h + "n", h + "a", "alpha", 0.1f);
                }
                default -> {
                    b.initializer("g" + l, gaussian(r, width, 1.0), width);
                    b.node("Gemm", cur + "," + w + ",b" + l, h).node("LayerNormalization", h + ",g" + l + ",b" + l, h + "a", "epsilon", 1e-5f);
                }
            }
            cur = h + "a";
            in = width;
        }
        b.initializer("wo", gaussian(r, in * 3, Math.sqrt(1.0 / in)), 3, in).initializer("bo", gaussian(r, 3, 0.1), 3);
        b.node("Gemm", cur + ",wo,bo", "logits", "transB", 1L).node("Softmax", "logits", "probs", "axis", -1L);
        return b.output("probs", OnnxBuilder.FLOAT, "batch", 3).build();
    }

    static float[] abs(float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]) + 0.1f;
        }
        return v;
    }

    @Test
    void generatedMlpsOfSeveralWidthsAndDepthsAgreeWithOnnxRuntime() {
        int[][] shapes = {{16, 8, 1}, {32, 64, 2}, {64, 128, 4}, {10, 300, 3}, {128, 512, 2}, {5, 7, 5}};
        for (int[] s : shapes) {
            Path f = OnnxBuilder.write(generated(s[0], s[1], s[2], s[0] * 31L + s[1]), tmp.resolve("g" + s[0] + "-" + s[1] + "-" + s[2] + ".onnx"));
            for (int rows : new int[] {1, 5, 32}) {
                double d = compare(f, rows, rows * 7L);
                assertTrue(d <= 1e-5, java.util.Arrays.toString(s) + " batch " + rows + ": difference " + d);
            }
        }
    }

    @Test
    void theRestOfTheOperatorsAgreeToo() {
        SplittableRandom r = new SplittableRandom(5);
        ModelProto m = new OnnxBuilder("ops", 17)
                .input("a", OnnxBuilder.FLOAT, "batch", 12)
                .input("b", OnnxBuilder.FLOAT, "batch", 4)
                .initializer("w", gaussian(r, 12 * 4, 0.5), 12, 4)
                .initializer("c", gaussian(r, 4, 1.0), 1, 4)
                .initializer("lo", new float[] {-0.5f})
                .initializer("hi", new float[] {0.75f})
                .initializer("shape", new long[] {0, -1}, 2)
                .initializer("w2", gaussian(r, 8 * 6, 0.5), 8, 6)
                .node("MatMul", "a,w", "p")
                .node("Mul", "p,c", "q")                // folds into the layer's columns
                .node("Sub", "q,c", "s")                // folds into the bias
                .node("Clip", "s,lo,hi", "t")
                .node("Sigmoid", "b", "u")
                .node("Mul", "t,u", "v")                // two computed rows
                .node("Sub", "c,v", "dv")               // constant first
                .node("Div", "t,hi", "td")
                .node("Concat", "v,u", "cat", "axis", 1L)
                .node("Reshape", "cat,shape", "flat")
                .node("Flatten", "flat", "flat2", "axis", 1L)
                .node("Identity", "flat2", "id")
                .node("Gemm", "id,w2", "y", "alpha", 0.5f)
                .node("Tanh", "y", "z")
                .output("z", OnnxBuilder.FLOAT, "batch", 6)
                .output("dv", OnnxBuilder.FLOAT, "batch", 4)
                .output("td", OnnxBuilder.FLOAT, "batch", 4)
                .output("p", OnnxBuilder.FLOAT, "batch", 4)     // read by Mul and a graph output: not folded
                .build();
        Path f = OnnxBuilder.write(m, tmp.resolve("ops.onnx"));
        for (int rows : new int[] {1, 3, 17}) {
            double d = compare(f, rows, rows);
            assertTrue(d <= 1e-5, "batch " + rows + ": difference " + d);
        }
    }

    @Test
    void aRunAllocatesNothing() {
        try (JvmEngine e = JvmEngine.open(ModelCatalog.resolve("mlp"))) {
            Batch b = e.newBatch();
            b.input("features").reshape(1, 64);
            for (int i = 0; i < 64; i++) {
                b.input("features").putFloat(i, i / 64f);
            }
            // blocks of 100,000 runs until the JIT has compiled the kernels (SteadyState); one 16-byte object per run would be 1.6 MB
            long bytes = SteadyState.bytesPerBlock(() -> e.run(b), 100_000, 10_000, 40);
            assertTrue(bytes < 10_000, "heap bytes over 100,000 runs: " + bytes);
        }
    }

    @Test
    void unsupportedModelsAreRefusedNamingTheNodeAndOperator() {
        HotpathException e = assertThrows(HotpathException.class, () -> JvmEngine.open(ModelCatalog.resolve("cnn")));
        assertEquals(HotpathException.Category.UNSUPPORTED, e.category());
        assertTrue(e.getMessage().contains("node 'Conv_0' (Conv): operator not compiled by the JVM engine"), e.getMessage());
        ModelProto topk = new OnnxBuilder("topk", 17).input("x", OnnxBuilder.FLOAT, "batch", 8).initializer("k", new long[] {2}, 1)
                .node("TopK", "x,k", "v,i").output("v", OnnxBuilder.FLOAT, "batch", 2).build();
        HotpathException t = assertThrows(HotpathException.class, () -> JvmEngine.of("topk", topk, JvmEngineOptions.defaults()));
        assertTrue(t.getMessage().contains("node 'TopK_0' (TopK)") && t.getMessage().contains("run this model on ONNX Runtime"), t.getMessage());
        EngineProvider.Availability a = new JvmEngineProvider().availability(ModelCatalog.resolve("cnn"));
        assertFalse(a.usable());
        EngineProvider.Availability ok = new JvmEngineProvider().availability(ModelCatalog.resolve("mlp"));
        assertTrue(ok.usable(), ok.reason());
    }

    @Test
    void badShapesAreOneClearErrorAndAClosedEngineRefusesRuns() {
        JvmEngine e = JvmEngine.open(ModelCatalog.resolve("mlp"), JvmEngineOptions.builder().maxBatchSize(4).build());
        Batch b = e.newBatch();
        b.input("features").reshape(4, 64);
        e.run(b);
        HotpathException wide = assertThrows(HotpathException.class, () -> {
            Batch c = e.newBatch();
            c.input("features").reshape(2, 32);
            e.run(c);
        });
        assertTrue(wide.getMessage().contains("expected [batch,64]") || wide.getMessage().contains("64"), wide.getMessage());
        assertThrows(HotpathException.class, () -> JvmEngineOptions.builder().maxBatchSize(0).build());
        e.close();
        e.close();
        assertThrows(IllegalStateException.class, () -> e.run(b));
        assertThrows(IllegalStateException.class, e::newBatch);
    }

    @Test
    void runsOnManyBatchesFromManyThreadsAtOnce() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        try (JvmEngine e = JvmEngine.open(mlp); OrtCpuEngine ort = OrtCpuEngine.open(mlp)) {
            Batch ref = ort.newBatch();
            ref.input("features").reshape(1, 64);
            for (int i = 0; i < 64; i++) {
                ref.input("features").putFloat(i, (i % 7) / 7f);
            }
            ort.run(ref);
            float want = ref.output("score").getFloat(0);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 4; t++) {
                Thread th = new Thread(() -> {
                    try {
                        Batch b = e.newBatch();
                        b.input("features").reshape(1, 64);
                        for (int i = 0; i < 64; i++) {
                            b.input("features").putFloat(i, (i % 7) / 7f);
                        }
                        for (int i = 0; i < 2_000; i++) {
                            e.run(b);
                            if (Math.abs(b.output("score").getFloat(0) - want) > 1e-5) {
                                throw new AssertionError("run " + i + ": " + b.output("score").getFloat(0) + " vs " + want);
                            }
                        }
                    } catch (Throwable x) {
                        failures.add(x);
                    }
                });
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
            assertTrue(failures.isEmpty(), failures.toString());
        }
    }

    @Test
    void theProviderOpensAnEngine() {
        try (Engine e = new JvmEngineProvider().open(ModelCatalog.resolve("mlp"), new EngineProvider.Settings(16, 0))) {
            assertEquals("jvm", e.name());
            assertEquals(16, e.maxBatchSize());
        }
    }
}
