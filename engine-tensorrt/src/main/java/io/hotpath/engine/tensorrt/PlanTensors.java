package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import io.hotpath.nativebindings.cuda.CudaStream;
import io.hotpath.nativebindings.trt.TrtContext;
import io.hotpath.nativebindings.trt.TrtLog;
import io.hotpath.nativebindings.trt.TrtPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plan's inputs and outputs and the largest shape each takes over all optimization profiles:
 * what every batch's host and device buffers are sized for. Inputs' largest shapes come from the
 * profiles; outputs' are asked of TensorRT, with each profile's context set to its max input
 * shapes (a throwaway stream and contexts, freed before {@link #of} returns).
 *
 * @param inputCapacity  each input's largest shape, by model input index
 * @param outputCapacity each output's largest shape, by model output index
 * @param maxBatch       the largest first dimension of an input whose first dimension is dynamic (1 if none)
 */
record PlanTensors(List<TensorSpec> inputs, List<TensorSpec> outputs, String[] inputNames, long[][] inputCapacity,
                   long[][] outputCapacity, int maxBatch) {

    static PlanTensors of(TrtPlan plan, List<ShapeProfiles.Profile> profiles) {
        List<TensorSpec> in = new ArrayList<>();
        List<TensorSpec> out = new ArrayList<>();
        for (TrtPlan.IoTensor t : plan.io()) {
            (t.input() ? in : out).add(new TensorSpec(t.name(), t.dtype(), Shape.of(t.dims())));
        }
        List<TensorSpec> inputs = List.copyOf(in);
        List<TensorSpec> outputs = List.copyOf(out);
        String[] inputNames = in.stream().map(TensorSpec::name).toArray(String[]::new);
        long[][] inputCapacity = new long[in.size()][];
        int mb = 1;
        for (int i = 0; i < in.size(); i++) {
            inputCapacity[i] = ShapeProfiles.maxShape(profiles, inputNames[i]);
            if (in.get(i).shape().rank() > 0 && in.get(i).shape().isDynamic(0)) {
                mb = (int) Math.max(mb, inputCapacity[i][0]);
            }
        }
        long[][] outputCapacity = outputCapacities(plan, profiles, inputNames, outputs);
        return new PlanTensors(inputs, outputs, inputNames, inputCapacity, outputCapacity, mb);
    }

    /** Bytes of input {@code i} at its largest shape. */
    long inputBytes(int i) {
        return bytes(inputs.get(i), inputCapacity[i]);
    }

    /** Bytes of output {@code o} at its largest shape. */
    long outputBytes(int o) {
        return bytes(outputs.get(o), outputCapacity[o]);
    }

    private static long bytes(TensorSpec spec, long[] dims) {
        long n = spec.dtype().byteSize();
        for (long d : dims) {
            n = Math.multiplyExact(n, Math.max(1, d));
        }
        return n;
    }

    /** Each output's largest shape over all profiles at their max input shapes. */
    private static long[][] outputCapacities(TrtPlan plan, List<ShapeProfiles.Profile> profiles, String[] inputNames,
                                             List<TensorSpec> outputs) {
        long[][] cap = new long[outputs.size()][];
        try (CudaStream stream = new CudaStream()) {
            for (int p = 0; p < profiles.size(); p++) {
                try (TrtContext ctx = plan.newContext(p, stream)) {
                    for (int i = 0; i < inputNames.length; i++) {
                        long[] max = profiles.get(p).range(inputNames[i]).max();
                        try (TrtContext.Name n = new TrtContext.Name(inputNames[i])) {
                            if (!ctx.setInputShape(n, max, max.length)) {
                                throw new HotpathException(Category.ENGINE_FAILURE, "setInputShape(" + inputNames[i] + ", "
                                        + Arrays.toString(max) + ") failed: " + TrtLog.errorsSince(Math.max(0, TrtLog.mark() - 2)));
                            }
                        }
                    }
                    for (int o = 0; o < outputs.size(); o++) {
                        long[] s = ctx.tensorShape(outputs.get(o).name());
                        if (cap[o] == null) {
                            cap[o] = s;
                        } else {
                            for (int d = 0; d < s.length; d++) {
                                cap[o][d] = Math.max(cap[o][d], s[d]);
                            }
                        }
                    }
                }
            }
        }
        return cap;
    }
}
