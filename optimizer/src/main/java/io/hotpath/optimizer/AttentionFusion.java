package io.hotpath.optimizer;

import com.google.protobuf.ByteString;
import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fuses BERT-style self-attention blocks into ONNX Runtime's {@code com.microsoft.Attention}
 * operator: one packed QKV projection, the scaled scores, the padding mask, the softmax and the
 * weighted sum in one kernel, with no Reshape/Transpose round trips between them.
 *
 * <p>The pattern (what a PyTorch export of a Hugging Face BERT encoder layer looks like, MiniLM
 * included), matched from each Softmax:
 * <pre>
 *   Q = Add(b_q, MatMul(X, W_q)) -> Reshape [B,S,H,d] -> Transpose(0,2,1,3)
 *   K = Add(b_k, MatMul(X, W_k)) -> Reshape [B,S,H,d] -> Transpose(0,2,3,1)
 *   V = Add(b_v, MatMul(X, W_v)) -> Reshape [B,S,H,d] -> Transpose(0,2,1,3)
 *   P = Softmax(Add(Div(MatMul(Q, K), c) or Mul(MatMul(Q, K), 1/c), M))
 *   out = Reshape(Transpose(MatMul(P, V), 0,2,1,3)) [B,S,H*d]
 *   M = Mul(Sub(1, Cast(Unsqueeze(Unsqueeze(mask)))), f)     (mask: a [B,S] graph input of 0/1)
 * </pre>
 * becomes {@code Attention(X, [W_q|W_k|W_v], [b_q|b_k|b_v], Cast(mask, int32))} with
 * {@code num_heads = H}, {@code scale = 1/c} and {@code mask_filter_value = f}. A block that
 * differs anywhere is left as it is (and counted in {@link Result#skipped()}); nodes left without
 * consumers (the shape arithmetic of the reshapes, the float mask) are removed. The result is
 * loaded in ONNX Runtime before it is returned.
 */
public final class AttentionFusion {
    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final String MS_DOMAIN = "com.microsoft";

    /** The fused model, the names of the Attention nodes made, and how many Softmax blocks did not match. */
    public record Result(ModelProto model, List<String> fused, int skipped) {
    }

    private final GraphIndex g;

    private AttentionFusion(OnnxModel model) {
        this.g = new GraphIndex(model);
    }

    /** One matched block. */
    private record Block(String x, TensorProto wq, TensorProto wk, TensorProto wv, TensorProto bq, TensorProto bk, TensorProto bv,
                         int heads, float scale, String mask, float filter, String output, Set<NodeProto> nodes) {
    }

    public static Result fuse(OnnxModel model) {
        if (model.opset() < 13) {
            model = OpsetUpgrade.to13(model);
        }
        AttentionFusion f = new AttentionFusion(model);
        List<Block> blocks = new ArrayList<>();
        int skipped = 0;
        for (NodeProto n : model.graph().getNodeList()) {
            if (n.getOpType().equals("Softmax") && n.getDomain().isEmpty()) {
                Block b = f.match(n);
                if (b == null) {
                    skipped++;
                } else {
                    blocks.add(b);
                }
            }
        }
        if (blocks.isEmpty()) {
            return new Result(model.proto(), List.of(), skipped);
        }
        Set<NodeProto> removed = new HashSet<>();
        List<NodeProto> added = new ArrayList<>();
        List<TensorProto> newInits = new ArrayList<>();
        Map<String, String> maskCasts = new LinkedHashMap<>();
        List<String> fused = new ArrayList<>();
        int i = 0;
        for (Block b : blocks) {
            removed.addAll(b.nodes());
            String name = "Attention_" + i++;
            String mask32 = maskCasts.computeIfAbsent(b.mask(), m -> m + "_int32");
            newInits.add(concatColumns(name + "_qkv_weight", b.wq(), b.wk(), b.wv()));
            newInits.add(concat(name + "_qkv_bias", b.bq(), b.bk(), b.bv()));
            added.add(NodeProto.newBuilder().setOpType("Attention").setDomain(MS_DOMAIN).setName(name)
                    .addInput(b.x()).addInput(name + "_qkv_weight").addInput(name + "_qkv_bias").addInput(mask32)
                    .addOutput(b.output())
                    .addAttribute(AttributeProto.newBuilder().setName("num_heads").setType(AttributeProto.AttributeType.INT).setI(b.heads()))
                    .addAttribute(AttributeProto.newBuilder().setName("scale").setType(AttributeProto.AttributeType.FLOAT).setF(b.scale()))
                    .addAttribute(AttributeProto.newBuilder().setName("mask_filter_value").setType(AttributeProto.AttributeType.FLOAT)
                            .setF(b.filter()))
                    .build());
            fused.add(name);
        }
        maskCasts.forEach((mask, cast) -> added.add(0, NodeProto.newBuilder().setOpType("Cast").setName(cast + "_Cast").addInput(mask)
                .addOutput(cast).addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                        .setI(TensorProto.DataType.INT32_VALUE)).build()));
        ModelProto out = f.g.rewrite(removed, added, newInits, "attention fusion");
        if (out == null) {
            // a tensor inside a fused block is read from outside it: keep the model as it was
            return new Result(model.proto(), List.of(), skipped + blocks.size());
        }
        return new Result(out, fused, skipped);
    }

    // ------------------------------------------------------------------ matching

    private Block match(NodeProto softmax) {
        Set<NodeProto> nodes = new HashSet<>();
        nodes.add(softmax);
        if (!lastAxis(softmax, 4)) {
            return null;
        }
        NodeProto addMask = g.single(softmax.getInput(0), "Add", nodes);
        if (addMask == null) {
            return null;
        }
        // scores and mask, either order
        NodeProto scaled = null;
        String maskTensor = null;
        for (int k = 0; k < 2 && scaled == null; k++) {
            NodeProto p = g.producer.get(addMask.getInput(k));
            if (p != null && (p.getOpType().equals("Div") || p.getOpType().equals("Mul")) && g.consumersOf(p.getOutput(0)) == 1) {
                scaled = p;
                maskTensor = addMask.getInput(1 - k);
            }
        }
        if (scaled == null) {
            return null;
        }
        nodes.add(scaled);
        Float c = g.scalar(scaled.getInput(1));
        if (c == null || c == 0) {
            return null;
        }
        float scale = scaled.getOpType().equals("Div") ? 1f / c : c;
        NodeProto qk = g.single(scaled.getInput(0), "MatMul", nodes);
        if (qk == null) {
            return null;
        }
        Proj q = projection(qk.getInput(0), new long[] {0, 2, 1, 3}, nodes);
        Proj k = projection(qk.getInput(1), new long[] {0, 2, 3, 1}, nodes);
        List<NodeProto> after = g.consumers.getOrDefault(softmax.getOutput(0), List.of());
        if (q == null || k == null || after.size() != 1 || !after.get(0).getOpType().equals("MatMul")
                || !after.get(0).getInput(0).equals(softmax.getOutput(0))) {
            return null;
        }
        NodeProto pv = after.get(0);
        nodes.add(pv);
        Proj v = projection(pv.getInput(1), new long[] {0, 2, 1, 3}, nodes);
        if (v == null || !q.x().equals(k.x()) || !q.x().equals(v.x()) || q.heads() != k.heads() || q.heads() != v.heads()) {
            return null;
        }
        NodeProto back = g.onlyConsumer(pv.getOutput(0), "Transpose");
        if (g.consumersOf(pv.getOutput(0)) != 1) {
            return null;
        }
        if (back == null || !perm(back, new long[] {0, 2, 1, 3})) {
            return null;
        }
        nodes.add(back);
        NodeProto merge = g.onlyConsumer(back.getOutput(0), "Reshape");
        if (merge == null) {
            return null;
        }
        nodes.add(merge);
        Mask m = mask(maskTensor);
        if (m == null) {
            return null;
        }
        long hidden = q.w().getDims(1);
        if (q.w().getDims(0) != hidden || k.w().getDims(1) != hidden || v.w().getDims(1) != hidden || hidden % q.heads() != 0) {
            return null;
        }
        return new Block(q.x(), q.w(), k.w(), v.w(), q.b(), k.b(), v.b(), (int) q.heads(), scale, m.input(), m.filter(),
                merge.getOutput(0), nodes);
    }

    private record Proj(String x, TensorProto w, TensorProto b, long heads) {
    }

    /** Transpose(perm) <- Reshape(.., [B,S,H,d]) <- Add(bias, MatMul(X, W)): the projection, or null. */
    private Proj projection(String tensor, long[] perm, Set<NodeProto> nodes) {
        NodeProto t = g.single(tensor, "Transpose", nodes);
        if (t == null || !perm(t, perm)) {
            return null;
        }
        NodeProto r = g.single(t.getInput(0), "Reshape", nodes);
        if (r == null) {
            return null;
        }
        long heads = headsOf(r.getInput(1));
        NodeProto add = g.single(r.getInput(0), "Add", nodes);
        if (heads <= 0 || add == null) {
            return null;
        }
        for (int k = 0; k < 2; k++) {
            TensorProto b = g.inits.get(add.getInput(k));
            NodeProto mm = g.producer.get(add.getInput(1 - k));
            if (b != null && b.getDataType() == FLOAT && b.getDimsCount() == 1 && mm != null && mm.getOpType().equals("MatMul")
                    && mm.getDomain().isEmpty() && g.consumersOf(mm.getOutput(0)) == 1) {
                TensorProto w = g.inits.get(mm.getInput(1));
                if (w != null && w.getDataType() == FLOAT && w.getDimsCount() == 2 && w.getDims(1) == b.getDims(0)
                        && !g.inits.containsKey(mm.getInput(0))) {
                    nodes.add(mm);
                    return new Proj(mm.getInput(0), w, b, heads);
                }
            }
        }
        return null;
    }

    /** The head count in a Reshape's 4-element target shape: an initializer/Constant, or a Concat whose third part is constant. */
    private long headsOf(String shape) {
        long[] whole = g.longs(shape);
        if (whole != null) {
            return whole.length == 4 ? whole[2] : -1;
        }
        NodeProto c = g.producer.get(shape);
        if (c == null || !c.getOpType().equals("Concat") || c.getInputCount() != 4) {
            return -1;
        }
        long[] h = g.longs(c.getInput(2));
        return h != null && h.length == 1 ? h[0] : -1;
    }

    private record Mask(String input, float filter) {
    }

    /** M = Mul(Sub(1, Cast(Unsqueeze(Unsqueeze(mask)))), f) (Mul operands either order) from a [B,S] graph input. */
    private Mask mask(String tensor) {
        NodeProto mul = g.producer.get(tensor);
        if (mul == null || !mul.getOpType().equals("Mul")) {
            return null;
        }
        for (int k = 0; k < 2; k++) {
            Float f = g.scalar(mul.getInput(k));
            NodeProto sub = g.producer.get(mul.getInput(1 - k));
            if (f == null || sub == null || !sub.getOpType().equals("Sub")) {
                continue;
            }
            Float one = g.scalar(sub.getInput(0));
            if (one == null || one != 1f) {
                return null;
            }
            String t = sub.getInput(1);
            for (int depth = 0; depth < 4; depth++) {
                if (g.graphInputs.contains(t)) {
                    return new Mask(t, f);
                }
                NodeProto p = g.producer.get(t);
                if (p == null || !(p.getOpType().equals("Cast") || p.getOpType().equals("Unsqueeze"))) {
                    return null;
                }
                t = p.getInput(0);
            }
            return g.graphInputs.contains(t) ? new Mask(t, f) : null;
        }
        return null;
    }

    private static boolean perm(NodeProto t, long[] expected) {
        for (AttributeProto a : t.getAttributeList()) {
            if (a.getName().equals("perm")) {
                return java.util.Arrays.equals(a.getIntsList().stream().mapToLong(Long::longValue).toArray(), expected);
            }
        }
        return false;
    }

    private static boolean lastAxis(NodeProto softmax, int rank) {
        for (AttributeProto a : softmax.getAttributeList()) {
            if (a.getName().equals("axis")) {
                return a.getI() == -1 || a.getI() == rank - 1;
            }
        }
        return true;        // opset 13 default: the last axis
    }

    // ------------------------------------------------------------------ rewriting

    /** [K,N1] | [K,N2] | [K,N3] -> [K, N1+N2+N3] (row-major). */
    private static TensorProto concatColumns(String name, TensorProto... parts) {
        int rows = (int) parts[0].getDims(0);
        int cols = 0;
        float[][] v = new float[parts.length][];
        for (int p = 0; p < parts.length; p++) {
            v[p] = Fp16Converter.floats(parts[p]);
            cols += (int) parts[p].getDims(1);
        }
        ByteBuffer out = ByteBuffer.allocate(rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < parts.length; p++) {
                int n = (int) parts[p].getDims(1);
                for (int c = 0; c < n; c++) {
                    out.putFloat(v[p][r * n + c]);
                }
            }
        }
        return TensorProto.newBuilder().setName(name).setDataType(FLOAT).addDims(rows).addDims(cols)
                .setRawData(ByteString.copyFrom(out.array())).build();
    }

    private static TensorProto concat(String name, TensorProto... parts) {
        int n = 0;
        for (TensorProto p : parts) {
            n += (int) p.getDims(0);
        }
        ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (TensorProto p : parts) {
            for (float f : Fp16Converter.floats(p)) {
                out.putFloat(f);
            }
        }
        return TensorProto.newBuilder().setName(name).setDataType(FLOAT).addDims(n).setRawData(ByteString.copyFrom(out.array())).build();
    }
}
