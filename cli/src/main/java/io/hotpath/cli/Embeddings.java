package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.WordPieceTokenizer;
import java.util.List;

/** MiniLM sentence embeddings: tokenize, run, mean-pool over the attention mask, L2-normalise. */
final class Embeddings {
    private Embeddings() {
    }

    /** Fills the three BERT inputs with {@code sentences}, padded to {@code seq} (0 = the longest sentence). */
    static int fill(Batch b, WordPieceTokenizer tok, List<String> sentences, int seq) {
        int[][] ids = new int[sentences.size()][];
        int longest = 0;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tok.encode(sentences.get(i), seq > 0 ? seq : 128);
            longest = Math.max(longest, ids[i].length);
        }
        int len = seq > 0 ? seq : longest;
        Tensor in = b.input("input_ids").reshape(ids.length, len);
        Tensor mask = b.input("attention_mask").reshape(ids.length, len);
        Tensor types = b.input("token_type_ids").reshape(ids.length, len);
        for (int r = 0; r < ids.length; r++) {
            for (int c = 0; c < len; c++) {
                long k = (long) r * len + c;
                boolean real = c < ids[r].length;
                in.putLong(k, real ? ids[r][c] : tok.padId());
                mask.putLong(k, real ? 1 : 0);
                types.putLong(k, 0);
            }
        }
        return len;
    }

    static float[][] embed(Engine engine, Batch b, WordPieceTokenizer tok, List<String> sentences) {
        int len = fill(b, tok, sentences, 0);
        engine.run(b);
        Tensor hidden = b.output("last_hidden_state");
        Tensor mask = b.input("attention_mask");
        int width = (int) hidden.dim(2);
        float[][] out = new float[sentences.size()][width];
        for (int r = 0; r < out.length; r++) {
            int count = 0;
            for (int c = 0; c < len; c++) {
                if (mask.getLong((long) r * len + c) == 0) {
                    continue;
                }
                count++;
                long base = ((long) r * len + c) * width;
                for (int h = 0; h < width; h++) {
                    out[r][h] += hidden.getFloat(base + h);
                }
            }
            double norm = 0;
            for (int h = 0; h < width; h++) {
                out[r][h] /= count;
                norm += out[r][h] * out[r][h];
            }
            float inv = (float) (1 / Math.sqrt(norm));
            for (int h = 0; h < width; h++) {
                out[r][h] *= inv;
            }
        }
        return out;
    }

    static double cosine(float[] a, float[] b) {
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
}
