package io.hotpath.optimizer;

import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.util.List;
import java.util.Set;

/**
 * Fuses a transformer's "dense output + bias, plus the residual, then layer normalization" into
 * ONNX Runtime's {@code com.microsoft.SkipLayerNormalization}: one pass over the activations
 * instead of two additions and a normalization.
 *
 * <p>The pattern, as a PyTorch export writes it (layer normalization decomposed):
 * <pre>
 *   x   = Add(Add(b, MatMul(h, W)), residual)                  (operands in either order)
 *   d   = Sub(x, ReduceMean(x, axes=[-1]))
 *   out = Add(Mul(Div(d, Sqrt(Add(ReduceMean(Pow(d, 2), axes=[-1]), eps))), gamma), beta)
 * </pre>
 * becomes {@code SkipLayerNormalization(MatMul(h, W), residual, gamma, beta, b)} with
 * {@code epsilon = eps}. The MatMul stays a MatMul (so the INT8 quantizer still sees it). A
 * normalization whose input is not such a residual sum (the embeddings') is left alone.
 */
public final class SkipLayerNormFusion {
    /** The fused model, the names of the nodes made, and how many layer normalizations were left as they were. */
    public record Result(ModelProto model, List<String> fused, int skipped) {
    }

    private final GraphIndex g;

    private SkipLayerNormFusion(OnnxModel model) {
        this.g = new GraphIndex(model);
    }

    public static Result fuse(OnnxModel model) {
        SkipLayerNormFusion f = new SkipLayerNormFusion(model);
        GraphIndex.Fusion r = f.g.fuseEach("ReduceMean", f::match, "SkipLayerNorm", "skip layer normalization fusion");
        // a normalization begins with a ReduceMean over a sum (its variance's ReduceMean reads a Pow)
        long normalizations = model.graph().getNodeList().stream().filter(n -> n.getOpType().equals("ReduceMean")
                && f.g.producer.get(n.getInput(0)) != null && f.g.producer.get(n.getInput(0)).getOpType().equals("Add")).count();
        return new Result(r.model(), r.made(), (int) normalizations - r.made().size());
    }

    private NodeProto match(NodeProto mean, Set<NodeProto> nodes, String name) {
        String x = mean.getInput(0);
        NodeProto sum = g.producer.get(x);
        if (sum == null || !sum.getOpType().equals("Add") || !lastAxis(mean)) {
            return null;
        }
        nodes.add(mean);
        // x feeds exactly the mean and the centring Sub
        List<NodeProto> xs = g.consumers.getOrDefault(x, List.of());
        if (xs.size() != 2) {
            return null;
        }
        NodeProto sub = xs.get(0) == mean ? xs.get(1) : xs.get(0);
        if (!sub.getOpType().equals("Sub") || !sub.getInput(0).equals(x) || !sub.getInput(1).equals(mean.getOutput(0))
                || g.consumersOf(mean.getOutput(0)) != 1) {
            return null;
        }
        nodes.add(sub);
        String d = sub.getOutput(0);
        List<NodeProto> ds = g.consumers.getOrDefault(d, List.of());
        if (ds.size() != 2) {
            return null;
        }
        NodeProto pow = null;
        NodeProto div = null;
        for (NodeProto c : ds) {
            if (c.getOpType().equals("Pow") && c.getInput(0).equals(d)) {
                pow = c;
            } else if (c.getOpType().equals("Div") && c.getInput(0).equals(d)) {
                div = c;
            }
        }
        Float two = pow == null ? null : g.scalar(pow.getInput(1));
        if (pow == null || div == null || two == null || two != 2f) {
            return null;
        }
        nodes.add(pow);
        nodes.add(div);
        NodeProto variance = g.onlyConsumer(pow.getOutput(0), "ReduceMean");
        if (variance == null || !lastAxis(variance)) {
            return null;
        }
        nodes.add(variance);
        NodeProto addEps = g.onlyConsumer(variance.getOutput(0), "Add");
        Float eps = addEps == null ? null : g.scalar(GraphIndex.other(addEps, variance.getOutput(0)));
        if (eps == null) {
            return null;
        }
        nodes.add(addEps);
        NodeProto sqrt = g.onlyConsumer(addEps.getOutput(0), "Sqrt");
        if (sqrt == null || !div.getInput(1).equals(sqrt.getOutput(0))) {
            return null;
        }
        nodes.add(sqrt);
        NodeProto mul = g.onlyConsumer(div.getOutput(0), "Mul");
        TensorProto gamma = mul == null ? null : g.vector(GraphIndex.other(mul, div.getOutput(0)));
        if (gamma == null) {
            return null;
        }
        nodes.add(mul);
        NodeProto addBeta = g.onlyConsumer(mul.getOutput(0), "Add");
        TensorProto beta = addBeta == null ? null : g.vector(GraphIndex.other(addBeta, mul.getOutput(0)));
        if (beta == null) {
            return null;
        }
        nodes.add(addBeta);
        // x = Add(Add(bias, MatMul(..)), residual)
        NodeProto residualAdd = g.producer.get(x);
        if (residualAdd == null || !residualAdd.getOpType().equals("Add") || !residualAdd.getDomain().isEmpty()) {
            return null;
        }
        for (int k = 0; k < 2; k++) {
            NodeProto dense = g.producer.get(residualAdd.getInput(k));
            String residual = residualAdd.getInput(1 - k);
            if (dense == null || !dense.getOpType().equals("Add") || !dense.getDomain().isEmpty()
                    || g.consumersOf(dense.getOutput(0)) != 1 || g.inits.containsKey(residual)) {
                continue;
            }
            for (int j = 0; j < 2; j++) {
                TensorProto bias = g.vector(dense.getInput(j));
                NodeProto mm = g.producer.get(dense.getInput(1 - j));
                if (bias != null && mm != null && mm.getOpType().equals("MatMul") && g.consumersOf(mm.getOutput(0)) == 1
                        && bias.getDims(0) == gamma.getDims(0)) {
                    nodes.add(residualAdd);
                    nodes.add(dense);
                    return NodeProto.newBuilder().setOpType("SkipLayerNormalization").setDomain(GraphIndex.MS_DOMAIN).setName(name)
                            .addInput(mm.getOutput(0)).addInput(residual).addInput(gamma.getName()).addInput(beta.getName())
                            .addInput(bias.getName()).addOutput(addBeta.getOutput(0))
                            .addAttribute(AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT).setF(eps))
                            .build();
                }
            }
        }
        return null;
    }

    private static boolean lastAxis(NodeProto reduceMean) {
        long[] axes = GraphIndex.ints(reduceMean, "axes");
        return axes != null && axes.length == 1 && (axes[0] == -1 || axes[0] == 2);
    }
}
