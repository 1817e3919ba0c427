package io.hotpath.engine.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.EngineProvider;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.XgboostModels;
import io.hotpath.models.XgboostModels.Trained;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Ensembles XGBoost trained on real data ({@link XgboostModels}: regression, binary and ten-class,
 * with missing values), every row of their data run by the JVM engine's walkers and by ONNX Runtime
 * with one intra-op thread (trees summed in order), in batches of 64 and one row at a time. The JVM
 * engine must give ONNX Runtime's answers bit for bit where no transform follows the sum, within
 * 1e-5 relative where one does (exp in Java against the C library); both must give XGBoost's own
 * answers within 1e-5 (XGBoost adds its base score first and ONNX last, so the float sums may differ
 * in the last bits), and every label must be the likeliest class of its own probabilities.
 */
class XgboostTrainedTest {
    static final java.util.List<String> MODELS = XgboostModels.NAMES;

    @ParameterizedTest
    @FieldSource("MODELS")
    void everyWalkerGivesOnnxRuntimesAndXgboostsAnswers(String name) throws IOException {
        Trained t = XgboostModels.load(name);
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(t.model()));
        float[] ort = run(t, null);
        assertAgree(t, "ONNX Runtime", ort);
        boolean transformed = !t.objective().startsWith("reg:");
        for (String variant : new String[] {"auto", "packed", "array", "bytecode"}) {
            Program p = TreeCompiler.compile(m, variant);
            if (variant.equals("auto")) {
                assertTrue(p.describe().contains("packed"), "every branch is BRANCH_LT: the packed walker, not " + p.describe());
            }
            float[] jvm = run(t, p);
            assertAgree(t, variant, jvm);
            for (int k = 0; k < jvm.length; k++) {
                if (transformed) {
                    assertTrue(Math.abs(jvm[k] - ort[k]) <= 1e-5 * Math.max(1e-30, Math.abs(ort[k])),
                            variant + " [" + k + "]: " + jvm[k] + " against ONNX Runtime's " + ort[k]);
                } else {
                    assertEquals(Float.floatToIntBits(ort[k]), Float.floatToIntBits(jvm[k]),
                            variant + " [" + k + "]: " + jvm[k] + " against ONNX Runtime's " + ort[k]);
                }
            }
        }
    }

    /** The engine choice takes each of them (every node supported, under the tree-size threshold). */
    @ParameterizedTest
    @FieldSource("MODELS")
    void theProviderTakesThem(String name) {
        EngineProvider.Availability a = new JvmEngineProvider().availability(XgboostModels.load(name).model());
        assertTrue(a.usable(), name + ": " + a.reason());
    }

    /**
     * Every row's answers as XGBoost gives them (the prediction, class 1's probability, or every
     * class's), from ONNX Runtime when {@code program} is null, else from the JVM engine; rows in
     * batches of 64, then the first 32 again one at a time (which must give the same answers).
     */
    private static float[] run(Trained t, Program program) {
        int per = t.answersPerRow();
        float[] got = new float[t.rows() * per];
        try (io.hotpath.core.Engine e = program == null
                ? OrtCpuEngine.open(t.model(), CpuEngineOptions.builder().maxBatchSize(64).intraOpThreads(1).build())
                : JvmEngine.of(t.name(), ModelProto.parseFrom(Files.readAllBytes(t.model())), program, JvmEngineOptions.defaults())) {
            Batch b = e.newBatch();
            for (int start = 0; start < t.rows(); start += 64) {
                runRows(t, e, b, start, Math.min(64, t.rows() - start), got);
            }
            float[] one = new float[t.rows() * per];
            for (int r = 0; r < 32; r++) {
                runRows(t, e, b, r, 1, one);
                for (int k = 0; k < per; k++) {
                    assertEquals(Float.floatToIntBits(got[r * per + k]), Float.floatToIntBits(one[r * per + k]),
                            t.name() + " row " + r + " alone: " + one[r * per + k] + " in a batch of 64: " + got[r * per + k]);
                }
            }
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        return got;
    }

    private static void runRows(Trained t, io.hotpath.core.Engine e, Batch b, int start, int rows, float[] got) {
        int f = t.features();
        Tensor in = b.input("X").reshape(rows, f);
        for (int k = 0; k < rows * f; k++) {
            in.putFloat(k, t.inputs()[start * f + k]);
        }
        e.run(b);
        int per = t.answersPerRow();
        if (t.objective().startsWith("reg:")) {
            Tensor y = b.output("variable");
            assertEquals(rows, y.elementCount());
            for (int r = 0; r < rows; r++) {
                got[start + r] = y.getFloat(r);
            }
            return;
        }
        Tensor probabilities = b.output("probabilities");
        Tensor labels = b.output("label");
        assertEquals(DType.INT64, labels.dtype());
        int classes = per == 1 ? 2 : per;
        assertEquals((long) rows * classes, probabilities.elementCount());
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (probabilities.getFloat((long) r * classes + c) > probabilities.getFloat((long) r * classes + best)) {
                    best = c;
                }
            }
            assertEquals(best, labels.getLong(r), t.name() + " row " + (start + r) + ": the label is not the likeliest class");
            if (per == 1) {   // binary: XGBoost answers class 1's probability; ONNX gives [1 - p, p]
                got[start + r] = probabilities.getFloat((long) r * 2 + 1);
                assertTrue(Math.abs(probabilities.getFloat((long) r * 2) + got[start + r] - 1) <= 1e-6, t.name() + " row " + (start + r));
            } else {
                for (int c = 0; c < classes; c++) {
                    got[(start + r) * per + c] = probabilities.getFloat((long) r * classes + c);
                }
            }
        }
    }

    /** {@code got} is XGBoost's answers within 1e-5 (relative, or absolute below 1). */
    private static void assertAgree(Trained t, String who, float[] got) {
        float[] want = t.expected();
        assertEquals(want.length, got.length);
        double worst = 0;
        for (int k = 0; k < want.length; k++) {
            double d = Math.abs(got[k] - want[k]) / Math.max(1, Math.abs(want[k]));
            worst = Math.max(worst, d);
            assertTrue(d <= 1e-5, t.name() + " " + who + " [" + k + "]: " + got[k] + ", XGBoost " + want[k]);
        }
        System.out.println(t.name() + " " + who + ": worst difference from XGBoost " + worst + " over " + want.length + " answers");
    }
}
