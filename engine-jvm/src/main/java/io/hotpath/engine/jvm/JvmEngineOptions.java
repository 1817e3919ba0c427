package io.hotpath.engine.jvm;

import io.hotpath.core.HotpathException;

/**
 * Options of the JVM engine: the largest batch one run accepts (its batches' capacity), and how
 * long {@link JvmEngine#close()} waits for runs in flight on other threads.
 */
public final class JvmEngineOptions {
    /** Default capacity of dimension 0. */
    public static final int DEFAULT_MAX_BATCH = 64;

    private final int maxBatchSize;
    private final long closeTimeoutNanos;

    private JvmEngineOptions(Builder b) {
        this.maxBatchSize = b.maxBatchSize;
        this.closeTimeoutNanos = b.closeTimeoutNanos;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static JvmEngineOptions defaults() {
        return builder().build();
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    public long closeTimeoutNanos() {
        return closeTimeoutNanos;
    }

    /** Builds {@link JvmEngineOptions}; {@link #build()} checks each value. */
    public static final class Builder {
        private int maxBatchSize = DEFAULT_MAX_BATCH;
        private long closeTimeoutNanos = 30_000_000_000L;

        private Builder() {
        }

        /** The largest batch (dimension 0) one run accepts; 1 to 65536. */
        public Builder maxBatchSize(int n) {
            this.maxBatchSize = n;
            return this;
        }

        /** How long close waits for runs in flight (default 30 s). */
        public Builder closeTimeout(java.time.Duration d) {
            this.closeTimeoutNanos = d.toNanos();
            return this;
        }

        public JvmEngineOptions build() {
            if (maxBatchSize < 1 || maxBatchSize > 1 << 16) {
                throw HotpathException.invalidArgument("maxBatchSize " + maxBatchSize + " outside [1, 65536]");
            }
            if (closeTimeoutNanos < 0) {
                throw HotpathException.invalidArgument("closeTimeout must not be negative, was " + closeTimeoutNanos + " ns");
            }
            return new JvmEngineOptions(this);
        }
    }
}
