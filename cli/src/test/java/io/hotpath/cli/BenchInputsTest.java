package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code hotpath bench --input/--shape}, the input defaults, and the .npy reader. */
class BenchInputsTest {
    private static final int BOOL = 9;   // ONNX TensorProto.DataType.BOOL

    @TempDir
    Path tmp;

    // ---- .npy files written byte by byte ----------------------------------------------------

    /** A .npy file: magic, version major.0, header length (2 bytes for 1.x, 4 for 2.x), the dict padded with spaces to 64 bytes and a newline, then {@code data}. */
    private static byte[] npy(int major, String descr, boolean fortran, String shape, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
        int pre = major == 1 ? 10 : 12;
        int len = dict.length() + 1;
        int padded = (pre + len + 63) / 64 * 64 - pre;
        String header = dict + " ".repeat(padded - len) + "\n";
        ByteBuffer b = ByteBuffer.allocate(pre + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) padded);
        } else {
            b.putInt(padded);
        }
        b.put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
        return b.array();
    }

    private static byte[] le(int bytes, java.util.function.Consumer<ByteBuffer> put) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        put.accept(b);
        return b.array();
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsVersion1And2HeadersAndEveryDescr() throws Exception {
        NpyFile f4 = NpyFile.read(write("f4.npy", npy(1, "<f4", false, "(2, 3)", le(24, b -> {
            for (int i = 0; i < 6; i++) {
                b.putFloat(i + 0.5f);
            }
        }))));
        assertEquals("<f4", f4.descr());
        assertArrayEquals(new long[] {2, 3}, f4.shape());
        assertTrue(f4.isFloat());
        assertEquals(5.5, f4.getDouble(5));

        NpyFile i8 = NpyFile.read(write("i8.npy", npy(2, "<i8", false, "(3,)", le(24, b -> b.putLong(-7).putLong(1L << 40).putLong(3)))));
        assertArrayEquals(new long[] {3}, i8.shape());
        assertEquals(1L << 40, i8.getLong(1));
        assertEquals(-7, i8.getLong(0));

        NpyFile scalar = NpyFile.read(write("f8.npy", npy(1, "<f8", false, "()", le(8, b -> b.putDouble(0.25)))));
        assertArrayEquals(new long[0], scalar.shape());
        assertEquals(0.25, scalar.getDouble(0));

        NpyFile i4 = NpyFile.read(write("i4.npy", npy(1, "<i4", false, "(2,)", le(8, b -> b.putInt(-2).putInt(16000)))));
        assertEquals(16000, i4.getLong(1));
        NpyFile i1 = NpyFile.read(write("i1.npy", npy(1, "|i1", false, "(2,)", new byte[] {-3, 4})));
        assertEquals(-3, i1.getLong(0));
        NpyFile u1 = NpyFile.read(write("u1.npy", npy(1, "|u1", false, "(1,)", new byte[] {(byte) 200})));
        assertEquals(200, u1.getLong(0));
        NpyFile b1 = NpyFile.read(write("b1.npy", npy(2, "|b1", false, "(2,)", new byte[] {1, 0})));
        assertTrue(b1.isBool());
        assertEquals(1, b1.getLong(0));
        assertEquals(0, b1.getLong(1));
        NpyFile f2 = NpyFile.read(write("f2.npy", npy(1, "<f2", false, "(1,)", le(2, b -> b.putShort(Float.floatToFloat16(1.5f))))));
        assertEquals(1.5, f2.getDouble(0));
        NpyFile i2 = NpyFile.read(write("i2.npy", npy(1, "<i2", false, "(2,)", le(4, b -> b.putShort((short) -300).putShort((short) 7)))));
        assertEquals(-300, i2.getLong(0));
        assertEquals(7.0, i2.getDouble(1));
        NpyFile u2 = NpyFile.read(write("u2.npy", npy(1, "<u2", false, "(1,)", le(2, b -> b.putShort((short) 65000)))));
        assertEquals(65000, u2.getLong(0));
        NpyFile u4 = NpyFile.read(write("u4.npy", npy(1, "<u4", false, "(1,)", le(4, b -> b.putInt(-1)))));
        assertEquals(4294967295L, u4.getLong(0));
        NpyFile u8 = NpyFile.read(write("u8.npy", npy(1, "<u8", false, "(2,)", le(16, b -> b.putLong(-1).putLong(5)))));
        assertTrue(u8.isAboveLongMax(0));
        assertFalse(u8.isAboveLongMax(1));
        assertEquals(0x1p64, u8.getDouble(0), "2^64 - 1 read as unsigned");
        assertEquals(5, u8.getLong(1));
        assertFalse(u8.isFloat());
    }

    @Test
    void refusesWhatItCannotReadWithOneLineNamingTheFileAndTheDescr() throws Exception {
        Path magic = write("magic.npy", "not a numpy file at all".getBytes(StandardCharsets.US_ASCII));
        assertMessage(magic, "magic.npy", "magic");
        Path fortran = write("fortran.npy", npy(1, "<f4", true, "(2, 2)", new byte[16]));
        assertMessage(fortran, "fortran.npy", "'<f4'", "Fortran order");
        Path big = write("big.npy", npy(1, ">f4", false, "(1,)", new byte[4]));
        assertMessage(big, "big.npy", "'>f4'", "big-endian");
        Path complex = write("complex.npy", npy(1, "<c8", false, "(1,)", new byte[8]));
        assertMessage(complex, "complex.npy", "'<c8'", "not supported");
        Path truncated = write("short.npy", npy(1, "<f4", false, "(4,)", new byte[8]));
        assertMessage(truncated, "short.npy", "needs 16 bytes", "has 8");
        byte[] v3 = npy(1, "<f4", false, "(1,)", new byte[4]);
        v3[6] = 3;
        assertMessage(write("v3.npy", v3), "v3.npy", "version 3.0");
        assertMessage(tmp.resolve("missing.npy"), "missing.npy", "no such file");
    }

    /** Corrupted headers and truncations are IllegalArgumentExceptions (one line), never another exception. */
    @Test
    void corruptedFilesAreRefusedNeverCrashTheReader() {
        byte[] good = npy(1, "<f4", false, "(2, 3)", new byte[24]);
        java.util.SplittableRandom r = new java.util.SplittableRandom(42);
        for (int i = 0; i < 3000; i++) {
            byte[] b = java.util.Arrays.copyOf(good, r.nextInt(0, good.length + 8));
            for (int k = r.nextInt(0, 4); k > 0 && b.length > 0; k--) {
                b[r.nextInt(0, Math.min(b.length, 80))] = (byte) r.nextInt(256);
            }
            try {
                NpyFile f = NpyFile.parse(Path.of("fuzz.npy"), b);
                for (long e = 0; e < f.count(); e++) {
                    f.getDouble(e);
                }
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().startsWith("fuzz.npy: ") && !e.getMessage().contains("\n"), e.getMessage());
            }
        }
    }

    private static void assertMessage(Path file, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NpyFile.read(file));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), e.getMessage() + " lacks " + p);
        }
    }

    // ---- values reach the model ------------------------------------------------------------

    private static Checks checks() {
        return new Checks(new CommandLine(new BenchCommand()).getCommandSpec());
    }

    private Path scaled() {
        return new OnnxBuilder("scaled", 13).input("x", OnnxBuilder.FLOAT, "batch", 4).input("s", OnnxBuilder.FLOAT)
                .output("y", OnnxBuilder.FLOAT, "batch", 4).node("Mul", "x,s", "y").write(tmp.resolve("scaled.onnx"));
    }

    @Test
    void aConstantAndAnNpyFileReachTheModel() throws Exception {
        Path x = write("x.npy", npy(1, "<f8", false, "(2, 4)", le(64, b -> {
            for (int i = 0; i < 8; i++) {
                b.putDouble(i + 1);
            }
        })));
        BenchInputs in = BenchInputs.parse(checks(), List.of("x=@" + x, "s=3"), null);
        try (OrtCpuEngine e = OrtCpuEngine.open(scaled(), CpuEngineOptions.builder().maxBatchSize(2).intraOpThreads(1).build())) {
            in.bind(checks(), e.inputs(), new int[] {2});
            Batch b = e.newBatch();
            in.fill(b, 2, 128, 100, 1);
            e.run(b);
            assertArrayEquals(new long[] {2, 4}, b.output(0).shape());
            for (int i = 0; i < 8; i++) {
                assertEquals(3f * (i + 1), b.output(0).getFloat(i), "element " + i);
            }
            List<String> lines = in.describe(100);
            assertTrue(lines.get(0).contains("x: from ") && lines.get(0).contains("<f8 [2,4]"), lines.toString());
            assertTrue(lines.get(1).contains("s: constant 3 (--input)"), lines.toString());
        }
    }

    /** Outputs are Identity copies of the inputs, so the values fed can be read back. */
    private Path echo() {
        return new OnnxBuilder("echo", 13)
                .input("input_ids", OnnxBuilder.INT64, "batch", "seq")
                .input("attention_mask", OnnxBuilder.INT64, "batch", "seq")
                .input("state", OnnxBuilder.FLOAT, "batch", 3)
                .input("sr", OnnxBuilder.INT64)
                .input("flag", BOOL, "batch")
                .input("noise", OnnxBuilder.FLOAT, "batch", 2)
                .output("ids_out", OnnxBuilder.INT64, "batch", "seq").node("Identity", "input_ids", "ids_out")
                .output("mask_out", OnnxBuilder.INT64, "batch", "seq").node("Identity", "attention_mask", "mask_out")
                .output("state_out", OnnxBuilder.FLOAT, "batch", 3).node("Identity", "state", "state_out")
                .output("sr_out", OnnxBuilder.INT64).node("Identity", "sr", "sr_out")
                .output("flag_out", BOOL, "batch").node("Identity", "flag", "flag_out")
                .output("noise_out", OnnxBuilder.FLOAT, "batch", 2).node("Identity", "noise", "noise_out")
                .write(tmp.resolve("echo.onnx"));
    }

    @Test
    void defaultsFollowTheNamesAndAShapeSizesTheSameNamedDimensionOfOtherInputs() {
        BenchInputs in = BenchInputs.parse(checks(), List.of("flag=false"), List.of("input_ids=2,5"));
        try (OrtCpuEngine e = OrtCpuEngine.open(echo(), CpuEngineOptions.builder().maxBatchSize(2).defaultMaxDimension(8).intraOpThreads(1).build())) {
            in.bind(checks(), e.inputs(), new int[] {2});
            Batch b = e.newBatch();
            in.fill(b, 2, 8, 50, 7);
            e.run(b);
            assertArrayEquals(new long[] {2, 5}, b.output("ids_out").shape());
            assertArrayEquals(new long[] {2, 5}, b.output("mask_out").shape(), "the mask's 'seq' follows input_ids' --shape, not --seq 8");
            for (int i = 0; i < 10; i++) {
                long id = b.output("ids_out").getLong(i);
                assertTrue(id >= 0 && id < 50, "id " + id);
                assertEquals(1, b.output("mask_out").getLong(i));
            }
            for (int i = 0; i < 6; i++) {
                assertEquals(0f, b.output("state_out").getFloat(i));
            }
            assertEquals(16000, b.output("sr_out").getLong(0));
            assertEquals(0, b.output("flag_out").getByte(0));
            assertEquals(0, b.output("flag_out").getByte(1));
            boolean nonZero = false;
            for (int i = 0; i < 4; i++) {
                float v = b.output("noise_out").getFloat(i);
                assertTrue(v >= -1 && v < 1, "noise " + v);
                nonZero |= v != 0;
            }
            assertTrue(nonZero, "noise is random");
            String text = String.join("\n", in.describe(50));
            assertTrue(text.contains("state         : zeros (name suggests recurrent state; --input state=... to override)"), text);
            assertTrue(text.contains("sr            : 16000 (name suggests a sample rate"), text);
            assertTrue(text.contains("attention_mask: ones"), text);
            assertTrue(text.contains("input_ids     : random ids below 50") && text.contains("shape [2,5] (--shape)"), text);
            assertTrue(text.contains("flag          : constant false (--input)"), text);
        }
    }

    @Test
    void integerAndBoolFilesConvertIntoTheirInputs() throws Exception {
        Path ids = write("ids.npy", npy(1, "<i4", false, "(1, 3)", le(12, b -> b.putInt(5).putInt(6).putInt(7))));
        Path flag = write("flag.npy", npy(1, "|b1", false, "(1,)", new byte[] {1}));
        Path state = write("state.npy", npy(2, "<f2", false, "(1, 3)", le(6, b -> {
            for (int i = 0; i < 3; i++) {
                b.putShort(Float.floatToFloat16(i - 0.5f));
            }
        })));
        BenchInputs in = BenchInputs.parse(checks(), List.of("input_ids=@" + ids, "flag=@" + flag, "state=@" + state, "sr=8000"), null);
        try (OrtCpuEngine e = OrtCpuEngine.open(echo(), CpuEngineOptions.builder().maxBatchSize(1).defaultMaxDimension(4).intraOpThreads(1).build())) {
            in.bind(checks(), e.inputs(), new int[] {1});
            Batch b = e.newBatch();
            in.fill(b, 1, 4, 50, 1);
            e.run(b);
            assertEquals(7, b.output("ids_out").getLong(2));
            assertArrayEquals(new long[] {1, 3}, b.output("mask_out").shape());
            assertEquals(1, b.output("flag_out").getByte(0));
            assertEquals(1.5f, b.output("state_out").getFloat(2));
            assertEquals(8000, b.output("sr_out").getLong(0));
        }
    }

    /** Identity copies of float64, int16, uint16, uint32 and uint64 inputs. */
    private Path wide() {
        OnnxBuilder m = new OnnxBuilder("wide", 13);
        for (String[] t : new String[][] {{"f64", "11"}, {"i16", "5"}, {"u16", "4"}, {"u32", "12"}, {"u64", "13"}}) {
            int code = Integer.parseInt(t[1]);
            m.input(t[0], code, "batch", 2).output(t[0] + "_out", code, "batch", 2).node("Identity", t[0], t[0] + "_out");
        }
        return m.write(tmp.resolve("wide.onnx"));
    }

    @Test
    void wideAndUnsignedIntegerFilesAndConstantsReachTheirInputs() throws Exception {
        Path i16 = write("i16.npy", npy(1, "<i2", false, "(1, 2)", le(4, b -> b.putShort((short) -32768).putShort((short) 32767))));
        Path u16 = write("u16.npy", npy(1, "<u2", false, "(1, 2)", le(4, b -> b.putShort((short) 65535).putShort((short) 1))));
        Path u64 = write("u64.npy", npy(1, "<u8", false, "(1, 2)", le(16, b -> b.putLong(-1).putLong(Long.MIN_VALUE))));
        BenchInputs in = BenchInputs.parse(checks(), List.of("f64=0.1", "i16=@" + i16, "u16=@" + u16, "u32=4294967295", "u64=@" + u64), null);
        try (OrtCpuEngine e = OrtCpuEngine.open(wide(), CpuEngineOptions.builder().maxBatchSize(1).intraOpThreads(1).build())) {
            in.bind(checks(), e.inputs(), new int[] {1});
            Batch b = e.newBatch();
            in.fill(b, 1, 4, 50, 1);
            e.run(b);
            assertEquals(0.1, b.output("f64_out").getDouble(1), "a float64 constant is not rounded through float32");
            assertEquals(-32768, b.output("i16_out").getAsLong(0));
            assertEquals(32767, b.output("i16_out").getAsLong(1));
            assertEquals(65535, b.output("u16_out").getAsLong(0));
            assertEquals(4294967295L, b.output("u32_out").getAsLong(1));
            assertEquals("18446744073709551615", Long.toUnsignedString(b.output("u64_out").getLong(0)));
            assertEquals("9223372036854775808", Long.toUnsignedString(b.output("u64_out").getLong(1)));
        }
        BenchInputs defaults = BenchInputs.defaults();
        try (OrtCpuEngine e = OrtCpuEngine.open(wide(), CpuEngineOptions.builder().maxBatchSize(4).intraOpThreads(1).build())) {
            defaults.bind(checks(), e.inputs(), new int[] {4});
            Batch b = e.newBatch();
            defaults.fill(b, 4, 4, 50, 3);
            e.run(b);
            long distinct = java.util.stream.LongStream.range(0, 8).map(k -> b.output("u16_out").getAsLong(k)).distinct().count();
            assertTrue(distinct > 1, "uint16 inputs are random, not left at zero");
            for (String name : List.of("i16_out", "u16_out", "u32_out", "u64_out")) {
                for (int k = 0; k < 8; k++) {
                    long v = b.output(name).getAsLong(k);
                    assertTrue(v >= 0 && v < 100, name + " element " + k + " is " + v);
                }
            }
            for (int k = 0; k < 8; k++) {
                double v = b.output("f64_out").getDouble(k);
                assertTrue(v >= -1 && v < 1 && v != (float) v, "float64 element " + k + " is " + v + ", drawn as a double");
            }
            assertTrue(String.join("\n", defaults.describe(50)).contains("u64: random in [0,100)"), defaults.describe(50).toString());
        }
    }

    @Test
    void valuesOutsideAWideOrUnsignedInputsRangeAreOneLineUsageErrors() throws Exception {
        Path m = wide();
        Path u64 = write("big.npy", npy(1, "<u8", false, "(1, 2)", le(16, b -> b.putLong(-1).putLong(0))));
        assertUsage(bench(m, "--input", "i16=@" + u64), "descr '<u8' cannot feed input 'i16' (int16)", "element 0 is 18446744073709551615",
                "outside -32768..32767");
        assertUsage(bench(m, "--input", "u16=65536"), "'65536' is not an integer between 0 and 65535 (input 'u16' is uint16)");
        assertUsage(bench(m, "--input", "u32=-1"), "between 0 and 4294967295");
        Path floats = write("f.npy", npy(1, "<f4", false, "(1, 2)", new byte[8]));
        assertUsage(bench(m, "--input", "u64=@" + floats), "descr '<f4' cannot feed input 'u64' (uint64)", "<u8, <u4, <u2, |u1");
    }

    // ---- through the command --------------------------------------------------------------

    /** Runs the command with stdout and stderr captured; returns {exit code, stdout, stderr}. */
    private static Object[] run(String... args) {
        return CliRun.runToArray(args);
    }

    private Object[] bench(Path model, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("bench", "--model", model.toString(), "--iterations", "3", "--warmup", "1"));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void benchPrintsWhatEachInputIsFedAndRunsWithGivenValues() throws Exception {
        Path x = write("x.npy", npy(1, "<f4", false, "(2, 4)", new byte[32]));
        Object[] r = bench(scaled(), "--batch", "2", "--input", "x=@" + x, "--input", "s=2.5", "--threads", "1");
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("input   x: from ") && out.contains("input   s: constant 2.5 (--input)"), out);
        Object[] d = bench(echo(), "--seq", "4", "--threads", "1", "--shape", "input_ids=1,6");
        assertEquals(0, d[0], (String) d[2]);
        String header = (String) d[1];
        assertTrue(header.contains("state         : recurrent state: zeros, then each run's output")
                && header.contains("state   state_out -> state (each run's state output") && header.contains("sr            : 16000"), header);
    }

    private void assertUsage(Object[] r, String... parts) {
        assertEquals(2, r[0], r[1] + " / " + r[2]);
        String err = ((String) r[2]).strip();
        assertFalse(err.contains("\n"), err);
        for (String p : parts) {
            assertTrue(err.contains(p), err + " lacks " + p);
        }
    }

    @Test
    void mistakesAreOneLineUsageErrors() throws Exception {
        Path m = scaled();
        assertUsage(bench(m, "--input", "z=1"), "the model has no input 'z'", "its inputs: x, s");
        assertUsage(bench(m, "--input", "s=abc"), "'abc' is not a number", "input 's' is float32");
        assertUsage(bench(m, "--input", "s=1", "--input", "s=2"), "input 's' given twice");
        assertUsage(bench(m, "--input", "s"), "expected NAME=VALUE");
        assertUsage(bench(m, "--input", "x=@" + tmp.resolve("nope.npy")), "nope.npy: no such file");
        Path bad = write("bad.npy", npy(1, ">f4", false, "(1, 4)", new byte[16]));
        assertUsage(bench(m, "--input", "x=@" + bad), "bad.npy", "'>f4'", "big-endian");
        Path wide = write("wide.npy", npy(1, "<f4", false, "(1, 5)", new byte[20]));
        assertUsage(bench(m, "--input", "x=@" + wide), "input 'x'", "[1,5]", "[batch,4]", "dimension 1 is 5, expected 4");
        Path two = write("two.npy", npy(1, "<f4", false, "(2, 4)", new byte[32]));
        assertUsage(bench(m, "--input", "x=@" + two), "[2,4]", "the run's batch is 1");
        assertUsage(bench(m, "--batch", "2,4", "--input", "x=@" + two), "the run's batch is 4");
        Path ints = write("ints.npy", npy(1, "<f4", false, "(1, 3)", new byte[12]));
        assertUsage(bench(echo(), "--input", "input_ids=@" + ints), "descr '<f4' cannot feed input 'input_ids' (int64)");
        assertUsage(bench(m, "--shape", "x=1,4,2"), "--shape x", "[1,4,2]", "declared [batch,4]", "rank 3");
        assertUsage(bench(m, "--shape", "x=a,4"), "integers separated by commas");
        assertUsage(bench(m, "--shape", "x=1,0"), "--shape x=1,0: dimension 1 is 0; must be between 1 and 65536");
        assertUsage(bench(m, "--shape", "x="), "shape []", "rank 0, expected 2");
        Path huge = write("huge.npy", npy(1, "|u1", false, "(1, 70000)", new byte[70000]));
        assertUsage(bench(m, "--input", "x=@" + huge), "dimension 1 is 70000", "at most 65536");
        assertUsage(bench(m, "--input", "x=@" + tmp), "not a regular file");
        assertUsage(bench(echo(), "--input", "flag=2"), "true, false, 0 or 1");
        assertUsage(bench(echo(), "--input", "sr=1.5"), "an integer between");
        assertUsage(bench(m, "--shape", "x=1,4", "--max-batch", "2"), "--shape applies to direct mode");
        assertUsage(bench(m, "--input", "x=@" + two, "--concurrency", "2"), "[2,4] has 2 rows", "one row per request");
        Path ids = write("ids7.npy", npy(1, "<i8", false, "(1, 7)", new byte[56]));
        assertUsage(bench(echo(), "--input", "input_ids=@" + ids, "--seq", "4", "--concurrency", "1"),
                "the file's shape [1,7] is not a request's [1,4]");
    }

    @Test
    void theBatcherPathTakesConstantsAndOneRowFiles() throws Exception {
        Path x = write("x1.npy", npy(1, "<f4", false, "(1, 4)", le(16, b -> b.putFloat(1).putFloat(2).putFloat(3).putFloat(4))));
        Object[] r = bench(scaled(), "--input", "x=@" + x, "--input", "s=2", "--concurrency", "2", "--threads", "1");
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("input   s: constant 2 (--input)"), (String) r[1]);
        Object[] open = bench(scaled(), "--input", "s=2", "--rate", "200", "--duration-s", "0.05", "--threads", "1");
        assertEquals(0, open[0], (String) open[2]);
        // what each client does to its request, checked on the answer
        BenchInputs in = BenchInputs.parse(checks(), List.of("x=@" + x, "s=2"), null);
        OrtCpuEngine e = OrtCpuEngine.open(scaled(), CpuEngineOptions.builder().maxBatchSize(1).intraOpThreads(1).spinWait(false).build());
        try (io.hotpath.service.InferenceService svc = io.hotpath.service.InferenceService.builder(e)
                .batching(c -> c.maxBatchSize(1).maxRequests(2)).build()) {
            in.bind(checks(), e.inputs(), null);
            in.requestShapes(checks(), 1);
            io.hotpath.service.Request req = svc.newRequest();
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
            for (int i = 0; i < e.inputs().size(); i++) {
                in.fill(req.input(i), rnd, 100);
            }
            assertEquals(io.hotpath.batcher.BatchStatus.OK, svc.infer(req));
            for (int i = 0; i < 4; i++) {
                assertEquals(2f * (i + 1), req.output("y").getFloat(i));
            }
        }
    }
}
