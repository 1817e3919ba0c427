package io.hotpath.optimizer;

import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.util.List;
import java.util.Set;

/**
 * Replaces the exact (erf) GELU after a biased MatMul by ONNX Runtime's
 * {@code com.microsoft.FastGelu} — the tanh approximation
 * {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, bias added in the same pass. It is an
 * approximation (the two differ by at most about 5e-4 here), so it is a separate variant that
 * the accuracy gate judges, never a silent rewrite.
 *
 * <p>The pattern, as a PyTorch export writes {@code nn.GELU()}:
 * <pre>
 *   x   = Add(b, MatMul(h, W))
 *   out = Mul(Mul(x, Add(Erf(Div(x, sqrt(2))), 1)), 0.5)
 * </pre>
 * becomes {@code FastGelu(MatMul(h, W), b)}.
 */
public final class GeluFusion {
    /** The rewritten model and the names of the FastGelu nodes made. */
    public record Result(ModelProto model, List<String> fused) {
    }

    private final GraphIndex g;

    private GeluFusion(OnnxModel model) {
        this.g = new GraphIndex(model);
    }

    public static Result approximate(OnnxModel model) {
        GeluFusion f = new GeluFusion(model);
        GraphIndex.Fusion r = f.g.fuseEach("Erf", f::match, "FastGelu", "GELU approximation");
        return new Result(r.model(), r.made());
    }

    private NodeProto match(NodeProto erf, Set<NodeProto> nodes, String name) {
        nodes.add(erf);
        NodeProto div = g.single(erf.getInput(0), "Div", nodes);
        Float root2 = div == null ? null : g.scalar(div.getInput(1));
        if (root2 == null || Math.abs(root2 - Math.sqrt(2)) > 1e-4) {
            return null;
        }
        String x = div.getInput(0);
        NodeProto plusOne = g.onlyConsumer(erf.getOutput(0), "Add");
        Float one = plusOne == null ? null : g.scalar(GraphIndex.other(plusOne, erf.getOutput(0)));
        if (one == null || one != 1f) {
            return null;
        }
        nodes.add(plusOne);
        NodeProto mul = g.onlyConsumer(plusOne.getOutput(0), "Mul");
        if (mul == null || !GraphIndex.other(mul, plusOne.getOutput(0)).equals(x)) {
            return null;
        }
        nodes.add(mul);
        NodeProto half = g.onlyConsumer(mul.getOutput(0), "Mul");
        Float h = half == null ? null : g.scalar(GraphIndex.other(half, mul.getOutput(0)));
        if (h == null || h != 0.5f) {
            return null;
        }
        nodes.add(half);
        // x feeds only the Div and the Mul; it is Add(bias, MatMul)
        if (g.consumers.getOrDefault(x, List.of()).size() != 2) {
            return null;
        }
        NodeProto dense = g.producer.get(x);
        if (dense == null || !dense.getOpType().equals("Add") || !dense.getDomain().isEmpty()) {
            return null;
        }
        for (int j = 0; j < 2; j++) {
            TensorProto bias = g.vector(dense.getInput(j));
            NodeProto mm = g.producer.get(dense.getInput(1 - j));
            if (bias != null && mm != null && mm.getOpType().equals("MatMul") && g.consumersOf(mm.getOutput(0)) == 1) {
                nodes.add(dense);
                return NodeProto.newBuilder().setOpType("FastGelu").setDomain(GraphIndex.MS_DOMAIN).setName(name)
                        .addInput(mm.getOutput(0)).addInput(bias.getName()).addOutput(half.getOutput(0)).build();
            }
        }
        return null;
    }
}
