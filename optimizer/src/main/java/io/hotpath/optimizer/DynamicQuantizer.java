package io.hotpath.optimizer;

import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Dynamic (weights-only calibration) INT8 quantization, for users without calibration data: the
 * weights of MatMul nodes become int8 (symmetric, per output column), and each activation is
 * quantized at run time from its own range ({@code DynamicQuantizeLinear}), multiplied with
 * {@code MatMulInteger} and rescaled to float. Only standard ONNX operators; ONNX Runtime fuses
 * them into its dynamic-quantization kernels. A row's answer then depends on the rest of its
 * batch (the activation range is the batch's), which the optimizer's report says.
 */
public final class DynamicQuantizer {
    private DynamicQuantizer() {
    }

    /** The quantized model and the MatMul nodes it quantized. */
    public record Result(ModelProto model, List<String> quantizedNodes) {
    }

    public static Result quantize(OnnxModel model) {
        Map<String, TensorProto> inits = model.initializers();
        GraphProto g = model.graph();
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> newInits = new ArrayList<>();
        Map<String, String[]> dynamic = new HashMap<>();   // activation -> {quantized, scale, zero point}
        Set<String> quantizedWeights = new LinkedHashSet<>();
        List<String> quantized = new ArrayList<>();
        for (NodeProto n : model.topologicalOrder()) {
            TensorProto w = n.getInputCount() == 2 ? inits.get(n.getInput(1)) : null;
            if (!n.getOpType().equals("MatMul") || !n.getDomain().isEmpty() || w == null || w.getDimsCount() != 2
                    || w.getDataType() != TensorProto.DataType.FLOAT_VALUE || inits.containsKey(n.getInput(0))) {
                nodes.add(n);
                continue;
            }
            String x = n.getInput(0);
            String[] q = dynamic.get(x);
            if (q == null) {
                q = new String[] {x + "_quantized", x + "_scale", x + "_zero_point"};
                nodes.add(NodeProto.newBuilder().setOpType("DynamicQuantizeLinear").setName(x + "_DynamicQuantizeLinear").addInput(x)
                        .addOutput(q[0]).addOutput(q[1]).addOutput(q[2]).build());
                dynamic.put(x, q);
            }
            String wn = w.getName();
            if (quantizedWeights.add(wn)) {
                QdqQuantizer.quantizeWeight(w, 1, true, CpuFeatures.detect().int8Scheme().weightMax(), newInits);   // <w>_quantized, <w>_scale [N], <w>_zero_point [N]
            }
            String base = n.getName().isEmpty() ? n.getOutput(0) : n.getName();
            nodes.add(NodeProto.newBuilder().setOpType("MatMulInteger").setName(base + "_MatMulInteger").addInput(q[0]).addInput(wn + "_quantized")
                    .addInput(q[2]).addInput(wn + "_zero_point").addOutput(base + "_int32").build());
            nodes.add(NodeProto.newBuilder().setOpType("Cast").setName(base + "_Cast").addInput(base + "_int32").addOutput(base + "_float")
                    .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(TensorProto.DataType.FLOAT_VALUE))
                    .build());
            nodes.add(NodeProto.newBuilder().setOpType("Mul").setName(base + "_scales").addInput(q[1]).addInput(wn + "_scale")
                    .addOutput(base + "_scale").build());
            nodes.add(NodeProto.newBuilder().setOpType("Mul").setName(base + "_rescale").addInput(base + "_float").addInput(base + "_scale")
                    .addOutput(n.getOutput(0)).build());
            quantized.add(n.getName());
        }
        Set<String> stillRead = new LinkedHashSet<>();
        for (NodeProto n : nodes) {
            stillRead.addAll(n.getInputList());
        }
        GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(nodes).clearInitializer().clearValueInfo();
        for (TensorProto t : g.getInitializerList()) {
            if (!quantizedWeights.contains(t.getName()) || stillRead.contains(t.getName())) {
                gb.addInitializer(t);
            }
        }
        gb.addAllInitializer(newInits);
        OnnxModel out = OnnxModel.of(model.proto().toBuilder().setGraph(gb).build());
        out.sortTopologically();
        TensorTypes.checkLoads(out.proto(), "dynamic INT8 quantization");
        return new Result(out.proto(), quantized);
    }
}
