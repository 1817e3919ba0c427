package io.hotpath.examples;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.WordPieceTokenizer;

/**
 * Sentence similarity with MiniLM INT8 (the built-in {@code minilm-q}, ONNX Runtime's dynamic
 * INT8 quantization of all-MiniLM-L6-v2): tokenize, run a batch of sentences at once, mean-pool
 * each row's token vectors over its mask, and compare the embeddings by cosine.
 */
public final class SentenceSimilarity {
    static final int SEQ = 32;

    private SentenceSimilarity() {
    }

    /** The cosine similarity of every pair of {@code sentences}, as a matrix. */
    public static double[][] similarities(String... sentences) {
        WordPieceTokenizer tokenizer = ModelCatalog.minilmTokenizer();
        try (OrtCpuEngine engine = OrtCpuEngine.open(ModelCatalog.resolve("minilm-q"), CpuEngineOptions.builder()
                .maxBatchSize(sentences.length).maxDimension("sequence_length", SEQ).build())) {
            Batch batch = engine.newBatch();
            int n = sentences.length;
            Tensor ids = batch.input("input_ids").reshape(n, SEQ);
            Tensor mask = batch.input("attention_mask").reshape(n, SEQ);
            Tensor types = batch.input("token_type_ids").reshape(n, SEQ);
            for (int r = 0; r < n; r++) {
                int[] tokens = tokenizer.encode(sentences[r], SEQ);
                for (int c = 0; c < SEQ; c++) {
                    ids.putLong(r * SEQ + c, c < tokens.length ? tokens[c] : 0);
                    mask.putLong(r * SEQ + c, c < tokens.length ? 1 : 0);
                    types.putLong(r * SEQ + c, 0);
                }
            }
            engine.run(batch);
            Tensor hidden = batch.output("last_hidden_state");       // [n, SEQ, 384]
            int dim = (int) hidden.dim(2);
            double[][] emb = new double[n][dim];
            for (int r = 0; r < n; r++) {
                int count = 0;
                for (int c = 0; c < SEQ; c++) {
                    if (mask.getLong(r * SEQ + c) == 1) {
                        count++;
                        for (int d = 0; d < dim; d++) {
                            emb[r][d] += hidden.getFloat(((long) r * SEQ + c) * dim + d);
                        }
                    }
                }
                for (int d = 0; d < dim; d++) {
                    emb[r][d] /= count;
                }
            }
            double[][] sim = new double[n][n];
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    sim[a][b] = cosine(emb[a], emb[b]);
                }
            }
            return sim;
        }
    }

    static double cosine(double[] a, double[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    public static void main(String[] args) {
        String[] s = args.length >= 2 ? args : new String[] {
            "The central bank raised interest rates by a quarter point.",
            "The committee lifted its policy rate by twenty-five basis points.",
            "A cat is sleeping on the warm windowsill."};
        double[][] sim = similarities(s);
        for (int b = 1; b < s.length; b++) {
            System.out.printf("%.3f  \"%s\" ~ \"%s\"%n", sim[0][b], s[0], s[b]);
        }
    }
}
