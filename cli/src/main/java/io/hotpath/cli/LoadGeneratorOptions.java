package io.hotpath.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code hotpath bench}'s load-generator options: giving any of --concurrency, --rate,
 * --max-batch, --max-delay-us, --cache-mb or a --repeat-fraction above 0 selects the batcher path
 * ({@link LoadBench}) instead of direct engine runs ({@link BenchCommand}).
 */
final class LoadGeneratorOptions {
    @Option(names = "--concurrency", split = ",", paramLabel = "N[,N...]", description = "Client threads (1..1024) sending single-row requests through the dynamic batcher; a list sweeps them "
            + "(closed loop). Giving this, --max-batch or --max-delay-us selects the batcher path.")
    int[] concurrency;

    @Option(names = "--rate", split = ",", paramLabel = "R[,R...]", description = "Batcher path, open loop: requests per second "
            + "(Poisson arrivals), one step per rate; latency from each request's intended send time (coordinated omission corrected).")
    double[] rates;

    @Option(names = "--duration-s", defaultValue = "5", description = "Open loop: seconds per rate step (default ${DEFAULT-VALUE}).")
    double durationS;

    @Option(names = "--max-in-flight", defaultValue = "256", description = "Open loop: most requests outstanding at once, 1..65536 (default ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--csv", paramLabel = "FILE", description = "Batcher path: also write one CSV row per step.")
    Path csv;

    @Option(names = "--hdr-log", paramLabel = "FILE", description = "Batcher path: also write each step's latency histogram to an "
            + "HdrHistogram log (tagged by step; HistogramLogAnalyzer reads it).")
    Path hdrLog;

    @Option(names = "--max-batch", description = "Batcher: largest batch, 1..65536; 1 = no batching (default 8 on the batcher path).")
    Integer maxBatch;

    @Option(names = "--cache-mb", description = "Batcher path: put an off-heap prediction cache of N MiB in front of the batcher (at most half the physical memory).")
    Long cacheMb;

    @Option(names = "--redis", paramLabel = "URI", description = "Batcher path: a shared cache tier on Redis behind the prediction cache "
            + "(redis://host:port or rediss://host:port for TLS; 16 MiB of local cache unless --cache-mb says). The JSON adds l2_hit_rate "
            + "(the share of local misses Redis answered), l2_p50_us and l2_p99_us. Run the same --seed twice: the second run reads what the first wrote.")
    String redis;

    @Option(names = "--redis-budget-us", defaultValue = "300", description = "With --redis: how long a lookup may take before the request goes to the engine, µs (default ${DEFAULT-VALUE}).")
    long redisBudgetUs;

    @Option(names = "--redis-ttl-s", defaultValue = "3600", description = "With --redis: how long an entry lives in Redis, seconds (default ${DEFAULT-VALUE}).")
    long redisTtlS;

    @Option(names = "--repeat-fraction", defaultValue = "0", description = "Batcher path: share of requests that repeat an earlier input of their client, 0..1 (default ${DEFAULT-VALUE}).")
    double repeatFraction;

    @Option(names = "--idle", defaultValue = "backoff-park",
            description = "Batcher: how the batcher thread and waiting clients wait: busy-spin, yield, backoff-park (default ${DEFAULT-VALUE}).")
    String idle;

    @Option(names = "--max-delay-us", description = "Batcher: longest the oldest request waits for company, microseconds; 0 = run what is there (default 100).")
    Long maxDelayUs;

    /** Whether these options select the batcher path (load generator) rather than direct runs. */
    boolean selected() {
        return concurrency != null || rates != null || maxBatch != null || maxDelayUs != null || cacheMb != null || repeatFraction > 0 || redis != null;
    }
}
