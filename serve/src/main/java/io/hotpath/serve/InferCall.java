package io.hotpath.serve;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.service.Request;
import io.hotpath.service.RequestCallback;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One wire inference request for one {@link ServedModel}, whatever the transport: its rows are
 * the model's pooled {@link Request} slots, and the transport decodes the request's bytes straight
 * into them ({@link #input(int, int)}) and encodes the answer straight from them
 * ({@link #output(int, int)}). Pooled by the model: {@link ServedModel#newCall()}, then
 * {@link #release()} once the answer is written.
 *
 * <pre>
 *   declare(name, datatype, shape) per input  -> null or a 400 reason
 *   prepare()                                 -> OK, BAD (reason()) or BUSY (no free slot: 429)
 *   input(i, row) ... written by the transport
 *   submit(done)                              -> done.onDone(call) exactly once, on any thread
 *   status(), reason(), output(o, row), outputRank(o), outputDim(o, d)
 *   release()
 * </pre>
 */
public final class InferCall implements RequestCallback {
    /** {@link #prepare()}: the rows are claimed; write the inputs. */
    public static final int OK = 0;
    /** {@link #prepare()}: the request does not fit the model ({@link #reason()} says why): 400. */
    public static final int BAD = 1;
    /** {@link #prepare()}: no free request slot: back-pressure, 429 / RESOURCE_EXHAUSTED. */
    public static final int BUSY = 2;

    /** Called once when every row of a submitted call is answered. */
    @FunctionalInterface
    public interface Done {
        void onDone(InferCall call);
    }

    private final ServedModel model;
    private final int inputCount;
    private final long[][] shapes;
    private final int[] ranks;
    private final boolean[] declared;
    private final Request[] rows;
    private int rowCount;
    private int length;
    private final AtomicInteger pending = new AtomicInteger();
    /** First non-OK row status (written by row callbacks before the last decrement; read after it). */
    private volatile int status;
    private String reason;
    private Done done;
    private long deadlineNanos;
    private long startNanos;

    InferCall(ServedModel model) {
        this.model = model;
        this.inputCount = model.inputs().size();
        this.shapes = new long[inputCount][io.hotpath.core.Shape.MAX_RANK];
        this.ranks = new int[inputCount];
        this.declared = new boolean[inputCount];
        this.rows = new Request[model.maxRowsPerCall()];
        reset();
    }

    private void reset() {
        java.util.Arrays.fill(declared, false);
        rowCount = 0;
        length = 1;
        status = BatchStatus.OK;
        reason = null;
        done = null;
        deadlineNanos = 0;
    }

    /** Taken from the pool: the request's clock starts. */
    void begin() {
        startNanos = System.nanoTime();
    }

    public ServedModel model() {
        return model;
    }

    /** The index of input {@code name}, or -1. */
    public int inputIndex(String name) {
        for (int i = 0; i < inputCount; i++) {
            if (model.inputs().get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** The index of output {@code name}, or -1. */
    public int outputIndex(String name) {
        for (int o = 0; o < model.outputs().size(); o++) {
            if (model.outputs().get(o).name().equals(name)) {
                return o;
            }
        }
        return -1;
    }

    /**
     * Declares input {@code name} with the wire's datatype and shape ({@code rank} first entries of
     * {@code shape}). Returns null, or a one-line reason for a 400.
     */
    public String declare(String name, String datatype, long[] shape, int rank) {
        int i = inputIndex(name);
        if (i < 0) {
            return "unexpected inference input '" + name + "' for model '" + model.name() + "'; its inputs are " + model.inputNames();
        }
        if (declared[i]) {
            return "input '" + name + "' given twice";
        }
        TensorSpec spec = model.inputs().get(i);
        String want = WireType.name(spec.dtype());
        if (!want.equals(datatype)) {
            return "input '" + name + "' has datatype " + datatype + "; model '" + model.name() + "' takes " + want;
        }
        if (rank < 0 || rank > shapes[i].length) {
            return "input '" + name + "' has rank " + rank + "; at most " + shapes[i].length;
        }
        for (int d = 0; d < rank; d++) {
            if (shape[d] < 0) {
                return "input '" + name + "' has a negative dimension " + shape[d] + " in its shape";
            }
            shapes[i][d] = shape[d];
        }
        ranks[i] = rank;
        declared[i] = true;
        return null;
    }

    /** Sets an absolute deadline ({@link System#nanoTime()}); 0 for none. Past it rows answer TIMEOUT without running. */
    public void deadlineNanos(long nanoTime) {
        this.deadlineNanos = nanoTime;
    }

    /**
     * Checks the declared inputs against the model and claims one request slot per row. Returns
     * {@link #OK}, {@link #BAD} ({@link #reason()}) or {@link #BUSY}.
     */
    public int prepare() {
        for (int i = 0; i < inputCount; i++) {
            if (!declared[i]) {
                return bad("expected input '" + model.inputs().get(i).name() + "' for model '" + model.name() + "'; missing");
            }
        }
        long n = 1;
        if (model.batched()) {
            for (int i = 0; i < inputCount; i++) {
                if (ranks[i] == 0) {
                    return bad("input '" + model.inputs().get(i).name() + "' is a scalar; model '" + model.name()
                            + "' takes a batch dimension first");
                }
                if (i == 0) {
                    n = shapes[i][0];
                } else if (shapes[i][0] != n) {
                    return bad("inputs disagree on the batch size: '" + model.inputs().get(0).name() + "' has " + n + ", '"
                            + model.inputs().get(i).name() + "' has " + shapes[i][0]);
                }
            }
            if (n < 1 || n > rows.length) {
                return bad("batch size " + n + " outside [1, " + rows.length + "] for model '" + model.name() + "'");
            }
        }
        int len = 1;
        if (model.maxLength() > 1) {
            long seen = -1;
            for (int i = 0; i < inputCount; i++) {
                TensorSpec s = model.inputs().get(i);
                if (s.shape().rank() >= 2 && s.shape().isDynamic(1) && ranks[i] >= 2) {
                    if (seen >= 0 && shapes[i][1] != seen) {
                        return bad("inputs disagree on dimension 1: " + seen + " and " + shapes[i][1] + " ('" + s.name() + "')");
                    }
                    seen = shapes[i][1];
                }
            }
            if (seen >= 0) {
                if (seen < 1 || seen > model.maxLength()) {
                    return bad("dimension 1 is " + seen + "; model '" + model.name() + "' takes 1 to " + model.maxLength());
                }
                len = (int) seen;
            }
        }
        int count = (int) n;
        for (int r = 0; r < count; r++) {
            Request q = model.claim();
            if (q == null) {
                rowCount = r;
                releaseRows();
                return BUSY;
            }
            rows[r] = q;
            rowCount = r + 1;
            q.length(len);
        }
        this.length = len;
        Request first = rows[0];
        for (int i = 0; i < inputCount; i++) {
            Tensor t = first.input(i);
            String problem = shapeProblem(i, t);
            if (problem != null) {
                releaseRows();
                return bad(problem);
            }
        }
        return OK;
    }

    private String shapeProblem(int i, Tensor t) {
        int rank = t.rank();
        boolean batchedInput = model.batched();
        boolean ok = ranks[i] == rank;
        for (int d = batchedInput ? 1 : 0; ok && d < rank; d++) {
            ok = shapes[i][d] == t.dim(d);
        }
        if (ok) {
            return null;
        }
        long[] want = t.shape();
        if (batchedInput && rank > 0) {
            want[0] = shapes[i][0];
        }
        return "input '" + t.name() + "' has shape " + io.hotpath.core.Shape.format(shapes[i], ranks[i]) + "; model '" + model.name()
                + "' expects " + io.hotpath.core.Shape.format(want, want.length) + " (spec " + t.spec().shape() + ")";
    }

    private int bad(String why) {
        this.reason = why;
        return BAD;
    }

    /** Rows of this call (the batch size on the wire). */
    public int rows() {
        return rowCount;
    }

    /** The variable length (dimension 1) of this call's rows, 1 when the model has none. */
    public int length() {
        return length;
    }

    /** Row {@code row} of input {@code i}: its memory takes exactly {@link #inputRowBytes(int)} bytes. */
    public Tensor input(int i, int row) {
        return rows[row].input(i);
    }

    /** Bytes of one row of input {@code i} at this call's length. */
    public long inputRowBytes(int i) {
        return rows[0].input(i).byteSize();
    }

    /** The bytes input {@code i} takes on the wire (every row). */
    public long inputBytes(int i) {
        return inputRowBytes(i) * rowCount;
    }

    /**
     * Submits every row; {@code done} runs exactly once when all are answered (on the thread that
     * runs the batch: the batcher's, or the event loop's with {@link ServedModel#batchesOnEventLoop()};
     * or on this thread when a row is refused at once or answered from the cache).
     */
    public void submit(Done done) {
        submit(done, null);
    }

    /**
     * As {@link #submit(Done)}, from {@code loop}, the event loop that read the call: a model whose batcher runs on the
     * event loop queues its batch there (see {@link ServedModel#afterSubmit}).
     */
    public void submit(Done done, io.netty.util.concurrent.EventExecutor loop) {
        this.done = done;
        int n = rowCount;                   // read once: after the last row is answered the call may be released and reused
        long deadline = deadlineNanos;
        pending.set(n);
        model.stats().started();
        try {
            submitRows(n, deadline);
        } finally {
            model.afterSubmit(loop);    // even if offering a row threw: the rows offered before it must run
        }
    }

    private void submitRows(int n, long deadline) {
        for (int r = 0; r < n; r++) {
            Request q = rows[r];
            q.deadlineNanos(deadline);
            if (deadline != 0 && System.nanoTime() - deadline >= 0) {
                // already late: a cache hit or a direct run would answer without looking at the deadline
                onComplete(q, BatchStatus.TIMEOUT);
                continue;
            }
            int s = model.service().inferAsync(q, this);
            if (s == BatchStatus.REJECTED || s == BatchStatus.SHUTDOWN) {
                onComplete(q, s);            // refused at once: the callback did not run
            }
        }
    }

    @Override
    public void onComplete(Request request, int s) {
        if (s != BatchStatus.OK) {
            failed(request, s);
        }
        if (pending.decrementAndGet() == 0) {
            model.stats().finished(this);
            Done d = done;
            try {
                d.onDone(this);
            } catch (Throwable t) {
                model.reportError("answering a call to model '" + model.name() + "'", t);
                release();
            }
        }
    }

    /** The first failure wins (a row refused on the request's thread may race one answered on the batcher thread). */
    private synchronized void failed(Request request, int s) {
        if (status == BatchStatus.OK) {
            Throwable e = request.error();
            reason = e != null && s == BatchStatus.FAILED ? e.getMessage() : null;
            status = s;
        }
    }

    /** The call's {@link BatchStatus}: OK when every row is OK, else the first other status. */
    public int status() {
        return status;
    }

    /** Why the call was refused or failed; null when it did not. */
    public String reason() {
        return reason;
    }

    /** Row {@code row} of output {@code o} (valid once {@link #status()} is OK). */
    public Tensor output(int o, int row) {
        return rows[row].output(o);
    }

    /** The rank of output {@code o} on the wire. */
    public int outputRank(int o) {
        return rows[0].output(o).rank();
    }

    /** Dimension {@code i} of output {@code o} on the wire: the rows stacked along dimension 0 of a batched model (no allocation). */
    public long outputDim(int o, int i) {
        return i == 0 && model.batched() ? rowCount : rows[0].output(o).dim(i);
    }

    /** Bytes of output {@code o} on the wire. */
    public long outputBytes(int o) {
        return rows[0].output(o).byteSize() * rowCount;
    }

    /** Nanoseconds since this call was taken from the pool. */
    public long elapsedNanos() {
        return System.nanoTime() - startNanos;
    }

    Request row(int r) {
        return rows[r];
    }

    private void releaseRows() {
        for (int r = 0; r < rowCount; r++) {
            model.unclaim(rows[r]);
            rows[r] = null;
        }
        rowCount = 0;
    }

    /** Gives the rows and this call back to the model; the call must not be used after. */
    public void release() {
        releaseRows();
        reset();
        model.recycle(this);
    }
}
