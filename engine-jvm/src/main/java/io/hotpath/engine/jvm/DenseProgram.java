package io.hotpath.engine.jvm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** A compiled dense model: float32 inputs {@code [batch, F]} copied into buffers, the steps, float32 outputs {@code [batch, W]}. */
final class DenseProgram implements Program {
    /** The most floats one batch's working memory may take (1 GiB). */
    static final long MAX_SCRATCH_FLOATS = 1L << 28;

    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final int[] inputBuf;
    private final int[] outputBuf;
    private final int[] widths;
    private final DenseSteps.Step[] steps;

    DenseProgram(List<TensorSpec> inputs, List<TensorSpec> outputs, int[] inputBuf, int[] outputBuf, int[] widths, DenseSteps.Step[] steps) {
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.inputBuf = inputBuf;
        this.outputBuf = outputBuf;
        this.widths = widths;
        this.steps = steps;
        for (DenseSteps.Step s : steps) {
            if (s instanceof DenseSteps.Dense d) {
                d.pack();
            }
        }
    }

    @Override
    public List<TensorSpec> inputs() {
        return inputs;
    }

    @Override
    public List<TensorSpec> outputs() {
        return outputs;
    }

    @Override
    public Object newScratch(int maxRows) {
        long total = 0;
        for (int w : widths) {
            total += (long) w * maxRows;
        }
        if (total > MAX_SCRATCH_FLOATS) {
            throw HotpathException.invalidArgument("a batch of " + maxRows + " rows needs " + total + " floats of working memory; the JVM engine "
                    + "allows " + MAX_SCRATCH_FLOATS + ": lower maxBatchSize");
        }
        float[][] b = new float[widths.length][];
        for (int i = 0; i < widths.length; i++) {
            b[i] = new float[widths[i] * maxRows];
        }
        int maxK = 1;
        int tmp = 0;
        for (DenseSteps.Step s : steps) {
            if (s instanceof DenseSteps.Dense d) {
                maxK = Math.max(maxK, d.k);
                tmp = Math.max(tmp, d.tmpFloats());
            }
        }
        return new DenseScratch(b, maxK, tmp);
    }

    @Override
    public void run(Object scratch, Tensor[] in, Tensor[] out, int rows) {
        DenseScratch sc = (DenseScratch) scratch;
        float[][] b = sc.bufs;
        for (int m = 0; m < in.length; m++) {
            int buf = inputBuf[m];
            MemorySegment.copy(in[m].data(), JAVA_FLOAT_UNALIGNED, 0, b[buf], 0, rows * widths[buf]);
        }
        for (DenseSteps.Step s : steps) {
            s.run(sc, rows);
        }
        for (int o = 0; o < out.length; o++) {
            if (out[o] != null) {
                int buf = outputBuf[o];
                MemorySegment.copy(b[buf], 0, out[o].data(), JAVA_FLOAT_UNALIGNED, 0, rows * widths[buf]);
            }
        }
    }

    @Override
    public Cost cost() {
        long ops = 0;
        long bytes = 0;
        for (DenseSteps.Step s : steps) {
            ops += s.ops();
            bytes += s.weightBytes();
        }
        return new Cost(ops, bytes);
    }

    @Override
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (DenseSteps.Step s : steps) {
            sb.append(sb.isEmpty() ? "" : " -> ").append(s.describe());
        }
        return "[" + sb + "]";
    }
}
