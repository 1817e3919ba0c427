package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.nativebindings.ort.GraphOptimization;
import java.lang.foreign.Arena;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrtCpuEngineTest {

    @TempDir
    Path tmp;

    @Test
    void describesMiniLmInputsAndOutputs() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm())) {
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), e.inputs().stream().map(TensorSpec::name).toList());
            TensorSpec ids = e.inputs().get(0);
            assertEquals(DType.INT64, ids.dtype());
            assertEquals("[batch_size,sequence_length]", ids.shape().toString());
            TensorSpec out = e.outputs().get(0);
            assertEquals("last_hidden_state", out.name());
            assertEquals(DType.FLOAT32, out.dtype());
            assertEquals("[batch_size,sequence_length,384]", out.shape().toString());
            assertTrue(e.describe().contains("onnxruntime-cpu 1.24.1"), e.describe());
        }
    }

    @Test
    void mlpScoresAreProbabilitiesAndMatchTheOfficialApi() throws Exception {
        int rows = 8;
        float[] x = Fixtures.features(rows, 64, 7);
        float[] ours = new float[rows];
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(rows).build())) {
            Batch b = e.newBatch();
            Tensor in = b.input("features").reshape(rows, 64);
            for (int i = 0; i < x.length; i++) {
                in.putFloat(i, x[i]);
            }
            e.run(b);
            Tensor score = b.output("score");
            assertArrayEquals(new long[] {rows, 1}, score.shape());
            for (int r = 0; r < rows; r++) {
                ours[r] = score.getFloat(r);
                assertTrue(ours[r] > 0 && ours[r] < 1, "sigmoid output " + ours[r]);
            }
        }
        float[] official = officialMlp(x, rows);
        assertTrue(maxAbsDiff(ours, official) <= 1e-5, "max abs diff " + maxAbsDiff(ours, official));
    }

    @Test
    void miniLmMatchesTheOfficialApiWithin1e5() throws Exception {
        int seq = 32;
        List<String> sentences = Fixtures.SENTENCES.subList(0, 4);
        float[] ours;
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(),
                CpuEngineOptions.builder().maxBatchSize(4).maxDimension("sequence_length", seq).build())) {
            Batch b = e.newBatch();
            Fixtures.fillMinilm(b, sentences, seq);
            e.run(b);
            Tensor out = b.output("last_hidden_state");
            assertArrayEquals(new long[] {4, seq, 384}, out.shape());
            ours = new float[(int) out.elementCount()];
            for (int i = 0; i < ours.length; i++) {
                ours[i] = out.getFloat(i);
            }
        }
        long[] ids = new long[4 * seq];
        long[] mask = new long[4 * seq];
        for (int r = 0; r < 4; r++) {
            long[][] enc = Fixtures.encode(sentences.get(r), seq);
            System.arraycopy(enc[0], 0, ids, r * seq, seq);
            System.arraycopy(enc[1], 0, mask, r * seq, seq);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(Fixtures.minilm().toString(), new OrtSession.SessionOptions());
             OnnxTensor tIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {4, seq});
             OnnxTensor tMask = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {4, seq});
             OnnxTensor tTypes = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[4 * seq]), new long[] {4, seq});
             OrtSession.Result r = s.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] official = new float[fb.remaining()];
            fb.get(official);
            assertEquals(official.length, ours.length);
            double diff = maxAbsDiff(ours, official);
            assertTrue(diff <= 1e-5, "max abs diff vs official ONNX Runtime Java API: " + diff);
        }
    }

    @Test
    void aRowIsTheSameAloneAndInsideABatchOfEight() {
        int seq = 24;
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(),
                CpuEngineOptions.builder().maxBatchSize(8).maxDimension("sequence_length", seq).build())) {
            Batch b = e.newBatch();
            Fixtures.fillMinilm(b, Fixtures.SENTENCES, seq);
            e.run(b);
            Tensor out = b.output("last_hidden_state");
            int row = 5;
            int rowElems = seq * 384;
            float[] inBatch = new float[rowElems];
            for (int i = 0; i < rowElems; i++) {
                inBatch[i] = out.getFloat((long) row * rowElems + i);
            }
            Fixtures.fillMinilm(b, List.of(Fixtures.SENTENCES.get(row)), seq);
            e.run(b);
            assertArrayEquals(new long[] {1, seq, 384}, out.shape());
            float[] alone = new float[rowElems];
            for (int i = 0; i < rowElems; i++) {
                alone[i] = out.getFloat(i);
            }
            double diff = maxAbsDiff(alone, inBatch);
            assertTrue(diff <= 1e-5, "row alone vs in batch of 8: max abs diff " + diff);
        }
    }

    @Test
    void dynamicSequenceLengthsChangeTheOutputShapeWithinCapacity() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(),
                CpuEngineOptions.builder().maxBatchSize(2).maxDimension("sequence_length", 64).build())) {
            Batch b = e.newBatch();
            for (int seq : new int[] {16, 64, 8, 16}) {
                Fixtures.fillMinilm(b, Fixtures.SENTENCES.subList(0, 2), seq);
                e.run(b);
                assertArrayEquals(new long[] {2, seq, 384}, b.output(0).shape());
                assertTrue(Float.isFinite(b.output(0).getFloat(seq * 384L)));
            }
        }
    }

    @Test
    void moreShapesThanTheValueCacheHoldsStillRunCorrectly() {
        int shapes = BatchBinding.SHAPES_PER_TENSOR + 6;
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(),
                CpuEngineOptions.builder().maxBatchSize(1).maxDimension("sequence_length", shapes + 2).build())) {
            Batch b = e.newBatch();
            float first = 0;
            for (int round = 0; round < 2; round++) {
                for (int seq = 3; seq < shapes + 3; seq++) {
                    Fixtures.fillMinilm(b, List.of("hello world"), seq);
                    e.run(b);
                    assertArrayEquals(new long[] {1, seq, 384}, b.output(0).shape());
                    if (seq == 3) {
                        if (round == 0) {
                            first = b.output(0).getFloat(0);
                        } else {
                            assertEquals(first, b.output(0).getFloat(0), 1e-6f, "same shape, same answer after evictions");
                        }
                    }
                }
            }
        }
    }

    @Test
    void graphOptimizationLevelsAgreeAndTheOptimizedModelIsSaved() {
        Path saved = tmp.resolve("mlp-optimized.onnx");
        float[] x = Fixtures.features(4, 64, 11);
        float[] none = Fixtures.runMlp(CpuEngineOptions.builder().maxBatchSize(4).graphOptimization(GraphOptimization.NONE).build(), x, 4);
        float[] all = Fixtures.runMlp(CpuEngineOptions.builder().maxBatchSize(4).graphOptimization(GraphOptimization.ALL)
                .optimizedModelPath(saved).intraOpThreads(1).spinWait(false).memArena(false).memPattern(false).build(), x, 4);
        assertTrue(maxAbsDiff(none, all) <= 1e-5, "none vs all " + maxAbsDiff(none, all));
        assertTrue(Files.isRegularFile(saved), "optimized model written to " + saved);
        try (OrtCpuEngine reloaded = OrtCpuEngine.open(saved, CpuEngineOptions.builder().maxBatchSize(4).build())) {
            assertEquals("score", reloaded.outputs().get(0).name());
        }
    }

    @Test
    void aCallerOwnedBatchIsBoundZeroCopy() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(2).build());
             Arena arena = Arena.ofConfined()) {
            Tensor in = Tensor.allocate(e.inputs().get(0), arena, 2, 64);
            Tensor out = Tensor.allocate(e.outputs().get(0), arena, 2, 1);
            float[] x = Fixtures.features(2, 64, 3);
            for (int i = 0; i < x.length; i++) {
                in.putFloat(i, x[i]);
            }
            Batch b = Batch.of(List.of(in), List.of(out));
            e.run(b);
            float first = out.getFloat(0);
            assertEquals(Fixtures.runMlp(CpuEngineOptions.builder().maxBatchSize(2).build(), x, 2)[0], first, 1e-6f);
            in.putFloat(0, in.getFloat(0) + 5f);     // written in place: the next run sees it without rebinding
            e.run(b);
            assertTrue(Math.abs(out.getFloat(0) - first) > 1e-6, "output follows the caller's memory");
        }
    }

    @Test
    void steadyStateRunsAllocateNothingOnTheHeap() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(8).build())) {
            Batch b = e.newBatch();
            b.input(0).reshape(1, 64);
            int runs = 5_000;
            long perRun = Fixtures.heapBytesPerCall(2_000, runs, () -> e.run(b));
            assertTrue(perRun <= 16, "bytes allocated per run: " + perRun);
        }
    }

    @Test
    void steadyStateMiniLmRunsAllocateNothingOnTheHeap() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(),
                CpuEngineOptions.builder().maxBatchSize(2).maxDimension("sequence_length", 16).build())) {
            Batch b = e.newBatch();
            Fixtures.fillMinilm(b, Fixtures.SENTENCES.subList(0, 2), 16);
            int runs = 300;
            long perRun = Fixtures.heapBytesPerCall(50, runs, () -> e.run(b));
            assertTrue(perRun <= 16, "bytes allocated per MiniLM run: " + perRun);
        }
    }

    private static float[] officialMlp(float[] x, int rows) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(Fixtures.mlp().toString(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, 64});
             OrtSession.Result r = s.run(Map.of("features", t))) {
            float[][] out = (float[][]) r.get(0).getValue();
            float[] flat = new float[rows];
            for (int i = 0; i < rows; i++) {
                flat[i] = out[i][0];
            }
            return flat;
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "lengths");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    // ---- bad input: each names the tensor and says what was expected and given ----

    @Test
    void anUnknownInputNameIsRejectedNamingIt() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp()); Arena arena = Arena.ofConfined()) {
            Tensor in = Tensor.allocate(e.inputs().get(0), arena, 1, 64);
            Tensor extra = Tensor.allocate(new TensorSpec("nope", DType.FLOAT32, Shape.of(-1, 64)), arena, 1, 64);
            Tensor out = Tensor.allocate(e.outputs().get(0), arena, 1, 1);
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(Batch.of(List.of(in, extra), List.of(out))));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'nope'") && ex.getMessage().contains("features"), ex.getMessage());
            HotpathException byName = assertThrows(HotpathException.class, () -> e.newBatch().input("nope"));
            assertEquals(Category.INVALID_ARGUMENT, byName.category());
            assertTrue(byName.getMessage().contains("'nope'"), byName.getMessage());
        }
    }

    @Test
    void aWrongDtypeIsRejectedNamingTheTensor() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm()); Arena arena = Arena.ofConfined()) {
            Batch good = e.newBatch();
            Tensor floatIds = Tensor.allocate(new TensorSpec("input_ids", DType.FLOAT32, Shape.of(-1, -1)), arena, 1, 8);
            Batch bad = Batch.of(List.of(floatIds, good.input("attention_mask"), good.input("token_type_ids")), List.of(good.output(0)));
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(bad));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'input_ids'") && ex.getMessage().contains("float32")
                    && ex.getMessage().contains("int64"), ex.getMessage());
        }
    }

    @Test
    void aWrongRankIsRejectedNamingTheTensor() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp()); Arena arena = Arena.ofConfined()) {
            Tensor in3 = Tensor.allocate(new TensorSpec("features", DType.FLOAT32, Shape.of(-1, 8, 8)), arena, 1, 8, 8);
            Tensor out = Tensor.allocate(e.outputs().get(0), arena, 1, 1);
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(Batch.of(List.of(in3), List.of(out))));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'features'") && ex.getMessage().contains("rank 3")
                    && ex.getMessage().contains("[batch,64]"), ex.getMessage());
        }
    }

    @Test
    void aWrongShapeIsRejectedNamingTheTensor() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp()); Arena arena = Arena.ofConfined()) {
            Tensor in = Tensor.allocate(new TensorSpec("features", DType.FLOAT32, Shape.of(-1, -1)), arena, 1, 63);
            Tensor out = Tensor.allocate(e.outputs().get(0), arena, 1, 1);
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(Batch.of(List.of(in), List.of(out))));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'features'") && ex.getMessage().contains("[1,63]")
                    && ex.getMessage().contains("[batch,64]"), ex.getMessage());
            // the engine's own batch refuses the wrong shape when it is set
            HotpathException early = assertThrows(HotpathException.class, () -> e.newBatch().input("features").reshape(1, 63));
            assertTrue(early.getMessage().contains("'features'") && early.getMessage().contains("[1,63]"), early.getMessage());
        }
    }

    @Test
    void mismatchedSequenceLengthsAcrossInputsAreRejected() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm())) {
            Batch b = e.newBatch();
            Fixtures.fillMinilm(b, List.of("hello world"), 16);
            b.input("attention_mask").reshape(1, 15);
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(b));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'attention_mask'") && ex.getMessage().contains("sequence_length"), ex.getMessage());
        }
    }

    @Test
    void aBatchOverCapacityIsRejectedNamingTheTensor() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(4).build());
             Arena arena = Arena.ofConfined()) {
            Tensor in = Tensor.allocate(e.inputs().get(0), arena, 5, 64);
            Tensor out = Tensor.allocate(e.outputs().get(0), arena, 5, 1);
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(Batch.of(List.of(in), List.of(out))));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'features'") && ex.getMessage().contains("batch 5")
                    && ex.getMessage().contains("capacity of 4"), ex.getMessage());
            HotpathException own = assertThrows(HotpathException.class, () -> e.newBatch().input("features").reshape(5, 64));
            assertEquals(Category.INVALID_ARGUMENT, own.category());
            assertTrue(own.getMessage().contains("'features'"), own.getMessage());
        }
    }

    @Test
    void aMissingInputIsRejectedNamingIt() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm())) {
            Batch full = e.newBatch();
            Batch partial = Batch.of(List.of(full.input("input_ids"), full.input("attention_mask")), List.of(full.output(0)));
            HotpathException ex = assertThrows(HotpathException.class, () -> e.run(partial));
            assertEquals(Category.INVALID_ARGUMENT, ex.category());
            assertTrue(ex.getMessage().contains("'token_type_ids'"), ex.getMessage());
        }
    }

    // ---- lifecycle and bad model files ----

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseIsAnIllegalStateException() {
        OrtCpuEngine e = OrtCpuEngine.open(Fixtures.mlp());
        Batch b = e.newBatch();
        e.run(b);
        e.close();
        e.close();
        assertThrows(IllegalStateException.class, () -> e.run(b));
        assertThrows(IllegalStateException.class, e::newBatch);
        assertThrows(IllegalStateException.class, () -> b.input(0).putFloat(0, 1f), "batch memory is freed with the engine");
    }

    @Test
    void aTruncatedModelIsAnInvalidModelError() throws Exception {
        byte[] full = Files.readAllBytes(Fixtures.cnn());
        Path truncated = tmp.resolve("truncated.onnx");
        Files.write(truncated, java.util.Arrays.copyOf(full, full.length / 2));
        HotpathException ex = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(truncated));
        assertEquals(Category.INVALID_MODEL, ex.category());
        assertTrue(ex.nativeCodeName() != null && ex.nativeCodeName().startsWith("ORT_"), ex.getMessage());
        assertTrue(ex.getMessage().contains("truncated.onnx"), ex.getMessage());
    }

    @Test
    void randomBytesAreAnInvalidModelError() throws Exception {
        byte[] junk = new byte[4096];
        new java.util.Random(42).nextBytes(junk);
        Path file = tmp.resolve("random.onnx");
        Files.write(file, junk);
        HotpathException ex = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(file));
        assertEquals(Category.INVALID_MODEL, ex.category());
        assertEquals("ORT_INVALID_PROTOBUF", ex.nativeCodeName(), ex.getMessage());
        assertEquals(7, ex.nativeCode());
    }

    @Test
    void aMissingModelFileIsNotFound() {
        HotpathException ex = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(tmp.resolve("absent.onnx")));
        assertEquals(Category.NOT_FOUND, ex.category());
        assertTrue(ex.getMessage().contains("absent.onnx"), ex.getMessage());
    }

    @Test
    void badOptionsAreRejectedAtBuild() {
        assertEquals(Category.INVALID_ARGUMENT,
                assertThrows(HotpathException.class, () -> CpuEngineOptions.builder().maxBatchSize(0).build()).category());
        assertEquals(Category.INVALID_ARGUMENT,
                assertThrows(HotpathException.class, () -> CpuEngineOptions.builder().intraOpThreads(-1).build()).category());
        assertEquals(Category.INVALID_ARGUMENT,
                assertThrows(HotpathException.class, () -> CpuEngineOptions.builder().maxDimension("sequence_length", 0).build()).category());
    }

    @Test
    void theConvNetRunsAtEveryBatchSizeUpToCapacity() {
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.cnn(), CpuEngineOptions.builder().maxBatchSize(4).build())) {
            Batch b = e.newBatch();
            float[] img = Fixtures.features(4, 28 * 28, 5);
            for (int rows = 1; rows <= 4; rows++) {
                Tensor in = b.input("image");
                in.reshape(new long[] {rows, 1, 28, 28});
                for (int i = 0; i < rows * 28 * 28; i++) {
                    in.putFloat(i, img[i]);
                }
                e.run(b);
                assertArrayEquals(new long[] {rows, 10}, b.output("logits").shape());
            }
            float batchOf4Row0 = b.output(0).getFloat(0);
            b.input(0).reshape(new long[] {1, 1, 28, 28});
            e.run(b);
            assertEquals(batchOf4Row0, b.output(0).getFloat(0), 1e-5f);
        }
    }
}
