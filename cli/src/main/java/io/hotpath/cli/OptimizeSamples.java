package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.optimizer.Calibrator;
import io.hotpath.optimizer.Optimizer;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Calibration and validation samples for {@code hotpath optimize} on a model that is not text,
 * made the way {@code hotpath bench} makes its inputs ({@link BenchInputs}: {@code --input}
 * constants and .npy files, {@code --shape}, and every other input's default, whose random values
 * differ from sample to sample).
 *
 * <ul>
 *   <li>No .npy file: {@code calibration} + {@code validation} samples of one row each, from
 *       disjoint seeds.</li>
 *   <li>.npy files of N rows on a model that batches on dimension 0: each row is a sample; the
 *       first N - N/3 calibrate, the last N/3 validate (a single row does both).</li>
 *   <li>.npy files on a model without a batch dimension 0: the files are one sample, which both
 *       calibrates and validates.</li>
 * </ul>
 */
final class OptimizeSamples {
    /** Seeds of the validation samples start here, far from the calibration ones (1, 2, ...). */
    private static final long VALIDATION_SEED = 1_000_001;

    /** The two sample sets and one line saying where they came from. */
    record Split(Optimizer.Samples calibration, Optimizer.Samples validation, String description) {
    }

    private OptimizeSamples() {
    }

    static Split build(Checks c, Path file, BenchInputs given, int seq, int calibrationCount, int validationCount) {
        long fileRows = given.fileRows();
        int rows = (int) Math.max(1, Math.min(fileRows, Checks.MAX_BATCH));
        if (fileRows > Checks.MAX_BATCH) {
            throw c.fail("--input: the .npy files hold " + fileRows + " rows; at most " + Checks.MAX_BATCH + " samples");
        }
        long capacity = Math.max(seq, given.largestDimension());
        String sized = "--seq " + seq + (capacity > seq ? " (dimensions up to " + capacity + " from --shape/--input)" : "")
                + (rows > 1 ? " with " + rows + " rows from --input" : "");
        OrtCpuEngine engine = c.opening(sized, () -> OrtCpuEngine.open(file, CpuEngineOptions.builder().maxBatchSize(rows)
                .defaultMaxDimension(capacity).build()));
        try (engine) {
            for (var t : engine.inputs()) {
                if (t.dtype() == io.hotpath.core.DType.STRING) {
                    throw c.fail("input '" + t.name() + "' is a string tensor; the optimizer calibrates, validates and times numeric inputs only");
                }
            }
            c.memory(sized, Checks.batchBytes(engine.inputs(), rows, capacity));
            given.bind(c, engine.inputs(), new int[] {rows});
            long vocab = BenchCommand.vocabulary(file, engine);
            Batch b = engine.newBatch();
            try {
                given.fill(b, rows, seq, vocab, 1);    // the first sample (or the files' rows): a shape that cannot be made fails here, once
            } catch (io.hotpath.core.HotpathException e) {
                throw c.fail("making samples like hotpath bench's inputs: " + HotpathCommand.withoutCategory(e)
                        + " (give that input's shape with --shape NAME=D0,D1,...)");
            }
            try {
                engine.run(b);     // a model that needs other shapes or values (Silero's 512 samples) says so here, before any variant
            } catch (io.hotpath.core.HotpathException e) {
                throw c.fail("the model does not run on samples made like hotpath bench's inputs (" + (rows > 1 ? "the --input files' rows"
                        : "--seq " + seq + " for dynamic dimensions") + "): " + HotpathCommand.withoutCategory(e)
                        + "; give the inputs' shapes with --shape NAME=D0,D1,... or values with --input NAME=VALUE|@FILE.npy");
            }
            boolean batches = engine.inputs().stream().allMatch(t -> t.shape().rank() > 0 && t.shape().isDynamic(0));
            if (fileRows == 0) {
                List<List<Calibrator.Feed>> cal = new ArrayList<>();
                for (int i = 0; i < calibrationCount; i++) {
                    given.fill(b, 1, seq, vocab, 1 + i);
                    cal.add(snapshot(b));
                }
                List<List<Calibrator.Feed>> val = new ArrayList<>();
                for (int i = 0; i < validationCount; i++) {
                    given.fill(b, 1, seq, vocab, VALIDATION_SEED + i);
                    val.add(snapshot(b));
                }
                return new Split(new Optimizer.Samples(cal), new Optimizer.Samples(val), calibrationCount + " calibration and "
                        + validationCount + " validation samples made like hotpath bench's inputs (random parts from disjoint seeds)");
            }
            given.fill(b, rows, seq, vocab, 1);
            List<Calibrator.Feed> whole = snapshot(b);
            if (!batches || rows == 1) {
                Optimizer.Samples one = new Optimizer.Samples(List.of(whole));
                return new Split(one, one, "one sample from --input (" + (batches ? "the files hold one row"
                        : "the model has no batch dimension 0, so the files are one sample") + "); it both calibrates and validates");
            }
            List<List<Calibrator.Feed>> split = splitRows(whole, rows);
            int validation = rows / 3;
            return new Split(new Optimizer.Samples(split.subList(0, rows - validation)), new Optimizer.Samples(split.subList(rows - validation, rows)),
                    rows + " rows from --input: rows 0-" + (rows - validation - 1) + " calibrate, rows " + (rows - validation) + "-" + (rows - 1) + " validate");
        }
    }

    /** Every input of {@code b} as it is now: its name, ONNX element type, shape and bytes. */
    private static List<Calibrator.Feed> snapshot(Batch b) {
        List<Calibrator.Feed> feeds = new ArrayList<>(b.inputCount());
        for (int i = 0; i < b.inputCount(); i++) {
            Tensor t = b.input(i);
            byte[] bytes = t.data().asSlice(0, t.byteSize()).toArray(ValueLayout.JAVA_BYTE);
            feeds.add(new Calibrator.Feed(t.name(), t.dtype().onnxCode(), t.shape(), bytes));
        }
        return feeds;
    }

    /** One sample per row of dimension 0 (every input holds {@code rows} there: the model batches on it and bind checked the files). */
    private static List<List<Calibrator.Feed>> splitRows(List<Calibrator.Feed> whole, int rows) {
        List<List<Calibrator.Feed>> out = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            List<Calibrator.Feed> sample = new ArrayList<>(whole.size());
            for (Calibrator.Feed f : whole) {
                if (f.dims().length == 0 || f.dims()[0] != rows) {
                    throw io.hotpath.core.HotpathException.invalidArgument("input '" + f.name() + "' has shape " + Arrays.toString(f.dims())
                            + "; the --input files give " + rows + " rows in dimension 0, and every input must have them");
                }
                long[] dims = f.dims().clone();
                dims[0] = 1;
                int per = f.bytes().length / rows;
                sample.add(new Calibrator.Feed(f.name(), f.elementType(), dims, Arrays.copyOfRange(f.bytes(), r * per, (r + 1) * per)));
            }
            out.add(sample);
        }
        return out;
    }
}
