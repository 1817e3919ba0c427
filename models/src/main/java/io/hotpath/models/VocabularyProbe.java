package io.hotpath.models;

import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Finds how many token ids a model accepts on an input: the first dimension of the embedding
 * table that a {@code Gather} node indexes with that input. Used to draw valid random token ids.
 */
public final class VocabularyProbe {
    private VocabularyProbe() {
    }

    /** The vocabulary size behind {@code inputName}, or empty when the model does not show one. */
    public static OptionalLong vocabularySize(Path model, String inputName) {
        ModelProto m;
        try (InputStream in = Files.newInputStream(model)) {
            m = ModelProto.parseFrom(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + model, e);
        }
        GraphProto g = m.getGraph();
        Map<String, TensorProto> initializers = new HashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            initializers.put(t.getName(), t);
        }
        // follow the input through shape-preserving casts to the Gather that uses it as indices
        java.util.Set<String> aliases = new java.util.HashSet<>();
        aliases.add(inputName);
        for (NodeProto n : g.getNodeList()) {
            if (n.getOpType().equals("Cast") && n.getInputCount() == 1 && aliases.contains(n.getInput(0))) {
                aliases.add(n.getOutput(0));
            }
            if (n.getOpType().equals("Gather") && n.getInputCount() == 2 && aliases.contains(n.getInput(1))) {
                TensorProto table = initializers.get(n.getInput(0));
                if (table != null && table.getDimsCount() == 2) {
                    return OptionalLong.of(table.getDims(0));
                }
            }
        }
        return OptionalLong.empty();
    }
}
