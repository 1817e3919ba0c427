package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.service.InferenceService;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.OnnxBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every failure of the command line is one line on stderr starting {@code hotpath: }, exit code 2
 * for what the user can fix and 1 for the rest, with no stack trace unless --verbose; bad values
 * and unusable output paths are refused before any work starts.
 */
class CliErrorsTest {
    @TempDir
    static Path tmp;

    /** A regular file: paths under it cannot be created, whoever runs the tests (root included). */
    static Path aFile;

    @BeforeAll
    static void aFile() throws Exception {
        aFile = Files.writeString(tmp.resolve("a-file.txt"), "not a directory");
    }

    /** Runs the command with stdout and stderr captured. */
    static CliRun.Result run(String... args) {
        return CliRun.run(args);
    }

    static CliRun.Result capture(Callable<Integer> command) {
        return CliRun.capture(command);
    }

    /** Exit code {@code code}, and stderr exactly one line starting "hotpath: " that contains each of {@code parts}, with no stack trace. */
    static CliRun.Result assertOneLine(CliRun.Result r, int code, String... parts) {
        String all = "exit " + r.code() + ", stderr:\n" + r.err() + "\nstdout:\n" + r.out();
        assertEquals(code, r.code(), all);
        String err = r.err().strip();
        assertTrue(err.startsWith("hotpath: "), all);
        assertFalse(err.contains("\n"), "exactly one line: " + all);
        assertFalse(r.err().contains("\tat "), "no stack trace: " + all);
        for (String p : parts) {
            assertTrue(err.contains(p), "'" + p + "' in: " + all);
        }
        return r;
    }

    /** A usage error found before any work: nothing on stdout (no header, no measuring). */
    static void refusedUpFront(CliRun.Result r, String... parts) {
        assertOneLine(r, 2, parts);
        assertEquals("", r.out(), "refused before any work");
    }

    // ---- 2. values: NaN, zero, negative, unknown; every numeric and enum-like option ------------

    static Stream<Arguments> badValues() {
        List<Arguments> a = new ArrayList<>();
        // bench, direct mode
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--batch", "0"), List.of("--batch", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--batch", "4,-1"), List.of("--batch", "-1")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--seq", "0"), List.of("--seq", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--threads", "-1"), List.of("--threads", "-1")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--iterations", "0"), List.of("--iterations", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--warmup", "-1"), List.of("--warmup", "-1")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--vocab", "0"), List.of("--vocab", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--opt", "max"), List.of("--opt", "max")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--engine", "gpu"), List.of("--engine", "gpu")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--precision", "fp64"), List.of("--precision", "fp64")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--calibration-method", "median"), List.of("--calibration-method", "median")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--builder-level", "9"), List.of("--builder-level", "9")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--trt-buckets", "0"), List.of("--trt-buckets", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--spin-wait", "maybe"), List.of("--spin-wait", "maybe")));
        // bench, batcher path
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--redis", "memcached://h:1"), List.of("--redis", "redis://")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--redis", "redis://127.0.0.1:1", "--redis-budget-us", "0"), List.of("--redis-budget-us", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--redis", "redis://127.0.0.1:1", "--redis-ttl-s", "-1"), List.of("--redis-ttl-s", "-1")));
        a.add(Arguments.of(List.of("serve", "--model", "mlp", "--redis", "localhost:6379"), List.of("--redis", "redis://")));
        a.add(Arguments.of(List.of("serve", "--model", "mlp", "--redis", "redis://127.0.0.1:1", "--redis-budget-us", "99999999"), List.of("--redis-budget-us", "99999999")));
        a.add(Arguments.of(List.of("serve", "--model", "mlp", "--batcher-thread", "shared"), List.of("--batcher-thread", "shared", "event-loop", "own")));
        a.add(Arguments.of(List.of("serve", "--model", "mlp", "--warmup-requests", "-1"), List.of("--warmup-requests", "-1")));
        a.add(Arguments.of(List.of("serve", "--model", "mlp", "--warmup-ms", "-5"), List.of("--warmup-ms", "-5")));
        a.add(Arguments.of(List.of("demo", "--redis", "tcp://h:1"), List.of("--redis", "redis://")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "100", "--duration-s", "NaN"), List.of("--duration-s", "NaN")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "100", "--duration-s", "Infinity"), List.of("--duration-s", "Infinity")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "100", "--duration-s", "0"), List.of("--duration-s", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "NaN"), List.of("--rate", "NaN")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "-5"), List.of("--rate", "-5")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "Infinity"), List.of("--rate", "Infinity")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--rate", "10", "--max-in-flight", "0"), List.of("--max-in-flight", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--concurrency", "0"), List.of("--concurrency", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--max-batch", "0"), List.of("--max-batch", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--cache-mb", "0"), List.of("--cache-mb", "0")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--repeat-fraction", "NaN"), List.of("--repeat-fraction", "NaN")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--repeat-fraction", "1.5"), List.of("--repeat-fraction", "1.5")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--max-delay-us", "-1"), List.of("--max-delay-us", "-1")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--concurrency", "1", "--idle", "sleep"), List.of("--idle", "sleep")));
        a.add(Arguments.of(List.of("bench", "--model", "minilm", "--concurrency", "2", "--vocab", "0"), List.of("--vocab", "0")));
        // options of the other path, which would be ignored
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--csv", tmp.resolve("x.csv").toString()), List.of("--csv", "batcher path")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--concurrency", "2", "--duration-s", "3"), List.of("--duration-s", "--rate")));
        a.add(Arguments.of(List.of("bench", "--model", "mlp", "--cuda-graphs"), List.of("--cuda-graphs", "--engine tensorrt")));
        // optimize
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--runs", "0", "--out", tmp.resolve("o").toString()), List.of("--runs", "0")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--seq", "-3", "--out", tmp.resolve("o").toString()), List.of("--seq", "-3")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--rounds", "0", "--out", tmp.resolve("o").toString()), List.of("--rounds", "0")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--int8-scheme", "s4", "--out", tmp.resolve("o").toString()),
                List.of("--int8-scheme", "s4")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--precisions", "fp64", "--out", tmp.resolve("o").toString()),
                List.of("--precisions", "fp64")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--methods", "minmax,median", "--out", tmp.resolve("o").toString()),
                List.of("--methods", "median")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--budget", "cosine>=NaN", "--out", tmp.resolve("o").toString()),
                List.of("--budget", "cosine>=NaN")));
        a.add(Arguments.of(List.of("optimize", "--model", "mlp", "--engine", "gpu", "--out", tmp.resolve("o").toString()), List.of("--engine", "gpu")));
        // profile
        a.add(Arguments.of(List.of("profile", "--model", "mlp", "--concurrency", "0"), List.of("--concurrency", "0")));
        a.add(Arguments.of(List.of("profile", "--model", "mlp", "--duration-s", "NaN"), List.of("--duration-s", "NaN")));
        a.add(Arguments.of(List.of("profile", "--model", "mlp", "--inputs", "images"), List.of("--inputs", "images")));
        a.add(Arguments.of(List.of("profile", "--model", "mlp", "--sample-ms", "0"), List.of("--sample-ms", "0")));
        a.add(Arguments.of(List.of("profile", "--model", "mlp", "--direct", "--max-batch", "4"), List.of("--max-batch", "--direct")));
        a.add(Arguments.of(List.of("profile", "--model", "mlp", "--html", aFile.resolve("p.html").toString()), List.of("--html")));
        // tune
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "0"), List.of("--slo-p99-ms", "0")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "NaN"), List.of("--slo-p99-ms", "NaN")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--rate", "100", "--concurrency", "2"), List.of("--rate", "--concurrency")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--rate", "-3"), List.of("--rate", "-3")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--threads", "-1"), List.of("--threads", "-1")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--rate", "2"), List.of("--rate", "too few")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--engine", "JVM", "--threads", "2"), List.of("--threads", "--engine cpu")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--budget-s", "20"), List.of("--budget-s", "20")));
        a.add(Arguments.of(List.of("tune", "--model", "mlp", "--slo-p99-ms", "5", "--engine", "jvm", "--threads", "2"), List.of("--threads", "--engine cpu")));
        // demo
        a.add(Arguments.of(List.of("demo", "--seconds", "NaN"), List.of("--seconds", "NaN")));
        a.add(Arguments.of(List.of("demo", "--seconds", "0"), List.of("--seconds", "0")));
        a.add(Arguments.of(List.of("demo", "--seq", "0"), List.of("--seq", "0")));
        a.add(Arguments.of(List.of("demo", "--seq", "513"), List.of("--seq", "513", "512")));
        a.add(Arguments.of(List.of("demo", "--threads", "0"), List.of("--threads", "0")));
        // advise
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=NaN"), List.of("--price", "cpu=NaN")));
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=-1"), List.of("--price", "cpu=-1")));
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "tpu=1"), List.of("--price", "tpu")));
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=1", "--slo-p99-ms", "0"), List.of("--slo-p99-ms", "0")));
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=1", "--seconds", "Infinity"), List.of("--seconds", "Infinity")));
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=1", "--batch", "0"), List.of("--batch", "0")));
        a.add(Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=1", "--seq", "0"), List.of("--seq", "0")));
        return a.stream();
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void badValuesAreRefusedInOneLineBeforeAnyWork(List<String> args, List<String> parts) {
        refusedUpFront(run(args.toArray(String[]::new)), parts.toArray(String[]::new));
    }

    // ---- 3. sizes: capped up front, naming the option, the value and the limit -----------------

    static Stream<Arguments> tooLarge() {
        return Stream.of(
                Arguments.of(List.of("bench", "--model", "mlp", "--batch", "2000000000"), List.of("--batch", "2000000000", "65536")),
                Arguments.of(List.of("bench", "--model", "mlp", "--max-batch", "2000000000"), List.of("--max-batch", "2000000000", "65536")),
                Arguments.of(List.of("bench", "--model", "mlp", "--seq", "2000000000"), List.of("--seq", "2000000000", "65536")),
                Arguments.of(List.of("bench", "--model", "mlp", "--concurrency", "1000000"), List.of("--concurrency", "1000000", "1024")),
                Arguments.of(List.of("bench", "--model", "mlp", "--rate", "10", "--max-in-flight", "2000000000"),
                        List.of("--max-in-flight", "2000000000", "65536")),
                Arguments.of(List.of("bench", "--model", "mlp", "--cache-mb", "10000000"), List.of("--cache-mb", "10000000", "physical memory")),
                Arguments.of(List.of("bench", "--model", "mlp", "--cache-mb", "8796093022208"), List.of("--cache-mb", "8796093022208", "physical memory")),
                Arguments.of(List.of("bench", "--model", "mlp", "--max-delay-us", "100000000"), List.of("--max-delay-us", "100000000", "60000000")),
                Arguments.of(List.of("bench", "--model", "mlp", "--rate", "10000000", "--duration-s", "86400"), List.of("--rate", "--duration-s")),
                Arguments.of(List.of("bench", "--model", "mlp", "--threads", "100000"), List.of("--threads", "100000", "1024")),
                Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--trt-buckets", "2000000000"),
                        List.of("--trt-buckets", "2000000000", "65536")),
                Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=1", "--batch", "1,2000000000"), List.of("--batch", "2000000000")));
    }

    @ParameterizedTest
    @MethodSource("tooLarge")
    void sizesBeyondTheCapsAreRefusedUpFront(List<String> args, List<String> parts) {
        refusedUpFront(run(args.toArray(String[]::new)), parts.toArray(String[]::new));
    }

    @Test
    void buffersBeyondWhatTheMachineHoldsAreRefusedBeforeTheyAreAllocated() {
        // within the caps, but MiniLM's output alone is 65536 x 65536 x 384 floats (6 TiB): more than any test machine has.
        // Refused by the memory check (half the physical memory) or by the engine's own size caps, named by the options either way.
        refusedUpFront(run("bench", "--model", "minilm", "--batch", "65536", "--seq", "65536", "--iterations", "1", "--warmup", "0"),
                "--batch 65536 at --seq 65536: ");
        refusedUpFront(run("bench", "--model", "minilm", "--max-batch", "65536", "--seq", "65536", "--rate", "10", "--duration-s", "1"),
                "--max-batch 65536 with --max-in-flight 256 at --seq 65536: ");
        refusedUpFront(run("advise", "--model", "minilm", "--price", "cpu=1", "--batch", "65536", "--seq", "65536"), "--batch 65536 at --seq 65536: ");
    }

    @Test
    void theMemoryCheckSaysWhatTheBuffersNeedAndTheLimit() {
        CliRun.Result r = capture(() -> {
            Checks c = new Checks(new CommandLine(new BenchCommand()).getCommandSpec());
            c.memory("--batch 8", Checks.memoryLimitBytes());   // exactly the limit: allowed
            CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                    () -> c.memory("--batch 9", Checks.saturatingMultiply(Long.MAX_VALUE, 2)));
            System.err.println("hotpath: " + e.getMessage());
            return 2;
        });
        assertOneLine(r, 2, "--batch 9: the buffers need more than 8 EiB; the limit is", "(half of this machine's physical memory)");
        var x = new io.hotpath.core.TensorSpec("x", io.hotpath.core.DType.FLOAT32, io.hotpath.core.Shape.of(-1, 3L << 20));
        var y = new io.hotpath.core.TensorSpec("y", io.hotpath.core.DType.INT64, io.hotpath.core.Shape.of(-1, -1));
        assertEquals(4L * (1 << 16) * (3L << 20) + 8L * (1 << 16) * (1L << 20), Checks.batchBytes(List.of(x, y), 1 << 16, 1L << 20),
                "dimension 0 dynamic = rows, the other dynamic ones = seq, fixed ones as declared");
        var z = new io.hotpath.core.TensorSpec("z", io.hotpath.core.DType.FLOAT32, io.hotpath.core.Shape.of(-1, -1, -1));
        assertEquals(Long.MAX_VALUE, Checks.batchBytes(List.of(z), Integer.MAX_VALUE, Integer.MAX_VALUE), "an overflow saturates");
    }

    // ---- 1 and 5. paths: checked before any work, one line naming the option and the path -----

    @Test
    void jsonIntoAPlaceThatCannotBeCreatedFailsBeforeTheRun() {
        Path under = aFile.resolve("sub").resolve("out.json");
        refusedUpFront(run("bench", "--model", "mlp", "--iterations", "100000", "--json", under.toString()), "--json", under.toString(),
                "not a directory");
        refusedUpFront(run("bench", "--model", "mlp", "--json", tmp.toString()), "--json", "is a directory");
        refusedUpFront(run("advise", "--model", "mlp", "--price", "cpu=1", "--json", tmp.toString()), "--json", "is a directory");
    }

    static Stream<Arguments> unusableOutputs() {
        String under = aFile.resolve("sub").toString();
        return Stream.of(
                Arguments.of(List.of("bench", "--model", "mlp", "--json", under + "/r.json"), "--json"),
                Arguments.of(List.of("bench", "--model", "mlp", "--concurrency", "1", "--csv", under + "/r.csv"), "--csv"),
                Arguments.of(List.of("bench", "--model", "mlp", "--concurrency", "1", "--hdr-log", under + "/r.hlog"), "--hdr-log"),
                Arguments.of(List.of("bench", "--model", "mlp", "--ort-profile", under + "/prof"), "--ort-profile"),
                Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--trt-cache", under), "--trt-cache"),
                Arguments.of(List.of("bench", "--model", "mlp", "--engine", "tensorrt", "--trt-cache", aFile.toString()), "--trt-cache"),
                Arguments.of(List.of("optimize", "--model", "mlp", "--out", under), "--out"),
                Arguments.of(List.of("optimize", "--model", "mlp", "--out", aFile.toString()), "--out"),
                Arguments.of(List.of("demo", "--report-dir", under), "--report-dir"),
                Arguments.of(List.of("advise", "--model", "mlp", "--price", "cpu=1", "--json", under + "/a.json"), "--json"));
    }

    @ParameterizedTest
    @MethodSource("unusableOutputs")
    void everyOutputPathIsCheckedBeforeAnyWork(List<String> args, String option) {
        refusedUpFront(run(args.toArray(String[]::new)), option, aFile.toString());
        assertTrue(Files.isRegularFile(aFile), "the file in the way is left as it was");
    }

    @Test
    void missingInputFilesAreOneLine() {
        Path none = tmp.resolve("none.txt");
        refusedUpFront(run("optimize", "--model", "mlp", "--calibration", none.toString(), "--out", tmp.resolve("o2").toString()),
                "--calibration", "no such file");
        refusedUpFront(run("optimize", "--model", "mlp", "--calibration-stats", none.toString(), "--out", tmp.resolve("o2").toString()),
                "--calibration-stats");
        refusedUpFront(run("advise", "--model", "mlp", "--price", "cpu=1,gpu=2", "--results", none.toString()), "--results");
        refusedUpFront(run("demo", "--results", none.toString()), "--results");
        assertFalse(Files.exists(tmp.resolve("o2")), "the output directory is not created for a refused run");
    }

    @Test
    void missingOutputDirectoriesAreCreatedAsBefore() throws Exception {
        Path json = tmp.resolve("new").resolve("dirs").resolve("r.json");
        CliRun.Result r = run("bench", "--model", "mlp", "--iterations", "5", "--warmup", "1", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(json) > 0);
        try (var files = Files.walk(tmp)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".hotpath-write-check")), "the write check leaves nothing behind");
        }
    }

    // ---- 1. no raw stack traces ------------------------------------------------------------------

    @Test
    void optimizeOnAModelWithoutInputsIsOneLine() {
        Path model = new OnnxBuilder("no_inputs", 17).initializer("c", new float[] {1, 2}, 2).node("Identity", "c", "y")
                .output("y", OnnxBuilder.FLOAT, 2).write(tmp.resolve("no-inputs.onnx"));
        refusedUpFront(run("optimize", "--model", model.toString(), "--out", tmp.resolve("o3").toString()), "INVALID_MODEL", "no inputs");
    }

    @Test
    void benchTakesTheOldCalibrationSpellingWithADeprecationLine() {
        CliRun.Result r = run("bench", "--model", "mlp", "--engine", "tensorrt", "--calibration", "median");
        String all = r.out() + r.err();
        assertEquals(2, r.code(), all);
        assertEquals("", r.out(), "refused before any work");
        List<String> lines = r.err().strip().lines().toList();
        assertEquals(2, lines.size(), all);
        assertTrue(lines.get(0).contains("--calibration is deprecated") && lines.get(0).contains("--calibration-method"), all);
        assertTrue(lines.get(1).contains("--calibration-method") && lines.get(1).contains("median"), all);
        refusedUpFront(run("bench", "--model", "mlp", "--engine", "tensorrt", "--calibration", "minmax", "--calibration-method", "entropy"),
                "--calibration-method only");
    }

    @Test
    void picocliErrorsAreOneLine() {
        refusedUpFront(run("bench", "--model", "mlp", "--batch", "x"), "--batch", "'x'");
        refusedUpFront(run("bench", "--model", "mlp", "--batchh", "4"), "--batchh", "did you mean --batch");
        refusedUpFront(run("bench"), "--model", "hotpath bench --help");
        refusedUpFront(run("nope"), "nope");
    }

    /** Throws what it is given: a stand-in for a subcommand that fails in a way no option check can foresee. */
    @CommandLine.Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        final Throwable t;

        Boom(Throwable t) {
            this.t = t;
        }

        @Override
        public Integer call() throws Exception {
            if (t instanceof Exception e) {
                throw e;
            }
            throw (Error) t;
        }
    }

    static CliRun.Result boom(Throwable t, String... args) {
        // made inside the capture: picocli's writers wrap the System.err of the moment
        return capture(() -> HotpathCommand.execute(new CommandLine(new HotpathCommand()).addSubcommand("boom", new Boom(t)), args));
    }

    @Test
    void unexpectedFailuresAreOneLineWithExitCode1AndAHint() {
        assertOneLine(boom(new OutOfMemoryError("Java heap space"), "boom"), 1,
                "hotpath: OutOfMemoryError: Java heap space (run with --verbose for the stack trace)");
        assertOneLine(boom(new HotpathException(HotpathException.Category.ENGINE_FAILURE, "running the model:\nline two"), "boom"), 1,
                "hotpath: ENGINE_FAILURE: running the model: line two (run with --verbose");
        assertOneLine(boom(new IllegalStateException(), "boom"), 1, "hotpath: IllegalStateException (run with --verbose");
        assertOneLine(boom(new HotpathException(HotpathException.Category.INTERNAL, "x"), "boom"), 1, "hotpath: INTERNAL: x");
        for (HotpathException.Category c : List.of(HotpathException.Category.INVALID_ARGUMENT, HotpathException.Category.INVALID_MODEL,
                HotpathException.Category.NOT_FOUND, HotpathException.Category.UNSUPPORTED)) {
            CliRun.Result r = assertOneLine(boom(new HotpathException(c, "what"), "boom"), 2, "hotpath: " + c + ": what");
            assertFalse(r.err().contains("--verbose"), "a user error needs no stack trace: " + r.err());
        }
    }

    @Test
    void verbosePrintsTheStackTraceBeforeOrAfterTheSubcommand() {
        for (String[] args : new String[][] {{"--verbose", "boom"}, {"boom", "--verbose"}}) {
            CliRun.Result r = boom(new OutOfMemoryError("Java heap space"), args);
            assertEquals(1, r.code());
            assertTrue(r.err().startsWith("hotpath: OutOfMemoryError: Java heap space\n"), r.err());
            assertTrue(r.err().contains("\tat io.hotpath.cli.CliErrorsTest."), r.err());
        }
        CliRun.Result usage = run("bench", "--model", "mlp", "--batch", "0", "--verbose");
        assertEquals(2, usage.code());
        assertTrue(usage.err().startsWith("hotpath: --batch 0") && usage.err().contains("\tat "), usage.err());
        CliRun.Result plain = run("--verbose", "bench", "--model", "mlp", "--iterations", "3", "--warmup", "0");
        assertEquals(0, plain.code(), plain.err());
    }

    // ---- 4. a load-generator client that dies stops the run instead of hanging it --------------

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)   // a hang guard only; the run ends at once
    void aFailingClientThreadStopsTheClosedLoopRun() throws Exception {
        OrtCpuEngine engine = OrtCpuEngine.open(ModelCatalog.resolve("minilm"), CpuEngineOptions.builder().maxBatchSize(2)
                .defaultMaxDimension(8).spinWait(false).build());
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxBatchSize(2).maxRequests(8)).build()) {
            int before = Thread.activeCount();
            // vocabulary 0: every client fails drawing its first token id, before the first rendezvous
            HotpathException e = assertThrows(HotpathException.class, () -> ServiceBench.run(svc, 3, 2, 10, 8, 0, 1, 0));
            assertEquals(HotpathException.Category.INTERNAL, e.category());
            assertTrue(e.getMessage().contains("benchmark client bench-client-") && e.getMessage().contains("the run was stopped"), e.getMessage());
            assertTrue(e.getCause() instanceof IllegalArgumentException, String.valueOf(e.getCause()));
            assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("bench-client-")),
                    "every client thread has ended (threads before: " + before + ")");
            // the service still works afterwards
            ServiceBench.Result ok = ServiceBench.run(svc, 2, 1, 3, 8, 100, 1, 0);
            assertEquals(6, ok.ok());
        }
    }

    @Test
    void aStepWhoseEveryRequestFailsEndsWithOneLineAndExitCode1() {
        // MiniLM has 512 positions: at length 600 every run fails in ONNX Runtime, and each request is answered FAILED
        CliRun.Result r = run("bench", "--model", "minilm", "--concurrency", "1", "--max-batch", "1", "--seq", "600", "--iterations", "2", "--warmup", "0");
        assertEquals(1, r.code(), r.err());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("hotpath: ENGINE_FAILURE: step concurrency=1: all 2 measured requests were answered not OK"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }
}
