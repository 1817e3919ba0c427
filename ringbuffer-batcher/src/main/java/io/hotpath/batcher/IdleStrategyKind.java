package io.hotpath.batcher;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * How a thread waits when it has nothing to do: the batcher thread between batches, and a caller
 * blocked in {@link DynamicBatcher#infer}.
 */
public enum IdleStrategyKind {
    /** Spin on the CPU: lowest latency, one core fully used. */
    BUSY_SPIN,
    /** Spin briefly, then {@code Thread.yield()}. */
    YIELD,
    /**
     * Spin, then yield (a caller: for up to 0.5 ms), then park; the batcher unparks a parked
     * caller and producers unpark a parked batcher.
     */
    BACKOFF_PARK;

    IdleStrategy newBatcherStrategy(long maxParkNanos) {
        return switch (this) {
            case BUSY_SPIN -> new BusySpinIdleStrategy();
            case YIELD -> new YieldingIdleStrategy();
            case BACKOFF_PARK -> new BackoffIdleStrategy(100, 20, 1_000, maxParkNanos);
        };
    }
}
