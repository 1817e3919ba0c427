package io.hotpath.cli;

import org.HdrHistogram.Histogram;

/** Percentiles (microseconds) and throughput of one measured configuration. */
record LatencyStats(long count, double p50Us, double p90Us, double p99Us, double p999Us, double maxUs, double meanUs,
                    double runsPerSecond, double itemsPerSecond) {

    /** From a histogram of run latencies in nanoseconds, the wall time they took and the items per run. */
    static LatencyStats of(Histogram ns, long wallNanos, int itemsPerRun) {
        double runsPerSecond = ns.getTotalCount() / (wallNanos / 1e9);
        return new LatencyStats(ns.getTotalCount(),
                ns.getValueAtPercentile(50) / 1e3, ns.getValueAtPercentile(90) / 1e3,
                ns.getValueAtPercentile(99) / 1e3, ns.getValueAtPercentile(99.9) / 1e3,
                ns.getMaxValue() / 1e3, ns.getMean() / 1e3, runsPerSecond, runsPerSecond * itemsPerRun);
    }
}
