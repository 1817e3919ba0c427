package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.models.ModelCatalog;
import io.hotpath.optimizer.Calibrator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code hotpath optimize --input/--shape}: the samples it calibrates and validates on are made as {@code hotpath bench} makes its inputs. */
class OptimizeInputsTest {
    @TempDir
    Path tmp;

    /** The built-in mlp takes {@code features} float32 [batch, 64]. */
    private static final int WIDTH = 64;

    /** A version 1.0 .npy file of little-endian float32 values in C order. */
    private Path npyFloats(String name, float[] values, long... shape) throws Exception {
        String dims = Arrays.stream(shape).mapToObj(Long::toString).reduce((a, b) -> a + ", " + b).orElse("") + (shape.length == 1 ? "," : "");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
        int headerLen = (10 + dict.length() + 1 + 63) / 64 * 64 - 10;
        ByteBuffer b = ByteBuffer.allocate(10 + headerLen + values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) headerLen);
        b.put((dict + " ".repeat(headerLen - dict.length() - 1) + "\n").getBytes(StandardCharsets.US_ASCII));
        for (float v : values) {
            b.putFloat(v);
        }
        return Files.write(tmp.resolve(name), b.array());
    }

    /** Row r of the file holds r + k / 1000 at position k: every row differs from every other. */
    private Path rows(int n) throws Exception {
        float[] v = new float[n * WIDTH];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < WIDTH; k++) {
                v[r * WIDTH + k] = r + k / 1000f;
            }
        }
        return npyFloats("rows.npy", v, n, WIDTH);
    }

    private static Checks checks() {
        return new Checks(new CommandLine(new OptimizeCommand()).getCommandSpec());
    }

    private static float[] floats(Calibrator.Feed f) {
        float[] out = new float[f.bytes().length / 4];
        ByteBuffer.wrap(f.bytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void theRowsOfAnNpyFileAreTheSamplesTwoThirdsCalibrateTheLastThirdValidates() throws Exception {
        BenchInputs given = BenchInputs.parse(checks(), List.of("features=@" + rows(6)), null);
        OptimizeSamples.Split s = OptimizeSamples.build(checks(), ModelCatalog.resolve("mlp"), given, 128, 256, 128);
        assertEquals(4, s.calibration().samples().size());
        assertEquals(2, s.validation().samples().size());
        assertEquals("6 rows from --input: rows 0-3 calibrate, rows 4-5 validate", s.description());
        for (int r = 0; r < 6; r++) {
            Calibrator.Feed f = (r < 4 ? s.calibration().samples().get(r) : s.validation().samples().get(r - 4)).get(0);
            assertEquals("features", f.name());
            assertArrayEquals(new long[] {1, WIDTH}, f.dims());
            float[] v = floats(f);
            assertEquals(r, v[0]);
            assertEquals(r + 63 / 1000f, v[WIDTH - 1]);
        }
    }

    @Test
    void withoutAFileTheSamplesAreBenchsDefaultsFromDisjointSeedsOrTheGivenConstant() {
        OptimizeSamples.Split random = OptimizeSamples.build(checks(), ModelCatalog.resolve("mlp"), BenchInputs.parse(checks(), null, null), 128, 5, 3);
        assertEquals(5, random.calibration().samples().size());
        assertEquals(3, random.validation().samples().size());
        float[] cal0 = floats(random.calibration().samples().get(0).get(0));
        float[] cal1 = floats(random.calibration().samples().get(1).get(0));
        float[] val0 = floats(random.validation().samples().get(0).get(0));
        assertFalse(Arrays.equals(cal0, cal1) || Arrays.equals(cal0, val0), "each sample its own random values");
        for (float x : cal0) {
            assertTrue(x >= -1 && x < 1, "bench's float default is uniform in [-1, 1): " + x);
        }
        OptimizeSamples.Split constant = OptimizeSamples.build(checks(), ModelCatalog.resolve("mlp"),
                BenchInputs.parse(checks(), List.of("features=0.25"), null), 128, 2, 1);
        float[] c = floats(constant.validation().samples().get(0).get(0));
        assertEquals(WIDTH, c.length);
        for (float x : c) {
            assertEquals(0.25f, x);
        }
    }

    @Test
    void optimizeCalibratesAndValidatesOnTheGivenFile() throws Exception {
        Path out = tmp.resolve("out");
        CliRun.Result r = CliRun.run("optimize", "--model", "mlp", "--input", "features=@" + rows(6), "--out", out.toString(),
                "--precisions", "fp32,int8", "--methods", "minmax", "--runs", "3", "--rounds", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("  data: 6 rows from --input: rows 0-3 calibrate, rows 4-5 validate"), r.out());
        assertTrue(r.out().contains("| int8-minmax"), r.out());
        assertTrue(Files.isRegularFile(out.resolve("model.onnx")));
    }

    @Test
    void badInputOptionsAreRefusedInOneLineBeforeAnyWork() throws Exception {
        Path out = tmp.resolve("out");
        // string inputs run on the engine, but there is nothing numeric to calibrate
        Path strings = tmp.resolve("strings.onnx");
        io.hotpath.optimizer.OnnxModel.of(new io.hotpath.onnx.OnnxBuilder("s", 17).input("s", io.hotpath.onnx.OnnxBuilder.STRING, "batch")
                .node("Identity", "s", "t").output("t", io.hotpath.onnx.OnnxBuilder.STRING, "batch").build()).save(strings);
        String[][] cases = {
            {"--model", "minilm-q", "--input", "input_ids=1", "--out", out.toString()},
            {"--model", "mlp", "--input", "features=0.5", "--calibration", rows(2).toString(), "--out", out.toString()},
            {"--model", "mlp", "--input", "nope=1", "--out", out.toString()},
            {"--model", "mlp", "--shape", "features=1,63", "--out", out.toString()},
            {"--model", "mlp", "--input", "features", "--out", out.toString()},
            {"--model", strings.toString(), "--out", out.toString()},
        };
        String[] expected = {
            "hotpath: --input/--shape apply to models that are not text",
            "hotpath: give --calibration/--validation row files or --input/--shape, not both",
            "hotpath: --input nope=1: the model has no input 'nope'; its inputs: features",
            "hotpath: --shape features: shape [1,63] does not fit input 'features' declared [batch,64] (dimension 1 is 63, expected 64)",
            "hotpath: --input 'features': expected NAME=VALUE or NAME=@FILE.npy",
            "hotpath: input 's' is a string tensor; the optimizer calibrates, validates and times numeric inputs only",
        };
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 1];
            args[0] = "optimize";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            CliRun.Result r = CliRun.run(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith(expected[i]), "expected '" + expected[i] + "', got: " + r.err());
            assertFalse(Files.exists(out.resolve("report.md")), "no work done: " + String.join(" ", args));
        }
    }
}
