package io.hotpath.cli;

import java.util.Map;

/**
 * One step of the load generator ({@code hotpath bench} on the batcher path): the client-side
 * result, what the batcher did, and the cache's share. Exactly one of {@code ratePerSecond} (open
 * loop) and {@code concurrency} (closed loop) is set; the uncorrected percentiles come with the
 * open loop only.
 *
 * @param batchSizeDistribution batch size to number of batches, in increasing size
 * @param cacheMb               the cache's size, null without one
 */
record LoadStepResult(BenchResult base, Double ratePerSecond, Double uncorrectedP99Us, Double uncorrectedP999Us,
                      Integer concurrency, double p95Us, int maxBatch, long maxDelayUs, double meanBatchSize,
                      Map<Long, Long> batchSizeDistribution, double queueP50Us, double queueP99Us, double engineP50Us,
                      double engineP99Us, long requestsOk, long requestsNotOk, double repeatFraction, Long cacheMb,
                      double cacheHitRate, Double l2HitRate, Double l2P50Us, Double l2P99Us,
                      Double l2WaitP99Us, Double l2WaitMaxUs) {
}
