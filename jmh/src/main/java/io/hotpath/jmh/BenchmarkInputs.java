package io.hotpath.jmh;

import io.hotpath.models.ModelCatalog;
import io.hotpath.models.SampleSentences;
import io.hotpath.onnx.WordPieceTokenizer;
import java.util.SplittableRandom;

/** The same inputs for Hotpath and its peer, made in plain Java before any engine loads. */
final class BenchmarkInputs {
    static final int MINILM_SEQ = 128;
    final float[] features;     // mlp: [batch, 64]
    final long[] inputIds;      // minilm: [batch, 128]
    final long[] attentionMask;
    final long[] tokenTypeIds;

    private BenchmarkInputs(float[] features, long[] ids, long[] mask, long[] types) {
        this.features = features;
        this.inputIds = ids;
        this.attentionMask = mask;
        this.tokenTypeIds = types;
    }

    static BenchmarkInputs mlp(int batch) {
        SplittableRandom r = new SplittableRandom(42);
        float[] f = new float[batch * 64];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextDouble(-1, 1);
        }
        return new BenchmarkInputs(f, null, null, null);
    }

    /** Real sentences, tokenized with MiniLM's tokenizer and padded to 128. */
    static BenchmarkInputs minilm(int batch) {
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        long[] ids = new long[batch * MINILM_SEQ];
        long[] mask = new long[batch * MINILM_SEQ];
        for (int r = 0; r < batch; r++) {
            int[] t = tok.encode(SampleSentences.WORKLOAD.get(r % SampleSentences.WORKLOAD.size()), MINILM_SEQ);
            for (int c = 0; c < t.length; c++) {
                ids[r * MINILM_SEQ + c] = t[c];
                mask[r * MINILM_SEQ + c] = 1;
            }
        }
        return new BenchmarkInputs(null, ids, mask, new long[batch * MINILM_SEQ]);
    }
}
