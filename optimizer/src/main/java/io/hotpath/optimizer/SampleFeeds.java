package io.hotpath.optimizer;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.proto.Onnx.TensorShapeProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Puts {@link Optimizer.Samples} into an engine's batch and reads the answers back: one sample
 * alone, or several stacked on dimension 0 when the model batches there and the samples agree in
 * every other dimension; a sample's answer is every output of its run, as floats, one after the other.
 */
final class SampleFeeds {
    private SampleFeeds() {
    }

    /** Row data as samples of the model's one float input: dimension 0 one row (or its fixed size), dynamic dimensions after it 1. */
    static Optimizer.Samples fromRows(Optimizer.Rows rows, OnnxModel model) {
        List<ValueInfoProto> inputs = fedInputs(model);
        if (inputs.size() != 1 || inputs.get(0).getType().getTensorType().getElemType() != DType.FLOAT32.onnxCode()) {
            throw HotpathException.invalidArgument("row data feeds a model with one float input; this one takes " + inputs.size() + " input(s) "
                    + inputs.stream().map(ValueInfoProto::getName).toList() + " of element types "
                    + inputs.stream().map(v -> v.getType().getTensorType().getElemType()).toList()
                    + ": give every input's values instead (hotpath optimize --input NAME=@FILE.npy, --shape)");
        }
        ValueInfoProto in = inputs.get(0);
        List<TensorShapeProto.Dimension> declared = in.getType().getTensorType().getShape().getDimList();
        long[] dims = new long[declared.size()];
        long count = 1;
        for (int d = 0; d < dims.length; d++) {
            dims[d] = declared.get(d).hasDimValue() && declared.get(d).getDimValue() > 0 ? declared.get(d).getDimValue() : 1;
            count *= dims[d];
        }
        List<List<Calibrator.Feed>> out = new ArrayList<>();
        for (float[] row : rows.rows()) {
            if (row.length != count) {
                throw HotpathException.invalidArgument("a row of " + row.length + " values cannot fill input '" + in.getName() + "' of shape "
                        + Arrays.toString(dims) + " (" + count + " values)");
            }
            ByteBuffer b = ByteBuffer.allocate(row.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : row) {
                b.putFloat(f);
            }
            out.add(List.of(new Calibrator.Feed(in.getName(), DType.FLOAT32.onnxCode(), dims.clone(), b.array())));
        }
        return new Optimizer.Samples(out);
    }

    /** The model's inputs that are fed, not initializers (older models list their weights as inputs too). */
    static List<ValueInfoProto> fedInputs(OnnxModel model) {
        var weights = model.initializers().keySet();
        return model.graph().getInputList().stream().filter(v -> !weights.contains(v.getName())).toList();
    }

    /** The largest dimension 0 among the samples' feeds (at least 1): the batch the engine must hold for one sample. */
    static int maxRows(List<List<Calibrator.Feed>> samples) {
        long max = 1;
        for (List<Calibrator.Feed> s : samples) {
            for (Calibrator.Feed f : s) {
                if (f.dims().length > 0) {
                    max = Math.max(max, f.dims()[0]);
                }
            }
        }
        return (int) Math.min(max, Integer.MAX_VALUE);
    }

    /**
     * The largest dimension among the samples' feeds (at least 1): the capacity of the dynamic
     * dimensions (dimension 0 included: a model that does not batch there sizes it like any other).
     */
    static long maxDim(List<List<Calibrator.Feed>> samples) {
        long max = 1;
        for (List<Calibrator.Feed> s : samples) {
            for (Calibrator.Feed f : s) {
                for (int d = 0; d < f.dims().length; d++) {
                    max = Math.max(max, f.dims()[d]);
                }
            }
        }
        return max;
    }

    /**
     * Whether {@code samples} can run as one batch on an engine that batches on dimension 0 up to
     * {@code maxBatch} rows: each sample one row, and every input the same shape in each.
     */
    static boolean stackable(List<List<Calibrator.Feed>> samples, int maxBatch) {
        if (samples.size() < 2 || samples.size() > maxBatch) {
            return false;
        }
        List<Calibrator.Feed> first = samples.get(0);
        for (List<Calibrator.Feed> s : samples) {
            if (s.size() != first.size()) {
                return false;
            }
            for (int i = 0; i < s.size(); i++) {
                Calibrator.Feed f = s.get(i);
                if (!f.name().equals(first.get(i).name()) || f.dims().length == 0 || f.dims()[0] != 1 || !Arrays.equals(f.dims(), first.get(i).dims())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Writes {@code samples} into {@code b}: one sample as it is, several stacked on dimension 0 (see {@link #stackable}). */
    static void feed(Batch b, List<List<Calibrator.Feed>> samples) {
        List<Calibrator.Feed> first = samples.get(0);
        for (int i = 0; i < first.size(); i++) {
            Calibrator.Feed f = first.get(i);
            Tensor t = b.input(f.name());
            if (t.dtype().onnxCode() != f.elementType()) {
                throw HotpathException.invalidArgument("sample input '" + f.name() + "' has ONNX element type " + f.elementType() + ", the model's is "
                        + t.dtype() + " (" + t.dtype().onnxCode() + ")");
            }
            long[] dims = f.dims().clone();
            if (samples.size() > 1) {
                dims[0] = samples.size();
            }
            t.reshape(dims);
            long offset = 0;
            for (List<Calibrator.Feed> s : samples) {
                byte[] bytes = s.get(i).bytes();
                if (offset + bytes.length > t.byteSize()) {
                    throw HotpathException.invalidArgument("sample input '" + f.name() + "': " + bytes.length + " bytes do not match its shape "
                            + Arrays.toString(f.dims()));
                }
                MemorySegment.copy(bytes, 0, t.data(), ValueLayout.JAVA_BYTE, offset, bytes.length);
                offset += bytes.length;
            }
            if (offset != t.byteSize()) {
                throw HotpathException.invalidArgument("sample input '" + f.name() + "': " + offset + " bytes for shape " + Arrays.toString(dims)
                        + ", which takes " + t.byteSize());
            }
        }
    }

    /**
     * Row {@code r} of a run of {@code rows} stacked samples: each output's share of the row,
     * concatenated; null when an output's dimension 0 is not the row count (the rows cannot be told apart).
     */
    static float[] row(Batch b, int r, int rows) {
        long total = 0;
        for (int o = 0; o < b.outputCount(); o++) {
            Tensor t = b.output(o);
            if (rows > 1 && (t.rank() == 0 || t.dim(0) != rows)) {
                return null;
            }
            total += t.elementCount() / rows;
        }
        float[] out = new float[Math.toIntExact(total)];
        int k = 0;
        for (int o = 0; o < b.outputCount(); o++) {
            Tensor t = b.output(o);
            long per = t.elementCount() / rows;
            for (long i = r * per; i < (r + 1) * per; i++) {
                out[k++] = t.getAsFloat(i);
            }
        }
        return out;
    }
}
