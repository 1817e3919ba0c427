package io.hotpath.engine.tensorrt;

import io.hotpath.core.Batch;
import io.hotpath.core.BatchMatch;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.nativebindings.cuda.CudaGraph;
import io.hotpath.nativebindings.cuda.CudaStream;
import io.hotpath.nativebindings.cuda.DeviceMemory;
import io.hotpath.nativebindings.cuda.HostRegion;
import io.hotpath.nativebindings.cuda.PinnedMemory;
import io.hotpath.nativebindings.trt.TrtContext;
import io.hotpath.nativebindings.trt.TrtLog;
import io.hotpath.nativebindings.trt.TrtPlan;
import java.util.Arrays;
import java.util.List;

/**
 * Everything one batch owns on the GPU side: a CUDA stream, device buffers for every input and
 * output, the binding names, and per optimization profile a {@link ContextSlot} made on first use.
 * The batch's tensors lie in pinned host memory (its own, or the caller's), so {@link #run()}
 * copies straight between them and the device buffers.
 *
 * <p>{@link #close()} frees, in this order: each slot's graphs and context, the stream, the device
 * buffers, the binding names, and the pinned memory it was given. A batch must not be run by two
 * threads at once.
 */
final class BatchState {
    private static final System.Logger LOG = System.getLogger("io.hotpath.tensorrt");
    private static final int MAX_GRAPHS_PER_CONTEXT = 16;

    private final TrtPlan plan;
    private final List<ShapeProfiles.Profile> profiles;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final String[] inputNames;
    private final boolean cudaGraphs;
    private final Batch batch;
    private final PinnedMemory[] pinned;
    private final Tensor[] in;            // by model input index
    private final Tensor[] out;           // by batch output index
    private final int[] outModelIndex;    // batch output -> model output
    private final HostRegion[] hostIn;
    private final HostRegion[] hostOut;
    private final DeviceMemory[] devIn;
    private final DeviceMemory[] devOut;  // by model output index
    private final TrtContext.Name[] inNames;
    private final TrtContext.Name[] outNames;
    private final CudaStream stream;
    private final ContextSlot[] slots;
    private final long[][] shapes;
    private final int[] ranks;

    /**
     * Allocates the stream, device buffers and binding names for {@code batch}; when an allocation
     * fails, frees what it made and {@code pinned} (the batch's own pinned memory, or null when the
     * caller owns the tensors' memory).
     */
    BatchState(TrtPlan plan, List<ShapeProfiles.Profile> profiles, PlanTensors tensors, boolean cudaGraphs, Batch batch,
               PinnedMemory[] pinned) {
        this.plan = plan;
        this.profiles = profiles;
        this.inputs = tensors.inputs();
        this.outputs = tensors.outputs();
        this.inputNames = tensors.inputNames();
        this.cudaGraphs = cudaGraphs;
        this.batch = batch;
        this.pinned = pinned;
        int[] inputIndex = BatchMatch.inputs(inputs, batch);
        this.in = new Tensor[inputs.size()];
        for (int m = 0; m < in.length; m++) {
            in[m] = batch.input(inputIndex[m]);
        }
        this.outModelIndex = BatchMatch.outputs(outputs, batch);
        this.out = new Tensor[batch.outputCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = batch.output(i);
        }
        this.hostIn = new HostRegion[in.length];
        this.hostOut = new HostRegion[out.length];
        this.devIn = new DeviceMemory[in.length];
        this.devOut = new DeviceMemory[outputs.size()];
        this.inNames = new TrtContext.Name[in.length];
        this.outNames = new TrtContext.Name[outputs.size()];
        this.slots = new ContextSlot[profiles.size()];
        this.shapes = new long[in.length][8];
        this.ranks = new int[in.length];
        CudaStream st = null;
        try {
            st = new CudaStream();
            for (int i = 0; i < in.length; i++) {
                hostIn[i] = HostRegion.of(in[i].data());
                devIn[i] = new DeviceMemory(Math.max(tensors.inputBytes(i), in[i].data().byteSize()));
                inNames[i] = new TrtContext.Name(inputs.get(i).name());
            }
            for (int i = 0; i < out.length; i++) {
                hostOut[i] = HostRegion.of(out[i].data());
            }
            for (int o = 0; o < outputs.size(); o++) {
                devOut[o] = new DeviceMemory(tensors.outputBytes(o));
                outNames[o] = new TrtContext.Name(outputs.get(o).name());
            }
        } catch (RuntimeException e) {
            if (st != null) {
                st.close();
            }
            freeBuffers();
            throw e;
        }
        this.stream = st;
    }

    void run() {
        for (int i = 0; i < in.length; i++) {
            Tensor t = in[i];
            int rank = t.rank();
            if (rank > shapes[i].length) {
                throw HotpathException.invalidArgument("input '" + t.name() + "' has rank " + rank + "; at most 8 is supported");
            }
            ranks[i] = t.shapeInto(shapes[i]);
            if (rank > 0 && inputs.get(i).shape().isDynamic(0) && i > 0 && inputs.get(0).shape().rank() > 0
                    && inputs.get(0).shape().isDynamic(0) && shapes[i][0] != shapes[0][0]) {
                throw HotpathException.invalidArgument("input '" + t.name() + "': batch " + shapes[i][0] + " but input '"
                        + in[0].name() + "' has batch " + shapes[0][0]);
            }
        }
        int p = ShapeProfiles.select(profiles, inputNames, shapes, ranks);
        if (p < 0) {
            throw ShapeProfiles.noProfile(profiles, inputNames, shapes, ranks);
        }
        ContextSlot slot = slots[p];
        if (slot == null) {
            slot = newSlot(p);
        }
        boolean changed = !slot.sameShapes(shapes, ranks);
        if (changed) {
            applyShapes(slot);
        }
        for (int i = 0; i < out.length; i++) {
            long[] s = slot.outShapes[outModelIndex[i]];
            reshape(out[i], s);
        }
        for (int i = 0; i < in.length; i++) {
            stream.copyToDevice(devIn[i], hostIn[i], in[i].byteSize());
        }
        if (cudaGraphs && !slot.graphsFailed) {
            CudaGraph g = slot.graph();
            if (g != null) {
                g.launch(stream);
            } else {
                slot.ctx.enqueue();              // this run's answer; TensorRT also needs it after a shape change before capture
                if (slot.graphs.size() < MAX_GRAPHS_PER_CONTEXT) {
                    capture(slot);
                }
            }
        } else {
            slot.ctx.enqueue();
        }
        for (int i = 0; i < out.length; i++) {
            stream.copyToHost(hostOut[i], devOut[outModelIndex[i]], out[i].byteSize());
        }
        stream.synchronize();
    }

    /** Captures the context's enqueue for the current shapes; a failed capture turns graphs off for this slot, with a warning. */
    private void capture(ContextSlot slot) {
        CudaGraph g = null;
        RuntimeException failure = null;
        stream.beginCapture();
        try {
            slot.ctx.enqueue();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            g = stream.endCapture();
        } catch (RuntimeException e) {
            failure = failure == null ? e : failure;
        }
        if (failure != null || g == null) {
            slot.graphsFailed = true;
            LOG.log(System.Logger.Level.WARNING, "CUDA graph capture failed (" + (failure == null ? "no graph" : failure.getMessage())
                    + "); this context runs without graphs");
            return;
        }
        slot.graphKeys.add(slot.graphKey());
        slot.graphs.add(g);
    }

    private ContextSlot newSlot(int p) {
        TrtContext ctx = plan.newContext(p, stream);
        for (int i = 0; i < in.length; i++) {
            ctx.setTensorAddress(inNames[i], devIn[i]);
        }
        for (int o = 0; o < outputs.size(); o++) {
            ctx.setTensorAddress(outNames[o], devOut[o]);
        }
        ContextSlot s = new ContextSlot(ctx, inputs.size(), outputs.size());
        slots[p] = s;
        return s;
    }

    private void applyShapes(ContextSlot slot) {
        long mark = TrtLog.mark();
        for (int i = 0; i < in.length; i++) {
            if (!slot.ctx.setInputShape(inNames[i], shapes[i], ranks[i])) {
                slot.shaped = false;
                throw HotpathException.invalidArgument("input '" + inputs.get(i).name() + "': shape "
                        + Shape.format(shapes[i], ranks[i]) + " rejected by TensorRT: " + TrtLog.errorsSince(mark));
            }
        }
        for (int o = 0; o < outputs.size(); o++) {
            long[] s = slot.ctx.tensorShape(outputs.get(o).name());
            for (long d : s) {
                if (d < 0) {
                    slot.shaped = false;
                    throw HotpathException.invalidArgument("output '" + outputs.get(o).name() + "' has no definite shape for inputs "
                            + Arrays.toString(inputNames) + "; are the inputs' shared dimensions equal? " + TrtLog.errorsSince(mark));
                }
            }
            slot.outShapes[o] = s;
        }
        for (int i = 0; i < in.length; i++) {
            slot.ranks[i] = ranks[i];
            System.arraycopy(shapes[i], 0, slot.shapes[i], 0, ranks[i]);
        }
        slot.shaped = true;
    }

    void close() {
        for (ContextSlot s : slots) {
            if (s != null) {
                s.close();
            }
        }
        stream.close();
        freeBuffers();
    }

    private void freeBuffers() {
        for (DeviceMemory d : devIn) {
            if (d != null) {
                d.close();
            }
        }
        for (DeviceMemory d : devOut) {
            if (d != null) {
                d.close();
            }
        }
        for (TrtContext.Name b : inNames) {
            if (b != null) {
                b.close();
            }
        }
        for (TrtContext.Name b : outNames) {
            if (b != null) {
                b.close();
            }
        }
        if (pinned != null) {
            for (PinnedMemory m : pinned) {
                if (m != null) {
                    m.close();
                }
            }
        }
    }

    private static void reshape(Tensor t, long[] dims) {
        boolean same = t.rank() == dims.length;
        for (int d = 0; same && d < dims.length; d++) {
            same = t.dim(d) == dims[d];
        }
        if (!same) {
            t.reshape(dims);
        }
    }
}
