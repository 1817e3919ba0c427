package io.hotpath.core;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.BatcherMetrics;
import io.hotpath.batcher.DynamicBatcher;
import io.hotpath.batcher.IdleStrategyKind;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;

/**
 * Hotpath's serving path: callers submit single-row {@link Request}s from any thread; a
 * {@link DynamicBatcher} groups them into batches for one {@link Engine} and scatters each output
 * row back. (The off-heap prediction cache will sit in front of the batcher.)
 *
 * <pre>{@code
 * try (InferenceService svc = InferenceService.builder(engine).maxBatchSize(32).maxQueueDelayMicros(100).build()) {
 *     Request r = svc.newRequest();                 // once per caller thread; reused
 *     r.input("features").putFloat(0, 1.25f);       // written in place, off-heap
 *     if (svc.infer(r) == BatchStatus.OK) {
 *         float score = r.output("score").getFloat(0);
 *     }
 * }
 * }</pre>
 *
 * <p>Configuration errors are thrown by {@link Builder#build()}; the hot path returns
 * {@link BatchStatus} codes: OK, REJECTED (queue full), TIMEOUT, FAILED (engine error; see
 * {@link Request#error()}), SHUTDOWN.
 */
public final class InferenceService implements AutoCloseable {
    private final Engine engine;
    private final boolean closeEngine;
    private final DynamicBatcher batcher;
    private final RowLayout inLayout;
    private final RowLayout outLayout;
    private final Request[] requests;
    private final int maxLength;
    private final boolean hasLength;
    private final Arena arena = Arena.ofShared();

    private InferenceService(Builder b) {
        this.engine = b.engine;
        this.closeEngine = b.closeEngine;
        String symbol = lengthSymbol(engine.inputs());
        this.hasLength = symbol != null;
        Batch probe = engine.newBatch();
        this.maxLength = hasLength ? maxLengthOf(probe, engine.maxBatchSize()) : 1;
        this.inLayout = new RowLayout(engine.inputs(), symbol, maxLength);
        this.outLayout = new RowLayout(engine.outputs(), symbol, maxLength);
        int[] buckets = b.buckets.length == 0 || !hasLength ? new int[] {maxLength} : bucketLimits(b.buckets, maxLength);
        this.requests = new Request[b.maxRequests];
        BatcherConfig config = BatcherConfig.builder()
                .maxBatchSize(b.maxBatchSize)
                .preferredBatchSizes(b.preferred)
                .maxQueueDelayMicros(b.maxQueueDelayMicros)
                .queueCapacityBytes(b.queueCapacityBytes)
                .maxPayloadBytes((int) Math.max(1, inLayout.totalBytes))
                .maxOutputBytes((int) outLayout.totalBytes)
                .maxRequests(b.maxRequests)
                .batcherIdle(b.batcherIdle)
                .callerIdle(b.callerIdle)
                .closeMode(b.closeMode)
                .threadName("hotpath-batcher-" + engine.name())
                .build();
        this.batcher = new DynamicBatcher(config, new EngineBatchProcessor(engine, probe, inLayout, outLayout, buckets, b.maxBatchSize, requests, arena));
    }

    /** A builder for a service over {@code engine} (the service closes it too unless told otherwise). */
    public static Builder builder(Engine engine) {
        return new Builder(engine);
    }

    /** The one dynamic dimension name shared by all inputs at dimension 1, or null when rows are fixed. */
    private static String lengthSymbol(List<TensorSpec> inputs) {
        String symbol = null;
        for (TensorSpec t : inputs) {
            Shape s = t.shape();
            if (s.rank() > 1 && s.isDynamic(1)) {
                String name = s.dimName(1) == null ? "?" : s.dimName(1);
                if (symbol != null && !symbol.equals(name)) {
                    throw new HotpathException(HotpathException.Category.UNSUPPORTED, "inputs have different variable lengths ('"
                            + symbol + "' and '" + name + "'); the batcher supports one shared variable length");
                }
                symbol = name;
            }
        }
        return symbol;
    }

    private static int maxLengthOf(Batch probe, int engineMaxBatch) {
        long max = Long.MAX_VALUE;
        for (int i = 0; i < probe.inputCount(); i++) {
            Tensor t = probe.input(i);
            Shape s = t.spec().shape();
            if (s.rank() > 1 && s.isDynamic(1)) {
                long fixed = 1;
                for (int d = 2; d < s.rank(); d++) {
                    fixed *= s.dim(d);
                }
                max = Math.min(max, t.capacityElements() / ((long) engineMaxBatch * fixed));
            }
        }
        return (int) Math.min(max, Integer.MAX_VALUE);
    }

    private static int[] bucketLimits(int[] requested, int maxLength) {
        int[] b = Arrays.stream(requested).filter(x -> x >= 1 && x < maxLength).sorted().distinct().toArray();
        int[] limits = Arrays.copyOf(b, b.length + 1);
        limits[b.length] = maxLength;
        return limits;
    }

    public Engine engine() {
        return engine;
    }

    /** The batcher's latency recorders and counters. */
    public BatcherMetrics metrics() {
        return batcher.metrics();
    }

    /** The largest variable length a request may have (1 for fixed-row models). */
    public int maxLength() {
        return maxLength;
    }

    /** A new reusable request (allocates; make one per caller thread and reuse it). */
    public Request newRequest() {
        var handle = batcher.newRequest();
        Request r = new Request(handle, engine.inputs(), inLayout, engine.outputs(), outLayout, maxLength, hasLength);
        requests[handle.id()] = r;
        return r;
    }

    /** Runs {@code request} and waits for it; returns its {@link BatchStatus}. Allocation-free. */
    public int infer(Request request) {
        prepare(request);
        return batcher.infer(request.handle);
    }

    /**
     * Queues {@code request}; {@code callback} runs on the batcher thread when it is answered.
     * Returns PENDING when queued, or REJECTED / SHUTDOWN at once (the callback does not run).
     */
    public int inferAsync(Request request, RequestCallback callback) {
        prepare(request);
        request.callback = callback;
        return batcher.inferAsync(request.handle, request.adapter);
    }

    /** Waits for a request queued with {@link #inferAsync} and returns its status. */
    public int await(Request request) {
        return batcher.await(request.handle);
    }

    private void prepare(Request r) {
        r.handle.inputLength((int) inLayout.totalBytes);
        r.handle.lengthKey(r.length());
    }

    /** Stops accepting, drains (or fails) what is queued, and closes the engine when the service owns it. */
    @Override
    public void close() {
        close(null);
    }

    /** As {@link #close()}, with an explicit {@link BatcherConfig.CloseMode}. */
    public void close(BatcherConfig.CloseMode mode) {
        if (mode == null) {
            batcher.close();
        } else {
            batcher.close(mode);
        }
        if (closeEngine) {
            engine.close();
        }
    }

    /** Builds an {@link InferenceService}; {@link #build()} validates once. */
    public static final class Builder {
        private final Engine engine;
        private int maxBatchSize;
        private int[] preferred = new int[0];
        private long maxQueueDelayMicros = 100;
        private int queueCapacityBytes = 1 << 22;
        private int maxRequests = 1024;
        private IdleStrategyKind batcherIdle = IdleStrategyKind.BACKOFF_PARK;
        private IdleStrategyKind callerIdle = IdleStrategyKind.BACKOFF_PARK;
        private BatcherConfig.CloseMode closeMode = BatcherConfig.CloseMode.DRAIN;
        private int[] buckets = new int[0];
        private boolean closeEngine = true;

        private Builder(Engine engine) {
            this.engine = java.util.Objects.requireNonNull(engine, "engine");
            this.maxBatchSize = engine.maxBatchSize();
        }

        /** Largest batch; at most the engine's capacity (default: the engine's capacity). */
        public Builder maxBatchSize(int n) {
            this.maxBatchSize = n;
            return this;
        }

        public Builder preferredBatchSizes(int... sizes) {
            this.preferred = sizes.clone();
            return this;
        }

        /** How long the oldest waiting request may wait for company; 0 = run what is there now (default 100). */
        public Builder maxQueueDelayMicros(long micros) {
            this.maxQueueDelayMicros = micros;
            return this;
        }

        /** Bytes of each priority's queue ring, a power of two (default 4 MiB). */
        public Builder queueCapacityBytes(int bytes) {
            this.queueCapacityBytes = bytes;
            return this;
        }

        public Builder maxRequests(int n) {
            this.maxRequests = n;
            return this;
        }

        public Builder batcherIdle(IdleStrategyKind kind) {
            this.batcherIdle = kind;
            return this;
        }

        public Builder callerIdle(IdleStrategyKind kind) {
            this.callerIdle = kind;
            return this;
        }

        public Builder closeMode(BatcherConfig.CloseMode mode) {
            this.closeMode = mode;
            return this;
        }

        /**
         * Length buckets for variable-length models: requests up to {@code limits[0]} are batched
         * together, then up to {@code limits[1]}, and so on, so short requests are not padded to
         * long ones. Default: one bucket.
         */
        public Builder lengthBuckets(int... limits) {
            this.buckets = limits.clone();
            return this;
        }

        /** Whether {@link InferenceService#close()} also closes the engine (default true). */
        public Builder closeEngine(boolean close) {
            this.closeEngine = close;
            return this;
        }

        public InferenceService build() {
            if (maxBatchSize < 1 || maxBatchSize > engine.maxBatchSize()) {
                throw HotpathException.invalidArgument("maxBatchSize " + maxBatchSize + " must be in [1, " + engine.maxBatchSize()
                        + "] (the engine's capacity)");
            }
            try {
                return new InferenceService(this);
            } catch (IllegalArgumentException e) {
                throw HotpathException.invalidArgument(e.getMessage());
            }
        }
    }
}
