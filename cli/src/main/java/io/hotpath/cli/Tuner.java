package io.hotpath.cli;

import io.hotpath.core.Engine;
import io.hotpath.service.InferenceService;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The search behind {@code hotpath tune}: which batching configuration (max batch, max queue
 * delay, engine variant and intra-op threads) gives the most throughput while the p99 latency
 * meets the objective, under the user's load (closed loop at a concurrency, or open loop at a
 * rate with latency from each request's intended send time).
 *
 * <ol>
 *   <li>Each engine setup's batch-cost curve is measured (interleaved rounds).</li>
 *   <li>From it every candidate gets a prediction; those that cannot meet the objective (an engine
 *       too slow for the rate or for the latency at that batch size) are pruned without a run.</li>
 *   <li>The rest are measured with the load generator, most promising first, while the time
 *       budget lasts.</li>
 *   <li>The best passing ones and the default configuration are measured again, interleaved
 *       (A B C D, A B C D), and the choice is made on the medians.</li>
 * </ol>
 */
final class Tuner {
    /**
     * One engine to try: which model variant, its intra-op threads, the open engine (its max batch
     * covers every size tried) and how to open it again (null: never reopened).
     */
    record Setup(String variant, int threads, Engine engine, java.util.function.Supplier<Engine> reopen) {
        Setup(String variant, int threads, Engine engine) {
            this(variant, threads, engine, null);
        }

        String label() {
            return variant + (threads > 0 ? " threads=" + threads : "");
        }
    }

    /**
     * Each service over an engine takes two of the engine's batches from memory the engine frees
     * only when it closes; past this much per engine the search opens the engine again (when it can).
     */
    static final long REOPEN_AFTER_BYTES = 256L << 20;

    /** The user's load: closed loop at {@code concurrency} callers, or open loop at {@code rate} requests per second. */
    record Load(int concurrency, double rate) {
        boolean open() {
            return rate > 0;
        }

        String describe() {
            return open() ? String.format(Locale.ROOT, "open loop at %.0f requests/s", rate) : "closed loop at " + concurrency + " callers";
        }
    }

    /** A batching configuration on one setup. */
    record Candidate(int setup, int maxBatch, long delayMicros) {
    }

    /** A candidate's measurement. */
    record Point(Candidate candidate, double p50Micros, double p99Micros, double throughput, double meanBatch, double engineBusy, long ok, long notOk) {
        boolean meets(double sloMicros, Load load) {
            return ok > 0 && notOk == 0 && p99Micros <= sloMicros && (!load.open() || throughput >= 0.95 * load.rate());
        }

        /** Requests per second it could sustain: measured in a closed loop; in an open loop the rate over the engine's busy share. */
        double capacity(Load load) {
            return load.open() ? (engineBusy <= 0 ? throughput : throughput / Math.min(1, engineBusy)) : throughput;
        }
    }

    /** What the search found: {@code candidates} in all, {@code pruned} of them without a run, {@code tried} measured. */
    record Outcome(List<BatchCostCurve> curves, int candidates, List<Point> tried, int pruned, List<Point> finals, Point chosen, Point closest,
                   Point defaults, int metInFirstStep) {
    }

    /** The batcher's defaults (BatcherConfig: max batch 8, max queue delay 100 us; hotpath bench runs them with one intra-op thread per core): the baseline. */
    static final int DEFAULT_MAX_BATCH = 8;
    static final long DEFAULT_DELAY_MICROS = 100;

    private static final int[] BATCH_SIZES = {1, 2, 4, 8, 16, 32};

    private final List<Setup> setups;
    private final Load load;
    private final double sloMicros;
    private final int seq;
    private final long vocab;
    private final long seed;
    private final double stepSeconds;
    private final long deadline;
    private final PrintStream log;
    private final int defaultSetup;
    private final int searched;
    /** The engine each setup runs now (a reopened one replaces the setup's), and the batch memory its services took. */
    private final Engine[] current;
    private final long[] taken;

    /**
     * @param defaultSetup the setup that runs the default configuration (the variant the user named, one thread per core)
     * @param budgetNanos  the whole search's time, measurement included
     */
    Tuner(List<Setup> setups, int defaultSetup, Load load, double sloMillis, int seq, long vocab, long seed, double stepSeconds, long budgetNanos,
          PrintStream log) {
        this(setups, setups.size(), defaultSetup, load, sloMillis, seq, vocab, seed, stepSeconds, budgetNanos, log);
    }

    /** As above, searching only the first {@code searched} setups (a setup after them runs the default configuration only). */
    Tuner(List<Setup> setups, int searched, int defaultSetup, Load load, double sloMillis, int seq, long vocab, long seed, double stepSeconds,
          long budgetNanos, PrintStream log) {
        this.searched = searched;
        this.setups = setups;
        this.current = setups.stream().map(Setup::engine).toArray(Engine[]::new);
        this.taken = new long[setups.size()];
        this.defaultSetup = defaultSetup;
        this.load = load;
        this.sloMicros = sloMillis * 1000;
        this.seq = seq;
        this.vocab = vocab;
        this.seed = seed;
        this.stepSeconds = stepSeconds;
        this.deadline = System.nanoTime() + budgetNanos;
        this.log = log;
    }

    Outcome run() throws InterruptedException {
        // 1. the batch-cost curve of each setup
        List<BatchCostCurve> curves = new ArrayList<>();
        for (Setup s : setups) {
            int max = s.engine().maxBatchSize();
            int[] sizes = java.util.Arrays.stream(BATCH_SIZES).filter(b -> b <= max).toArray();
            BatchCostCurve c = BatchCostCurve.measure(s.engine(), sizes, seq, vocab, seed, 3, 60);
            taken[curves.size()] += Checks.batchBytes(batchTensors(s.engine()), max, seq);
            curves.add(c);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  cost    %-28s", s.label()));
            for (int b : c.sizes()) {
                line.append(String.format(Locale.ROOT, " b%d %.0f us", b, c.nanos(b) / 1e3));
            }
            log.println(line);
        }
        // 2. candidates, predicted and pruned
        List<Candidate> keep = new ArrayList<>();
        List<Double> promise = new ArrayList<>();
        int pruned = 0;
        Candidate nearestPruned = null;     // the pruned candidate with the lowest predicted p99: measured when nothing else is
        double nearestLower = Double.POSITIVE_INFINITY;
        long[] delays = load.open() ? new long[] {0, 100, 300, 1000, 3000} : new long[] {0, 100, 1000};
        for (int si = 0; si < searched; si++) {
            BatchCostCurve c = curves.get(si);
            for (int b : c.sizes()) {
                if (!load.open() && b > load.concurrency() && b / 2 >= load.concurrency()) {
                    continue;       // batches cannot be fuller than the callers: a larger max batch is the same configuration
                }
                for (long d : delays) {
                    if (b == 1 && d > 0) {
                        continue;   // a batch of one never waits for company
                    }
                    double capacity = c.maxRowsPerSecond(b);
                    int rows = load.open() ? (int) Math.max(1, Math.min(b, Math.round(load.rate() * (d + c.nanos(1) / 1e3) / 1e6))) : Math.min(b, load.concurrency());
                    double runMicros = c.nanos(rows) / 1e3;
                    // lower bounds of the p99: the open loop's request waits at least its run; the closed loop's mean is callers / throughput
                    double lowerP99 = load.open() ? runMicros : load.concurrency() / capacity * 1e6;
                    boolean slow = load.open() && load.rate() >= 0.95 * capacity;
                    if (lowerP99 > sloMicros || slow || d > sloMicros / 2) {
                        pruned++;
                        if (!slow && d == 0 && lowerP99 < nearestLower) {
                            nearestLower = lowerP99;
                            nearestPruned = new Candidate(si, b, d);
                        }
                        continue;
                    }
                    keep.add(new Candidate(si, b, d));
                    // most promising first: the most capacity, then the least predicted latency
                    promise.add(capacity - (d + runMicros) / 1e6);
                }
            }
        }
        Integer[] order = new Integer[keep.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -promise.get(i)));
        log.printf(Locale.ROOT, "  search  %d candidates, %d pruned by the cost curve (cannot meet p99 <= %.4g ms %s), %d to measure%n",
                keep.size() + pruned, pruned, sloMicros / 1000, load.describe(), keep.size());
        // 3. measure, most promising first, leaving time for the finals
        double stepCost = stepSeconds + 1.5;
        long finalsNanos = (long) (2 * 4 * stepCost * 1e9);
        List<Point> tried = new ArrayList<>();
        for (int i : order) {
            if (System.nanoTime() + (long) (stepCost * 1e9) + finalsNanos > deadline) {
                log.println("  search  the time budget is spent: " + (keep.size() - tried.size()) + " candidates left unmeasured");
                break;
            }
            Point p = measure(keep.get(i));
            tried.add(p);
            log.println("  tried   " + line(p));
        }
        if (tried.isEmpty() && nearestPruned != null) {
            // nothing could meet it: measure the one predicted nearest, so that "the closest" is a measurement
            Point p = measure(nearestPruned);
            tried.add(p);
            log.println("  nearest " + line(p) + String.format(Locale.ROOT, "  (pruned: predicted p99 >= %.2f ms)", nearestLower / 1000));
        }
        Candidate def = new Candidate(defaultSetup, Math.min(DEFAULT_MAX_BATCH, current[defaultSetup].maxBatchSize()), DEFAULT_DELAY_MICROS);
        // 4. finals: the best passing three and the default, interleaved, twice
        List<Point> passing = tried.stream().filter(p -> p.meets(sloMicros, load))
                .sorted(Comparator.comparingDouble((Point p) -> -p.capacity(load))).toList();
        List<Candidate> finalists = new ArrayList<>();
        for (Point p : passing) {
            if (finalists.size() < 3) {
                finalists.add(p.candidate());
            }
        }
        if (!finalists.contains(def)) {
            finalists.add(def);
        }
        List<List<Point>> rounds = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            List<Point> round = new ArrayList<>();
            for (Candidate c : finalists) {
                round.add(measure(c));
            }
            rounds.add(round);
        }
        List<Point> finals = new ArrayList<>();
        for (int k = 0; k < finalists.size(); k++) {
            finals.add(median(rounds.get(0).get(k), rounds.get(1).get(k)));
            log.println("  final   " + line(finals.get(k)) + (finalists.get(k).equals(def) ? "  (the batcher's defaults)" : ""));
        }
        // the choice: the most capacity among the finals that meet the objective (the default too: it may be the best)
        Point chosen = finals.stream().filter(p -> p.meets(sloMicros, load)).max(Comparator.comparingDouble(p -> p.capacity(load))).orElse(null);
        // the closest: from the finals when some candidate reached them (their interleaved figures are the firmer ones), else from every step
        List<Point> pool = new ArrayList<>(finals);
        if (passing.isEmpty()) {
            pool.addAll(tried);
        }
        Point closest = pool.stream().filter(p -> p.ok() > 0).min(Comparator.comparingDouble(Point::p99Micros)).orElse(null);
        Point defaults = finals.get(finalists.indexOf(def));
        return new Outcome(curves, keep.size() + pruned, tried, pruned, finals, chosen, closest, defaults, passing.size());
    }

    /** Two rounds' figures of one candidate: their means (the median of two). */
    private static Point median(Point a, Point b) {
        return new Point(a.candidate(), (a.p50Micros() + b.p50Micros()) / 2, (a.p99Micros() + b.p99Micros()) / 2, (a.throughput() + b.throughput()) / 2,
                (a.meanBatch() + b.meanBatch()) / 2, (a.engineBusy() + b.engineBusy()) / 2, a.ok() + b.ok(), a.notOk() + b.notOk());
    }

    String describe(Candidate c) {
        return String.format(Locale.ROOT, "%s max-batch=%d max-delay-us=%d", setups.get(c.setup()).label(), c.maxBatch(), c.delayMicros());
    }

    String line(Point p) {
        return String.format(Locale.ROOT, "%-52s p50 %8.2f ms  p99 %8.2f ms  %9.0f req/s  batch %5.2f  engine busy %3.0f%%  %s", describe(p.candidate()),
                p.p50Micros() / 1000, p.p99Micros() / 1000, p.throughput(), p.meanBatch(), 100 * p.engineBusy(),
                p.meets(sloMicros, load) ? "meets" : p.notOk() > 0 ? p.notOk() + " not OK" : "misses");
    }

    /** The engine setup {@code i} runs now (the setup's own, or the one that replaced it). */
    Engine engine(int i) {
        return current[i];
    }

    /** Closes the engines this search opened again (the setups' own are the caller's to close). */
    void closeReopened() {
        for (int i = 0; i < current.length; i++) {
            if (current[i] != setups.get(i).engine()) {
                current[i].close();
                current[i] = setups.get(i).engine();
            }
        }
    }

    private static List<io.hotpath.core.TensorSpec> batchTensors(Engine e) {
        List<io.hotpath.core.TensorSpec> all = new ArrayList<>(e.inputs());
        all.addAll(e.outputs());
        return all;
    }

    /** One step of the user's load on candidate {@code c}: a warm-up, then {@code stepSeconds} measured. */
    Point measure(Candidate c) throws InterruptedException {
        Setup s = setups.get(c.setup());
        Engine engine = current[c.setup()];
        long perService = Checks.saturatingMultiply(2, Checks.batchBytes(batchTensors(engine), engine.maxBatchSize(), seq));
        if (s.reopen() != null && taken[c.setup()] + perService > REOPEN_AFTER_BYTES) {
            // the batches earlier services took go back with the engine; a fresh one starts from nothing
            Engine fresh = s.reopen().get();
            if (current[c.setup()] != s.engine()) {
                current[c.setup()].close();
            }
            current[c.setup()] = fresh;
            engine = fresh;
            log.printf(Locale.ROOT, "  reopen  %s (its services had taken %d MiB of batch memory)%n", s.label(), taken[c.setup()] >> 20);
            taken[c.setup()] = 0;
        }
        taken[c.setup()] += perService;
        int slots = load.open() ? (int) Math.min(4096, Math.max(64, Math.ceil(load.rate() * sloMicros / 1e6 * 4))) : load.concurrency();
        try (InferenceService svc = InferenceService.builder(engine).closeEngine(false)
                .batching(b -> b.maxBatchSize(c.maxBatch()).maxQueueDelayMicros(c.delayMicros()).maxRequests(slots)).build()) {
            ProfileRun.Inputs inputs = ProfileRun.random(svc, seq, vocab);
            if (load.open()) {
                var pool = OpenLoop.pool(svc, slots, seq);
                // a second of warm-up and a step of stepSeconds, as many requests as the rate sends in them (the command checked it is >= 20)
                OpenLoop.run(svc, pool, load.rate(), 0, (int) Math.max(1, Math.round(load.rate())), seed, inputs);
                svc.metrics().intervalBatchSize(null);
                svc.metrics().intervalEngineTime(null);
                OpenLoop.Result r = OpenLoop.run(svc, pool, load.rate(), 0, (int) Math.max(1, Math.round(load.rate() * stepSeconds)), seed + 1, inputs);
                Histogram batches = svc.metrics().intervalBatchSize(null);
                Histogram engineTimes = svc.metrics().intervalEngineTime(null);
                double busy = Math.min(1, engineTimes.getTotalCount() * engineTimes.getMean() / r.wallNanos());
                return new Point(c, r.corrected().getValueAtPercentile(50) / 1e3, r.corrected().getValueAtPercentile(99) / 1e3, r.throughput(),
                        batches.getTotalCount() == 0 ? 0 : batches.getMean(), busy, r.ok(), r.notOk());
            }
            StageProfile p = new StageProfile(load.concurrency(), Math.max(1024, (1 << 18) / load.concurrency()));
            ProfileRun.Result r = ProfileRun.run(svc, load.concurrency(), inputs, 1_000_000_000L, (long) (stepSeconds * 1e9), p, seed, () -> {
                svc.metrics().intervalBatchSize(null);      // the recorders start with the measured phase
                svc.metrics().intervalEngineTime(null);
            });
            Histogram batches = svc.metrics().intervalBatchSize(null);
            Histogram engineTimes = svc.metrics().intervalEngineTime(null);
            double busy = Math.min(1, engineTimes.getTotalCount() * engineTimes.getMean() / r.wallNanos());
            if (p.recorded() == 0) {
                return new Point(c, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, 0, 0, busy, 0, r.notOk());
            }
            Histogram e2e = p.summarize().endToEnd();
            return new Point(c, e2e.getValueAtPercentile(50) / 1e3, e2e.getValueAtPercentile(99) / 1e3, r.throughput(),
                    batches.getTotalCount() == 0 ? 0 : batches.getMean(), busy, r.ok(), r.notOk());
        }
    }
}
