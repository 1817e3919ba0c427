package io.hotpath.serve;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.DType;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.serve.proto.InferParameter;
import io.hotpath.serve.proto.InferTensorContents;
import io.hotpath.serve.proto.ModelInferRequest;
import io.hotpath.serve.proto.ModelInferResponse;
import io.netty.util.concurrent.EventExecutor;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * {@code ModelInfer}: the gRPC twin of {@link HttpInferHandler}'s infer, with the same checks, the
 * same one-line reasons and the same {@link InferCall} life. The request's tensors are copied from
 * {@code raw_input_contents} (or, element by element, from the typed contents) straight into the
 * call's pooled row slots; the answer is {@code raw_output_contents} copied from the output rows.
 * Runs on the event loop that read the request (the server's executor is direct) and answers there
 * too, so the batcher thread only hands the finished call over. Every accepted call is answered
 * exactly once, unless the client cancelled it or its deadline passed (gRPC has answered it then),
 * and its {@link InferCall} is released exactly once.
 */
final class GrpcInferHandler {
    private static final Runnable IGNORE_CANCEL = () -> { };
    /** The request's dimensions while {@link InferCall#declare} reads them (it keeps none): one array per event loop. */
    private static final ThreadLocal<long[]> SHAPE = ThreadLocal.withInitial(() -> new long[Shape.MAX_RANK]);
    /** outputIndex for a request that names no outputs: every output in order, shared. */
    private static final int[][] ALL_OUTPUTS = new int[16][];

    static {
        for (int n = 0; n < ALL_OUTPUTS.length; n++) {
            ALL_OUTPUTS[n] = new int[n];
            for (int o = 0; o < n; o++) {
                ALL_OUTPUTS[n][o] = o;
            }
        }
    }

    private final ModelRegistry registry;
    private final ServerInfo info;
    private final EventExecutor[] loops;

    GrpcInferHandler(ModelRegistry registry, ServerInfo info, Iterable<EventExecutor> loops) {
        this.registry = registry;
        this.info = info;
        java.util.List<EventExecutor> l = new java.util.ArrayList<>();
        loops.forEach(l::add);
        this.loops = l.toArray(new EventExecutor[0]);
    }

    void infer(ModelInferRequest req, StreamObserver<ModelInferResponse> out) {
        ServerCallStreamObserver<ModelInferResponse> obs = (ServerCallStreamObserver<ModelInferResponse>) out;
        obs.setOnCancelHandler(IGNORE_CANCEL);      // a cancelled call's answer is dropped in answer(), not thrown
        ServedModel model = registry.find(req.getModelName(), req.getModelVersion());
        if (model == null) {
            obs.onError(GrpcTransport.modelNotFound(registry, req.getModelName(), req.getModelVersion()));
            return;
        }
        Pending p = new Pending(this, obs, req.getId(), currentLoop());
        String err = precheck(req);
        if (err != null) {
            refuse(model, obs, false, err);
            return;
        }
        long timeoutMicros = timeoutMicros(req);
        if (timeoutMicros < -1) {
            refuse(model, obs, false, "parameter \"timeout\" must be a non-negative integer (microseconds)");
            return;
        }
        InferCall call = model.newCall();
        try {
            for (int k = 0; k < req.getInputsCount(); k++) {
                ModelInferRequest.InferInputTensor in = req.getInputs(k);
                int rank = in.getShapeCount();
                long[] shape = SHAPE.get();
                for (int d = 0; d < Math.min(rank, shape.length); d++) {
                    shape[d] = in.getShape(d);
                }
                err = call.declare(in.getName(), in.getDatatype(), shape, rank);
                if (err != null) {
                    call.release();
                    refuse(model, obs, false, err);
                    return;
                }
            }
            err = p.selectOutputs(req, call);
            if (err != null) {
                call.release();
                refuse(model, obs, false, err);
                return;
            }
            int prepared = call.prepare();
            if (prepared != InferCall.OK) {
                boolean busy = prepared == InferCall.BUSY;
                String why = busy ? "model '" + model.name() + "' is at capacity (" + model.slots() + " rows in flight); retry later"
                        : call.reason();
                call.release();
                refuse(model, obs, busy, why);
                return;
            }
            err = fill(call, req);
            if (err != null) {
                call.release();
                refuse(model, obs, false, err);
                return;
            }
            long deadline = deadlineNanos(timeoutMicros, model);
            if (deadline != 0) {
                call.deadlineNanos(deadline);
            }
        } catch (RuntimeException | Error t) {
            call.release();
            throw t;
        }
        p.call = call;
        call.submit(p, p.loop);
    }

    /** The event loop running this handler, where the answer is written; null when called from elsewhere. */
    private EventExecutor currentLoop() {
        for (EventExecutor e : loops) {
            if (e.inEventLoop()) {
                return e;
            }
        }
        return null;
    }

    /** What is wrong with the request as a whole, before any model slot is claimed; null when nothing. */
    private static String precheck(ModelInferRequest req) {
        int raw = req.getRawInputContentsCount();
        if (raw == 0) {
            return null;
        }
        if (raw != req.getInputsCount()) {
            return "raw_input_contents has " + raw + " entries; the request has " + req.getInputsCount() + " inputs";
        }
        for (int k = 0; k < req.getInputsCount(); k++) {
            if (req.getInputs(k).hasContents()) {
                return "input '" + req.getInputs(k).getName() + "' has both contents and raw_input_contents";
            }
        }
        return null;
    }

    /** The request's {@code timeout} parameter in microseconds: -1 when absent, -2 when not a non-negative int64. */
    private static long timeoutMicros(ModelInferRequest req) {
        InferParameter t = req.getParametersMap().get("timeout");
        if (t == null) {
            return -1;
        }
        if (t.getParameterChoiceCase() == InferParameter.ParameterChoiceCase.INT64_PARAM && t.getInt64Param() >= 0) {
            return t.getInt64Param();
        }
        if (t.getParameterChoiceCase() == InferParameter.ParameterChoiceCase.UINT64_PARAM && t.getUint64Param() >= 0) {
            return t.getUint64Param();
        }
        return -2;
    }

    /**
     * The call's deadline: the earlier of the gRPC deadline and the {@code timeout} parameter
     * (0: none), or the model's default when the request has neither.
     */
    private static long deadlineNanos(long timeoutMicros, ServedModel model) {
        long now = System.nanoTime();
        long within = timeoutMicros > 0 ? Math.min(timeoutMicros, Long.MAX_VALUE / 4000) * 1000 : 0;
        Deadline d = Context.current().getDeadline();
        if (d != null) {
            long left = Math.min(d.timeRemaining(TimeUnit.NANOSECONDS), Long.MAX_VALUE / 4);
            within = within == 0 ? left : Math.min(within, left);
            if (within <= 0) {
                return now + Math.min(-1, within);      // already past: answered TIMEOUT without running
            }
        }
        if (within == 0) {
            within = model.requestTimeoutNanos();
        }
        return within > 0 ? now + within : 0;
    }

    /** Copies every input into the call's rows. Returns null or a reason for INVALID_ARGUMENT. */
    private static String fill(InferCall call, ModelInferRequest req) {
        int rows = call.rows();
        boolean raw = req.getRawInputContentsCount() > 0;
        for (int k = 0; k < req.getInputsCount(); k++) {
            ModelInferRequest.InferInputTensor in = req.getInputs(k);
            int i = call.inputIndex(in.getName());
            long rowBytes = call.inputRowBytes(i);
            String err;
            if (raw) {
                err = fillRaw(call, i, in, req.getRawInputContents(k), rows, rowBytes);
            } else if (in.hasContents()) {
                err = fillTyped(call, i, in, in.getContents(), rows);
            } else {
                err = "input '" + in.getName() + "' has no contents and the request no raw_input_contents";
            }
            if (err != null) {
                return err;
            }
        }
        return null;
    }

    private static String fillRaw(InferCall call, int i, ModelInferRequest.InferInputTensor in, ByteString bytes, int rows, long rowBytes) {
        long want = rowBytes * rows;
        if (bytes.size() != want) {
            return "input '" + in.getName() + "' has " + bytes.size() + " bytes in raw_input_contents; shape " + format(in) + " of "
                    + in.getDatatype() + " takes " + want + " bytes";
        }
        if (rows == 1) {
            bytes.copyTo(call.input(i, 0).data().asSlice(0, rowBytes).asByteBuffer());
            return null;
        }
        int n = (int) rowBytes;
        for (int r = 0; r < rows; r++) {
            bytes.substring(r * n, (r + 1) * n).copyTo(call.input(i, r).data().asSlice(0, rowBytes).asByteBuffer());
        }
        return null;
    }

    private static String fillTyped(InferCall call, int i, ModelInferRequest.InferInputTensor in, InferTensorContents c, int rows) {
        if (c.getBytesContentsCount() > 0) {
            return "input '" + in.getName() + "': string elements (BYTES) are not supported; every model input here is numeric";
        }
        Tensor t0 = call.input(i, 0);
        DType dt = t0.dtype();
        Field field = Field.of(dt);
        if (field == null) {
            return "input '" + in.getName() + "' of datatype " + in.getDatatype() + " has no typed contents field; send it in raw_input_contents";
        }
        int have = field.count(c);
        int all = c.getBoolContentsCount() + c.getIntContentsCount() + c.getInt64ContentsCount() + c.getUintContentsCount()
                + c.getUint64ContentsCount() + c.getFp32ContentsCount() + c.getFp64ContentsCount();
        if (all != have) {
            return "input '" + in.getName() + "' of datatype " + in.getDatatype() + " has elements outside " + field.proto
                    + ", the field of its datatype";
        }
        long rowElems = t0.elementCount();
        long want = rowElems * rows;
        if (have != want) {
            return "input '" + in.getName() + "' has " + have + " elements in " + field.proto + "; shape " + format(in) + " takes " + want;
        }
        int n = 0;
        for (int r = 0; r < rows; r++) {
            MemorySegment dst = call.input(i, r).data();
            for (long e = 0; e < rowElems; e++, n++) {
                String bad = field.put(c, n, dst, e, dt);
                if (bad != null) {
                    return "input '" + in.getName() + "': " + bad;
                }
            }
        }
        return null;
    }

    private static String format(ModelInferRequest.InferInputTensor in) {
        long[] s = new long[in.getShapeCount()];
        for (int d = 0; d < s.length; d++) {
            s[d] = in.getShape(d);
        }
        return Shape.format(s, s.length);
    }

    /** The typed contents field that carries each datatype's elements. */
    private enum Field {
        BOOL("bool_contents"), INT("int_contents"), INT64("int64_contents"), UINT("uint_contents"), UINT64("uint64_contents"),
        FP32("fp32_contents"), FP64("fp64_contents");

        final String proto;

        Field(String proto) {
            this.proto = proto;
        }

        static Field of(DType t) {
            return switch (t) {
                case BOOL -> BOOL;
                case INT8, INT16, INT32 -> INT;
                case INT64 -> INT64;
                case UINT8, UINT16, UINT32 -> UINT;
                case UINT64 -> UINT64;
                case FLOAT32 -> FP32;
                case FLOAT64 -> FP64;
                default -> null;
            };
        }

        int count(InferTensorContents c) {
            return switch (this) {
                case BOOL -> c.getBoolContentsCount();
                case INT -> c.getIntContentsCount();
                case INT64 -> c.getInt64ContentsCount();
                case UINT -> c.getUintContentsCount();
                case UINT64 -> c.getUint64ContentsCount();
                case FP32 -> c.getFp32ContentsCount();
                case FP64 -> c.getFp64ContentsCount();
            };
        }

        /** Element {@code n} of the contents into element {@code e} of {@code dst}; null or why it does not fit. */
        String put(InferTensorContents c, int n, MemorySegment dst, long e, DType dt) {
            return switch (this) {
                case BOOL -> Elements.put(dst, e, dt, c.getBoolContents(n) ? 1 : 0, true);
                case INT -> Elements.put(dst, e, dt, c.getIntContents(n), true);
                case INT64 -> Elements.put(dst, e, dt, c.getInt64Contents(n), true);
                case UINT -> Elements.put(dst, e, dt, Integer.toUnsignedLong(c.getUintContents(n)), true);
                case UINT64 -> Elements.put(dst, e, dt, c.getUint64Contents(n), true);
                case FP32 -> Elements.put(dst, e, dt, Double.doubleToRawLongBits(c.getFp32Contents(n)), false);
                case FP64 -> Elements.put(dst, e, dt, Double.doubleToRawLongBits(c.getFp64Contents(n)), false);
            };
        }
    }

    /** A request refused before it ran: counted in the model's failures, as HTTP counts its 400s and 429s. */
    private static void refuse(ServedModel model, StreamObserver<?> obs, boolean busy, String why) {
        model.stats().refused(busy);
        obs.onError(GrpcTransport.status(busy ? Status.RESOURCE_EXHAUSTED : Status.INVALID_ARGUMENT, why));
    }

    /** Writes the answer of a finished call; always releases it. On the call's event loop. */
    private void answer(Pending p) {
        InferCall call = p.call;
        ServerCallStreamObserver<ModelInferResponse> obs = p.obs;
        try {
            if (obs.isCancelled()) {
                return;                 // the client went away or the deadline passed: gRPC has answered CANCELLED / DEADLINE_EXCEEDED
            }
            int s = call.status();
            if (s != BatchStatus.OK) {
                obs.onError(GrpcTransport.status(Status.fromCode(HttpStatusMap.grpc(s)), HttpStatusMap.reason(call)));
                return;
            }
            ModelInferResponse res = response(p, call);
            obs.onNext(res);
            obs.onCompleted();
        } catch (Throwable t) {
            info.log().log(System.Logger.Level.ERROR, "writing the answer of model '" + call.model().name() + "': " + t, t);
            try {
                obs.onError(GrpcTransport.status(Status.INTERNAL, "internal error writing the response: " + t.getClass().getSimpleName()));
            } catch (RuntimeException ignored) {
                // the call was already closed (cancelled between the check and the write)
            }
        } finally {
            call.release();
        }
    }

    private static ModelInferResponse response(Pending p, InferCall call) {
        ServedModel model = call.model();
        ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(model.name()).setModelVersion(model.version());
        if (!p.id.isEmpty()) {
            b.setId(p.id);
        }
        for (int k = 0; k < p.outputsAsked; k++) {
            int o = p.outputIndex[k];
            TensorSpec spec = model.outputs().get(o);
            ModelInferResponse.InferOutputTensor.Builder t = b.addOutputsBuilder().setName(spec.name()).setDatatype(WireType.name(spec.dtype()));
            for (int d = 0; d < call.outputRank(o); d++) {
                t.addShape(call.outputDim(o, d));
            }
            byte[] bytes = new byte[Math.toIntExact(call.outputBytes(o))];
            int at = 0;
            for (int r = 0; r < call.rows(); r++) {
                Tensor row = call.output(o, r);
                int n = (int) row.byteSize();
                MemorySegment.copy(row.data(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes, at, n);
                at += n;
            }
            b.addRawOutputContents(UnsafeByteOperations.unsafeWrap(bytes));      // the array is never written again
        }
        return b.build();
    }

    /** One call in flight: where and how to answer it. Handed to {@link InferCall#submit}, then to its event loop. */
    private static final class Pending implements InferCall.Done, Runnable {
        final GrpcInferHandler handler;
        final ServerCallStreamObserver<ModelInferResponse> obs;
        final String id;
        final EventExecutor loop;
        int[] outputIndex;
        int outputsAsked;
        InferCall call;

        Pending(GrpcInferHandler handler, ServerCallStreamObserver<ModelInferResponse> obs, String id, EventExecutor loop) {
            this.handler = handler;
            this.obs = obs;
            this.id = id;
            this.loop = loop;
        }

        /** The outputs to return, in the request's order (every output when it names none). Null or a reason. */
        String selectOutputs(ModelInferRequest req, InferCall call) {
            ServedModel model = call.model();
            int asked = req.getOutputsCount();
            if (asked == 0) {
                outputsAsked = model.outputs().size();
                if (outputsAsked < ALL_OUTPUTS.length) {
                    outputIndex = ALL_OUTPUTS[outputsAsked];
                } else {
                    outputIndex = new int[outputsAsked];
                    for (int o = 0; o < outputsAsked; o++) {
                        outputIndex[o] = o;
                    }
                }
            } else {
                outputsAsked = asked;
                outputIndex = new int[asked];
                for (int k = 0; k < asked; k++) {
                    ModelInferRequest.InferRequestedOutputTensor out = req.getOutputs(k);
                    int idx = call.outputIndex(out.getName());
                    if (idx < 0) {
                        return "unexpected inference output '" + out.getName() + "' for model '" + model.name() + "'; its outputs are "
                                + model.outputs().stream().map(TensorSpec::name).toList();
                    }
                    if (out.containsParameters("classification")) {
                        return "the classification extension is not supported";
                    }
                    outputIndex[k] = idx;
                }
            }
            for (int k = 0; k < outputsAsked; k++) {
                TensorSpec spec = model.outputs().get(outputIndex[k]);
                if (WireType.name(spec.dtype()) == null || spec.dtype() == DType.STRING) {
                    return "output '" + spec.name() + "' of model '" + model.name() + "' is " + spec.dtype()
                            + ", which this server cannot send over gRPC";
                }
            }
            return null;
        }

        /** Any thread: the call is answered; the response is written on the event loop that read the request. */
        @Override
        public void onDone(InferCall c) {
            if (loop == null || loop.inEventLoop()) {
                handler.answer(this);
            } else {
                loop.execute(this);
            }
        }

        @Override
        public void run() {
            handler.answer(this);
        }
    }
}
