package io.hotpath.engine.jvm;

import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import java.util.List;

/**
 * A model compiled for the JVM: what it reads and writes, what one row costs, and the run itself.
 * A program is immutable and shared; everything a run writes lives in the scratch object made by
 * {@link #newScratch(int)} (one per batch), so runs on different batches may proceed on
 * different threads at once.
 */
interface Program {
    List<TensorSpec> inputs();

    List<TensorSpec> outputs();

    /** Working memory for runs of up to {@code maxRows} rows, allocated once. */
    Object newScratch(int maxRows);

    /**
     * Runs {@code rows} rows: {@code in[i]} is model input i, {@code out[o]} model output o, or
     * null when the batch does not ask for it. Shapes are checked by the engine before the call.
     */
    void run(Object scratch, Tensor[] in, Tensor[] out, int rows);

    /** Multiply-adds (or comparisons, for trees) per row, and the bytes of weights a row reads. */
    Cost cost();

    /** One line for reports: the layers or trees compiled. */
    String describe();

    /** What one row costs. */
    record Cost(long operationsPerRow, long weightBytes) {
    }
}
