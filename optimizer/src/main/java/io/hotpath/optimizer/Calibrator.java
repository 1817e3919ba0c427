package io.hotpath.optimizer;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.nativebindings.ort.RunArguments;
import io.hotpath.nativebindings.ort.RunOptionsHandle;
import io.hotpath.nativebindings.ort.SessionHandle;
import io.hotpath.nativebindings.ort.SessionOptionsHandle;
import io.hotpath.nativebindings.ort.ValueHandle;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs the float32 model on calibration inputs with the tensors to be quantized exposed as extra
 * outputs (ONNX Runtime allocates them, since their shapes are known only at run time) and
 * collects {@link CalibrationStats}: a first pass for the ranges, a second for the histograms.
 */
public final class Calibrator {
    /** One input tensor of one calibration sample: ONNX element type, dims and little-endian bytes. */
    public record Feed(String name, int elementType, long[] dims, byte[] bytes) {
    }

    private Calibrator() {
    }

    /** Statistics of {@code tensors} over {@code samples} (each sample one run; its feeds name every model input). */
    public static CalibrationStats collect(OnnxModel model, Set<String> tensors, List<List<Feed>> samples) {
        if (samples.isEmpty()) {
            throw HotpathException.invalidArgument("calibration needs at least one sample; the calibration set is empty");
        }
        checkFeeds(model, samples);
        CalibrationStats stats = new CalibrationStats();
        List<String> outs = new ArrayList<>(tensors);
        for (int pass = 0; pass < 2; pass++) {
            int p = pass;
            observe(model, outs, samples, (name, out) -> {
                if (out.elementType() != 1) {
                    throw HotpathException.invalidArgument("tensor '" + name + "' is not float32 (type " + out.elementType()
                            + "); only float tensors are calibrated");
                }
                update(stats.tensor(name), out.data(), p);
            });
        }
        return stats;
    }

    /**
     * Every sample feeds every model input (and nothing else) with its element type, rank and
     * fixed dimensions; the first mismatch is an INVALID_ARGUMENT naming the sample and the input.
     */
    static void checkFeeds(OnnxModel model, List<List<Feed>> samples) {
        Set<String> initializers = model.initializers().keySet();
        List<ValueInfoProto> inputs = model.graph().getInputList().stream().filter(v -> !initializers.contains(v.getName())).toList();
        for (int k = 0; k < samples.size(); k++) {
            java.util.Map<String, Feed> byName = new java.util.HashMap<>();
            for (Feed f : samples.get(k)) {
                byName.put(f.name(), f);
            }
            for (ValueInfoProto in : inputs) {
                Feed f = byName.remove(in.getName());
                if (f == null) {
                    throw HotpathException.invalidArgument("calibration sample " + k + " has no value for the model's input '" + in.getName() + "'");
                }
                var t = in.getType().getTensorType();
                if (t.getElemType() != f.elementType()) {
                    throw HotpathException.invalidArgument("calibration sample " + k + ", input '" + in.getName() + "': element type "
                            + f.elementType() + ", the model wants " + t.getElemType());
                }
                var dims = t.getShape().getDimList();
                boolean bad = t.hasShape() && dims.size() != f.dims().length;
                for (int d = 0; !bad && t.hasShape() && d < dims.size(); d++) {
                    bad = dims.get(d).hasDimValue() && dims.get(d).getDimValue() > 0 && dims.get(d).getDimValue() != f.dims()[d];
                }
                if (bad) {
                    throw HotpathException.invalidArgument("calibration sample " + k + ", input '" + in.getName() + "': shape "
                            + java.util.Arrays.toString(f.dims()) + " does not match the model's " + describe(dims));
                }
            }
            if (!byName.isEmpty()) {
                throw HotpathException.invalidArgument("calibration sample " + k + " feeds " + byName.keySet()
                        + ", which the model does not take; its inputs are " + inputs.stream().map(ValueInfoProto::getName).toList());
            }
        }
    }

    private static String describe(List<io.hotpath.onnx.proto.Onnx.TensorShapeProto.Dimension> dims) {
        return dims.stream().map(d -> d.hasDimValue() ? String.valueOf(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?")
                .toList().toString();
    }

    /** Runs {@code model} on each sample with {@code tensors} exposed and hands each one's value to {@code sink}. */
    static void observe(OnnxModel model, List<String> outs, List<List<Feed>> samples,
            java.util.function.BiConsumer<String, RunArguments.AllocatedOutput> sink) {
        var g = model.graph().toBuilder();
        Set<String> declared = new HashSet<>();
        model.graph().getOutputList().forEach(o -> declared.add(o.getName()));
        for (String t : outs) {
            if (!declared.contains(t)) {
                g.addOutput(ValueInfoProto.newBuilder().setName(t));
            }
        }
        byte[] bytes = model.proto().toBuilder().setGraph(g).build().toByteArray();
        try (SessionOptionsHandle o = new SessionOptionsHandle().graphOptimization(GraphOptimization.BASIC);
                SessionHandle s = SessionHandle.open(bytes, o);
                RunOptionsHandle ro = new RunOptionsHandle();
                Arena arena = Arena.ofConfined()) {
            for (List<Feed> sample : samples) {
                List<String> inNames = sample.stream().map(Feed::name).toList();
                List<ValueHandle> values = new ArrayList<>();
                try (RunArguments args = new RunArguments(inNames, outs)) {
                    for (int i = 0; i < sample.size(); i++) {
                        Feed f = sample.get(i);
                        MemorySegment m = arena.allocate(Math.max(1, f.bytes().length), 16);
                        MemorySegment.copy(f.bytes(), 0, m, ValueLayout.JAVA_BYTE, 0, f.bytes().length);
                        ValueHandle v = ValueHandle.tensor(m, f.bytes().length, f.dims(), f.dims().length, f.elementType());
                        values.add(v);
                        args.input(i, v);
                    }
                    s.run(ro, args);
                    for (int k = 0; k < outs.size(); k++) {
                        sink.accept(outs.get(k), args.allocatedOutput(k));
                    }
                    args.releaseAllocatedOutputs();
                } finally {
                    values.forEach(ValueHandle::close);
                }
            }
        }
    }

    private static void update(CalibrationStats.Tensor t, MemorySegment data, int pass) {
        long n = data.byteSize() / 4;
        if (pass == 0) {
            double min = t.min;
            double max = t.max;
            for (long i = 0; i < n; i++) {
                float v = data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            t.min = min;
            t.max = max;
            t.absMax = Math.max(Math.abs(min), Math.abs(max));
            t.count += n;
            return;
        }
        if (t.absMax == 0) {
            return;
        }
        double scale = CalibrationStats.BINS / t.absMax;
        long[] h = t.hist;
        for (long i = 0; i < n; i++) {
            int b = (int) (Math.abs(data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)) * scale);
            h[Math.min(CalibrationStats.BINS - 1, b)]++;
        }
    }
}
