package io.hotpath.cli;

import io.hotpath.core.HotpathException;
import io.hotpath.optimizer.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** What the optimizer and the advisor need from a model's inputs before they make rows for it. */
final class ModelRows {
    private ModelRows() {
    }

    /** The inputs that are fed, not initializers (older models list their weights as inputs too). */
    static List<io.hotpath.onnx.proto.Onnx.ValueInfoProto> inputs(OnnxModel m) {
        Set<String> weights = m.graph().getInitializerList().stream().map(io.hotpath.onnx.proto.Onnx.TensorProto::getName)
                .collect(Collectors.toSet());
        return m.graph().getInputList().stream().filter(v -> !weights.contains(v.getName())).toList();
    }

    /** INVALID_MODEL when the model takes no input: there is nothing to calibrate, validate or time. */
    static void requireInputs(OnnxModel m, Path file) {
        if (inputs(m).isEmpty()) {
            throw new HotpathException(HotpathException.Category.INVALID_MODEL,
                    file + " has no inputs: there is nothing to feed it, calibrate or time");
        }
    }

    /**
     * Floats per row of the first input: the product of its dimensions after the batch. A dynamic
     * dimension counts as 1 when {@code dynamicAsOne}, else it is UNSUPPORTED (rows need a fixed width).
     */
    static int width(OnnxModel m, Path file, boolean dynamicAsOne) {
        requireInputs(m, file);
        var input = inputs(m).get(0);
        var dims = input.getType().getTensorType().getShape().getDimList();
        long w = 1;
        for (int d = 1; d < dims.size(); d++) {
            var dim = dims.get(d);
            long v;
            if (!dim.hasDimValue() || dim.getDimValue() <= 0) {
                if (!dynamicAsOne) {
                    throw new HotpathException(HotpathException.Category.UNSUPPORTED, "the optimizer's row data needs fixed dimensions after the "
                            + "batch; input '" + input.getName() + "' dimension " + d + " is dynamic");
                }
                v = 1;
            } else {
                v = dim.getDimValue();
            }
            if (v > Integer.MAX_VALUE / w) {   // compared before multiplying: no overflow
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "input '" + input.getName() + "' of " + file
                        + " has more than " + Integer.MAX_VALUE + " values per row");
            }
            w *= v;
        }
        return (int) w;
    }
}
