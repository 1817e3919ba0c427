package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.WordPieceTokenizer;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttentionFusionTest {
    @TempDir
    Path tmp;

    @Test
    void minilmsSixAttentionBlocksFuseAndKeepTheirAnswers() {
        AttentionFusion.Result r = AttentionFusion.fuse(OnnxModel.load(ModelCatalog.resolve("minilm")));
        assertEquals(6, r.fused().size(), "one Attention per encoder layer");
        assertEquals(0, r.skipped(), "every Softmax was part of a fused block");
        long attention = r.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Attention")).count();
        long softmax = r.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Softmax")).count();
        long transposes = r.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Transpose")).count();
        assertEquals(6, attention);
        assertEquals(0, softmax);
        assertEquals(0, transposes, "the head split/merge transposes are gone");
        SkipLayerNormFusion.Result ln = SkipLayerNormFusion.fuse(OnnxModel.of(r.model()));
        assertEquals(12, ln.fused().size(), "two residual layer normalizations per layer");
        assertEquals(1, ln.skipped(), "the embeddings' normalization has no residual MatMul: left alone");
        Path fused = tmp.resolve("minilm-fused.onnx");
        OnnxModel.of(ln.model()).save(fused);

        // a padded batch: rows of different lengths, so the mask matters
        List<String> sentences = List.of("The quick brown fox jumps over the lazy dog.", "Latency matters.",
                "Dynamic batching trades a little queueing delay for much higher throughput on the same hardware.", "Hello");
        double max = maxAbsDifference(lastHiddenState(ModelCatalog.resolve("minilm"), sentences), lastHiddenState(fused, sentences));
        System.out.printf("minilm attention fusion: %d blocks, skip layer norm: %d, max abs difference of last_hidden_state over a padded batch of %d: %.3g%n",
                r.fused().size(), ln.fused().size(), sentences.size(), max);
        assertTrue(max <= 1e-4, "fused vs original: " + max);
    }

    @Test
    void theTanhGeluApproximationReplacesEveryErfGelu() {
        OnnxModel fused = Optimizer.fuseTransformer(OnnxModel.load(ModelCatalog.resolve("minilm"))).model();
        GeluFusion.Result r = GeluFusion.approximate(fused);
        assertEquals(6, r.fused().size());
        assertEquals(0, r.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Erf")).count());
        Path approx = tmp.resolve("minilm-fastgelu.onnx");
        OnnxModel.of(r.model()).save(approx);
        List<String> sentences = List.of("Approximations are fine when they are measured.", "Short one.");
        double max = maxAbsDifference(lastHiddenState(ModelCatalog.resolve("minilm"), sentences), lastHiddenState(approx, sentences));
        System.out.printf("minilm with tanh GELU (float32): max abs difference of last_hidden_state %.3g%n", max);
        assertTrue(max > 0, "an approximation, not the same function");
        assertTrue(max <= 0.02, "tanh GELU vs erf GELU through six layers: " + max);
    }

    @Test
    void aModelWithoutAttentionIsReturnedUnchanged() {
        OnnxModel mlp = OnnxModel.load(ModelCatalog.resolve("mlp"));
        AttentionFusion.Result r = AttentionFusion.fuse(mlp);
        assertEquals(0, r.fused().size());
        assertEquals(mlp.graph().getNodeCount(), r.model().getGraph().getNodeCount());
        assertEquals(0, SkipLayerNormFusion.fuse(mlp).fused().size());
        assertEquals(0, GeluFusion.approximate(mlp).fused().size());
        for (NodeProto n : r.model().getGraph().getNodeList()) {
            assertTrue(n.getDomain().isEmpty(), "no contrib operator added: " + n.getOpType());
        }
    }

    static double maxAbsDifference(float[][] a, float[][] b) {
        double max = 0;
        for (int s = 0; s < a.length; s++) {
            for (int i = 0; i < a[s].length; i++) {
                max = Math.max(max, Math.abs(a[s][i] - b[s][i]));
            }
        }
        return max;
    }

    /** last_hidden_state of every row of one padded batch, valid tokens only. */
    static float[][] lastHiddenState(Path model, List<String> sentences) {
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        int[][] ids = new int[sentences.size()][];
        int seq = 0;
        for (int s = 0; s < ids.length; s++) {
            ids[s] = tok.encode(sentences.get(s), 128);
            seq = Math.max(seq, ids[s].length);
        }
        float[][] out = new float[ids.length][];
        try (OrtCpuEngine e = OrtCpuEngine.open(model, CpuEngineOptions.builder().maxBatchSize(ids.length).defaultMaxDimension(seq).build())) {
            Batch b = e.newBatch();
            Tensor in = b.input("input_ids").reshape(ids.length, seq);
            Tensor mask = b.input("attention_mask").reshape(ids.length, seq);
            Tensor types = b.input("token_type_ids").reshape(ids.length, seq);
            for (int s = 0; s < ids.length; s++) {
                for (int t = 0; t < seq; t++) {
                    in.putLong((long) s * seq + t, t < ids[s].length ? ids[s][t] : 0);
                    mask.putLong((long) s * seq + t, t < ids[s].length ? 1 : 0);
                    types.putLong((long) s * seq + t, 0);
                }
            }
            e.run(b);
            for (int s = 0; s < ids.length; s++) {
                out[s] = new float[ids[s].length * 384];
                for (int i = 0; i < out[s].length; i++) {
                    out[s][i] = b.output(0).getFloat((long) s * seq * 384 + i);
                }
            }
        }
        return out;
    }
}
