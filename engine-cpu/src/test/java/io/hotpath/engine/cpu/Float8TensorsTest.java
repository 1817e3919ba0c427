package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The four 8-bit float formats: raw bits pass through unchanged, and Hotpath's conversions agree
 * with ONNX Runtime's Cast. ONNX Runtime's Java API has no float8 tensors, so its side of each
 * comparison is a twin model that casts the float8 result back to float32.
 */
class Float8TensorsTest {
    @TempDir
    Path tmp;

    /** Values around every format's range: tiny (subnormal), ordinary, ties, beyond the largest, infinities, NaN. */
    private static float[] values() {
        SplittableRandom r = new SplittableRandom(8);
        float[] v = new float[64];
        float[] fixed = {0f, -0f, 1f, -1.5f, 0.1f, 3.1416f, 448f, 500f, -1e6f, 57344f, 6e4f, 1e-3f, 2e-3f, 1.0625f, 1.1875f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 240f, 1e-5f};
        System.arraycopy(fixed, 0, v, 0, fixed.length);
        for (int i = fixed.length; i < v.length; i++) {
            v[i] = (float) (r.nextDouble(-1, 1) * Math.pow(10, r.nextInt(-4, 5)));
        }
        return v;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ"})
    void castsAgreeWithOnnxRuntimeAndBitsPassThrough(DType t) throws Exception {
        int code = t.onnxCode();
        Path cast = new OnnxBuilder("cast", 19).input("x", OnnxBuilder.FLOAT, "n").output("y", code, "n").output("same", code, "n")
                .node("Cast", "x", "y", "to", (long) code).node("Identity", "y", "same").write(tmp.resolve("cast.onnx"));
        Path twin = new OnnxBuilder("twin", 19).input("x", OnnxBuilder.FLOAT, "n").output("back", OnnxBuilder.FLOAT, "n")
                .node("Cast", "x", "y", "to", (long) code).node("Cast", "y", "back", "to", (long) OnnxBuilder.FLOAT).write(tmp.resolve("twin.onnx"));
        Path identity = new OnnxBuilder("id", 19).input("x", code, "n").output("y", code, "n").node("Identity", "x", "y")
                .write(tmp.resolve("id.onnx"));
        float[] x = values();
        float[] theirs;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(twin.toString(), new OrtSession.SessionOptions());
                OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {x.length});
                OrtSession.Result r = s.run(Map.of("x", in))) {
            theirs = (float[]) r.get("back").orElseThrow().getValue();
        }
        CpuEngineOptions options = CpuEngineOptions.builder().maxBatchSize(x.length).build();
        try (OrtCpuEngine e = OrtCpuEngine.open(cast, options); OrtCpuEngine id = OrtCpuEngine.open(identity, options)) {
            assertEquals(t, e.outputs().get(0).dtype());
            Batch b = e.newBatch();
            b.input("x").reshape(x.length);
            for (int i = 0; i < x.length; i++) {
                b.input("x").putFloat(i, x[i]);
            }
            e.run(b);
            Tensor y = b.output("y");
            Batch ib = id.newBatch();
            Tensor probe = ib.input("x").reshape(x.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToIntBits(theirs[i]), Float.floatToIntBits(y.getAsFloat(i)),
                        t + ": decoding ONNX Runtime's Cast of " + x[i] + " (bits 0x" + Integer.toHexString(y.getByte(i) & 0xFF) + ")");
                probe.putAsDouble(i, x[i]);
                assertEquals(y.getByte(i), probe.getByte(i), t + ": Hotpath's own conversion of " + x[i] + " gives ONNX Runtime's bits");
            }
            id.run(ib);
            byte[] in = new byte[x.length];
            byte[] out = new byte[x.length];
            for (int i = 0; i < x.length; i++) {
                in[i] = probe.getByte(i);
                out[i] = ib.output("y").getByte(i);
            }
            assertArrayEquals(in, out, t + ": Identity passes the bits through");
        }
    }
}
