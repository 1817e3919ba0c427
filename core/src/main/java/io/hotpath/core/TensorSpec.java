package io.hotpath.core;

import java.util.Objects;

/** A named tensor as a model declares it: name, element type and (possibly dynamic) shape. */
public record TensorSpec(String name, DType dtype, Shape shape) {
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
    }

    /** {@code input_ids int64[batch_size,sequence_length]}. */
    @Override
    public String toString() {
        return name + " " + dtype + shape;
    }
}
