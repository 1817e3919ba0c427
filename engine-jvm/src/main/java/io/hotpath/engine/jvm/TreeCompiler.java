package io.hotpath.engine.jvm;

import io.hotpath.core.HotpathException;
import io.hotpath.onnx.proto.Onnx.ModelProto;

/** Tree ensembles (ai.onnx.ml TreeEnsembleRegressor, TreeEnsembleClassifier, TreeEnsemble): not compiled yet. */
final class TreeCompiler {
    private TreeCompiler() {
    }

    static Program compile(ModelProto model) {
        throw new HotpathException(HotpathException.Category.UNSUPPORTED, "tree ensembles are not compiled by the JVM engine yet; "
                + "run this model on ONNX Runtime (engine cpu)");
    }
}
