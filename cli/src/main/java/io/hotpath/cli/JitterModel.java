package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.engine.jvm.JvmEngine;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * A model timed by {@code hotpath jitter --model}: one request through an {@link InferenceService}
 * in direct mode (the engine runs on this thread), filled once with random valid inputs and run
 * again and again, each call timed like the arithmetic's, in its own turns among theirs.
 */
final class JitterModel implements AutoCloseable {
    /** The sequence length a model with a variable one is run at (or its capacity, if smaller). */
    static final int SEQ = 128;
    static final long WARM_CALLS = 50_000;
    static final long WARM_NANOS = 500_000_000L;
    static final long MAX_WARM_NANOS = 10_000_000_000L;

    final String label;
    final JitterProbe.Calls calls;
    private final InferenceService svc;
    private final Request req;

    private JitterModel(String label, InferenceService svc, Request req) {
        this.label = label;
        this.svc = svc;
        this.req = req;
        this.calls = new JitterProbe.Calls(0, 0, new Histogram(JitterProbe.HIGHEST_NANOS, 3));
    }

    /** Opens {@code file} on the JVM engine or ONNX Runtime (one intra-op thread) and fills one request. */
    static JitterModel open(Path file, String name, boolean jvm) {
        Engine engine = jvm ? JvmEngine.open(file) : OrtCpuEngine.open(file, CpuEngineOptions.builder().intraOpThreads(1).build());
        InferenceService svc = null;
        try {
            svc = InferenceService.builder(engine).direct().build();
            Request req = svc.newRequest();
            int seq = 1;
            if (svc.maxLength() > 1) {
                seq = Math.min(SEQ, svc.maxLength());
                req.length(seq);
            }
            SplittableRandom r = new SplittableRandom(42);
            for (int i = 0; i < svc.engine().inputs().size(); i++) {
                RandomInputs.fill(req.input(i), r, 1_000);
            }
            JitterModel m = new JitterModel(name + " (" + (jvm ? "jvm" : "cpu") + (seq > 1 ? ", seq " + seq : "") + ")", svc, req);
            m.turn(0);    // one call: a model that cannot run fails here, before anything is measured
            return m;
        } catch (RuntimeException | Error e) {
            try {
                if (svc != null) {
                    svc.close();
                } else {
                    engine.close();
                }
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /**
     * Calls of the model, each timed and recorded, for about {@code nanos} (at least one call). A
     * call that does not end OK ends the turn with its status and cause (a {@link HotpathException}
     * keeps its category: an unsupported input is the user's, not the engine's failure).
     */
    void turn(long nanos) {
        Histogram times = calls.times();
        InferenceService s = svc;
        Request r = req;
        long end = System.nanoTime() + nanos;
        long t1;
        int status;
        do {
            long t0 = System.nanoTime();
            status = s.infer(r);
            t1 = System.nanoTime();
            times.recordValue(Math.min(t1 - t0, JitterProbe.HIGHEST_NANOS));
        } while (status == BatchStatus.OK && t1 - end < 0);
        if (status != BatchStatus.OK) {
            Throwable cause = r.error();
            String what = label + ": a call ended " + BatchStatus.name(status) + (cause == null ? "" : ": " + cause.getMessage());
            throw cause instanceof HotpathException h ? new HotpathException(h.category(), what, h)
                    : new HotpathException(HotpathException.Category.ENGINE_FAILURE, what, cause);
        }
    }

    /**
     * Runs the model until the JIT has compiled its path: {@link #WARM_CALLS} calls and
     * {@link #WARM_NANOS} at least, {@link #MAX_WARM_NANOS} at most (an interpreted call of a
     * Vector API kernel takes a hundred times a compiled one, so a fixed time is not enough).
     */
    void warm() {
        long start = System.nanoTime();
        do {
            turn(JitterProbe.TURN_NANOS);
        } while ((calls.times().getTotalCount() < WARM_CALLS || System.nanoTime() - start < WARM_NANOS)
                && System.nanoTime() - start < MAX_WARM_NANOS);
    }

    /** A fresh histogram for the measured run (the warm-up's calls are not kept). */
    JitterModel reset() {
        calls.times().reset();
        return this;
    }

    @Override
    public void close() {
        svc.close();
    }
}
