package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.onnx.WordPieceTokenizer;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The workload {@code hotpath profile} watches: {@code callers} threads in a closed loop through
 * an {@link InferenceService}, each preparing its request (tokenizing a real sentence for text
 * models, else random valid inputs), calling, and recording the request's stages in a
 * {@link StageProfile}. A warm-up phase runs first and is not recorded.
 */
final class ProfileRun {
    /** How each request's inputs are made: random valid values, or a sentence tokenized on the caller's thread. */
    interface Inputs {
        /** Writes the next inputs into {@code r} (its length set first for a variable-length model). */
        void next(Request r, SplittableRandom rnd);
    }

    /** Outcome counts and the measured phase's wall time. */
    record Result(long ok, long notOk, long wallNanos) {
        double throughput() {
            return (ok + notOk) / (wallNanos / 1e9);
        }
    }

    private ProfileRun() {
    }

    /** Random valid inputs (the same defaults as {@code hotpath bench}) at length {@code seq} (capped at the service's). */
    static Inputs random(InferenceService svc, int seq, long vocab) {
        BenchInputs given = BenchInputs.defaults();
        int len = svc.maxLength() > 1 ? Math.min(seq, svc.maxLength()) : 1;
        int inputs = svc.engine().inputs().size();
        return (r, rnd) -> {
            if (svc.maxLength() > 1) {
                r.length(len);
            }
            for (int i = 0; i < inputs; i++) {
                given.fill(r.input(i), rnd, vocab);
            }
        };
    }

    /**
     * BERT-style inputs from {@code sentences}, each tokenized on the caller's thread (the
     * pre-processing stage) and sent at its own length (at most {@code seq}).
     */
    static Inputs text(InferenceService svc, WordPieceTokenizer tok, List<String> sentences, int seq) {
        int cap = Math.min(seq, svc.maxLength());
        boolean types = svc.engine().inputs().stream().anyMatch(t -> t.name().equals("token_type_ids"));
        return (r, rnd) -> {
            int[] ids = tok.encode(sentences.get(rnd.nextInt(sentences.size())), cap);
            r.length(ids.length);
            Tensor in = r.input("input_ids");
            Tensor mask = r.input("attention_mask");
            Tensor tt = types ? r.input("token_type_ids") : null;
            for (int c = 0; c < ids.length; c++) {
                in.putLong(c, ids[c]);
                mask.putLong(c, 1);
                if (tt != null) {
                    tt.putLong(c, 0);
                }
            }
        };
    }

    /**
     * Runs {@code callers} closed-loop callers: {@code warmupNanos} unrecorded, then {@code measureNanos}
     * recorded into {@code profile}. A caller's failure stops the run and is thrown here.
     */
    static Result run(InferenceService svc, int callers, Inputs inputs, long warmupNanos, long measureNanos, StageProfile profile, long seed)
            throws InterruptedException {
        return run(svc, callers, inputs, warmupNanos, measureNanos, profile, seed, null);
    }

    /**
     * As above; {@code atMeasureStart} (may be null) runs on this thread when the warm-up ends and the
     * measured phase begins (to start a recording, reset recorders). Only requests answered OK are
     * recorded in {@code profile}; the others are counted.
     */
    static Result run(InferenceService svc, int callers, Inputs inputs, long warmupNanos, long measureNanos, StageProfile profile, long seed,
                      Runnable atMeasureStart) throws InterruptedException {
        Phaser phases = new Phaser(callers + 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong ok = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        long[] window = new long[2];        // measured phase: start and end (System.nanoTime), set before the callers read them
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    caller(svc, id, inputs, phases, window, warmupNanos, profile, ok, bad, seed);
                } catch (Throwable e) {
                    if (!failure.compareAndSet(null, e)) {
                        failure.get().addSuppressed(e);
                    }
                    phases.forceTermination();
                }
            }, "profile-caller-" + t);
            th.setDaemon(true);
            threads.add(th);
            th.start();
        }
        long wall;
        try {
            phases.arriveAndAwaitAdvance();         // threads ready, request handles made
            long start = System.nanoTime();
            window[0] = start + warmupNanos;
            window[1] = window[0] + measureNanos;
            phases.arriveAndAwaitAdvance();         // go
            if (atMeasureStart != null) {
                long wait;
                while ((wait = window[0] - System.nanoTime()) > 0 && !phases.isTerminated()) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
                atMeasureStart.run();
            }
            phases.arriveAndAwaitAdvance();         // done
            wall = measureNanos;
        } catch (Throwable e) {
            phases.forceTermination();
            throw e;
        } finally {
            for (Thread th : threads) {
                th.join();
            }
        }
        Throwable f = failure.get();
        if (f != null) {
            if (f instanceof Error err) {
                throw err;
            }
            throw f instanceof HotpathException h ? h : new HotpathException(HotpathException.Category.INTERNAL,
                    "a profile caller failed: " + f, f);
        }
        return new Result(ok.get(), bad.get(), wall);
    }

    private static void caller(InferenceService svc, int id, Inputs inputs, Phaser phases, long[] window, long warmupNanos,
                               StageProfile profile, AtomicLong ok, AtomicLong bad, long seed) {
        Request r = svc.newRequest();
        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + id);
        phases.arriveAndAwaitAdvance();
        phases.arriveAndAwaitAdvance();
        long from = window[0];
        long until = window[1];
        long good = 0;
        long notOk = 0;
        while (!phases.isTerminated()) {
            long start = System.nanoTime();
            if (start >= until) {
                break;
            }
            inputs.next(r, rnd);
            long called = System.nanoTime();
            int s = svc.infer(r);
            long returned = System.nanoTime();
            if (start >= from) {
                if (s == BatchStatus.OK) {
                    profile.record(id, start, called, returned, r.stages());    // a refused or failed request has no stages to split
                    good++;
                } else {
                    notOk++;
                }
            }
        }
        ok.addAndGet(good);
        bad.addAndGet(notOk);
        phases.arriveAndAwaitAdvance();
    }
}
