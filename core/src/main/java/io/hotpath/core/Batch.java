package io.hotpath.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of one engine run: named inputs the caller fills in place and named outputs the
 * engine writes in place. A batch is made once and reused for every run, so nothing is
 * allocated per run. {@link Engine#newBatch()} gives one over memory the engine owns; a caller
 * that already holds its data off-heap builds one over its own memory with {@link #of}.
 *
 * <p>Not thread-safe: one run at a time per batch.
 */
public final class Batch {
    private final Tensor[] inputs;
    private final Tensor[] outputs;
    private Object engineOwner;
    private Object engineState;

    private Batch(Tensor[] inputs, Tensor[] outputs) {
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /** A batch over tensors the caller owns (zero-copy: the engine binds their memory directly). */
    public static Batch of(List<Tensor> inputs, List<Tensor> outputs) {
        checkUnique(inputs, "input");
        checkUnique(outputs, "output");
        return new Batch(inputs.toArray(new Tensor[0]), outputs.toArray(new Tensor[0]));
    }

    private static void checkUnique(List<Tensor> tensors, String kind) {
        List<String> seen = new ArrayList<>();
        for (Tensor t : tensors) {
            if (seen.contains(t.name())) {
                throw HotpathException.invalidArgument(kind + " '" + t.name() + "' appears twice in the batch");
            }
            seen.add(t.name());
        }
    }

    public int inputCount() {
        return inputs.length;
    }

    public int outputCount() {
        return outputs.length;
    }

    public Tensor input(int index) {
        return inputs[index];
    }

    public Tensor output(int index) {
        return outputs[index];
    }

    /** The input named {@code name}; an unknown name is an INVALID_ARGUMENT that lists the known ones. */
    public Tensor input(String name) {
        Tensor t = find(inputs, name);
        if (t == null) {
            throw HotpathException.invalidArgument("unknown input '" + name + "'; the batch's inputs are " + names(inputs));
        }
        return t;
    }

    /** The output named {@code name}; an unknown name is an INVALID_ARGUMENT that lists the known ones. */
    public Tensor output(String name) {
        Tensor t = find(outputs, name);
        if (t == null) {
            throw HotpathException.invalidArgument("unknown output '" + name + "'; the batch's outputs are " + names(outputs));
        }
        return t;
    }

    private static Tensor find(Tensor[] tensors, String name) {
        for (Tensor t : tensors) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    private static List<String> names(Tensor[] tensors) {
        List<String> n = new ArrayList<>(tensors.length);
        for (Tensor t : tensors) {
            n.add(t.name());
        }
        return n;
    }

    /**
     * Sets dimension 0 (the batch dimension) of every input to {@code rows}, keeping the other
     * dimensions. Allocation-free.
     */
    public Batch batchSize(int rows) {
        for (Tensor t : inputs) {
            switch (t.rank()) {
                case 1 -> t.reshape(rows);
                case 2 -> t.reshape(rows, t.dim(1));
                case 3 -> t.reshape(rows, t.dim(1), t.dim(2));
                default -> {
                    long[] d = t.shape();
                    d[0] = rows;
                    t.reshape(d);
                }
            }
        }
        return this;
    }

    /**
     * Engine bookkeeping for this batch (for example its native bindings), so an engine binds a
     * batch once, not per run. For engine implementations; applications do not call it.
     */
    public Object engineState(Object owner) {
        return engineOwner == owner ? engineState : null;
    }

    /** Stores engine bookkeeping; see {@link #engineState(Object)}. */
    public void engineState(Object owner, Object state) {
        this.engineOwner = owner;
        this.engineState = state;
    }
}
