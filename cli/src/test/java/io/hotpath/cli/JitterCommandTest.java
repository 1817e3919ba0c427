package io.hotpath.cli;

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
            "^\\s+(\\S+) us\\s+(\\d+)\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+) us\\s+([\\d.]+)%$",
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
        assertTrue(rates[0] >= rates[1] && rates[1] >= rates[2] && rates[2] >= rates[3] && rates[3] >= 0, r.out());
        List<double[]> rows = new ArrayList<>();
        Matcher row = ROW.matcher(r.out());
        while (row.find()) {
            double[] v = new double[8];
            for (int i = 0; i < 8; i++) {
                v[i] = Double.parseDouble(row.group(i + 1));
            }
            rows.add(v);
        }
        assertEquals(2, rows.size(), r.out());
        for (double[] v : rows) {
            assertTrue(v[1] > 0, "calls were timed: " + r.out());
            assertTrue(v[2] <= v[3] && v[3] <= v[4] && v[4] <= v[5] && v[5] <= v[6], "p50 <= p90 <= p99 <= p99.9 <= max: " + r.out());
            assertTrue(v[7] >= 0 && v[7] <= 100, r.out());
        }
        assertEquals(1.0, rows.get(0)[0]);
        assertEquals(8.0, rows.get(1)[0]);
        assertTrue(rows.get(1)[2] > 2 * rows.get(0)[2], "eight times the arithmetic has a median more than twice as long: " + r.out());
    }

    @Test
    void theProbeCountsEveryGapOnceAndScalesTheWorkWithTheLength() {
        JitterProbe.warmUp(20_000_000L);
        JitterProbe.Interruptions in = JitterProbe.interruptions(50_000_000L);
        assertTrue(in.reads() > 0 && in.seconds() >= 0.05, in.toString());
        assertEquals(in.atLeast1us(), in.gaps().getTotalCount(), "every gap of 1 us or more is in the histogram");
        assertTrue(in.atLeast1us() >= in.atLeast5us() && in.atLeast5us() >= in.atLeast10us() && in.atLeast10us() >= in.atLeast50us());
        assertTrue(in.lostFraction() >= 0 && in.lostFraction() <= 1, in.toString());
        double perMicro = JitterProbe.unitsPerMicro();
        assertTrue(perMicro > 0, "units per microsecond " + perMicro);
        List<JitterProbe.Calls> calls = JitterProbe.calls(new double[] {1, 4}, perMicro, 60_000_000L);
        JitterProbe.Calls one = calls.get(0);
        JitterProbe.Calls four = calls.get(1);
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
