package io.hotpath.engine.tensorrt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.nativebindings.trt.Int8Calibrators;
import io.hotpath.nativebindings.trt.TensorRt;
import io.hotpath.models.ModelCatalog;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TensorRT on a real GPU. Skipped, with the reason, where there is no CUDA device or no TensorRT
 * library. References come from ONNX Runtime on the CPU ({@link GpuReferences}). Plans go to
 * {@code -Dhotpath.trt.cache=DIR} when set (so a benchmark afterwards reuses them), else a
 * temporary directory.
 */
@Tag("gpu")
class GpuEngineTest {
    @TempDir
    static Path tmp;

    static Path cacheDir;

    @BeforeAll
    static void cacheDirectory() {
        String dir = System.getProperty("hotpath.trt.cache");
        cacheDir = dir != null ? Path.of(dir) : tmp.resolve("plans");
    }

    @BeforeEach
    void requireGpu() {
        assumeTrue(TensorRt.status().available(), () -> "GPU test skipped: " + TensorRt.status().reason());
    }

    private static TensorRtOptions.Builder opts(Precision p) {
        return TensorRtOptions.builder().precision(p).cacheDirectory(cacheDir).batchBuckets(1, 64).maxDimension(128);
    }

    private static float[] floats(Tensor t) {
        float[] f = new float[(int) t.elementCount()];
        for (int i = 0; i < f.length; i++) {
            f[i] = t.getFloat(i);
        }
        return f;
    }

    private static double maxAbs(float[] a, GpuReferences.Data ref) {
        assertEquals(ref.elements(), a.length, "element count");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            assertFalse(Float.isNaN(a[i]), "NaN at " + i);
            m = Math.max(m, Math.abs(a[i] - ref.getFloat(i)));
        }
        return m;
    }

    /** Cosine similarity of the mean-pooled (masked) embeddings of each row; returns the minimum. */
    private static double minPooledCosine(float[] a, GpuReferences.Case c, int rows, int seq) {
        GpuReferences.Data ref = c.outputs().get("last_hidden_state");
        MemorySegment mask = MemorySegment.ofArray(c.inputs().get("attention_mask").bytes());
        double min = 1;
        for (int r = 0; r < rows; r++) {
            double[] x = new double[384];
            double[] y = new double[384];
            for (int s = 0; s < seq; s++) {
                if (mask.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, (long) r * seq + s) == 0) {
                    continue;
                }
                for (int h = 0; h < 384; h++) {
                    long i = ((long) r * seq + s) * 384 + h;
                    x[h] += a[(int) i];
                    y[h] += ref.getFloat(i);
                }
            }
            double dot = 0;
            double nx = 0;
            double ny = 0;
            for (int h = 0; h < 384; h++) {
                dot += x[h] * y[h];
                nx += x[h] * x[h];
                ny += y[h] * y[h];
            }
            min = Math.min(min, dot / Math.sqrt(nx * ny));
        }
        return min;
    }

    @Test
    void mlpStrictFp32MatchesOnnxRuntime() {
        GpuReferences.Case c = GpuReferences.load("mlp-b8");
        try (TensorRtEngine e = TensorRtEngine.open(ModelCatalog.resolve("mlp"), opts(Precision.FP32).build())) {
            Batch b = e.newBatch();
            GpuReferences.copyIn(b, c.inputs());
            e.run(b);
            double d = maxAbs(floats(b.output("score")), c.outputs().get("score"));
            System.out.printf("[gpu] mlp fp32 vs onnxruntime cpu: max abs diff %.3g%n", d);
            assertTrue(d <= 1e-4, "max abs diff " + d);
            assertTrue(e.layerReportJson().contains("Layers"), "the engine inspector's JSON has a layer list");
            assertTrue(Files.isRegularFile(Path.of(e.planFile().toString().replace(".plan", ".layers.json"))));
        }
    }

    @Test
    void minilmFp32AndFp16MatchOnnxRuntime() {
        GpuReferences.Case c = GpuReferences.load("minilm-b8-s128");
        for (Precision p : List.of(Precision.FP32, Precision.FP16)) {
            try (TensorRtEngine e = TensorRtEngine.open(ModelCatalog.resolve("minilm"), opts(p).build())) {
                Batch b = e.newBatch();
                GpuReferences.copyIn(b, c.inputs());
                e.run(b);
                float[] out = floats(b.output("last_hidden_state"));
                double d = maxAbs(out, c.outputs().get("last_hidden_state"));
                double cos = minPooledCosine(out, c, 8, 128);
                System.out.printf("[gpu] minilm %s vs onnxruntime cpu: max abs diff %.3g, min pooled cosine %.6f (%s)%n", p.label(), d, cos,
                        e.describe());
                if (p == Precision.FP32) {
                    assertTrue(d <= 2e-3, "fp32 max abs diff " + d);
                    assertTrue(cos >= 0.99999, "fp32 cosine " + cos);
                } else {
                    assertTrue(cos >= 0.999, "fp16 cosine " + cos);
                }
            }
        }
    }

    @Test
    void aRowDoesNotDependOnTheRestOfItsBatch() {
        GpuReferences.Case c = GpuReferences.load("minilm-b8-s128");
        try (TensorRtEngine e = TensorRtEngine.open(ModelCatalog.resolve("minilm"), opts(Precision.FP32).build())) {
            Batch b = e.newBatch();
            GpuReferences.copyIn(b, c.inputs());
            e.run(b);
            float[] eight = floats(b.output(0));
            int rowElems = 128 * 384;
            // the first two rows as a batch of 2: same profile [2..64] as the batch of 8, same kernels
            Map<String, GpuReferences.Data> two = new java.util.LinkedHashMap<>();
            for (var in : c.inputs().entrySet()) {
                two.put(in.getKey(), new GpuReferences.Data(in.getValue().dtype(), new long[] {2, 128},
                        java.util.Arrays.copyOf(in.getValue().bytes(), 2 * 128 * 8)));
            }
            GpuReferences.copyIn(b, two);
            e.run(b);
            float[] pair = floats(b.output(0));
            double within = 0;
            for (int i = 0; i < 2 * rowElems; i++) {
                within = Math.max(within, Math.abs(pair[i] - eight[i]));
            }
            // the first row alone: profile [1..1], possibly other kernels
            Map<String, GpuReferences.Data> one = new java.util.LinkedHashMap<>();
            for (var in : c.inputs().entrySet()) {
                one.put(in.getKey(), new GpuReferences.Data(in.getValue().dtype(), new long[] {1, 128},
                        java.util.Arrays.copyOf(in.getValue().bytes(), 128 * 8)));
            }
            GpuReferences.copyIn(b, one);
            e.run(b);
            float[] alone = floats(b.output(0));
            double across = 0;
            for (int i = 0; i < rowElems; i++) {
                across = Math.max(across, Math.abs(alone[i] - eight[i]));
            }
            System.out.printf("[gpu] minilm fp32 row independence: within a profile %.3g, batch 1 vs batch 8 (two profiles) %.3g%n", within, across);
            assertTrue(within <= 1e-5, "row 0-1 in a batch of 2 vs of 8: " + within);
            assertTrue(across <= 1e-3, "row 0 alone vs in a batch of 8: " + across);
        }
    }

    @Test
    void cudaGraphReplayGivesTheSameAnswersAsPlainEnqueue() {
        Path mlp = ModelCatalog.resolve("mlp");
        GpuReferences.Case c = GpuReferences.load("mlp-b8");
        float[] plain;
        try (TensorRtEngine e = TensorRtEngine.open(mlp, opts(Precision.FP16).build())) {
            Batch b = e.newBatch();
            GpuReferences.copyIn(b, c.inputs());
            e.run(b);
            plain = floats(b.output(0));
        }
        try (TensorRtEngine e = TensorRtEngine.open(mlp, opts(Precision.FP16).cudaGraphs(true).build())) {
            assertFalse(e.builtNow(), "same key: the plan comes from the cache");
            Batch b = e.newBatch();
            for (int round = 0; round < 3; round++) {
                GpuReferences.copyIn(b, c.inputs());
                e.run(b);       // first: plain enqueue + capture; then replays
                assertArrayEquals(plain, floats(b.output(0)), "round " + round);
                b.input(0).reshape(3, 64);
                e.run(b);       // another shape in the same profile: its own graph
                assertEquals(3, b.output(0).dim(0));
            }
        }
    }

    /** close() racing runs on other threads: runs finish or fail "closed"; pinned views die with the engine; no crash. */
    @Test
    void closeRacingRunsNeverCrashesAndPinnedViewsBecomeInvalid() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        for (int round = 0; round < 20; round++) {
            TensorRtEngine e = TensorRtEngine.open(mlp, opts(Precision.FP16).build());
            Batch b = e.newBatch();
            b.input(0).reshape(1, 64);
            java.util.concurrent.atomic.AtomicReference<Throwable> end = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
            Thread th = new Thread(() -> {
                try {
                    running.countDown();
                    while (true) {
                        e.run(b);
                    }
                } catch (Throwable x) {
                    end.set(x);
                }
            });
            th.start();
            running.await();
            Thread.sleep(round % 4);
            e.close();
            th.join(30_000);
            assertTrue(end.get() instanceof IllegalStateException && end.get().getMessage().contains("closed"), String.valueOf(end.get()));
            assertThrows(IllegalStateException.class, () -> b.input(0).getFloat(0), "a pinned view after close fails instead of reading freed memory");
        }
    }

    @Test
    void planCacheHitsAndRebuildsACorruptPlan() throws Exception {
        Path dir = tmp.resolve("plans-corrupt");
        Path mlp = ModelCatalog.resolve("mlp");
        TensorRtOptions o = TensorRtOptions.builder().precision(Precision.FP16).cacheDirectory(dir).batchBuckets(4).build();
        Path planFile;
        try (TensorRtEngine e = TensorRtEngine.open(mlp, o)) {
            assertTrue(e.builtNow());
            planFile = e.planFile();
        }
        try (TensorRtEngine e = TensorRtEngine.open(mlp, o)) {
            assertFalse(e.builtNow(), "second open loads the cached plan");
        }
        byte[] all = Files.readAllBytes(planFile);
        Files.write(planFile, java.util.Arrays.copyOf(all, all.length / 2));
        GpuReferences.Case c = GpuReferences.load("mlp-b8");
        try (TensorRtEngine e = TensorRtEngine.open(mlp, o)) {
            assertTrue(e.builtNow(), "a truncated plan is rebuilt");
            Batch b = e.newBatch();
            Map<String, GpuReferences.Data> four = Map.of("features", new GpuReferences.Data(DType.FLOAT32, new long[] {4, 64},
                    java.util.Arrays.copyOf(c.inputs().get("features").bytes(), 4 * 64 * 4)));
            GpuReferences.copyIn(b, four);
            e.run(b);
            float[] got = floats(b.output(0));
            for (int r = 0; r < 4; r++) {
                assertEquals(c.outputs().get("score").getFloat(r), got[r], 2e-3, "row " + r);
            }
        }
        assertTrue(Files.list(dir).anyMatch(p -> p.getFileName().toString().startsWith("timing-")), "the timing cache is saved");
    }

    @Test
    void steadyStateRunsAllocateNothing() {
        GpuReferences.Case c = GpuReferences.load("mlp-b8");
        for (boolean graphs : new boolean[] {false, true}) {
            try (TensorRtEngine e = TensorRtEngine.open(ModelCatalog.resolve("mlp"), opts(Precision.FP16).cudaGraphs(graphs).build())) {
                Batch b = e.newBatch();
                GpuReferences.copyIn(b, c.inputs());
                for (int i = 0; i < 20_000; i++) {
                    e.run(b);
                }
                var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long id = Thread.currentThread().threadId();
                long before = mx.getThreadAllocatedBytes(id);
                int runs = 10_000;
                for (int i = 0; i < runs; i++) {
                    e.run(b);
                }
                long bytes = mx.getThreadAllocatedBytes(id) - before;
                System.out.printf("[gpu] mlp fp16 graphs=%s: %d bytes allocated over %d runs%n", graphs, bytes, runs);
                assertTrue(bytes < runs, "allocated " + bytes + " bytes over " + runs + " runs");
            }
        }
    }

    @Test
    void int8WithTheJavaCalibratorAndItsCache() {
        Path mlp = ModelCatalog.resolve("mlp");
        CalibrationData data = new CalibrationData(List.of("features"), List.<long[]>of(new long[] {64}));
        SplittableRandom r = new SplittableRandom(11);
        for (int s = 0; s < 256; s++) {
            MemorySegment row = MemorySegment.ofArray(new byte[64 * 4]);
            for (int i = 0; i < 64; i++) {
                row.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) r.nextDouble(-1, 1));
            }
            data.add(Map.of("features", row.toArray(ValueLayout.JAVA_BYTE)));
        }
        GpuReferences.Case c = GpuReferences.load("mlp-b8");
        for (Int8Calibrators.Algorithm alg : Int8Calibrators.Algorithm.values()) {
            TensorRtOptions o = opts(Precision.INT8).cacheDirectory(tmp.resolve("plans-int8-" + alg)).calibration(data, alg)
                    .calibrationCache(tmp.resolve("cal-" + alg)).build();
            try (TensorRtEngine e = TensorRtEngine.open(mlp, o)) {
                Batch b = e.newBatch();
                GpuReferences.copyIn(b, c.inputs());
                e.run(b);
                double d = maxAbs(floats(b.output(0)), c.outputs().get("score"));
                System.out.printf("[gpu] mlp int8 (%s calibration): max abs diff of the sigmoid score %.3g%n", alg, d);
                assertTrue(d <= 0.05, alg + " int8 max abs diff " + d);
            }
            assertTrue(Files.isRegularFile(tmp.resolve("cal-" + alg)), "the calibration cache is written");
        }
        // a later build from the cache alone, without the data
        TensorRtOptions fromCache = opts(Precision.INT8).cacheDirectory(tmp.resolve("plans-int8-cache-only"))
                .calibrationCache(tmp.resolve("cal-ENTROPY")).build();
        try (TensorRtEngine e = TensorRtEngine.open(mlp, fromCache)) {
            assertTrue(e.describe().contains("int8"));
        }
    }

    @Test
    void badInputsAreClearErrors() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        TensorRtEngine e = TensorRtEngine.open(mlp, opts(Precision.FP16).batchBuckets(1, 8).build());
        Batch b = e.newBatch();
        HotpathException tooBig = assertThrows(HotpathException.class, () -> {
            try (Arena a = Arena.ofConfined()) {
                Tensor in = Tensor.allocate(e.inputs().get(0), a, 9, 64);
                Tensor out = Tensor.allocate(e.outputs().get(0), a, 9, 1);
                e.run(Batch.of(List.of(in), List.of(out)));
            }
        });
        assertEquals(Category.INVALID_ARGUMENT, tooBig.category());
        assertTrue(tooBig.getMessage().contains("no optimization profile covers"), tooBig.getMessage());
        try (Arena a = Arena.ofConfined()) {
            Tensor wrongType = Tensor.allocate(new TensorSpec("features", DType.INT64, Shape.of(-1, 64)), a, 2, 64);
            Tensor out = Tensor.allocate(e.outputs().get(0), a, 2, 1);
            HotpathException t = assertThrows(HotpathException.class, () -> e.run(Batch.of(List.of(wrongType), List.of(out))));
            assertTrue(t.getMessage().contains("dtype"), t.getMessage());
            Tensor unknown = Tensor.allocate(new TensorSpec("nope", DType.FLOAT32, Shape.of(-1, 64)), a, 2, 64);
            assertThrows(HotpathException.class, () -> e.run(Batch.of(List.of(unknown), List.of(out))));
        }
        e.run(b);   // still works after the rejections
        e.close();
        e.close();
        assertThrows(IllegalStateException.class, () -> e.run(b));
        Path corrupt = tmp.resolve("corrupt.onnx");
        byte[] model = Files.readAllBytes(mlp);
        Files.write(corrupt, java.util.Arrays.copyOf(model, model.length / 3));
        HotpathException bad = assertThrows(HotpathException.class, () -> TensorRtEngine.open(corrupt, opts(Precision.FP16).build()));
        assertEquals(Category.INVALID_MODEL, bad.category(), bad.getMessage());
        HotpathException noCal = assertThrows(HotpathException.class, () -> TensorRtEngine.open(mlp, opts(Precision.INT8).build()));
        assertEquals(Category.INVALID_ARGUMENT, noCal.category());
    }

    @Test
    void bestPicksTensorRtAndTheBatcherAndCacheWorkUnchanged() throws Exception {
        Engines.Choice choice = Engines.open(ModelCatalog.resolve("mlp"), Engines.Kind.BEST, opts(Precision.FP16).batchBuckets(1, 8).build(),
                CpuEngineOptions.builder().build());
        assertEquals("tensorrt", choice.engine().name(), choice.reason());
        GpuReferences.Case c = GpuReferences.load("mlp-b8");
        try (InferenceService svc = InferenceService.builder(choice.engine()).batching(x -> x.maxBatchSize(8).maxQueueDelayMicros(200))
                .cache(x -> x.budgetBytes(1 << 20)).build()) {
            MemorySegment features = MemorySegment.ofArray(c.inputs().get("features").bytes());
            for (int pass = 0; pass < 2; pass++) {
                for (int row = 0; row < 8; row++) {
                    Request r = svc.newRequest();
                    MemorySegment.copy(features, (long) row * 256, r.input("features").data(), 0, 256);
                    assertEquals(BatchStatus.OK, svc.infer(r));
                    assertEquals(c.outputs().get("score").getFloat(row), r.output("score").getFloat(0), 2e-3, "row " + row);
                    assertEquals(pass == 1, r.fromCache(), "second pass is answered from the cache");
                }
            }
        }
    }
}
