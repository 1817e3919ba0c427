package io.hotpath.engine.cpu;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.nativebindings.ort.RunArguments;
import io.hotpath.nativebindings.ort.ValueHandle;

/**
 * One batch's native state in one engine: the run arguments (tensor names and values as native
 * arrays, bound once), and for each tensor the values made so far, one per shape seen (up to {@link #SHAPES_PER_TENSOR},
 * oldest replaced first). A run whose shapes were seen before binds nothing new and allocates nothing.
 */
final class BatchBinding {
    /** Distinct shapes remembered per tensor (for example batch sizes 1..8 at one sequence length). */
    static final int SHAPES_PER_TENSOR = 16;

    final Tensor[] inputs;           // by model input index
    final Tensor[] outputs;          // by batch output index
    final int[] outputModelIndex;    // model output index of each batch output
    final RunArguments runArguments;
    final long[] scratch = new long[64];
    private final ShapeValues[] inputValues;
    private final ShapeValues[] outputValues;

    /** For each model input that is a string tensor: its per-run ONNX Runtime value; else null. */
    private final StringInput[] stringInputs;
    /** For each batch output: its attached memory's view, or null when preallocated. */
    private final EngineOutput[] engineOutputs;

    BatchBinding(Batch batch, int[] batchIndexOfModelInput, int[] outputModelIndex, boolean[] engineAllocated) {
        this.inputs = new Tensor[batchIndexOfModelInput.length];
        for (int m = 0; m < inputs.length; m++) {
            inputs[m] = batch.input(batchIndexOfModelInput[m]);
        }
        this.outputs = new Tensor[batch.outputCount()];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = batch.output(i);
        }
        this.outputModelIndex = outputModelIndex;
        java.util.List<String> inNames = new java.util.ArrayList<>();
        for (Tensor t : inputs) {
            inNames.add(t.name());
        }
        java.util.List<String> outNames = new java.util.ArrayList<>();
        for (Tensor t : outputs) {
            outNames.add(t.name());
        }
        this.runArguments = new RunArguments(inNames, outNames);
        this.inputValues = new ShapeValues[inputs.length];
        this.stringInputs = new StringInput[inputs.length];
        for (int m = 0; m < inputs.length; m++) {
            if (inputs[m].dtype() == io.hotpath.core.DType.STRING) {
                stringInputs[m] = new StringInput(inputs[m]);
            } else {
                inputValues[m] = new ShapeValues(inputs[m]);
            }
        }
        this.outputValues = new ShapeValues[outputs.length];
        this.engineOutputs = new EngineOutput[outputs.length];
        for (int i = 0; i < outputs.length; i++) {
            if (engineAllocated[i]) {
                engineOutputs[i] = new EngineOutput(outputs[i]);
            } else {
                outputValues[i] = new ShapeValues(outputs[i]);
            }
        }
    }

    /**
     * Before a run: detaches every engine-allocated output and frees the value ONNX Runtime made
     * for it on the last run, leaving its slot empty so this run allocates it again.
     */
    void releaseEngineOutputs() {
        for (int i = 0; i < engineOutputs.length; i++) {
            if (engineOutputs[i] != null) {
                outputs[i].detach();
                runArguments.releaseOutput(i);
            }
        }
    }

    /** After a failed run: closes the scopes of the views over the freed outputs (a kept view then throws). */
    void invalidateEngineOutputs() {
        for (EngineOutput e : engineOutputs) {
            if (e != null) {
                e.close();
            }
        }
    }

    /** After a run: attaches every engine-allocated output to the memory ONNX Runtime allocated for it. */
    void attachEngineOutputs() {
        for (int i = 0; i < engineOutputs.length; i++) {
            EngineOutput e = engineOutputs[i];
            if (e != null) {
                runArguments.readOutput(i, e.view);
                if (e.tensor.dtype() == io.hotpath.core.DType.STRING) {
                    e.attachStrings(runArguments, i);
                } else {
                    e.attach();
                }
            }
        }
    }

    /** Binds, for every tensor, the value of its current shape, if that is not already bound. */
    void bindCurrentShapes() {
        for (int i = 0; i < inputValues.length; i++) {
            ShapeValues v = inputValues[i];
            if (v == null) {
                runArguments.input(i, stringInputs[i].fill());      // strings are copied into ONNX Runtime's value every run
                continue;
            }
            ValueHandle h = v.current();
            if (h != v.bound) {
                runArguments.input(i, h);
                v.bound = h;
            }
        }
        for (int i = 0; i < outputValues.length; i++) {
            ShapeValues v = outputValues[i];
            if (v == null) {
                continue;       // engine-allocated: the slot stays empty for ONNX Runtime to fill
            }
            ValueHandle h = v.current();
            if (h != v.bound) {
                runArguments.output(i, h);
                v.bound = h;
            }
        }
    }

    void close() {
        for (int i = 0; i < engineOutputs.length; i++) {
            if (engineOutputs[i] != null) {
                outputs[i].detach();
                runArguments.releaseOutput(i);
                engineOutputs[i].close();
            }
        }
        runArguments.close();
        for (ShapeValues v : inputValues) {
            if (v != null) {
                v.close();
            }
        }
        for (StringInput v : stringInputs) {
            if (v != null) {
                v.close();
            }
        }
        for (ShapeValues v : outputValues) {
            if (v != null) {
                v.close();
            }
        }
    }

    /**
     * One engine-allocated output: where ONNX Runtime put it on the last run, and the segment over
     * that memory. The segment belongs to a shared arena that is closed as soon as ONNX Runtime
     * hands back a different address or size, so a view kept from an earlier run fails with
     * {@link IllegalStateException} instead of reading freed memory. With the same address and
     * size, as ONNX Runtime's arena gives a repeating shape, the segment is reused: no allocation.
     */
    private static final class EngineOutput {
        final Tensor tensor;
        final RunArguments.OutputView view = new RunArguments.OutputView();
        private java.lang.foreign.Arena scope;
        private java.lang.foreign.MemorySegment segment;
        private long address;

        EngineOutput(Tensor tensor) {
            this.tensor = tensor;
        }

        @SuppressWarnings("restricted")     // reinterpret: ONNX Runtime vouches for the extent; the scope closes before a stale view could read freed memory
        void attach() {
            long bytes = tensor.dtype().byteSize();
            for (int d = 0; d < view.rank; d++) {
                bytes = Math.multiplyExact(bytes, view.dims[d]);
            }
            if (segment == null || view.address != address || segment.byteSize() != bytes) {
                close();
                scope = java.lang.foreign.Arena.ofShared();
                segment = java.lang.foreign.MemorySegment.ofAddress(view.address).reinterpret(bytes, scope, null);
                address = view.address;
            }
            tensor.attach(segment, view.dims, view.rank);
        }

        void close() {
            if (scope != null) {
                scope.close();
                scope = null;
                segment = null;
            }
            if (stringScope != null) {
                stringScope.close();
                stringScope = null;
            }
        }

        // a string output is copied out of ONNX Runtime's string objects into memory this binding owns
        private java.lang.foreign.Arena stringScope;
        private java.lang.foreign.MemorySegment raw;
        private java.lang.foreign.MemorySegment offsets;
        private java.lang.foreign.MemorySegment table;
        private java.lang.foreign.MemorySegment tableView;
        private java.lang.foreign.MemorySegment text;

        /**
         * Copies string output {@code index} into this output's memory as Tensor's records
         * ([int32 length][UTF-8][NUL], one table entry each) and attaches the tensor. The memory is
         * reused run after run and replaced (its old scope closed) only when a run needs more.
         */
        void attachStrings(RunArguments args, int index) {
            long elements = 1;
            for (int d = 0; d < view.rank; d++) {
                elements = Math.multiplyExact(elements, view.dims[d]);
            }
            long bytes = args.stringBytes(index);
            long textBytes = Math.addExact(bytes, Math.multiplyExact(elements, 5));
            if (raw == null || raw.byteSize() < bytes || table.byteSize() < elements * 8 || text.byteSize() < textBytes) {
                close();
                tableView = null;
                stringScope = java.lang.foreign.Arena.ofShared();
                long e = Math.max(16, elements * 2);
                raw = stringScope.allocate(Math.max(256, bytes * 2), 8);
                offsets = stringScope.allocate(e * 8, 8);
                table = stringScope.allocate(e * 8, 8);
                text = stringScope.allocate(Math.max(256, bytes * 2) + e * 5, 8);
            }
            args.stringContent(index, raw, bytes, offsets, elements);
            long used = 0;
            for (long k = 0; k < elements; k++) {
                long start = offsets.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, k);
                long end = k + 1 < elements ? offsets.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, k + 1) : bytes;
                int len = (int) (end - start);
                text.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, used, len);
                java.lang.foreign.MemorySegment.copy(raw, start, text, used + 4, len);
                text.set(java.lang.foreign.ValueLayout.JAVA_BYTE, used + 4 + len, (byte) 0);
                table.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, k, used + 1);
                used += 4L + len + 1;
            }
            if (tableView == null || tableView.byteSize() != elements * 8) {
                tableView = table.asSlice(0, elements * 8);     // a new view only when the element count changes
            }
            tensor.attachStrings(tableView, text, used, view.dims, view.rank);
        }
    }

    /**
     * A string input: ONNX Runtime's string tensor for the current shape (made again when the
     * shape changes) and the array of addresses it is filled from. Each run validates the table
     * (every element set, inside the text written) before handing ONNX Runtime any address.
     */
    private static final class StringInput {
        final Tensor tensor;
        private final java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofShared();
        private final java.lang.foreign.MemorySegment pointers;
        private final long[] dims = new long[64];
        private int rank = -1;
        private ValueHandle value;

        StringInput(Tensor tensor) {
            this.tensor = tensor;
            this.pointers = scope.allocate(Math.max(8, tensor.capacityElements() * 8), 8);
        }

        ValueHandle fill() {
            boolean same = rank == tensor.rank();
            for (int d = 0; d < tensor.rank() && same; d++) {
                same = dims[d] == tensor.dim(d);
            }
            if (!same) {
                if (value != null) {
                    value.close();
                    value = null;
                }
                rank = tensor.shapeInto(dims);
                value = ValueHandle.strings(dims, rank);
            }
            long n = tensor.elementCount();
            java.lang.foreign.MemorySegment table = tensor.data();
            java.lang.foreign.MemorySegment text = tensor.text();
            long used = tensor.textUsed();
            for (long k = 0; k < n; k++) {
                long entry = table.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, k * 8) - 1;
                int len = entry >= 0 && entry + 4 <= used ? text.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, entry) : -1;
                if (len < 0 || entry + 4 + len >= used || text.get(java.lang.foreign.ValueLayout.JAVA_BYTE, entry + 4 + len) != 0) {
                    throw io.hotpath.core.HotpathException.invalidArgument("input '" + tensor.name() + "': string element " + k
                            + (entry < 0 ? " is not set (putString every element of the current shape)" : " is corrupt"));
                }
                pointers.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, k, text.address() + entry + 4);
            }
            value.fillStrings(pointers, n);
            return value;
        }

        void close() {
            if (value != null) {
                value.close();
            }
            scope.close();
        }
    }

    /** The values made for one tensor, keyed by shape. */
    private static final class ShapeValues {
        final Tensor tensor;
        final long[][] shapes = new long[SHAPES_PER_TENSOR][];
        final ValueHandle[] values = new ValueHandle[SHAPES_PER_TENSOR];
        int count;
        int nextVictim;
        ValueHandle bound;

        ShapeValues(Tensor tensor) {
            this.tensor = tensor;
        }

        ValueHandle current() {
            if (!tensor.data().scope().isAlive()) {
                throw new IllegalStateException("the memory of tensor '" + tensor.name() + "' has been freed (its arena is closed)");
            }
            int rank = tensor.rank();
            for (int i = 0; i < count; i++) {
                long[] s = shapes[i];
                boolean same = true;
                for (int d = 0; d < rank && same; d++) {
                    same = s[d] == tensor.dim(d);
                }
                if (same) {
                    return values[i];
                }
            }
            return add(rank);
        }

        private ValueHandle add(int rank) {
            long[] dims = tensor.shape();
            ValueHandle v = ValueHandle.tensor(tensor.data(), tensor.byteSize(), dims, rank, tensor.dtype().onnxCode());
            int slot;
            if (count < SHAPES_PER_TENSOR) {
                slot = count++;
            } else {
                slot = nextVictim;
                if (values[slot] == bound) {
                    slot = (slot + 1) % SHAPES_PER_TENSOR;
                }
                nextVictim = (slot + 1) % SHAPES_PER_TENSOR;
                values[slot].close();    // never the bound one: see the check above
            }
            shapes[slot] = dims;
            values[slot] = v;
            return v;
        }

        void close() {
            for (int i = 0; i < count; i++) {
                values[i].close();
            }
        }
    }
}
