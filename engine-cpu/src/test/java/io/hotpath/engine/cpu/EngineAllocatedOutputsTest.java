package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.OnnxBuilder;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs whose shape is known only after the run (data-dependent sizes, sizes computed from input
 * values, dimensions tied to no input): ONNX Runtime allocates them and the batch's tensor is
 * attached to that memory. Each model runs twice with different inputs on Hotpath and on ONNX
 * Runtime's official Java API; shapes and values must be identical.
 */
class EngineAllocatedOutputsTest {
    @TempDir
    Path tmp;

    private static final int F = OnnxBuilder.FLOAT;
    private static final int I64 = OnnxBuilder.INT64;

    /** NonZero: [rank, count of non-zeros], the count known only from the data. */
    @Test
    void nonZeroSizedByTheData() throws Exception {
        Path m = new OnnxBuilder("nonzero", 13).input("x", F, "n", 4).output("idx", I64, 2, "nnz")
                .node("NonZero", "x", "idx").write(tmp.resolve("nonzero.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m, CpuEngineOptions.builder().maxBatchSize(4).build())) {
            assertTrue(e.outputEngineAllocated(0));
            Batch b = e.newBatch();
            assertTrue(b.output("idx").isEngineAllocated());
            assertEquals(0, b.output("idx").elementCount(), "no memory before the first run");
            float[] first = {0, 1, 0, 2, 3, 0, 0, 0};
            Map<String, Object[]> in = fill(b, Map.of("x", new Object[] {first, new long[] {2, 4}}));
            e.run(b);
            assertArrayEquals(new long[] {2, 3}, b.output("idx").shape());
            assertSameAsOnnxRuntime(m, b, in);
            float[] second = {1, 1, 1, 1, 0, 0, 0, 0, 5, 0, 0, 5};
            in = fill(b, Map.of("x", new Object[] {second, new long[] {3, 4}}));
            e.run(b);
            assertArrayEquals(new long[] {2, 6}, b.output("idx").shape());
            assertSameAsOnnxRuntime(m, b, in);
            in = fill(b, Map.of("x", new Object[] {new float[4], new long[] {1, 4}}));
            e.run(b);
            assertArrayEquals(new long[] {2, 0}, b.output("idx").shape(), "no non-zero: an empty result, not an error");
            assertSameAsOnnxRuntime(m, b, in);
        }
    }

    /** TopK with k an input value: the output's last dimension is k. Preallocated and engine-allocated outputs side by side. */
    @Test
    void topKWithKGivenAtRunTime() throws Exception {
        Path m = new OnnxBuilder("topk", 13).input("x", F, "n", 8).input("k", I64, 1)
                .output("values", F, "n", "k_out").output("indices", I64, "n", "k_out").output("doubled", F, "n", 8)
                .node("TopK", "x,k", "values,indices").node("Add", "x,x", "doubled").write(tmp.resolve("topk.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m)) {
            assertTrue(e.outputEngineAllocated(0));
            assertTrue(e.outputEngineAllocated(1));
            assertFalse(e.outputEngineAllocated(2), "a shape that follows from the inputs stays preallocated");
            Batch b = e.newBatch();
            assertFalse(b.output("doubled").isEngineAllocated());
            SplittableRandom r = new SplittableRandom(7);
            for (long k : new long[] {3, 5, 1}) {
                float[] x = new float[8];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextDouble(-10, 10);
                }
                Map<String, Object[]> in = fill(b, Map.of("x", new Object[] {x, new long[] {1, 8}}, "k", new Object[] {new long[] {k}, new long[] {1}}));
                e.run(b);
                assertArrayEquals(new long[] {1, k}, b.output("values").shape());
                assertSameAsOnnxRuntime(m, b, in);
            }
        }
    }

    /** Resize to sizes given as an input, Range and Expand: sizes computed from input values. */
    @Test
    void sizesComputedFromInputValues() throws Exception {
        Path resize = new OnnxBuilder("resize", 13).input("x", F, 1, 1, "h", "w").input("sizes", I64, 4)
                .output("y", F, 1, 1, null, null)
                .node("Resize", "x,,,sizes", "y", "mode", "nearest").write(tmp.resolve("resize.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(resize)) {
            Batch b = e.newBatch();
            float[] x = {1, 2, 3, 4, 5, 6};
            Map<String, Object[]> in = fill(b, Map.of("x", new Object[] {x, new long[] {1, 1, 2, 3}},
                    "sizes", new Object[] {new long[] {1, 1, 4, 5}, new long[] {4}}));
            e.run(b);
            assertArrayEquals(new long[] {1, 1, 4, 5}, b.output("y").shape());
            assertSameAsOnnxRuntime(resize, b, in);
        }
        Path range = new OnnxBuilder("range", 13).input("start", F).input("limit", F).input("delta", F)
                .output("r", F, "len").node("Range", "start,limit,delta", "r").write(tmp.resolve("range.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(range)) {
            Batch b = e.newBatch();
            Map<String, Object[]> in = fill(b, Map.of("start", new Object[] {new float[] {1.5f}, new long[0]},
                    "limit", new Object[] {new float[] {9f}, new long[0]}, "delta", new Object[] {new float[] {0.5f}, new long[0]}));
            e.run(b);
            assertArrayEquals(new long[] {15}, b.output("r").shape());
            assertEquals(8.5f, b.output("r").getFloat(14));
            assertSameAsOnnxRuntime(range, b, in);
        }
        Path expand = new OnnxBuilder("expand", 13).input("x", F, 1, "w").input("shape", I64, 2)
                .output("y", F, null, null).node("Expand", "x,shape", "y").write(tmp.resolve("expand.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(expand)) {
            Batch b = e.newBatch();
            Map<String, Object[]> in = fill(b, Map.of("x", new Object[] {new float[] {1, 2, 3}, new long[] {1, 3}},
                    "shape", new Object[] {new long[] {4, 3}, new long[] {2}}));
            e.run(b);
            assertArrayEquals(new long[] {4, 3}, b.output("y").shape());
            assertSameAsOnnxRuntime(expand, b, in);
        }
    }

    /** A pooled map whose spatial dims are unnamed (H/2 x W/2), as exported detection models declare them. */
    @Test
    void unnamedSpatialDimensionsOfABatchedModel() throws Exception {
        Path m = new OnnxBuilder("pool", 13).input("x", F, "batch", 1, "h", "w").output("y", F, "batch", 1, null, null)
                .node("MaxPool", "x", "y", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}).write(tmp.resolve("pool.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m, CpuEngineOptions.builder().maxBatchSize(2).maxDimension("h", 64).maxDimension("w", 64).build())) {
            assertEquals(2, e.maxBatchSize(), "the batch stays dimension 0");
            Batch b = e.newBatch();
            SplittableRandom r = new SplittableRandom(3);
            for (long[] dims : new long[][] {{2, 1, 8, 6}, {1, 1, 16, 10}, {2, 1, 8, 6}}) {
                float[] x = new float[(int) (dims[0] * dims[2] * dims[3])];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextDouble();
                }
                Map<String, Object[]> in = fill(b, Map.of("x", new Object[] {x, dims}));
                e.run(b);
                assertArrayEquals(new long[] {dims[0], 1, dims[2] / 2, dims[3] / 2}, b.output("y").shape());
                assertSameAsOnnxRuntime(m, b, in);
            }
        }
    }

    @Test
    void aViewKeptFromAnEarlierRunThrowsOnceItsMemoryIsGone() {
        Path m = new OnnxBuilder("nonzero", 13).input("x", F, "n", 4).output("idx", I64, 2, "nnz")
                .node("NonZero", "x", "idx").write(tmp.resolve("nonzero.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m)) {
            Batch b = e.newBatch();
            fill(b, Map.of("x", new Object[] {new float[] {1, 1, 0, 0}, new long[] {1, 4}}));
            e.run(b);
            MemorySegment kept = b.output("idx").data();
            assertEquals(1L, kept.get(ValueLayout.JAVA_LONG, 8 * 3));
            fill(b, Map.of("x", new Object[] {new float[] {1, 1, 1, 0}, new long[] {1, 4}}));
            e.run(b);
            assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_LONG, 0),
                    "the earlier result's memory was freed: its view is closed, not read");
            assertEquals(2L, b.output("idx").getLong(5), "the tensor itself shows the new result");
        }
        Batch[] left = new Batch[1];
        MemorySegment kept;
        try (OrtCpuEngine e = OrtCpuEngine.open(m)) {
            left[0] = e.newBatch();
            fill(left[0], Map.of("x", new Object[] {new float[] {1, 0, 0, 0}, new long[] {1, 4}}));
            e.run(left[0]);
            kept = left[0].output("idx").data();
        }
        assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_LONG, 0), "closing the engine closes the view");
        assertEquals(0, left[0].output("idx").elementCount(), "and leaves the tensor empty");
    }

    @Test
    void aCallersBatchMustLeaveEngineAllocatedOutputsToTheEngine() {
        Path m = new OnnxBuilder("nonzero", 13).input("x", F, "n", 4).output("idx", I64, 2, "nnz")
                .node("NonZero", "x", "idx").write(tmp.resolve("nonzero.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m); var arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor x = Tensor.allocate(e.inputs().get(0), arena, 1, 4);
            Tensor own = Tensor.allocate(e.outputs().get(0), arena, 2, 4);
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(Batch.of(java.util.List.of(x), java.util.List.of(own))));
            assertEquals(HotpathException.Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'idx'") && ex.getMessage().contains("Tensor.engineAllocated"), ex.getMessage());
            Batch ok = Batch.of(java.util.List.of(x), java.util.List.of(Tensor.engineAllocated(e.outputs().get(0))));
            x.putFloat(2, 7f);
            e.run(ok);
            assertArrayEquals(new long[] {0, 2}, new long[] {ok.output(0).getLong(0), ok.output(0).getLong(1)});
        }
    }

    @Test
    void theServiceRefusesAnOutputItCannotSplitIntoRowsInOneLine() {
        Path m = new OnnxBuilder("nonzero", 13).input("x", F, "n", 4).output("idx", I64, 2, "nnz")
                .node("NonZero", "x", "idx").write(tmp.resolve("nonzero.onnx"));
        OrtCpuEngine e = OrtCpuEngine.open(m);
        try (e) {
            HotpathException ex = assertThrows(HotpathException.class, () -> io.hotpath.service.InferenceService.builder(e).closeEngine(false).build());
            assertEquals(HotpathException.Category.UNSUPPORTED, ex.category());
            assertTrue(ex.getMessage().contains("output 'idx' [2,nnz] has a size known only after the run") && !ex.getMessage().contains("\n"),
                    ex.getMessage());
        }
    }

    /** The run path stays off the Java heap: the view is reused while ONNX Runtime's arena returns the same memory. */
    @Test
    void steadyStateRunsWithEngineAllocatedOutputsAllocateNothingOnTheHeap() {
        Path m = new OnnxBuilder("topk", 13).input("x", F, "n", 8).input("k", I64, 1)
                .output("values", F, "n", "k_out").output("indices", I64, "n", "k_out")
                .node("TopK", "x,k", "values,indices").write(tmp.resolve("topk.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m)) {
            Batch b = e.newBatch();
            fill(b, Map.of("x", new Object[] {new float[] {5, 1, 4, 2, 8, 3, 7, 6}, new long[] {1, 8}}, "k", new Object[] {new long[] {3}, new long[] {1}}));
            int runs = 5_000;
            long perRun = Fixtures.heapBytesPerCall(2_000, runs, () -> e.run(b));
            System.out.println("engine-allocated outputs (TopK, k=3): " + perRun + " bytes allocated on the Java heap per run, over " + runs + " runs");
            assertTrue(perRun <= 16, "bytes allocated per run with engine-allocated outputs: " + perRun);
            assertEquals(8f, b.output("values").getFloat(0));
            assertEquals(4L, b.output("indices").getLong(0));
        }
    }

    /** Writes each input's values and shape into the batch; returns them for the official API. */
    private static Map<String, Object[]> fill(Batch b, Map<String, Object[]> inputs) {
        Map<String, Object[]> ordered = new LinkedHashMap<>(inputs);
        for (var en : ordered.entrySet()) {
            Tensor t = b.input(en.getKey());
            t.reshape((long[]) en.getValue()[1]);
            if (en.getValue()[0] instanceof float[] f) {
                for (int i = 0; i < f.length; i++) {
                    t.putFloat(i, f[i]);
                }
            } else {
                long[] l = (long[]) en.getValue()[0];
                for (int i = 0; i < l.length; i++) {
                    t.putLong(i, l[i]);
                }
            }
        }
        return ordered;
    }

    /** Every output of {@code b}: same shape and bit-identical values as ONNX Runtime's Java API gives for {@code inputs}. */
    private static void assertSameAsOnnxRuntime(Path model, Batch b, Map<String, Object[]> inputs) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> feeds = new HashMap<>();
            try {
                for (var en : inputs.entrySet()) {
                    long[] dims = (long[]) en.getValue()[1];
                    feeds.put(en.getKey(), en.getValue()[0] instanceof float[] f ? OnnxTensor.createTensor(env, FloatBuffer.wrap(f), dims)
                            : OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) en.getValue()[0]), dims));
                }
                try (OrtSession.Result res = s.run(feeds)) {
                    for (int o = 0; o < b.outputCount(); o++) {
                        Tensor ours = b.output(o);
                        OnnxTensor theirs = (OnnxTensor) res.get(ours.name()).orElseThrow();
                        assertArrayEquals(theirs.getInfo().getShape(), ours.shape(), "shape of " + ours.name());
                        if (ours.dtype() == DType.FLOAT32) {
                            FloatBuffer fb = theirs.getFloatBuffer();
                            for (int k = 0; k < ours.elementCount(); k++) {
                                assertEquals(Float.floatToRawIntBits(fb.get(k)), Float.floatToRawIntBits(ours.getFloat(k)), ours.name() + "[" + k + "]");
                            }
                        } else {
                            LongBuffer lb = theirs.getLongBuffer();
                            for (int k = 0; k < ours.elementCount(); k++) {
                                assertEquals(lb.get(k), ours.getLong(k), ours.name() + "[" + k + "]");
                            }
                        }
                    }
                }
            } finally {
                feeds.values().forEach(OnnxTensor::close);
            }
        }
    }
}
