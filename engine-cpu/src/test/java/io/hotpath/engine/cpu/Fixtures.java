package io.hotpath.engine.cpu;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.WordPieceTokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** Real models and real inputs shared by the engine tests. */
final class Fixtures {
    static final List<String> SENTENCES = List.of(
            "The central bank raised interest rates by a quarter point.",
            "A cat is sleeping on the warm windowsill.",
            "Order books thin out just before the market closes.",
            "The committee lifted its policy rate by twenty-five basis points.",
            "Latency spikes often come from garbage collection pauses.",
            "She plays the violin in a small orchestra.",
            "Shares fell sharply after the earnings report.",
            "Fresh bread smells wonderful in the morning.");

    private static WordPieceTokenizer tokenizer;

    private Fixtures() {
    }

    /**
     * Bytes the calling thread allocates on the Java heap per call of {@code call}, over
     * {@code calls} calls after {@code warmup} unmeasured ones (JIT compiled, buffers made).
     */
    static long heapBytesPerCall(int warmup, int calls, Runnable call) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < warmup; i++) {
            call.run();
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            call.run();
        }
        return (mx.getCurrentThreadAllocatedBytes() - before) / calls;
    }

    static Path mlp() {
        return ModelCatalog.resolve("mlp");
    }

    static Path cnn() {
        return ModelCatalog.resolve("cnn");
    }

    static Path minilm() {
        return ModelCatalog.resolve("minilm");
    }

    static synchronized WordPieceTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ModelCatalog.minilmTokenizer();
        }
        return tokenizer;
    }

    /** Token ids of {@code sentence} padded with [PAD] to {@code seq}, and its attention mask. */
    static long[][] encode(String sentence, int seq) {
        int[] ids = tokenizer().encode(sentence, seq);
        long[] padded = new long[seq];
        long[] mask = new long[seq];
        for (int i = 0; i < ids.length; i++) {
            padded[i] = ids[i];
            mask[i] = 1;
        }
        return new long[][] {padded, mask};
    }

    /** Fills MiniLM's three inputs with {@code sentences} (one per row), padded to {@code seq}. */
    static void fillMinilm(Batch batch, List<String> sentences, int seq) {
        Tensor ids = batch.input("input_ids").reshape(sentences.size(), seq);
        Tensor mask = batch.input("attention_mask").reshape(sentences.size(), seq);
        Tensor types = batch.input("token_type_ids").reshape(sentences.size(), seq);
        for (int r = 0; r < sentences.size(); r++) {
            long[][] enc = encode(sentences.get(r), seq);
            for (int c = 0; c < seq; c++) {
                ids.putLong((long) r * seq + c, enc[0][c]);
                mask.putLong((long) r * seq + c, enc[1][c]);
                types.putLong((long) r * seq + c, 0);
            }
        }
    }

    /** The mlp's scores for {@code rows} rows of features, straight from the engine. */
    static float[] runMlp(CpuEngineOptions o, float[] x, int rows) {
        try (OrtCpuEngine e = OrtCpuEngine.open(mlp(), o)) {
            io.hotpath.core.Batch b = e.newBatch();
            Tensor in = b.input(0).reshape(rows, 64);
            for (int i = 0; i < x.length; i++) {
                in.putFloat(i, x[i]);
            }
            e.run(b);
            float[] out = new float[rows];
            for (int r = 0; r < rows; r++) {
                out[r] = b.output(0).getFloat(r);
            }
            return out;
        }
    }

    /** Random features in [-1, 1) for {@code rows} rows of {@code width}. */
    static float[] features(int rows, int width, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[rows * width];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextDouble(-1, 1);
        }
        return f;
    }
}
