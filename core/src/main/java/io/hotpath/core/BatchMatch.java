package io.hotpath.core;

import java.util.Arrays;
import java.util.List;

/**
 * Matches a {@link Batch}'s tensors to an engine's declared inputs and outputs, once per batch:
 * every model input must be present with the model's dtype and rank; a batch binds at least one
 * output, each a model output of the right dtype and rank. Each mismatch is an INVALID_ARGUMENT
 * naming the tensor, what was given and what the model expects.
 */
public final class BatchMatch {
    private BatchMatch() {
    }

    /** For each model input (by index), the index of the batch input that feeds it. */
    public static int[] inputs(List<TensorSpec> model, Batch batch) {
        int[] idx = new int[model.size()];
        Arrays.fill(idx, -1);
        for (int i = 0; i < batch.inputCount(); i++) {
            Tensor t = batch.input(i);
            int m = indexOf(model, t.name());
            if (m < 0) {
                throw HotpathException.invalidArgument("unknown input '" + t.name() + "'; the model's inputs are " + names(model));
            }
            checkTypeAndRank("input", model.get(m), t);
            idx[m] = i;
        }
        for (int m = 0; m < idx.length; m++) {
            if (idx[m] < 0) {
                throw HotpathException.invalidArgument("input '" + model.get(m).name() + "' (" + model.get(m) + ") is missing from the batch");
            }
        }
        return idx;
    }

    /** For each batch output (by index), the index of the model output it receives. */
    public static int[] outputs(List<TensorSpec> model, Batch batch) {
        if (batch.outputCount() == 0) {
            throw HotpathException.invalidArgument("the batch has no output tensor; the model's outputs are " + names(model));
        }
        int[] idx = new int[batch.outputCount()];
        for (int i = 0; i < batch.outputCount(); i++) {
            Tensor t = batch.output(i);
            int m = indexOf(model, t.name());
            if (m < 0) {
                throw HotpathException.invalidArgument("unknown output '" + t.name() + "'; the model's outputs are " + names(model));
            }
            checkTypeAndRank("output", model.get(m), t);
            idx[i] = m;
        }
        return idx;
    }

    static void checkTypeAndRank(String kind, TensorSpec model, Tensor t) {
        if (t.dtype() != model.dtype()) {
            throw HotpathException.invalidArgument(kind + " '" + t.name() + "': dtype " + t.dtype() + " given, expected "
                    + model.dtype() + " (" + model + ")");
        }
        if (t.rank() != model.shape().rank()) {
            throw HotpathException.invalidArgument(kind + " '" + t.name() + "': rank " + t.rank() + " shape "
                    + Shape.format(t.shape(), t.rank()) + " given, expected rank " + model.shape().rank() + " " + model.shape());
        }
    }

    /** The index of the spec named {@code name}, or -1. */
    public static int indexOf(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** The names of {@code specs}, for messages. */
    public static List<String> names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).toList();
    }
}
