package io.hotpath.optimizer;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.nativebindings.ort.SessionHandle;
import io.hotpath.nativebindings.ort.SessionOptionsHandle;
import io.hotpath.nativebindings.ort.TensorInfo;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The element type of every tensor in a model, and a check that a model loads. Graph inputs and
 * initializers declare theirs; for the tensors nodes produce, ONNX Runtime is asked: every node
 * output becomes a graph output (name only) and the session reports the types it inferred. This
 * is ONNX Runtime's own type inference, so it agrees with what the engine will run.
 */
public final class TensorTypes {
    private TensorTypes() {
    }

    /** ONNX element type code per tensor name. */
    public static Map<String, Integer> of(OnnxModel model) {
        Map<String, Integer> types = new HashMap<>();
        for (ValueInfoProto v : model.graph().getInputList()) {
            types.put(v.getName(), v.getType().getTensorType().getElemType());
        }
        for (TensorProto t : model.graph().getInitializerList()) {
            types.put(t.getName(), t.getDataType());
        }
        Set<String> declared = new HashSet<>();
        model.graph().getOutputList().forEach(o -> declared.add(o.getName()));
        var g = model.graph().toBuilder();
        for (NodeProto n : model.graph().getNodeList()) {
            for (String o : n.getOutputList()) {
                if (!o.isEmpty() && declared.add(o)) {
                    g.addOutput(ValueInfoProto.newBuilder().setName(o));
                }
            }
        }
        byte[] bytes = model.proto().toBuilder().setGraph(g).build().toByteArray();
        try (SessionOptionsHandle o = new SessionOptionsHandle().graphOptimization(GraphOptimization.NONE).intraOpThreads(1);
                SessionHandle s = SessionHandle.open(bytes, o)) {
            for (int i = 0; i < s.outputCount(); i++) {
                TensorInfo info = s.output(i);
                if (info.isTensor()) {
                    types.put(info.name(), info.elementType());
                }
            }
        }
        return types;
    }

    /** Loads {@code model} in ONNX Runtime (all graph optimizations on); INVALID_MODEL naming {@code pass} when it does not load. */
    public static void checkLoads(ModelProto model, String pass) {
        try (SessionOptionsHandle o = new SessionOptionsHandle().graphOptimization(GraphOptimization.ALL).intraOpThreads(1);
                SessionHandle s = SessionHandle.open(model.toByteArray(), o)) {
            if (s.outputCount() == 0) {
                throw new HotpathException(Category.INVALID_MODEL, "after " + pass + ": the model has no outputs");
            }
        } catch (HotpathException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("INVALID_MODEL: after ")) {
                throw e;
            }
            throw new HotpathException(Category.INVALID_MODEL, "after " + pass + ": ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }
}
