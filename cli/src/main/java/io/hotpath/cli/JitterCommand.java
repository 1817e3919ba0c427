package io.hotpath.cli;

import io.hotpath.models.ModelCatalog;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hotpath jitter}: the latency floor of this machine for one thread that never waits (see
 * {@link JitterProbe}). A model's p99, measured on the same machine at about the same time, is read
 * against the p99 of arithmetic of the model's own p50 length: what is above it is the runtime's.
 */
@Command(name = "jitter", mixinStandardHelpOptions = true,
        description = "Measures how often this machine stops a thread that never waits, for how long, and how much of the time it "
                + "runs it slowed (a loop reading the clock), and the percentiles of calls of fixed arithmetic of each --work-us "
                + "length, timed one by one (no memory traffic, no allocation): about the p99 a call of that length can expect "
                + "here. The clock loop and the lengths take turns of 5 ms. Runs on one thread; run it on a quiet machine, as a "
                + "benchmark, a few times.")
final class JitterCommand implements Callable<Integer> {
    /** Fewer calls of one length than this make no p99. */
    static final long MIN_CALLS = 1_000;
    private static final long WARM_UP_NANOS = 200_000_000L;
    /** How long the --model runs, once warm, to measure its p50 (the length of the arithmetic beside it). */
    private static final long MODEL_PROBE_NANOS = 200_000_000L;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "6",
            description = "Total measuring time, shared equally by the clock loop and each call length in turns of 5 ms (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--work-us", paramLabel = "US", split = ",", defaultValue = "1,2,4,8",
            description = "Lengths of the timed calls, in microseconds of arithmetic on this machine, 0.1 to 1,000; each timed call "
                    + "also holds one clock read (tens of nanoseconds) (default ${DEFAULT-VALUE}).")
    double[] workMicros;

    @Option(names = "--model", paramLabel = "FILE|ALIAS",
            description = "Also time this model: one request through the service in direct mode on this thread, in its own turns, "
                    + "beside arithmetic of the model's own p50 (measured first, over 0.2 s of its calls once they are compiled).",
            completionCandidates = BenchCommand.Aliases.class)
    String model;

    @Option(names = "--engine", paramLabel = "jvm|cpu", defaultValue = "jvm",
            description = "The --model's engine: jvm (small models compiled for the JVM) or cpu (ONNX Runtime, one intra-op thread) "
                    + "(default ${DEFAULT-VALUE}).")
    String engine;

    @Override
    public Integer call() {
        Checks checks = new Checks(spec);
        checks.positive("--seconds", seconds, Checks.MAX_SECONDS);
        if (workMicros.length == 0 || workMicros.length > 32) {
            throw checks.fail("--work-us: give 1 to 32 lengths (got " + workMicros.length + ")");
        }
        long total = (long) (seconds * 1e9);
        int turns = workMicros.length + 1 + (model == null ? 0 : 2);
        long share = total / turns;
        for (double w : workMicros) {
            checks.between("--work-us", w, 0.1, 1_000);
            enoughCalls(checks, "--work-us " + Checks.fmt(w), share, w * 1_000);
        }
        if (!engine.equals("jvm") && !engine.equals("cpu")) {
            throw checks.fail("--engine " + engine + ": jvm or cpu");
        }
        if (model == null && spec.commandLine().getParseResult().hasMatchedOption("--engine")) {
            throw checks.fail("--engine applies to --model");
        }
        JitterModel timed = null;
        double[] lengths = workMicros;
        try {
            if (model != null) {
                // opened, warmed and its length measured before anything is printed: a model that cannot run, or whose calls
                // are too long for a p99 in their share of --seconds, is refused in one line
                java.nio.file.Path file = ModelCatalog.resolve(model);
                timed = checks.opening("--model " + model + " --engine " + engine, () -> JitterModel.open(file, model, engine.equals("jvm")));
                timed.warm();
                timed.reset().turn(MODEL_PROBE_NANOS);
                double p50 = timed.calls.times().getValueAtPercentile(50);
                if (p50 > 1_000_000) {
                    throw checks.fail("--model " + model + ": its calls take " + us((long) p50) + " at p50, over the 1,000 us of arithmetic "
                            + "this command times beside a model");
                }
                enoughCalls(checks, "--model " + model + " (" + us((long) p50) + " a call)", share, p50);
                lengths = java.util.Arrays.copyOf(workMicros, workMicros.length + 1);
                lengths[workMicros.length] = Math.max(0.1, Math.round(p50 / 10) / 100.0);
            }
            System.out.println("hotpath jitter: " + SystemInfo.detect().summary());
            double unitsPerMicro = JitterProbe.unitsPerMicro();
            double usualRead = JitterProbe.warmUp(lengths, unitsPerMicro, timed, WARM_UP_NANOS);
            JitterProbe.Measurement m = JitterProbe.measure(lengths, unitsPerMicro, usualRead, timed == null ? null : timed.reset(), total);
            report(System.out, m, timed);
        } finally {
            if (timed != null) {
                timed.close();
            }
        }
        return 0;
    }

    /** Refuses a length that its share of --seconds gives fewer than {@link #MIN_CALLS} calls. */
    private void enoughCalls(Checks checks, String what, long shareNanos, double callNanos) {
        double calls = shareNanos / Math.max(1, callNanos);
        if (calls < MIN_CALLS) {
            throw checks.fail(what + " with --seconds " + Checks.fmt(seconds) + ": about " + (long) calls
                    + " calls of that length, too few for a p99 (at least " + MIN_CALLS + "): raise --seconds");
        }
    }

    private static void report(PrintStream out, JitterProbe.Measurement m, JitterModel timed) {
        JitterProbe.Interruptions in = m.clock();
        out.printf(Locale.ROOT, "a thread reading the clock in a loop, in turns with the calls below (%.1f s in all, one read every %.0f ns):%n",
                in.seconds(), in.nanosPerRead());
        if (in.nanosPerRead() > 500) {
            out.println("  (a clock read takes over 500 ns here: a slow clock source, so short gaps are partly the clock's own)");
        }
        out.printf(Locale.ROOT, "  stopped, per second: >= 1 us %,.0f   >= 5 us %,.0f   >= 10 us %,.0f   >= 50 us %,.0f%n",
                in.perSecond(in.atLeast1us()), in.perSecond(in.atLeast5us()), in.perSecond(in.atLeast10us()),
                in.perSecond(in.atLeast50us()));
        Histogram g = in.gaps();
        if (g.getTotalCount() > 0) {
            out.printf(Locale.ROOT, "  stopped for: p50 %s   p99 %s   max %s; time lost %.2f %%%n", us(g.getValueAtPercentile(50)),
                    us(g.getValueAtPercentile(99)), us(g.getMaxValue()), in.lostFraction() * 100);
        }
        StringBuilder factors = new StringBuilder();
        StringBuilder shares = new StringBuilder();
        for (int i = 0; i < JitterProbe.SLOWED_BY.length; i++) {
            factors.append(i == 0 ? "" : " / ").append(Checks.fmt(JitterProbe.SLOWED_BY[i])).append('x');
            shares.append(i == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f %%", in.sharesSlowedBy()[i] * 100));
        }
        if (in.turns() == 0) {
            out.println("  (no window could be judged: the thread was stopped for most of every window of the warm-up, so there is "
                    + "no usual read to judge against and the shares below are 0)");
        }
        out.printf(Locale.ROOT, "  slowed, not stopped: %s of the %d windows of %d us read the clock %s slower than the usual %.0f ns "
                        + "a read; runs of %sx or more last up to %.1f ms, and %d of %d turns of %d ms were that slow throughout%n",
                shares, in.windows(), JitterProbe.WINDOW_NANOS / 1_000, factors, in.usualReadNanos(),
                Checks.fmt(JitterProbe.SLOWED_FACTOR), in.longestSlowedNanos() / 1e6, in.turnsSlowedThroughout(), in.turns(),
                JitterProbe.TURN_NANOS / 1_000_000);
        List<JitterProbe.Calls> calls = m.calls();
        out.println("calls of fixed arithmetic, timed one by one, the lengths in turns (no memory traffic, no allocation):");
        out.printf(Locale.ROOT, "  %-9s %10s %9s %9s %9s %9s %9s %14s %11s%n", "target", "calls", "p50", "p90", "p99", "p99.9", "max",
                "over p50+5us", "predicted");
        for (JitterProbe.Calls c : calls) {
            row(out, m, Checks.fmt(c.targetMicros()) + " us", c);
        }
        if (timed != null) {
            out.printf(Locale.ROOT, "the model %s, one request through the service in direct mode on this thread, in its own turns "
                    + "(the last row above is arithmetic of its p50, measured before the run):%n", timed.label);
            row(out, m, "model", timed.calls);
        }
        out.println("reading: a call whose p50 is one of these can expect about the p99 beside it on this machine, at this time. "
                + "Predicted: the share over p50+5us the clock loop accounts for, from its stops of 5 us or more landing in a call "
                + "and from the windows slowed 1 + 5/p50 times or more (6x for 1 us calls, 1.6x for 8 us); the figures move "
                + "between runs on a shared VM: compare rounds.");
    }

    private static void row(PrintStream out, JitterProbe.Measurement m, String label, JitterProbe.Calls c) {
        Histogram h = c.times();
        out.printf(Locale.ROOT, "  %-9s %10d %9s %9s %9s %9s %9s %13.2f%% %10.2f%%%n", label, h.getTotalCount(),
                us(h.getValueAtPercentile(50)), us(h.getValueAtPercentile(90)), us(h.getValueAtPercentile(99)),
                us(h.getValueAtPercentile(99.9)), us(h.getMaxValue()), c.slowerThanMedianBy(5) * 100, m.predictedSlowerThanMedianBy(c, 5) * 100);
    }

    private static String us(long nanos) {
        return String.format(Locale.ROOT, "%.2f us", nanos / 1e3);
    }
}
