package io.hotpath.batcher;

import java.util.Arrays;

/**
 * The batcher's settings, validated once by {@link Builder#build()} (wrong values are an
 * {@link IllegalArgumentException} naming the option and the value).
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>maxBatchSize</td><td>8</td><td>largest batch; a full batch runs at once</td></tr>
 *   <tr><td>preferredBatchSizes</td><td>none</td><td>a batch that reaches one of these runs without waiting longer</td></tr>
 *   <tr><td>maxQueueDelayMicros</td><td>100</td><td>longest the oldest waiting request waits for company; 0 = run what is there now</td></tr>
 *   <tr><td>queueCapacityBytes</td><td>1 MiB</td><td>bytes of each priority's ring (a power of two): the bound of the queue</td></tr>
 *   <tr><td>maxPayloadBytes</td><td>64 KiB</td><td>largest request input</td></tr>
 *   <tr><td>maxOutputBytes</td><td>64 KiB</td><td>largest request output</td></tr>
 *   <tr><td>maxRequests</td><td>4096</td><td>request handles that may exist at once</td></tr>
 *   <tr><td>batcherIdle</td><td>BACKOFF_PARK</td><td>how the batcher thread waits for work</td></tr>
 *   <tr><td>callerIdle</td><td>BACKOFF_PARK</td><td>how a caller blocked in infer waits</td></tr>
 *   <tr><td>closeMode</td><td>DRAIN</td><td>what {@code close()} does with requests still queued</td></tr>
 *   <tr><td>closeTimeout</td><td>30 s</td><td>longest {@code close()} waits for the batcher thread (a stuck engine run); then it returns and the thread finishes on its own</td></tr>
 *   <tr><td>errorHandler</td><td>log + count</td><td>receives every Throwable caught on the batcher thread (a callback's, a processor's, the loop's)</td></tr>
 * </table>
 */
public final class BatcherConfig {
    /** What {@link DynamicBatcher#close()} does with requests that have not run. */
    public enum CloseMode {
        /** Run everything accepted before the close, then stop. */
        DRAIN,
        /** Answer everything not yet run with {@link BatchStatus#SHUTDOWN}, then stop. */
        FAIL_PENDING
    }

    /** The largest maxBatchSize accepted (the batcher keeps per-row bookkeeping of this size per bucket). */
    public static final int MAX_BATCH_SIZE = 1 << 16;
    /** The most request handles (requests in flight) one batcher accepts. */
    public static final int MAX_REQUESTS = 1 << 20;

    final int maxBatchSize;
    final int[] preferredBatchSizes;
    final long maxQueueDelayNanos;
    final int queueCapacityBytes;
    final int maxPayloadBytes;
    final int maxOutputBytes;
    final int maxRequests;
    final IdleStrategyKind batcherIdle;
    final IdleStrategyKind callerIdle;
    final CloseMode closeMode;
    final String threadName;
    final long closeTimeoutNanos;
    final org.agrona.ErrorHandler errorHandler;

    private BatcherConfig(Builder b) {
        this.maxBatchSize = b.maxBatchSize;
        this.preferredBatchSizes = b.preferredBatchSizes.clone();
        this.maxQueueDelayNanos = b.maxQueueDelayMicros * 1_000L;
        this.queueCapacityBytes = b.queueCapacityBytes;
        this.maxPayloadBytes = b.maxPayloadBytes;
        this.maxOutputBytes = b.maxOutputBytes;
        this.maxRequests = b.maxRequests;
        this.batcherIdle = b.batcherIdle;
        this.callerIdle = b.callerIdle;
        this.closeMode = b.closeMode;
        this.threadName = b.threadName;
        this.closeTimeoutNanos = b.closeTimeoutNanos;
        this.errorHandler = b.errorHandler;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    public long maxQueueDelayMicros() {
        return maxQueueDelayNanos / 1_000L;
    }

    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    public int maxOutputBytes() {
        return maxOutputBytes;
    }

    public int maxRequests() {
        return maxRequests;
    }

    @Override
    public String toString() {
        return "maxBatch=" + maxBatchSize + " preferred=" + Arrays.toString(preferredBatchSizes) + " maxDelayUs="
                + maxQueueDelayMicros() + " queueBytes=" + queueCapacityBytes + " batcherIdle=" + batcherIdle
                + " callerIdle=" + callerIdle + " close=" + closeMode;
    }

    /** Builds a {@link BatcherConfig}. */
    public static final class Builder {
        private int maxBatchSize = 8;
        private int[] preferredBatchSizes = new int[0];
        private long maxQueueDelayMicros = 100;
        private int queueCapacityBytes = 1 << 20;
        private int maxPayloadBytes = 64 * 1024;
        private int maxOutputBytes = 64 * 1024;
        private int maxRequests = 4096;
        private IdleStrategyKind batcherIdle = IdleStrategyKind.BACKOFF_PARK;
        private IdleStrategyKind callerIdle = IdleStrategyKind.BACKOFF_PARK;
        private CloseMode closeMode = CloseMode.DRAIN;
        private String threadName = "hotpath-batcher";
        private long closeTimeoutNanos = 30_000_000_000L;
        private org.agrona.ErrorHandler errorHandler;

        private Builder() {
        }

        public Builder maxBatchSize(int n) {
            this.maxBatchSize = n;
            return this;
        }

        public Builder preferredBatchSizes(int... sizes) {
            this.preferredBatchSizes = sizes.clone();
            return this;
        }

        public Builder maxQueueDelayMicros(long micros) {
            this.maxQueueDelayMicros = micros;
            return this;
        }

        public Builder queueCapacityBytes(int bytes) {
            this.queueCapacityBytes = bytes;
            return this;
        }

        public Builder maxPayloadBytes(int bytes) {
            this.maxPayloadBytes = bytes;
            return this;
        }

        public Builder maxOutputBytes(int bytes) {
            this.maxOutputBytes = bytes;
            return this;
        }

        public Builder maxRequests(int n) {
            this.maxRequests = n;
            return this;
        }

        public Builder batcherIdle(IdleStrategyKind kind) {
            this.batcherIdle = java.util.Objects.requireNonNull(kind);
            return this;
        }

        public Builder callerIdle(IdleStrategyKind kind) {
            this.callerIdle = java.util.Objects.requireNonNull(kind);
            return this;
        }

        public Builder closeMode(CloseMode mode) {
            this.closeMode = java.util.Objects.requireNonNull(mode);
            return this;
        }

        public Builder threadName(String name) {
            this.threadName = java.util.Objects.requireNonNull(name);
            return this;
        }

        /** How long {@code close()} waits for the batcher thread to finish (default 30 s). */
        public Builder closeTimeout(java.time.Duration d) {
            this.closeTimeoutNanos = d.toNanos();
            return this;
        }

        /**
         * Receives every Throwable caught on the batcher thread: a callback's, a processor's, or
         * one from the loop itself. Default (null): logged as a warning through System.Logger and
         * counted in {@link BatcherMetrics#errors()} (every error is counted either way). A
         * handler that throws ends the batcher thread; the batcher then turns closed and answers
         * everything pending.
         */
        public Builder errorHandler(org.agrona.ErrorHandler handler) {
            this.errorHandler = handler;
            return this;
        }

        public BatcherConfig build() {
            check(closeTimeoutNanos >= 0, "closeTimeout must not be negative, was " + closeTimeoutNanos + " ns");
            check(maxBatchSize >= 1 && maxBatchSize <= MAX_BATCH_SIZE, "maxBatchSize must be in [1, " + MAX_BATCH_SIZE + "], was " + maxBatchSize);
            for (int p : preferredBatchSizes) {
                check(p >= 1 && p <= maxBatchSize, "preferred batch size " + p + " must be in [1, maxBatchSize=" + maxBatchSize + "]");
            }
            check(maxQueueDelayMicros >= 0 && maxQueueDelayMicros <= 60_000_000L,
                    "maxQueueDelayMicros must be in [0, 60000000], was " + maxQueueDelayMicros);
            check(queueCapacityBytes >= 4096 && Integer.bitCount(queueCapacityBytes) == 1,
                    "queueCapacityBytes must be a power of two >= 4096, was " + queueCapacityBytes);
            check(maxPayloadBytes >= 1, "maxPayloadBytes must be >= 1, was " + maxPayloadBytes);
            check(RequestRecordDescriptor.HEADER_LENGTH + (long) maxPayloadBytes <= queueCapacityBytes / 8,
                    "maxPayloadBytes " + maxPayloadBytes + " does not fit a record of the ring (at most capacity/8 = "
                            + (queueCapacityBytes / 8 - RequestRecordDescriptor.HEADER_LENGTH) + ")");
            check(maxOutputBytes >= 0, "maxOutputBytes must be >= 0, was " + maxOutputBytes);
            check(maxRequests >= 1 && maxRequests <= MAX_REQUESTS, "maxRequests (request handles in flight) must be in [1, " + MAX_REQUESTS
                    + "], was " + maxRequests);
            return new BatcherConfig(this);
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
