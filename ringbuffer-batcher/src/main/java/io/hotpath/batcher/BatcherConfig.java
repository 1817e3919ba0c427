package io.hotpath.batcher;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.agrona.concurrent.IdleStrategy;

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
 *   <tr><td>threadFactory</td><td>none: own thread</td><td>the batcher's thread comes from the application's factory (to pin it to a core, say)</td></tr>
 *   <tr><td>agentInvoker</td><td>off</td><td>no thread at all: the application drives {@link DynamicBatcher#invoker()} from its own duty cycle</td></tr>
 *   <tr><td>idleStrategy</td><td>from batcherIdle</td><td>any Agrona {@link IdleStrategy} for the batcher thread when it has nothing to do</td></tr>
 *   <tr><td>countersFile</td><td>none: in memory</td><td>publish the counters in a memory-mapped file other processes read ({@code hotpath stat})</td></tr>
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

    /** Who runs the batcher's duty cycle (its Agrona {@code Agent}). */
    public enum Threading {
        /** The batcher starts its own daemon thread, named {@code threadName} (the default). */
        OWN_THREAD,
        /** The batcher's thread comes from the application's {@link ThreadFactory}. */
        THREAD_FACTORY,
        /** No thread: the application calls {@link DynamicBatcher#invoker()}{@code .invoke()} from its own duty cycle. */
        INVOKER
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
    final Threading threading;
    final ThreadFactory threadFactory;
    final Supplier<? extends IdleStrategy> idleStrategy;
    /** Set when {@link #idleStrategy} hands out one instance: only one batcher may use it. */
    final AtomicBoolean idleInstanceTaken;
    final boolean publishCounters;
    final Path countersFile;

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
        this.threading = b.invoker ? Threading.INVOKER : b.threadFactory != null ? Threading.THREAD_FACTORY : Threading.OWN_THREAD;
        this.threadFactory = b.threadFactory;
        this.idleStrategy = b.idleStrategy;
        this.idleInstanceTaken = b.idleInstance ? new AtomicBoolean() : null;
        this.publishCounters = b.publishCounters;
        this.countersFile = b.countersFile;
    }

    /** How the batcher's duty cycle is run. */
    public Threading threading() {
        return threading;
    }

    /** The counters file asked for ({@link Builder#countersFile(Path)}), or null (none, or the default name). */
    public Path countersFile() {
        return countersFile;
    }

    /** The idle strategy for a new batcher: the configured one, or the one {@code batcherIdle} names. */
    IdleStrategy newIdleStrategy(long maxParkNanos) {
        if (idleStrategy == null) {
            return batcherIdle.newBatcherStrategy(maxParkNanos);
        }
        if (idleInstanceTaken != null && !idleInstanceTaken.compareAndSet(false, true)) {
            throw new IllegalStateException("the idleStrategy instance of this config is already used by another batcher "
                    + "(an IdleStrategy keeps state): pass a Supplier to idleStrategy to build several batchers from one config");
        }
        IdleStrategy s = idleStrategy.get();
        if (s == null) {
            throw new IllegalArgumentException("the idleStrategy supplier returned null");
        }
        return s;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The error handler given to the builder, or null (the batcher then logs and counts). */
    public org.agrona.ErrorHandler errorHandler() {
        return errorHandler;
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
                + " callerIdle=" + callerIdle + " close=" + closeMode + " threading=" + threading
                + (idleStrategy != null ? " idleStrategy=custom" : "") + (publishCounters ? " counters=" + (countersFile != null ? countersFile : "default") : "");
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
        private ThreadFactory threadFactory;
        private boolean invoker;
        private Supplier<? extends IdleStrategy> idleStrategy;
        private boolean idleInstance;
        private boolean publishCounters;
        private Path countersFile;

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

        /**
         * Runs the batcher on a thread from {@code factory} (Agrona's
         * {@code AgentRunner.startOnThread}), for example one that pins it to a core. The thread
         * is named {@code threadName} after the factory made it.
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = java.util.Objects.requireNonNull(factory, "threadFactory");
            return this;
        }

        /**
         * Starts no thread: the application drives the batcher by calling
         * {@link DynamicBatcher#invoker()}{@code .invoke()} from its own duty cycle, and its cadence
         * decides the latency (a staged row waits for company until an invoke sees its
         * {@code maxQueueDelay} pass). See {@link DynamicBatcher#close()} for how close works here.
         */
        public Builder agentInvoker() {
            this.invoker = true;
            return this;
        }

        /**
         * The batcher thread's idle strategy: any Agrona {@link IdleStrategy}. Overrides
         * {@code batcherIdle}. An IdleStrategy keeps state, so this instance serves one batcher;
         * use {@link #idleStrategy(Supplier)} for a config that builds several.
         */
        public Builder idleStrategy(IdleStrategy strategy) {
            java.util.Objects.requireNonNull(strategy, "idleStrategy");
            this.idleStrategy = () -> strategy;
            this.idleInstance = true;
            return this;
        }

        /** As {@link #idleStrategy(IdleStrategy)}, with a new strategy from {@code supplier} for each batcher. */
        public Builder idleStrategy(Supplier<? extends IdleStrategy> supplier) {
            this.idleStrategy = java.util.Objects.requireNonNull(supplier, "idleStrategy");
            this.idleInstance = false;
            return this;
        }

        /**
         * Publishes the counters in a memory-mapped file that another process (such as
         * {@code hotpath stat}) reads, in {@link BatcherCountersDescriptor#defaultDirectory()} named
         * {@code <pid>-<threadName>.counters}. The file is deleted when the batcher finishes.
         */
        public Builder publishCounters() {
            this.publishCounters = true;
            return this;
        }

        /** As {@link #publishCounters()}, in {@code file} (which must not exist yet; deleted when the batcher finishes). */
        public Builder countersFile(Path file) {
            this.countersFile = java.util.Objects.requireNonNull(file, "countersFile");
            this.publishCounters = true;
            return this;
        }

        public BatcherConfig build() {
            check(!(invoker && threadFactory != null), "threadFactory and agentInvoker() exclude each other: a thread from the factory, or "
                    + "the application's own duty cycle");
            check(!(invoker && idleStrategy != null), "idleStrategy has no use with agentInvoker(): the application's duty cycle decides "
                    + "how it idles");
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
