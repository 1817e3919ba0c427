package io.hotpath.cli;

import io.hotpath.service.StageTimes;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * Where a request's time goes: each measured request split into consecutive stages (from the
 * caller's clock reads around its call and the service's {@link StageTimes} stamps), kept in a
 * fixed ring of rows per caller, then summarised for the typical request (the requests between
 * the 45th and 55th percentile of end-to-end latency) and for the tail (those at or above the
 * 99th): each stage's mean time there and its share. Because the stages are consecutive
 * intervals on one clock they tile a stamped request; a request the service did not stamp (no
 * recording took its events) counts as "unattributed", so the coverage line says how much of the
 * measured time the stages explain.
 */
final class StageProfile {
    /** A request's stages, in the order it passes them. */
    enum Stage {
        PREPROCESS("pre-process", "the caller's own work before the call (tokenizing, for text models)"),
        LOOKUP("cache lookup", "hashing the inputs and probing the prediction cache (and the shared tier)"),
        SUBMIT("submit", "from the call until the batcher stamped its enqueue: claiming a ring slot (the copy of its inputs into the ring follows, in queue wait)"),
        QUEUE("queue wait", "waiting for company (up to the max queue delay) or for the engine to finish the batch before"),
        ASSEMBLY("batch assembly", "copying the batch's rows into the engine's tensors, padded to the longest"),
        ENGINE("engine run", "the engine running the batch"),
        SCATTER("scatter", "copying answers out of the batch until this request's own"),
        HANDOFF("hand-off", "from its answer being copied out until the caller's call returned (waking the caller), less the cache store"),
        STORE("cache store", "storing the answer in the prediction cache (and the shared tier) on the caller's thread"),
        UNATTRIBUTED("unattributed", "time in requests the service did not stamp");

        final String label;
        final String meaning;

        Stage(String label, String meaning) {
            this.label = label;
            this.meaning = meaning;
        }
    }

    static final int STAGES = Stage.values().length;
    private static final int TOTAL = STAGES;        // column of the end-to-end time
    private static final int COLUMNS = STAGES + 1;

    /** Rows per caller: [stage nanos..., end-to-end nanos]; a ring, so the newest are kept. */
    private final long[][] rows;
    private final int capacity;
    private final long[] written;

    StageProfile(int callers, int rowsPerCaller) {
        if (callers < 1 || rowsPerCaller < 1) {
            throw new IllegalArgumentException("callers and rows must be positive: " + callers + ", " + rowsPerCaller);
        }
        this.capacity = rowsPerCaller;
        this.rows = new long[callers][Math.multiplyExact(rowsPerCaller, COLUMNS)];
        this.written = new long[callers];
    }

    /**
     * Records one request of {@code caller} (only that caller's thread calls this for it):
     * {@code start} before any pre-processing, {@code called} when it called the service,
     * {@code returned} when the call returned, and the service's stamps.
     */
    void record(int caller, long start, long called, long returned, StageTimes t) {
        long[] r = rows[caller];
        int at = (int) (written[caller] % capacity) * COLUMNS;
        Arrays.fill(r, at, at + COLUMNS, 0);
        r[at + Stage.PREPROCESS.ordinal()] = called - start;
        if (!t.stamped()) {
            r[at + Stage.UNATTRIBUTED.ordinal()] = returned - called;
        } else if (t.enqueued() == 0) {
            // answered by a cache: the lookup, then the way back
            r[at + Stage.LOOKUP.ordinal()] = t.lookupNanos();
            r[at + Stage.HANDOFF.ordinal()] = Math.max(0, returned - called - t.lookupNanos());
        } else {
            r[at + Stage.LOOKUP.ordinal()] = t.lookupNanos();
            r[at + Stage.SUBMIT.ordinal()] = Math.max(0, t.enqueued() - called - t.lookupNanos());
            r[at + Stage.QUEUE.ordinal()] = t.batchStarted() - t.enqueued();
            r[at + Stage.ASSEMBLY.ordinal()] = t.assembled() - t.batchStarted();
            r[at + Stage.ENGINE.ordinal()] = t.engineDone() - t.assembled();
            r[at + Stage.SCATTER.ordinal()] = t.answered() - t.engineDone();
            r[at + Stage.STORE.ordinal()] = t.storeNanos();
            r[at + Stage.HANDOFF.ordinal()] = Math.max(0, returned - t.answered() - t.storeNanos());
        }
        r[at + TOTAL] = returned - start;
        written[caller]++;
    }

    /** Requests recorded (all callers, including those the ring has since overwritten). */
    long recorded() {
        long n = 0;
        for (long w : written) {
            n += w;
        }
        return n;
    }

    /** One band's figures: the mean of each stage and of the end-to-end time over the requests in it. */
    record Band(String name, double lowPercentile, double highPercentile, long requests, double[] stageMeanNanos, double endToEndMeanNanos,
                double endToEndAtLowNanos) {
        double share(Stage s) {
            return endToEndMeanNanos == 0 ? 0 : stageMeanNanos[s.ordinal()] / endToEndMeanNanos;
        }

        double stagesSumNanos() {
            double sum = 0;
            for (double v : stageMeanNanos) {
                sum += v;
            }
            return sum;
        }

        /** The stage with the largest mean in this band. */
        Stage largest() {
            Stage best = Stage.PREPROCESS;
            for (Stage s : Stage.values()) {
                if (stageMeanNanos[s.ordinal()] > stageMeanNanos[best.ordinal()]) {
                    best = s;
                }
            }
            return best;
        }
    }

    /** The summary: the typical band (p45..p55), the tail band (p98.5..p99.5), the end-to-end histogram. */
    record Summary(Band typical, Band tail, Histogram endToEnd, long requests) {
    }

    Summary summarize() {
        int n = 0;
        for (int c = 0; c < rows.length; c++) {
            n += (int) Math.min(written[c], capacity);
        }
        if (n == 0) {
            throw new IllegalStateException("no request was recorded");
        }
        long[] totals = new long[n];
        Histogram h = new Histogram(3_600_000_000_000L, 3);
        int k = 0;
        for (int c = 0; c < rows.length; c++) {
            int have = (int) Math.min(written[c], capacity);
            for (int i = 0; i < have; i++) {
                long v = rows[c][i * COLUMNS + TOTAL];
                totals[k++] = v;
                h.recordValue(Math.max(0, v));
            }
        }
        long[] sorted = totals.clone();
        Arrays.sort(sorted);
        return new Summary(band("typical (p45-p55)", sorted, 45, 55), band("p99 (p98.5-p99.5)", sorted, 98.5, 99.5), h, n);
    }

    private Band band(String name, long[] sorted, double lowPct, double highPct) {
        long lo = sorted[index(sorted.length, lowPct)];
        long hi = sorted[index(sorted.length, highPct)];
        double[] sums = new double[STAGES];
        double total = 0;
        long count = 0;
        for (int c = 0; c < rows.length; c++) {
            int have = (int) Math.min(written[c], capacity);
            for (int i = 0; i < have; i++) {
                int at = i * COLUMNS;
                long v = rows[c][at + TOTAL];
                if (v < lo || v > hi) {
                    continue;
                }
                for (int s = 0; s < STAGES; s++) {
                    sums[s] += rows[c][at + s];
                }
                total += v;
                count++;
            }
        }
        for (int s = 0; s < STAGES; s++) {
            sums[s] = count == 0 ? 0 : sums[s] / count;
        }
        return new Band(name, lowPct, highPct, count, sums, count == 0 ? 0 : total / count, lo);
    }

    private static int index(int n, double pct) {
        return (int) Math.min(n - 1, Math.max(0, Math.ceil(pct / 100.0 * n) - 1));
    }

    /** What the run was configured with, for the verdict's advice. */
    record Setup(boolean direct, int callers, int maxBatch, long maxDelayMicros, String idle, double meanBatchRows, int cores) {
    }

    /** A plain-language reading of the p99 request: which stage dominates it and what to do about it. */
    static String verdict(Summary s, Setup setup) {
        Band tail = s.tail();
        Stage top = tail.largest();
        double share = 100 * tail.share(top);
        String head = String.format(Locale.ROOT, "%.0f%% of p99 is %s", share, top.label);
        double typicalQueueUs = s.typical().stageMeanNanos()[Stage.QUEUE.ordinal()] / 1e3;
        return head + ": " + switch (top) {
            case QUEUE -> queueAdvice(setup, typicalQueueUs);
            case ENGINE -> "the model's execution dominates; make it cheaper (hotpath optimize: INT8/FP16 within your accuracy budget), "
                    + "run smaller batches for latency, or choose a faster engine (see the operators below)";
            case HANDOFF -> "waking the caller after its answer dominates; let callers spin (--idle busy-spin or yield, at the cost of a core each)"
                    + (setup.direct() ? "" : " or use direct mode for a single caller");
            case ASSEMBLY, SCATTER -> "copying rows into and out of the engine's batch dominates: the inputs or outputs are large for "
                    + "the model; pad less (a shorter --seq, length buckets) or return fewer outputs";
            case STORE -> "storing answers in the prediction cache dominates (a full cache evicting, or the shared tier's write): "
                    + "give the cache more memory, or drop a cache whose answers rarely repeat";
            case PREPROCESS -> "the caller's own pre-processing (tokenizing) dominates, not Hotpath: cache or batch it, or move it off the request path";
            case LOOKUP -> "the cache lookup dominates: the key (all input bytes) is large or the shared tier is slow; quantize the key, "
                    + "lower the shared tier's budget, or drop a cache that rarely hits";
            case SUBMIT -> "submitting into the batcher's queue dominates (claiming a ring slot): the ring may be full; give the batcher a larger queue (queueCapacityBytes)";
            case UNATTRIBUTED -> "most requests were not stamped: the JFR recording did not take Hotpath's events (is -Dhotpath.jfr=false set?)";
        };
    }

    /** Why requests waited in the queue: the max delay, a saturated engine, or a batcher thread that was late. */
    private static String queueAdvice(Setup setup, double typicalQueueUs) {
        double fill = setup.meanBatchRows() / Math.max(1, setup.maxBatch());
        if (setup.maxDelayMicros() > 0 && typicalQueueUs >= 0.5 * setup.maxDelayMicros() && fill < 0.75) {
            return String.format(Locale.ROOT, "batches leave part-full (mean %.1f of %d rows) after waiting out the max queue delay (%d us; "
                    + "the typical request waits %.0f us): the delay dominates; lower it or add an instance", setup.meanBatchRows(),
                    setup.maxBatch(), setup.maxDelayMicros(), typicalQueueUs);
        }
        if (fill >= 0.75 || setup.callers() > setup.maxBatch()) {
            return String.format(Locale.ROOT, "requests wait for the engine to finish the batches before theirs (mean %.1f of %d rows): "
                    + "the engine is saturated; add an instance, raise the max batch if larger batches cost less per row, or make the model "
                    + "faster (hotpath optimize)", setup.meanBatchRows(), setup.maxBatch());
        }
        return String.format(Locale.ROOT, "the typical request waits %.1f us but the p99 one far longer while batches stay small (mean %.1f "
                + "of %d rows): the batcher thread was late to run (descheduled or parked) with more busy threads than the %d cores; "
                + "give it a core (fewer intra-op threads, --idle yield or busy-spin)%s", typicalQueueUs, setup.meanBatchRows(),
                setup.maxBatch(), setup.cores(), setup.callers() == 1 ? " or run a single caller in direct mode (--direct)" : "");
    }

    /** The table of stages for both bands, the coverage, and the verdict. */
    static void print(PrintStream out, Summary s, Setup setup) {
        Band a = s.typical();
        Band b = s.tail();
        out.printf(Locale.ROOT, "  %-16s %12s %7s %12s %7s   %s%n", "stage", "p50 us", "share", "p99 us", "share", "what it is");
        for (Stage st : Stage.values()) {
            double va = a.stageMeanNanos()[st.ordinal()];
            double vb = b.stageMeanNanos()[st.ordinal()];
            if (st == Stage.UNATTRIBUTED && va == 0 && vb == 0) {
                continue;
            }
            out.printf(Locale.ROOT, "  %-16s %12.1f %6.1f%% %12.1f %6.1f%%   %s%n", st.label, va / 1e3, 100 * a.share(st), vb / 1e3,
                    100 * b.share(st), st.meaning);
        }
        out.printf(Locale.ROOT, "  %-16s %12.1f %7s %12.1f%n", "stages, summed", a.stagesSumNanos() / 1e3, "", b.stagesSumNanos() / 1e3);
        out.printf(Locale.ROOT, "  %-16s %12.1f %7s %12.1f   (the mean of the requests at p45-p55 and at p98.5-p99.5; the histogram's p50 %.1f us, p99 %.1f us)%n",
                "end to end", a.endToEndMeanNanos() / 1e3, "", b.endToEndMeanNanos() / 1e3, s.endToEnd().getValueAtPercentile(50) / 1e3,
                s.endToEnd().getValueAtPercentile(99) / 1e3);
        out.printf(Locale.ROOT, "  coverage         the stages explain %.1f%% of the p50 band and %.1f%% of the p99 band (%d requests, %d and %d in the bands)%n",
                100 * coverage(a), 100 * coverage(b), s.requests(), a.requests(), b.requests());
        out.println();
        out.println("  verdict  " + verdict(s, setup));
    }

    /** The share of a band's end-to-end time its attributed stages explain. */
    static double coverage(Band b) {
        double attributed = b.stagesSumNanos() - b.stageMeanNanos()[Stage.UNATTRIBUTED.ordinal()];
        return b.endToEndMeanNanos() == 0 ? 0 : attributed / b.endToEndMeanNanos();
    }
}
