package io.hotpath.engine.jvm;

import io.hotpath.core.HotpathException;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;

/** Chooses the compiler for a model: tree ensembles to {@link TreeCompiler}, everything else to {@link DenseCompiler}. */
final class JvmCompiler {
    private JvmCompiler() {
    }

    static Program compile(ModelProto model) {
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new HotpathException(HotpathException.Category.INVALID_MODEL, "the model has no graph nodes");
        }
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (n.getOpType().startsWith("TreeEnsemble")) {
                return TreeCompiler.compile(model);
            }
        }
        return DenseCompiler.compile(model);
    }

    /** The refusal for a node this engine does not compile: its name, operator and why. */
    static HotpathException unsupported(NodeProto n, String why) {
        String domain = n.getDomain().isEmpty() ? "" : n.getDomain() + ".";
        return new HotpathException(HotpathException.Category.UNSUPPORTED, "the JVM engine does not compile node '" + n.getName() + "' ("
                + domain + n.getOpType() + "): " + why + "; run this model on ONNX Runtime (engine cpu)");
    }
}
