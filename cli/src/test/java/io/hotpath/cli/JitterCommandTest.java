package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code hotpath jitter}: what it reports is consistent with itself (counts by threshold nest,
 * percentiles rise, a longer call takes longer than a shorter one measured in the same run), and
 * bad values are refused in one line before anything is measured. No figure of one machine is
 * asserted.
 */
class JitterCommandTest {
    private static final Pattern ROW = Pattern.compile(
            "^\\s+(\\S+) us\\s+(\\d+)\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+)%"
                    + "\\s+([\\d.]+)%$",
            Pattern.MULTILINE);
    private static final Pattern SLOWED = Pattern.compile(
            "slowed, not stopped: ([\\d.]+) % / ([\\d.]+) % / ([\\d.]+) % / ([\\d.]+) % of the (\\d+) windows of 100 us read the clock "
                    + "1\\.5x / 2x / 3x / 6x slower");
    private static final Pattern MODEL_ROW = Pattern.compile(
            "^\\s+model\\s+(\\d+)\\s+([\\d.]+) us\\s+[\\d.]+ us\\s+([\\d.]+) us\\s+[\\d.]+ us\\s+[\\d.]+ us\\s+([\\d.]+)%\\s+([\\d.]+)%$",
            Pattern.MULTILINE);
    private static final Pattern RATES = Pattern.compile(
            ">= 1 us ([\\d,]+)\\s+>= 5 us ([\\d,]+)\\s+>= 10 us ([\\d,]+)\\s+>= 50 us ([\\d,]+)");

    @Test
    void reportsNestedInterruptionCountsAndCallPercentilesThatRiseWithLength() {
        CliRun.Result r = CliRun.run("jitter", "--seconds", "0.6", "--work-us", "1,8");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().startsWith("hotpath jitter: "), r.out());
        Matcher m = RATES.matcher(r.out());
        assertTrue(m.find(), r.out());
        double[] rates = new double[4];
        for (int i = 0; i < 4; i++) {
            rates[i] = Double.parseDouble(m.group(i + 1).replace(",", ""));
        }
        assertTrue(rates[0] >= rates[1] && rates[1] >= rates[2] && rates[2] >= rates[3], r.out());
        Matcher slowed = SLOWED.matcher(r.out());
        assertTrue(slowed.find(), r.out());
        double[] shares = new double[4];
        for (int i = 0; i < 4; i++) {
            shares[i] = Double.parseDouble(slowed.group(i + 1));
        }
        assertTrue(Long.parseLong(slowed.group(5)) > 0, r.out());
        assertTrue(100 >= shares[0] && shares[0] >= shares[1] && shares[1] >= shares[2] && shares[2] >= shares[3],
                "a window slowed 6x is also slowed 3x, 2x and 1.5x: " + r.out());
        List<double[]> rows = new ArrayList<>();
        Matcher row = ROW.matcher(r.out());
        while (row.find()) {
            double[] v = new double[9];
            for (int i = 0; i < 9; i++) {
                v[i] = Double.parseDouble(row.group(i + 1));
            }
            rows.add(v);
        }
        assertEquals(2, rows.size(), r.out());
        for (double[] v : rows) {
            assertTrue(v[1] > 0, "calls were timed: " + r.out());
            assertTrue(v[2] <= v[3] && v[3] <= v[4] && v[4] <= v[5] && v[5] <= v[6], "p50 <= p90 <= p99 <= p99.9 <= max: " + r.out());
            assertTrue(v[7] <= 100 && v[8] <= 100, "shares of calls: " + r.out());
        }
        assertEquals(1.0, rows.get(0)[0]);
        assertEquals(8.0, rows.get(1)[0]);
        assertTrue(rows.get(1)[2] > 2 * rows.get(0)[2], "eight times the arithmetic has a median more than twice as long: " + r.out());
    }

    @Test
    void theProbeCountsEveryGapOnceAndScalesTheWorkWithTheLength() {
        double perMicro = JitterProbe.unitsPerMicro();
        assertTrue(perMicro > 0, "units per microsecond " + perMicro);
        double[] lengths = {1, 4};
        double usual = JitterProbe.warmUp(lengths, perMicro, null, 20_000_000L);
        assertTrue(usual > 0, "the usual clock read was measured: " + usual);
        JitterProbe.Measurement m = JitterProbe.measure(lengths, perMicro, usual, null, 100_000_000L);
        JitterProbe.Interruptions in = m.clock();
        assertTrue(in.reads() > 0 && in.seconds() > 0, in.toString());
        assertEquals(in.atLeast1us(), in.gaps().getTotalCount(), "every gap of 1 us or more is in the histogram");
        assertTrue(in.atLeast1us() >= in.atLeast5us() && in.atLeast5us() >= in.atLeast10us() && in.atLeast10us() >= in.atLeast50us());
        assertTrue(in.lostFraction() >= 0 && in.lostFraction() <= 1, in.toString());
        assertTrue(in.usualReadNanos() > 0, "the run's median read was measured: " + in);
        assertTrue(in.windows() > 0 && in.turns() > 0 && in.turnsSlowedThroughout() <= in.turns(), in.toString());
        for (double share : in.sharesSlowedBy()) {
            assertTrue(share >= 0 && share <= 1, in.toString());
        }
        JitterProbe.Calls one = m.calls().get(0);
        JitterProbe.Calls four = m.calls().get(1);
        assertEquals(Math.max(1, Math.round(perMicro)), one.units());
        assertEquals(Math.max(1, Math.round(4 * perMicro)), four.units());
        assertTrue(one.times().getTotalCount() > 0 && four.times().getTotalCount() > 0);
        // four times the arithmetic takes clearly longer at the median: the loop is really run, not folded away
        assertTrue(four.times().getValueAtPercentile(50) > 2 * one.times().getValueAtPercentile(50),
                "p50 " + four.times().getValueAtPercentile(50) + " ns against " + one.times().getValueAtPercentile(50) + " ns");
        // the lengths took turns: the longer calls were not all measured after the shorter ones
        assertTrue(four.times().getTotalCount() * 4 > one.times().getTotalCount() / 4, "both lengths got their turns");
    }

    @Test
    void gapsAreCountedAtTheirThresholdsAndWindowsJudgedAgainstTheUsualRead() {
        JitterProbe.ClockTally t = new JitterProbe.ClockTally(50);
        for (long gap : new long[] {1_000, 4_999, 5_000, 9_999, 10_000, 49_999, 50_000}) {
            t.gap(gap);
        }
        assertArrayEquals(new long[] {7, 5, 3, 1}, t.counts, "each gap counted at every threshold it reaches, exactly at the bounds");
        assertEquals(130_997, t.lostNanos);
        // 50 ns a read is the usual; runs are of windows 3x slower or more
        t.window(0, 100_000, 100_000, 2_000);        // 50 ns a read: not slowed
        t.window(100_000, 200_000, 100_000, 500);    // 200 ns: slowed, a run starts
        t.window(200_000, 300_000, 100_000, 400);    // 250 ns: slowed
        t.window(300_000, 400_000, 30_000, 10);      // stopped for most of it: not judged, the run goes on
        t.window(400_000, 500_000, 100_000, 100);    // 1 us a read: slowed, the run is now 400 us
        t.window(500_000, 600_000, 100_000, 667);    // 149.9 ns: under 3x, the run ends
        t.nanos = 600_000;
        JitterProbe.Interruptions in = t.result();
        assertEquals(5, in.windows());
        assertEquals(400_000, in.longestSlowedNanos());
        // windows at 50, 149.9, 200, 250 and 1,000 ns a read against 50: 1.5x = 75 ns and more
        assertArrayEquals(new double[] {0.8, 0.8, 0.6, 0.2}, in.sharesSlowedBy(), 1e-12, "shares at 1.5x, 2x, 3x, 6x");
        t.endTurn();
        assertEquals(1, t.turns);
        assertEquals(0, t.turnsSlowedThroughout, "the turn had windows under 3x");
        assertEquals(200, t.usualReadNanos, 0.5, "after a turn the bar is the median window so far");
        t.window(600_000, 700_000, 100_000, 160);    // 625 ns: 3.1x the new 200
        t.window(700_000, 800_000, 100_000, 100);    // 1 us
        t.endTurn();
        t.window(800_000, 900_000, 10_000, 1);       // a turn stopped throughout is not judged
        t.endTurn();
        assertEquals(2, t.turns);
        assertEquals(1, t.turnsSlowedThroughout);
        JitterProbe.ClockTally none = new JitterProbe.ClockTally(0);
        none.window(0, 100_000, 100_000, 100);
        none.endTurn();
        assertArrayEquals(new double[4], none.result().sharesSlowedBy(), "without a usual read nothing is judged slowed");
        assertEquals(0, none.result().turns());
        assertEquals(1_000, none.medianReadNanos(), 2, "but the window's time per read is recorded");
        assertEquals(1_000, none.result().usualReadNanos(), 2, "and is the result's usual read");
    }

    @Test
    void theClockLoopPredictsLateCallsFromItsStopsAndItsSlowedWindows() {
        JitterProbe.ClockTally t = new JitterProbe.ClockTally(50);
        for (int i = 0; i < 1_000; i++) {
            t.gap(5_000);
        }
        t.nanos = 1_000_000_000L;
        t.window(0, 100_000, 100_000, 2_000);        // 50 ns a read
        t.window(100_000, 200_000, 100_000, 200);    // 500 ns: 10x, a tenth of the calls of a usual window
        JitterProbe.Interruptions in = t.result();
        assertEquals(1.0 / 11, in.callsInWindowsSlowedBy(6), 1e-3, "one window in 1.1 of calls' worth");
        assertEquals(0, in.callsInWindowsSlowedBy(11), 1e-12);
        assertEquals(1, in.callsInWindowsSlowedBy(1), 1e-12);
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(JitterProbe.HIGHEST_NANOS, 3);
        h.recordValueWithCount(1_000, 100);
        JitterProbe.Calls c = new JitterProbe.Calls(1, 1, h);
        JitterProbe.Measurement m = new JitterProbe.Measurement(in, List.of(c));
        // 1,000 stops of 5 us a second land in 1,050 ns (the call and one read) 0.105 % of the time; a 1 us call is 5 us late from 6x
        assertEquals(0.00105 + 1.0 / 11, m.predictedSlowerThanMedianBy(c, 5), 1e-3);
        assertEquals(0.00105, m.predictedSlowerThanMedianBy(c, 10), 1e-4, "11x is more than any window here was slowed");
    }

    @Test
    void theShareOverTheMedianCountsOnlyTheCallsPastTheBound() {
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(JitterProbe.HIGHEST_NANOS, 3);
        h.recordValueWithCount(1_000, 50);
        h.recordValueWithCount(2_000, 40);
        h.recordValueWithCount(9_000, 10);
        JitterProbe.Calls c = new JitterProbe.Calls(1, 1, h);
        assertEquals(0.10, c.slowerThanMedianBy(5), 1e-12, "only the 9 us calls are over 1 us + 5 us");
        assertEquals(0.50, c.slowerThanMedianBy(0.5), 1e-12, "the 2 us and 9 us calls are over 1 us + 0.5 us");
        assertEquals(0.0, c.slowerThanMedianBy(10), 1e-12);
        assertEquals(0.0, new JitterProbe.Calls(1, 1, new org.HdrHistogram.Histogram(JitterProbe.HIGHEST_NANOS, 3)).slowerThanMedianBy(5));
    }

    @Test
    void timesAModelThroughTheDirectServiceBesideArithmeticOfItsOwnLength() {
        // 2 s: half a second each for the clock loop, the 1 us calls, the model's length and the model (a loaded machine
        // can make the model slow enough that a shorter share would refuse it)
        CliRun.Result r = CliRun.run("jitter", "--seconds", "2", "--work-us", "1", "--model", "mlp");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("the model mlp (jvm), one request through the service in direct mode on this thread"), r.out());
        List<double[]> rows = new ArrayList<>();
        Matcher row = ROW.matcher(r.out());
        while (row.find()) {
            rows.add(new double[] {Double.parseDouble(row.group(1)), Double.parseDouble(row.group(2))});
        }
        assertEquals(2, rows.size(), "the 1 us calls and arithmetic of the model's p50: " + r.out());
        assertTrue(rows.get(1)[1] > 0, "the model's length was timed: " + r.out());
        Matcher m = MODEL_ROW.matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Long.parseLong(m.group(1)) > 0, "the model's calls were timed: " + r.out());
        double p50 = Double.parseDouble(m.group(2));
        double p99 = Double.parseDouble(m.group(3));
        assertTrue(p50 > 0 && p50 <= p99, r.out());
        double late = Double.parseDouble(m.group(4));
        double predicted = Double.parseDouble(m.group(5));
        assertTrue(late <= 100 && predicted <= 100, r.out());
    }

    @Test
    void refusesAModelOrEngineItCannotTimeInOneLineBeforeMeasuring() {
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--model", "mlp", "--engine", "onnx"), "--engine onnx", "jvm or cpu");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--engine", "cpu"), "--engine applies to --model");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--model", "no-such-model.onnx"), "no-such-model.onnx");
        // MiniLM has operators the JVM engine does not compile: the node is named, nothing is measured
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--model", "minilm"), "UNSUPPORTED", "the JVM engine does not compile node");
        // trees takes well over 2.5 us a call: a share of 2.5 ms holds fewer than 1,000; found once the model runs, before any output
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--seconds", "0.01", "--work-us", "1", "--model", "trees"),
                "--model trees", "too few for a p99");
    }

    @Test
    void refusesBadValuesInOneLineBeforeMeasuring() {
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--seconds", "0"), "--seconds");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--seconds", "NaN"), "--seconds");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--work-us", "0"), "--work-us");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--work-us", "1,-2"), "--work-us");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--work-us", "abc"), "--work-us");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--seconds", "Infinity"), "--seconds");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--seconds", "86401"), "--seconds");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--work-us", "1001"), "--work-us");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--work-us", "1000", "--seconds", "1"), "--work-us 1000", "too few for a p99");
        CliErrorsTest.refusedUpFront(CliRun.run("jitter", "--work-us", String.join(",", java.util.Collections.nCopies(33, "1"))),
                "--work-us", "1 to 32");
    }
}
