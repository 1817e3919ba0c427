package io.hotpath.models;

import java.util.List;

/** English sentences written for Hotpath's demos and benchmarks of the MiniLM models. */
public final class SampleSentences {
    /** Eight trading-flavoured sentences: the workload of timed MiniLM runs (row i uses sentence i mod 8). */
    public static final List<String> WORKLOAD = List.of(
            "Order books thin out just before the market closes.",
            "Latency spikes often come from garbage collection pauses.",
            "The exchange matched the order in under ten microseconds.",
            "Shares fell sharply after the quarterly earnings report.",
            "A risk check rejected the trade because the position limit was reached.",
            "The model scores every transaction for fraud before it settles.",
            "Volatility rose as traders priced in another rate cut.",
            "The feed handler decodes market data straight from the network buffer.");

    private SampleSentences() {
    }
}
