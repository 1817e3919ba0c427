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
        return infer(model, null);
    }

    /** Rank per tensor name, as ONNX Runtime infers it (absent where it does not know). */
    public static Map<String, Integer> ranks(OnnxModel model) {
        Map<String, Integer> ranks = new HashMap<>();
        infer(model, ranks);
        return ranks;
    }

    private static Map<String, Integer> infer(OnnxModel model, Map<String, Integer> ranks) {
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
                    if (ranks != null) {
                        ranks.put(info.name(), info.dims().length);
                    }
                }
            }
        }
        return types;
    }

    /**
     * Ranks of {@code names} observed by running the model once on zeros, every dynamic input
     * dimension set to 1 (for tensors whose rank ONNX Runtime's static inference leaves open).
     */
    public static Map<String, Integer> runtimeRanks(OnnxModel model, java.util.Collection<String> names) {
        java.util.List<java.util.List<Calibrator.Feed>> one = java.util.List.of(zeroFeeds(model));
        Map<String, Integer> ranks = new HashMap<>();
        Calibrator.observe(model, new java.util.ArrayList<>(names), one, (name, out) -> ranks.put(name, out.dims().length));
        return ranks;
    }

    /** One all-zero input per graph input (that is not an initializer), dynamic dimensions 1. */
    static java.util.List<Calibrator.Feed> zeroFeeds(OnnxModel model) {
        Set<String> inits = model.initializers().keySet();
        java.util.List<Calibrator.Feed> feeds = new java.util.ArrayList<>();
        for (ValueInfoProto v : model.graph().getInputList()) {
            if (inits.contains(v.getName())) {
                continue;
            }
            var t = v.getType().getTensorType();
            long[] dims = new long[t.getShape().getDimCount()];
            long n = 1;
            for (int d = 0; d < dims.length; d++) {
                var dim = t.getShape().getDim(d);
                dims[d] = dim.hasDimValue() && dim.getDimValue() > 0 ? dim.getDimValue() : 1;
                n *= dims[d];
            }
            int size = switch (t.getElemType()) {
                case 7, 11 -> 8;
                case 1, 6 -> 4;
                case 10, 16 -> 2;
                default -> 1;
            };
            feeds.add(new Calibrator.Feed(v.getName(), t.getElemType(), dims, new byte[(int) (n * size)]));
        }
        return feeds;
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
