package io.hotpath.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.models.ModelCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each example runs as an application would run it, and its result is checked. */
class ExamplesTest {
    /** The README's embedding example is this module's ScoreService.java (without its package line), so the README's code compiles and runs. */
    @Test
    void theReadmesCodeIsScoreServiceJava() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("```java\n") + "```java\n".length();
        String block = readme.substring(start, readme.indexOf("```", start));
        String file = Files.readString(Path.of("src/main/java/io/hotpath/examples/ScoreService.java"))
                .replaceFirst("package io.hotpath.examples;\n\n", "");
        assertEquals(file, block, "README.md's java block and examples/.../ScoreService.java differ: keep them the same");
    }

    /** The entry point's example: it reports its choice and scores within the budget of what ONNX Runtime's Java API computes in float32. */
    @Test
    void scoreServiceReportsItsChoiceAndScoresWithinTheBudget() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            ScoreService.main(new String[] {mlp.toString()});
        } finally {
            System.setOut(saved);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        assertTrue(printed.contains("engine ") && printed.contains("precision ") && printed.contains("accuracy "), printed);
        String last = printed.strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.startsWith("score "), printed);
        float ours = Float.parseFloat(last.substring("score ".length()));
        float[] row = FeatureRows.sample(256, 42).get(0);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(mlp.toString(), new OrtSession.SessionOptions());
                OnnxTensor x = OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(row), new long[] {1, 64});
                OrtSession.Result r = s.run(Map.of("features", x))) {
            float theirs = ((float[][]) r.get("score").orElseThrow().getValue())[0][0];
            assertEquals(theirs, ours, 0.05f, "within the example's budget, max_abs_err<=0.05");
        }
    }

    @Test
    void embedPrintsWhatOnnxRuntimesJavaApiComputes() throws Exception {
        Path minilm = ModelCatalog.resolve("minilm");
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Embed.main(new String[] {minilm.toString()});
        } finally {
            System.setOut(saved);
        }
        float ours = Float.parseFloat(out.toString(StandardCharsets.UTF_8).strip());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = {1, 4};
        try (OrtSession s = env.createSession(minilm.toString(), new OrtSession.SessionOptions());
                OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {101, 7592, 2088, 102}), shape);
                OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {1, 1, 1, 1}), shape);
                OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[4]), shape);
                OrtSession.Result r = s.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            float theirs = ((float[][][]) r.get("last_hidden_state").orElseThrow().getValue())[0][0][0];
            assertEquals(theirs, ours, 1e-5f);
        }
    }

    @Test
    void sentencesThatMeanTheSameAreCloserThanUnrelatedOnes() {
        double[][] sim = SentenceSimilarity.similarities(
                "The central bank raised interest rates by a quarter point.",
                "The committee lifted its policy rate by twenty-five basis points.",
                "A cat is sleeping on the warm windowsill.");
        assertEquals(1.0, sim[0][0], 1e-6);
        assertTrue(sim[0][1] > sim[0][2] + 0.2, "related " + sim[0][1] + " vs unrelated " + sim[0][2]);
        assertEquals(sim[0][1], sim[1][0], 1e-9);
    }

    /** The trading-style loop over a million events allocates nothing on the calling thread. */
    @Test
    void aMillionScoredEventsAllocateNothingOnTheCallingThread() {
        ScoringLoop.Result r = ScoringLoop.run(1_000_000);
        System.out.printf("ScoringLoop: %d events, %.1f ns per event, %.4f heap bytes per event%n", r.events(), r.nanosPerEvent(), r.bytesPerEvent());
        assertEquals(1_000_000, r.events());
        assertTrue(Double.isFinite(r.checksum()), "scores are numbers: " + r.checksum());
        assertEquals(0.0, r.bytesPerEvent(), 0.01, "heap bytes allocated per event on the scoring thread");
    }

    /** The trading example: a million events from the market-data thread through a pinned, busy-spinning batcher, allocating nothing. */
    @Test
    void aMillionEventsThroughThePinnedBatcherAllocateNothingOnTheMarketDataThread() {
        TradingLoop.Result r = TradingLoop.run(ModelCatalog.resolve("mlp"), 1_000_000);
        System.out.printf("TradingLoop: %d events, %.0f ns per round trip, %.4f heap bytes per event, engine %s, batcher CPUs %s%n", r.events(),
                r.nanosPerEvent(), r.bytesPerEvent(), r.engine(), r.batcherAffinity());
        assertEquals(1_000_000, r.events());
        assertTrue(Double.isFinite(r.checksum()), "scores are numbers: " + r.checksum());
        assertEquals(0.0, r.bytesPerEvent(), 0.01, "heap bytes allocated per event on the market-data thread");
        assertEquals("jvm", r.engine(), "a model this small runs on the JVM engine");
        assertEquals(1, r.pinnedThreads(), "the batcher's one thread came from the application's factory and was pinned");
        java.util.BitSet only = new java.util.BitSet();
        only.set(Runtime.getRuntime().availableProcessors() - 1);
        assertEquals(only, r.batcherAffinity(), "the kernel reports the batcher's thread on its one core");
    }

    @Test
    void theEngineChoiceSaysWhatItPickedAndWhy() {
        String[] r = EngineChoice.chooseAndRun();
        assertTrue(r[0].equals("onnxruntime-cpu") || r[0].equals("tensorrt"), r[0]);
        assertFalse(r[1].isBlank(), "a reason");
        assertTrue(Float.isFinite(Float.parseFloat(r[2])), r[2]);
        if (!io.hotpath.nativebindings.cuda.Cuda.status().available()) {
            assertEquals("onnxruntime-cpu", r[0], "no CUDA here: the CPU, with the reason " + r[1]);
        }
    }
}
