package io.hotpath.service;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The one list of an {@link InferenceService}'s monitoring series: requests, batches, the
 * off-heap cache and the shared tier, each a name, a kind, a help line and how to read it.
 * {@code hotpath serve}'s {@code /metrics} and the Micrometer binder
 * ({@code hotpath-metrics-micrometer}) both render this list, so a dashboard built on one reads
 * the other: Prometheus names here ({@code hotpath_cache_hits}, counters gain {@code _total} when
 * rendered), Micrometer names with dots ({@code hotpath.cache.hits}), which Micrometer's Prometheus
 * naming turns back into these. Reading a series allocates nothing and takes no lock.
 */
public final class ServiceMeters {
    private ServiceMeters() {
    }

    /** A counter (only goes up) or a gauge (a value now). */
    public enum Kind {
        COUNTER,
        GAUGE
    }

    /**
     * One series.
     *
     * @param name  the Prometheus base name (a counter is rendered with {@code _total})
     * @param kind  counter or gauge
     * @param help  one line saying what it counts
     * @param value how to read it from a service
     */
    public record Meter(String name, Kind kind, String help, ToDoubleFunction<InferenceService> value) {
        /** The Micrometer name: the Prometheus base name with dots for underscores. */
        public String micrometerName() {
            return name.replace('_', '.');
        }
    }

    /** The series {@code svc} has: the batcher's always, the cache's and the shared tier's when it has them. */
    public static List<Meter> of(InferenceService svc) {
        List<Meter> m = new ArrayList<>(BATCHER);
        if (svc.cache() != null) {
            m.addAll(CACHE);
        }
        if (svc.sharedCache() != null) {
            m.addAll(SHARED);
        }
        return m;
    }

    private static Meter counter(String name, String help, ToDoubleFunction<InferenceService> v) {
        return new Meter(name, Kind.COUNTER, help, v);
    }

    private static Meter gauge(String name, String help, ToDoubleFunction<InferenceService> v) {
        return new Meter(name, Kind.GAUGE, help, v);
    }

    static final List<Meter> BATCHER = List.of(
            counter("hotpath_requests_submitted", "Requests the batcher accepted", s -> s.metrics().submitted()),
            counter("hotpath_requests_completed", "Requests the batcher answered OK", s -> s.metrics().completed()),
            counter("hotpath_requests_rejected", "Requests refused because the queue was full (back-pressure)", s -> s.metrics().rejected()),
            counter("hotpath_requests_timed_out", "Requests answered TIMEOUT at their deadline", s -> s.metrics().timedOut()),
            counter("hotpath_requests_failed", "Requests answered FAILED (the engine failed their batch)", s -> s.metrics().failed()),
            counter("hotpath_batches", "Engine runs the batcher made", s -> s.metrics().batches()),
            counter("hotpath_batch_rows", "Rows in those engine runs", s -> s.metrics().batchRows()),
            gauge("hotpath_requests_in_flight", "Requests accepted and not yet answered", s -> s.metrics().inFlight()));

    static final List<Meter> CACHE = List.of(
            counter("hotpath_cache_hits", "Requests answered by the off-heap prediction cache", s -> s.cache().hits()),
            counter("hotpath_cache_misses", "Off-heap prediction cache lookups that found nothing", s -> s.cache().misses()),
            counter("hotpath_cache_evictions", "Entries the off-heap prediction cache evicted", s -> s.cache().evictions()),
            gauge("hotpath_cache_bytes_used", "Bytes the off-heap prediction cache's entries take", s -> s.cache().bytesUsed()));

    static final List<Meter> SHARED = List.of(
            counter("hotpath_cache_l2_hits", "Shared cache (Redis) lookups that answered the request", s -> s.sharedCache().hits()),
            counter("hotpath_cache_l2_misses", "Shared cache lookups that found no entry", s -> s.sharedCache().misses()),
            counter("hotpath_cache_l2_abandoned", "Shared cache lookups not answered within the lookup budget (the request went to the engine)",
                    s -> s.sharedCache().abandoned()),
            counter("hotpath_cache_l2_errors", "Shared cache lookups that failed (error reply, not connected)", s -> s.sharedCache().errors()),
            counter("hotpath_cache_l2_corrupt", "Shared cache values that were malformed, the wrong size or another input's (treated as misses)",
                    s -> s.sharedCache().corrupt()),
            counter("hotpath_cache_l2_skipped", "Requests that skipped the shared cache (breaker open, or too many lookups in flight)",
                    s -> s.sharedCache().skippedOpen() + s.sharedCache().skippedBusy()),
            counter("hotpath_cache_l2_writes", "Answers written to the shared cache", s -> s.sharedCache().writes()),
            counter("hotpath_cache_l2_writes_dropped", "Writes dropped because too many were in flight", s -> s.sharedCache().writesDropped()),
            counter("hotpath_cache_l2_breaker_openings", "Times the shared cache's circuit breaker opened", s -> s.sharedCache().breakerOpenings()),
            gauge("hotpath_cache_l2_breaker_open", "1 while the shared cache's circuit breaker is open (lookups skipped)",
                    s -> s.sharedCache().breakerOpen() ? 1 : 0));
}
