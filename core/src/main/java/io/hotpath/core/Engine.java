package io.hotpath.core;

import java.util.List;

/**
 * What an inference engine is to Hotpath: it describes its inputs and outputs, has a fixed
 * capacity (the largest batch it accepts), and runs a {@link Batch} in place, reading the
 * inputs' memory and writing the outputs' memory, with nothing allocated per run in steady state.
 *
 * <p>Implementations: ONNX Runtime on CPU ({@code engine-cpu}), TensorRT ({@code engine-tensorrt}).
 * An engine is used by one thread at a time unless its documentation says otherwise.
 */
public interface Engine extends AutoCloseable {
    /** A short name such as {@code onnxruntime-cpu}. */
    String name();

    /** A line for reports: engine, library version and the options that matter. */
    String describe();

    /** The model's inputs, in the model's order. */
    List<TensorSpec> inputs();

    /** The model's outputs, in the model's order. */
    List<TensorSpec> outputs();

    /**
     * Whether output {@code index} (in {@link #outputs()} order) is engine-allocated: its shape is
     * known only after the run (a data-dependent size, or a dimension tied to no input), so the
     * engine allocates it per run and {@link Tensor#attach attaches} it to the batch's tensor as a
     * zero-copy view valid until the next run of that batch. Otherwise the output is preallocated
     * at full capacity and written in place.
     */
    default boolean outputEngineAllocated(int index) {
        return false;
    }

    /**
     * Whether runs on different batches may proceed on different threads at once (each batch still
     * used by one thread at a time). False unless the engine documents otherwise.
     */
    default boolean concurrentRuns() {
        return false;
    }

    /** The largest batch (dimension 0) one run accepts. */
    int maxBatchSize();

    /**
     * A batch over memory this engine allocates once and owns, sized for {@link #maxBatchSize()}
     * rows and the engine's maximum for every other dynamic dimension. Freed by {@link #close()}.
     */
    Batch newBatch();

    /**
     * Runs {@code batch}: checks every input (known name, dtype, rank, fixed dimensions, batch
     * within capacity, matching symbolic dimensions) before any native call, runs the model and
     * sets each output's shape. Bad input is an {@link HotpathException.Category#INVALID_ARGUMENT}
     * that names the tensor, what was expected and what was given; a failure inside the engine is
     * an {@link HotpathException.Category#ENGINE_FAILURE}.
     */
    void run(Batch batch);

    /**
     * A 64-bit identity of the model and the variant this engine runs (its bytes and the options
     * that change its answers), so cached answers of one model or variant are never served for
     * another. Computed once, on first use.
     */
    long modelIdentity();

    /** Frees everything this engine holds, including the memory of batches it made. Idempotent. */
    @Override
    void close();
}
