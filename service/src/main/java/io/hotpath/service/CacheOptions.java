package io.hotpath.service;

import io.hotpath.cache.KeyHasher;
import io.hotpath.cache.PredictionCache;
import io.hotpath.core.HotpathException;
import java.net.URI;
import java.time.Duration;

/**
 * The prediction cache's options, given to {@link InferenceService.Builder#cache}: the off-heap
 * tier in this process (L1, always there) and, optionally, a shared tier on Redis behind it (L2)
 * that other processes running the same model read and fill too.
 *
 * <pre>{@code
 * .cache(c -> c.budgetBytes(256L << 20)
 *              .redis("redis://cache-host:6379", Duration.ofMinutes(10), Duration.ofNanos(300_000)))
 * }</pre>
 *
 * <p>An L1 miss asks L2; an L2 answer that has not arrived within the lookup budget is abandoned
 * and the request goes to the engine. An L2 hit fills L1. Every engine answer is written to both
 * (to L2 asynchronously, fire and forget, at most {@link #redisMaxWritesInFlight} at a time;
 * more are dropped and counted). A circuit breaker stops asking a failing store for a back-off
 * period. Neither tier ever returns another input's answer: both compare the full key bytes.
 */
public final class CacheOptions {
    final PredictionCache.Builder local = PredictionCache.builder();
    long budgetBytes;
    URI redisUri;
    Duration redisTtl = Duration.ofHours(1);
    long lookupBudgetNanos = DEFAULT_LOOKUP_BUDGET_NANOS;
    int maxLookupsInFlight = 256;
    int maxWritesInFlight = 256;
    int breakerFailures = 5;
    Duration breakerBackoff = Duration.ofSeconds(1);
    Duration breakerMaxBackoff = Duration.ofSeconds(30);
    KeyHasher sharedHasher;

    /** The default L2 lookup budget: 300 µs. */
    public static final long DEFAULT_LOOKUP_BUDGET_NANOS = 300_000;

    CacheOptions() {
    }

    /** L1's fixed off-heap budget in bytes (required; see {@link PredictionCache.Builder#budgetBytes}). */
    public CacheOptions budgetBytes(long bytes) {
        this.budgetBytes = bytes;
        local.budgetBytes(bytes);
        return this;
    }

    /** L1's segment count (see {@link PredictionCache.Builder#segments}). */
    public CacheOptions segments(int n) {
        local.segments(n);
        return this;
    }

    /** L1's time to live in nanoseconds (see {@link PredictionCache.Builder#ttlNanos}); 0: none. */
    public CacheOptions ttlNanos(long nanos) {
        local.ttlNanos(nanos);
        return this;
    }

    /** L1's typical entry size (set from the model; see {@link PredictionCache.Builder#expectedEntryBytes}). */
    public CacheOptions expectedEntryBytes(int bytes) {
        local.expectedEntryBytes(bytes);
        return this;
    }

    /** Let the garbage collector free L1 (see {@link PredictionCache.Builder#gcManaged}). */
    public CacheOptions gcManaged(boolean on) {
        local.gcManaged(on);
        return this;
    }

    /** L1's key hash (see {@link PredictionCache.Builder#hasher}); tests use a weak one to force collisions. */
    public CacheOptions hasher(KeyHasher h) {
        local.hasher(h);
        return this;
    }

    /**
     * A shared tier on Redis behind L1: {@code redis://[user:password@]host:port[/db]}, or
     * {@code rediss://...} for TLS (credentials and TLS come from the URI and are never logged).
     * Entries live {@code ttl} in Redis; a lookup not answered within {@code lookupBudget} is
     * abandoned and the request goes to the engine. Needs {@code hotpath-cache-redis} on the class
     * path ({@link InferenceService.Builder#build()} says so otherwise). A Redis that is down at
     * start is not an error: the service answers from the engine and the tier connects when it can.
     */
    public CacheOptions redis(String uri, Duration ttl, Duration lookupBudget) {
        java.util.Objects.requireNonNull(uri, "uri");
        try {
            this.redisUri = new URI(uri);
        } catch (java.net.URISyntaxException e) {
            throw HotpathException.invalidArgument("redis URI is malformed (" + e.getReason() + "); expected redis://host:port or rediss://host:port");
        }
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw HotpathException.invalidArgument("redis ttl must be positive, was " + ttl);
        }
        if (lookupBudget == null || lookupBudget.isNegative() || lookupBudget.isZero() || lookupBudget.toMillis() > 60_000) {
            throw HotpathException.invalidArgument("redis lookup budget must be between 1 ns and 60 s, was " + lookupBudget);
        }
        this.redisTtl = ttl;
        this.lookupBudgetNanos = lookupBudget.toNanos();
        return this;
    }

    /** {@link #redis(String, Duration, Duration)} with a one-hour TTL and the default 300 µs budget. */
    public CacheOptions redis(String uri) {
        return redis(uri, Duration.ofHours(1), Duration.ofNanos(DEFAULT_LOOKUP_BUDGET_NANOS));
    }

    /** L2 lookups in flight at most (default 256); past it a request skips L2 (counted) and goes to the engine. */
    public CacheOptions redisMaxLookupsInFlight(int n) {
        if (n < 1) {
            throw HotpathException.invalidArgument("redisMaxLookupsInFlight must be >= 1, was " + n);
        }
        this.maxLookupsInFlight = n;
        return this;
    }

    /** L2 writes in flight at most (default 256); past it a write is dropped and counted. */
    public CacheOptions redisMaxWritesInFlight(int n) {
        if (n < 1) {
            throw HotpathException.invalidArgument("redisMaxWritesInFlight must be >= 1, was " + n);
        }
        this.maxWritesInFlight = n;
        return this;
    }

    /**
     * The circuit breaker: after {@code failures} failed lookups in a row (errors, abandoned at the
     * budget, not connected) L2 is skipped for {@code backoff}, then one lookup probes it; each
     * failed probe doubles the back-off up to {@code maxBackoff}. Defaults: 5, 1 s, 30 s.
     */
    public CacheOptions redisBreaker(int failures, Duration backoff, Duration maxBackoff) {
        if (failures < 1 || backoff == null || backoff.isNegative() || backoff.isZero() || maxBackoff == null || maxBackoff.compareTo(backoff) < 0) {
            throw HotpathException.invalidArgument("redisBreaker needs failures >= 1 and 0 < backoff <= maxBackoff, was "
                    + failures + ", " + backoff + ", " + maxBackoff);
        }
        this.breakerFailures = failures;
        this.breakerBackoff = backoff;
        this.breakerMaxBackoff = maxBackoff;
        return this;
    }

    /**
     * The hash that names an entry in the shared store (default XXH3 with two fixed seeds: every
     * process must name an input the same way). Tests pass one that maps everything to one key to
     * show that a collision is never a wrong answer.
     */
    public CacheOptions redisKeyHasher(KeyHasher h) {
        this.sharedHasher = java.util.Objects.requireNonNull(h, "hasher");
        return this;
    }
}
