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
import io.hotpath.service.InferenceService;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * String tensors, in and out, through ONNX Runtime's string API: the strings live in the tensor's
 * own off-heap text memory, are copied into ONNX Runtime's string tensor for a run and out of it
 * after. Every result is compared with ONNX Runtime's official Java API.
 */
class StringTensorsTest {
    @TempDir
    Path tmp;

    private static final int S = OnnxBuilder.STRING;

    private static final CpuEngineOptions BATCH = CpuEngineOptions.builder().maxBatchSize(8).build();

    private static final String[] WORDS = {"Market", "ORDER book", "größe", "", "latency 😀", "Tick-by-tick"};

    @Test
    void stringsInStringsOut() throws Exception {
        // StringConcat (opset 20) doubles each string; StringNormalizer would need the machine's en_US.UTF-8 locale
        Path m = new OnnxBuilder("twice", 20).input("s", S, "n").output("twice", S, "n").output("same", S, "n")
                .node("StringConcat", "s,s", "twice")
                .node("Identity", "s", "same")
                .write(tmp.resolve("twice.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m, BATCH)) {
            assertEquals(DType.STRING, e.inputs().get(0).dtype());
            assertTrue(e.outputEngineAllocated(0), "string outputs are copied out of ONNX Runtime after the run");
            Batch b = e.newBatch();
            for (int round = 0; round < 3; round++) {
                String[] in = java.util.Arrays.copyOfRange(WORDS, round, WORDS.length);
                Tensor s = b.input("s").reshape(in.length);
                s.clearStrings();
                for (int i = 0; i < in.length; i++) {
                    s.putString(i, in[i]);
                }
                e.run(b);
                String[] theirs = official(m, in, "twice");
                assertArrayEquals(new long[] {in.length}, b.output("twice").shape());
                for (int i = 0; i < in.length; i++) {
                    assertEquals(theirs[i], b.output("twice").getString(i), "twice[" + i + "]");
                    assertEquals(in[i], b.output("same").getString(i), "same[" + i + "]: UTF-8 round trip");
                }
            }
            assertEquals("größegröße", b.output("twice").getString(0));
        }
    }

    @Test
    void numbersToStringsAndBack() throws Exception {
        Path m = new OnnxBuilder("cast", 13).input("x", OnnxBuilder.FLOAT, "n").output("text", S, "n").output("back", OnnxBuilder.FLOAT, "n")
                .node("Cast", "x", "text", "to", (long) S)
                .node("Cast", "text", "back", "to", (long) OnnxBuilder.FLOAT)
                .write(tmp.resolve("cast.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m, BATCH)) {
            Batch b = e.newBatch();
            float[] x = {1.5f, -0.25f, 3e10f, 7f};
            b.input("x").reshape(x.length);
            for (int i = 0; i < x.length; i++) {
                b.input("x").putFloat(i, x[i]);
            }
            e.run(b);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession s = env.createSession(m.toString(), new OrtSession.SessionOptions());
                    OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {x.length});
                    OrtSession.Result r = s.run(Map.of("x", t))) {
                String[] text = (String[]) r.get("text").orElseThrow().getValue();
                for (int i = 0; i < x.length; i++) {
                    assertEquals(text[i], b.output("text").getString(i));
                    assertEquals(x[i], b.output("back").getFloat(i));
                }
            }
        }
    }

    @Test
    void badStringInputIsOneClearLine() {
        Path m = new OnnxBuilder("id", 13).input("s", S, "n").output("o", S, "n").node("Identity", "s", "o").write(tmp.resolve("id.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m, CpuEngineOptions.builder().maxStringBytes(16).maxBatchSize(4).build())) {
            Batch b = e.newBatch();
            Tensor s = b.input("s").reshape(3);
            s.putString(0, "a");
            s.putString(1, "b");
            HotpathException unset = assertThrows(HotpathException.class, () -> e.run(b));
            assertEquals(HotpathException.Category.INVALID_ARGUMENT, unset.category());
            assertTrue(unset.getMessage().contains("input 's': string element 2 is not set"), unset.getMessage());
            HotpathException nul = assertThrows(HotpathException.class, () -> s.putString(2, "a\0b"));
            assertTrue(nul.getMessage().contains("NUL"), nul.getMessage());
            HotpathException full = assertThrows(HotpathException.class, () -> s.putString(2, "x".repeat(100)));
            assertTrue(full.getMessage().contains("does not fit") && full.getMessage().contains("maxStringBytes"), full.getMessage());
            s.putString(2, "c");
            e.run(b);
            assertEquals("c", b.output("o").getString(2));
            s.putLong(1, 1_000_000);      // a table entry pointing outside the text: refused, never handed to ONNX Runtime
            HotpathException corrupt = assertThrows(HotpathException.class, () -> e.run(b));
            assertTrue(corrupt.getMessage().contains("string element 1 is corrupt"), corrupt.getMessage());
            HotpathException notNumber = assertThrows(HotpathException.class, () -> b.output("o").getAsDouble(0));
            assertTrue(notNumber.getMessage().contains("tensor 'o' is a string tensor; read it with getString"), notNumber.getMessage());
        }
    }

    @Test
    void theServiceRefusesStringTensorsInOneLine() {
        Path m = new OnnxBuilder("id", 13).input("s", S, "n").output("o", S, "n").node("Identity", "s", "o").write(tmp.resolve("id.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m)) {
            HotpathException ex = assertThrows(HotpathException.class, () -> InferenceService.builder(e).closeEngine(false).build());
            assertEquals(HotpathException.Category.UNSUPPORTED, ex.category());
            assertTrue(ex.getMessage().contains("tensor 's' is a string tensor"), ex.getMessage());
        }
    }

    @Test
    void stringRunsAllocateOnlyTheStringsThemselves() {
        Path m = new OnnxBuilder("id", 13).input("s", S, "n").output("o", S, "n").node("Identity", "s", "o").write(tmp.resolve("id.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(m, BATCH)) {
            Batch b = e.newBatch();
            Tensor s = b.input("s").reshape(4);
            for (int i = 0; i < 4; i++) {
                s.putString(i, WORDS[i]);
            }
            int runs = 3_000;
            long perRun = Fixtures.heapBytesPerCall(1_000, runs, () -> e.run(b));
            System.out.println("string Identity, 4 elements: " + perRun + " bytes allocated on the Java heap per run");
            assertTrue(perRun <= 16, "a run copies strings natively, allocating nothing on the heap: " + perRun);
            assertEquals(WORDS[2], b.output("o").getString(2));
        }
    }

    private static String[] official(Path model, String[] in, String output) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions());
                OnnxTensor t = OnnxTensor.createTensor(env, in, new long[] {in.length});
                OrtSession.Result r = s.run(Map.of("s", t))) {
            return (String[]) r.get(output).orElseThrow().getValue();
        }
    }
}
