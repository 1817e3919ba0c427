package io.hotpath.optimizer;

import com.google.protobuf.ByteString;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.OperatorSetIdProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;

/**
 * Moves a model of opset 11 or 12 to opset 13 (where DequantizeLinear takes a per-channel axis).
 * The operators whose signature changed are rewritten: Unsqueeze, Squeeze and ReduceSum take their
 * axes, and Split its split sizes, as an input instead of an attribute; Softmax, LogSoftmax and
 * Hardmax (which changed meaning) are accepted only where both meanings agree: over the last axis.
 * Other operators of the default domain kept their meaning from 11 to 13. The result must load in
 * ONNX Runtime.
 */
public final class OpsetUpgrade {
    private static final Set<String> AXES_TO_INPUT = Set.of("Unsqueeze", "Squeeze", "ReduceSum");

    private OpsetUpgrade() {
    }

    /** {@code model} at opset 13 (returned unchanged when it already is 13 or later). */
    public static OnnxModel to13(OnnxModel model) {
        long opset = model.opset();
        if (opset >= 13) {
            return model;
        }
        if (opset < 11) {
            throw new HotpathException(Category.UNSUPPORTED, "opset " + opset + " is older than 11; upgrade it with the ONNX version converter first");
        }
        Map<String, Integer> ranks = null;
        GraphProto.Builder g = model.graph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                continue;
            }
            String op = n.getOpType();
            if (AXES_TO_INPUT.contains(op) || op.equals("Split")) {
                String attr = op.equals("Split") ? "split" : "axes";
                int at = attribute(n, attr);
                if (at < 0) {
                    continue;
                }
                AttributeProto a = n.getAttribute(at);
                String name = (n.getName().isEmpty() ? n.getOutput(0) : n.getName()) + "_" + attr;
                g.addInitializer(int64s(name, a.getIntsList().stream().mapToLong(Long::longValue).toArray()));
                NodeProto.Builder b = n.toBuilder().removeAttribute(at);
                while (b.getInputCount() < 1) {
                    b.addInput("");
                }
                b.addInput(name);
                g.setNode(i, b.build());
            } else if (op.equals("Softmax") || op.equals("LogSoftmax") || op.equals("Hardmax")) {
                int at = attribute(n, "axis");
                long axis = at < 0 ? 1 : n.getAttribute(at).getI();
                if (axis == -1) {
                    continue;
                }
                if (ranks == null) {
                    ranks = TensorTypes.ranks(model);
                }
                Integer rank = ranks.get(n.getInput(0));
                if (rank == null || rank == 0) {
                    rank = TensorTypes.runtimeRanks(model, java.util.List.of(n.getInput(0))).get(n.getInput(0));
                }
                if (rank == null || axis != rank - 1) {
                    throw new HotpathException(Category.UNSUPPORTED, op + " node '" + n.getName() + "' normalizes over axis " + axis
                            + (rank == null ? " of an input of unknown rank" : " of a rank-" + rank + " input")
                            + "; its meaning changed in opset 13 and only the last axis converts as it is");
                }
            }
        }
        ModelProto.Builder m = model.proto().toBuilder().setGraph(g);
        for (int i = 0; i < m.getOpsetImportCount(); i++) {
            OperatorSetIdProto o = m.getOpsetImport(i);
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                m.setOpsetImport(i, o.toBuilder().setVersion(13));
            }
        }
        if (m.getIrVersion() < 7) {
            m.setIrVersion(7);
        }
        ModelProto out = m.build();
        TensorTypes.checkLoads(out, "opset 13 upgrade");
        return OnnxModel.of(out);
    }

    private static int attribute(NodeProto n, String name) {
        for (int i = 0; i < n.getAttributeCount(); i++) {
            if (n.getAttribute(i).getName().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static TensorProto int64s(String name, long[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length)
                .setRawData(ByteString.copyFrom(b.array())).build();
    }
}
