package io.hotpath.service;

import io.hotpath.core.Shape;
import io.hotpath.core.Batch;
import io.hotpath.core.CloseGuard;
import io.hotpath.core.DType;
import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.BatcherMetrics;
import io.hotpath.batcher.DynamicBatcher;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;

/**
 * Hotpath's serving path: callers submit single-row {@link Request}s from any thread; a
 * {@link DynamicBatcher} groups them into batches for one {@link Engine} and scatters each output
 * row back. (The off-heap prediction cache will sit in front of the batcher.)
 *
 * <pre>{@code
 * try (InferenceService svc = InferenceService.builder(engine)
 *         .batching(b -> b.maxBatchSize(32).maxQueueDelayMicros(100)).build()) {
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
    /** Staging rows of the batch processor: freed by close once the batcher thread has finished. */
    private final Arena arena = Arena.ofShared();
    /** Requests' cache keys: they live as long as the requests (callers keep them past a close). */
    private final Arena keyArena = Arena.ofAuto();
    private final io.hotpath.cache.PredictionCache cache;
    /** The shared tier behind the cache (L2), or null. */
    private final SharedCacheTier shared;
    private final SharedCacheTier.Continuation afterShared = this::afterShared;
    private final org.agrona.ErrorHandler errorHandler;
    private final long modelId;
    private final double keyQuantum;
    /** Callers inside infer/inferAsync/await; close frees the cache and the service's memory only when none is. */
    private final CloseGuard guard = new CloseGuard();
    private final long closeTimeoutNanos;
    private final ServiceReport report;
    /** Direct mode: no batcher thread; each request runs on its caller's thread on its own engine batch. */
    private final boolean direct;
    /** Direct mode over an engine that runs one batch at a time: callers take turns. Null otherwise. */
    private final java.util.concurrent.locks.ReentrantLock directLock;

    private InferenceService(Builder b) {
        this.engine = b.engine;
        this.report = b.report != null ? b.report : ServiceReport.givenEngine(engine.describe());
        this.direct = b.direct;
        this.directLock = b.direct && !engine.concurrentRuns() ? new java.util.concurrent.locks.ReentrantLock() : null;
        if (b.direct) {
            b.batching.agentInvoker();      // request slots without a batcher thread: nothing is ever queued
        }
        this.closeEngine = b.closeEngine;
        this.closeTimeoutNanos = b.closeTimeoutNanos;
        for (TensorSpec t : java.util.stream.Stream.concat(engine.inputs().stream(), engine.outputs().stream()).toList()) {
            if (t.dtype() == DType.STRING) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "tensor '" + t.name() + "' is a string tensor; the batcher "
                        + "moves fixed-size rows of numbers, so run the engine directly (Engine.run on a Batch, Tensor.putString/getString)");
            }
        }
        for (int o = 0; o < engine.outputs().size(); o++) {
            if (engine.outputEngineAllocated(o)) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "output '" + engine.outputs().get(o).name()
                        + "' " + engine.outputs().get(o).shape() + " has a size known only after the run, so it cannot be split into one "
                        + "row per request; run the engine directly (Engine.run on a Batch: the output is a view of the engine's memory)");
            }
        }
        String symbol = lengthSymbol(engine.inputs());
        this.hasLength = symbol != null;
        Batch probe = engine.newBatch();
        this.maxLength = hasLength ? maxLengthOf(probe, engine.maxBatchSize()) : 1;
        this.inLayout = new RowLayout(engine.inputs(), symbol, maxLength);
        this.outLayout = new RowLayout(engine.outputs(), symbol, maxLength);
        int[] buckets = b.buckets.length == 0 || !hasLength ? new int[] {maxLength} : bucketLimits(b.buckets, maxLength);
        for (RowLayout l : List.of(inLayout, outLayout)) {
            if (l.totalBytes > MAX_ROW_BYTES) {
                throw HotpathException.invalidArgument("one request's " + (l == inLayout ? "inputs" : "outputs") + " take " + l.totalBytes
                        + " bytes at the longest length, more than a request may carry (" + MAX_ROW_BYTES + "); lower the engine's dimension maxima");
            }
        }
        BatcherConfig config = b.batching
                .maxPayloadBytes((int) Math.max(1, inLayout.totalBytes))
                .maxOutputBytes((int) outLayout.totalBytes)
                .build();
        if (config.maxBatchSize() > engine.maxBatchSize()) {
            throw HotpathException.invalidArgument("maxBatchSize " + config.maxBatchSize() + " exceeds the engine's capacity of "
                    + engine.maxBatchSize() + " (its maxBatchSize)");
        }
        this.requests = new Request[config.maxRequests()];
        this.keyQuantum = b.keyQuantum;
        org.agrona.ErrorHandler handler = config.errorHandler();
        this.errorHandler = handler != null ? handler : t -> System.getLogger(InferenceService.class.getName())
                .log(System.Logger.Level.ERROR, "inference service over " + engine.name() + ": " + t, t);
        CacheOptions co = null;
        if (b.cacheOptions != null) {
            long valueBytes = outLayout.totalBytes;
            long keyBytes = inLayout.totalBytes + 4;
            long record = io.hotpath.cache.CacheLayoutDescriptor.recordLength((int) keyBytes, (int) valueBytes);
            co = new CacheOptions().expectedEntryBytes((int) Math.min(Integer.MAX_VALUE, Math.max(16, keyBytes + valueBytes)));
            b.cacheOptions.accept(co);
            if (co.budgetBytes == 0 && co.redisUri != null) {
                co.budgetBytes(DEFAULT_L1_BYTES);        // a shared tier alone still gets a small local one in front
            }
            io.hotpath.cache.PredictionCache.Builder cb = co.local;
            io.hotpath.cache.PredictionCache built = cb.build();
            if (built.maxRecordBytes() < record) {
                // too many segments for answers this large: rebuild with segments sized for one answer
                long budget = built.budgetBytes();
                built.close();
                long perSegment = record * 24;
                if (budget < perSegment) {
                    throw HotpathException.invalidArgument("cache budget of " + budget + " bytes cannot hold this model's answers ("
                            + record + " bytes with the key, at the longest length); give it at least " + perSegment + " bytes");
                }
                int segments = Integer.highestOneBit((int) Math.min(64, budget / perSegment));
                built = cb.segments(segments).build();
            }
            this.cache = built;
            this.modelId = engine.modelIdentity();
        } else {
            this.cache = null;
            this.modelId = 0;
        }
        SharedCacheTier tier = null;
        if (co != null && co.redisUri != null) {
            try {
                tier = openShared(co, modelId, report.precision(), outputLayoutId(engine, modelId), errorHandler);
            } catch (RuntimeException | Error e) {
                cache.close();
                throw e;
            }
        }
        this.shared = tier;
        try {
            this.batcher = new DynamicBatcher(config, new EngineBatchProcessor(engine, probe, inLayout, outLayout, buckets,
                    config.maxBatchSize(), requests, arena));
        } catch (RuntimeException | Error e) {
            if (shared != null) {
                shared.close(0);
            }
            if (cache != null) {
                cache.close();
            }
            arena.close();
            throw e;
        }
    }

    /** L1's budget when only a shared tier was configured: 16 MiB. */
    static final long DEFAULT_L1_BYTES = 16L << 20;

    private static SharedCacheTier openShared(CacheOptions co, long modelId, String precision, long layout, org.agrona.ErrorHandler handler) {
        java.net.URI uri = co.redisUri;
        for (SharedStoreProvider p : java.util.ServiceLoader.load(SharedStoreProvider.class, InferenceService.class.getClassLoader())) {
            if (p.accepts(uri)) {
                // a command the breaker has given up on still holds its slot until the store answers or this passes
                java.time.Duration commandTimeout = java.time.Duration.ofNanos(Math.max(1_000_000_000L, 20 * co.lookupBudgetNanos));
                return new SharedCacheTier(p.open(uri, commandTimeout), co, modelId, precision, layout, handler);
            }
        }
        throw new HotpathException(HotpathException.Category.UNSUPPORTED, "no shared cache store on the class path handles '"
                + uri.getScheme() + "://' URIs; add io.hotpath:hotpath-cache-redis for redis:// and rediss://");
    }

    /** The model identity mixed with every output's name, dtype and shape: a shared entry must match it to be read. */
    private static long outputLayoutId(Engine engine, long modelId) {
        StringBuilder sb = new StringBuilder();
        for (TensorSpec t : engine.outputs()) {
            sb.append(t.name()).append('|').append(t.dtype()).append('|').append(t.shape()).append(';');
        }
        byte[] b = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return io.hotpath.cache.KeyHasher.XXH3.hash(modelId, java.lang.foreign.MemorySegment.ofArray(b), 0, b.length);
    }

    /** The most bytes one request's inputs (or outputs) may take: a batcher record and a cache entry must hold them. */
    static final long MAX_ROW_BYTES = 256L << 20;

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
                long fixed = s.isDynamic(0) ? engineMaxBatch : s.dim(0);      // a fixed dimension 0 is carried whole
                for (int d = 2; d < s.rank(); d++) {
                    fixed *= s.dim(d);
                }
                max = Math.min(max, t.capacityElements() / fixed);
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

    /** What this service runs and why: engine, precision, variant, accuracy (see {@link ServiceReport}). */
    public ServiceReport report() {
        return report;
    }

    /**
     * The batcher's {@link org.agrona.concurrent.AgentInvoker} when the service was built with
     * {@code batching(b -> b.agentInvoker())}: the application calls {@code invoke()} from its own
     * duty cycle and the batches run there (see docs/batcher.md). {@link IllegalStateException}
     * when the batcher runs on a thread of its own.
     */
    public org.agrona.concurrent.AgentInvoker invoker() {
        return batcher.invoker();
    }

    /** The engine this service runs. */
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

    /** The shared tier behind the prediction cache (L2), or null when the service has none: its counters and lookup times. */
    public SharedCacheTier sharedCache() {
        return shared;
    }

    /** The prediction cache in front of the batcher, or null when the service has none. */
    public io.hotpath.cache.PredictionCache cache() {
        return cache;
    }

    /** A new reusable request (allocates; make one per caller thread and reuse it). */
    public Request newRequest() {
        var handle = batcher.newRequest();
        Request r = new Request(handle, engine.inputs(), inLayout, engine.outputs(), outLayout, maxLength, hasLength,
                cache == null ? null : keyArena.allocate(inLayout.totalBytes * 2 + 8, 64));
        if (cache != null) {
            r.service = this;
        }
        if (direct) {
            r.directBatch = engine.newBatch();
        }
        r.engineName = engine.name();
        requests[handle.id()] = r;
        return r;
    }

    /**
     * Runs {@code request} and waits for it; returns its {@link BatchStatus}. With a cache, a
     * request whose exact inputs were answered before is answered from it, without the engine.
     * Allocation-free.
     */
    public int infer(Request request) {
        if (!direct) {
            batcher.checkNotBatcherThread();
        }
        if (!guard.tryEnter()) {
            return BatchStatus.SHUTDOWN;
        }
        try {
            prepare(request);
            if (cache != null && fromCache(request)) {
                return BatchStatus.OK;
            }
            if (shared != null && fromShared(request)) {
                return BatchStatus.OK;
            }
            int s = direct ? runDirect(request) : batcher.infer(request.handle);
            if (s == BatchStatus.OK && cache != null) {
                if (request.stages.stamped) {
                    long t0 = System.nanoTime();      // a recording takes the stages: time the store apart from the hand-off
                    remember(request);
                    request.stages.store(System.nanoTime() - t0);
                } else {
                    remember(request);
                }
            }
            return s;
        } finally {
            guard.exit();
        }
    }

    /**
     * Queues {@code request}; {@code callback} runs on the batcher thread when it is answered.
     * Returns PENDING when queued, or REJECTED / SHUTDOWN at once (the callback does not run).
     */
    public int inferAsync(Request request, RequestCallback callback) {
        if (!guard.tryEnter()) {
            return BatchStatus.SHUTDOWN;
        }
        try {
            prepare(request);
            if (cache != null && fromCache(request)) {
                if (callback != null) {
                    callBack(callback, request, BatchStatus.OK, request.engineName);
                }
                return BatchStatus.OK;
            }
            if (direct) {
                int s = shared != null && fromShared(request) ? BatchStatus.OK : runDirect(request);
                if (s == BatchStatus.OK && cache != null && !request.sharedHit) {
                    remember(request);
                }
                if (callback != null) {
                    callBack(callback, request, s, request.engineName);
                }
                return s;
            }
            request.callback = callback;
            if (shared != null) {
                request.sharedState = Request.SHARED_LOOKUP;
                if (shared.lookupAsync(request, answerBytes(request.length()), afterShared)) {
                    return BatchStatus.PENDING;     // afterShared answers it, or hands it to the batcher
                }
                request.sharedState = Request.SHARED_NONE;
            }
            return batcher.inferAsync(request.handle, request.adapter);
        } finally {
            guard.exit();
        }
    }

    /**
     * Waits for a request queued with {@link #inferAsync} and returns its status (TIMEOUT at the
     * request's deadline at the latest; see {@link DynamicBatcher#await}). Refused on the batcher
     * thread, where it would wait for itself.
     */
    public int await(Request request) {
        if (request.cachedStatus != 0) {
            return request.cachedStatus;
        }
        if (request.directStatus != 0) {
            return request.directStatus;
        }
        if (request.sharedState == Request.SHARED_LOOKUP) {
            batcher.checkNotBatcherThread();
            request.sharedWaiter = Thread.currentThread();
            while (request.sharedState == Request.SHARED_LOOKUP) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, 1_000_000);   // bounded: the lookup is decided within its budget
            }
            request.sharedWaiter = null;
        }
        return request.sharedState == Request.SHARED_ANSWERED ? request.sharedStatus : batcher.await(request.handle);
    }

    /**
     * The shared tier decided an async request's lookup (on the store's I/O thread or the budget
     * timer's): a hit is answered here; a miss goes to the batcher, which answers it; a refusal or
     * a closed service is answered here with its status. Exactly one answer either way.
     */
    private void afterShared(Request r, boolean hit) {
        if (!guard.tryEnter()) {
            answerShared(r, BatchStatus.SHUTDOWN);
            return;
        }
        try {
            if (hit) {
                acceptShared(r);
                answerShared(r, BatchStatus.OK);
                return;
            }
            int s = batcher.inferAsync(r.handle, r.adapter);
            if (s == BatchStatus.PENDING) {
                r.sharedState = Request.SHARED_NONE;    // its status is the batcher's from here
                wakeSharedWaiter(r);
            } else {
                answerShared(r, s);
            }
        } finally {
            guard.exit();
        }
    }

    private void answerShared(Request r, int status) {
        r.sharedStatus = status;
        r.sharedState = Request.SHARED_ANSWERED;
        wakeSharedWaiter(r);
        RequestCallback cb = r.callback;
        if (cb != null) {
            try {
                callBack(cb, r, status, r.engineName);
            } catch (Throwable t) {
                errorHandler.onError(t);
            }
        }
    }

    private static void wakeSharedWaiter(Request r) {
        Thread w = r.sharedWaiter;
        if (w != null) {
            java.util.concurrent.locks.LockSupport.unpark(w);
        }
    }

    /**
     * Runs an asynchronous request's callback, inside a {@code hotpath.Callback} event when a
     * recording takes it; what the callback throws goes on to the caller of this method.
     */
    static void callBack(RequestCallback cb, Request r, int status, String engineName) {
        io.hotpath.service.events.CallbackEvent ev = null;
        if (io.hotpath.service.events.HotpathEvents.ON) {
            ev = new io.hotpath.service.events.CallbackEvent();
            if (ev.isEnabled()) {
                ev.begin();
            } else {
                ev = null;
            }
        }
        boolean threw = true;
        try {
            cb.onComplete(r, status);
            threw = false;
        } finally {
            if (ev != null) {
                ev.end();
                if (ev.shouldCommit()) {
                    ev.engine = engineName;
                    ev.status = status;
                    ev.threw = threw;
                    ev.commit();
                }
            }
        }
    }

    /** Looks the request up in the shared tier on this thread (within its budget); on a hit its answer is in place and L1 filled. */
    private boolean fromShared(Request r) {
        io.hotpath.service.events.CacheLookupEvent ev = lookupStart();
        long t0 = ev != null ? System.nanoTime() : 0;
        boolean hit = shared.lookupSync(r, answerBytes(r.length()));
        if (ev != null) {
            r.stages.lookup(System.nanoTime() - t0);
            lookupEvent(ev, "shared", hit);
        }
        if (!hit) {
            return false;
        }
        acceptShared(r);
        r.cachedStatus = BatchStatus.OK;
        return true;
    }

    /** A begun lookup event when a recording takes it, else null (and no clock is read). */
    private static io.hotpath.service.events.CacheLookupEvent lookupStart() {
        if (!io.hotpath.service.events.HotpathEvents.ON) {
            return null;
        }
        io.hotpath.service.events.CacheLookupEvent ev = new io.hotpath.service.events.CacheLookupEvent();
        if (!ev.isEnabled()) {
            return null;
        }
        ev.begin();
        return ev;
    }

    private void lookupEvent(io.hotpath.service.events.CacheLookupEvent ev, String tier, boolean hit) {
        ev.end();
        if (ev.shouldCommit()) {
            ev.engine = engine.name();
            ev.tier = tier;
            ev.hit = hit;
            ev.commit();
        }
    }

    /** A shared hit's answer is in the request's output: shape the outputs and keep it in L1. */
    private void acceptShared(Request r) {
        r.sharedHit = true;
        for (int o = 0; o < outLayout.count; o++) {
            r.outputShaped(o, r.length());
        }
        cache.put(modelId, r.key, 0, r.keyLength, r.handle.output(), 0, answerBytes(r.length()));
    }

    /** The bytes of a request's answer at length {@code len}: up to the end of the last output row. */
    private int answerBytes(int len) {
        long last = 0;
        for (int o = 0; o < outLayout.count; o++) {
            last = Math.max(last, outLayout.offset[o] + outLayout.rowBytes(o, len));
        }
        return (int) last;
    }

    /**
     * Direct mode: the request's rows into its own engine batch, the engine run on this thread
     * (taking turns when the engine runs one batch at a time), the outputs back into the request.
     * A failure is the request's FAILED status and {@link Request#error()}, never an exception.
     */
    private int runDirect(Request r) {
        int len = r.length();
        io.hotpath.core.Batch batch = r.directBatch;
        try {
            for (int i = 0; i < inLayout.count; i++) {
                Tensor t = batch.input(i);
                EngineBatchProcessor.reshape(t, 1, inLayout.variable[i] ? len : -1);
                java.lang.foreign.MemorySegment.copy(r.handle.input(), inLayout.offset[i], t.data(), 0, inLayout.rowBytes(i, len));
            }
            // made after the copy in, so that its object lives only around the run (scalar-replaced: no allocation
            // even when recorded); the copy in is then part of the caller's "submit" stage, not timed here
            io.hotpath.service.events.BatchEvent ev = null;
            long assembled = 0;
            if (io.hotpath.service.events.HotpathEvents.ON) {
                ev = new io.hotpath.service.events.BatchEvent();
                if (ev.isEnabled()) {
                    ev.begin();
                    assembled = System.nanoTime();      // only when recorded: no clock read per run otherwise
                } else {
                    ev = null;
                }
            }
            if (directLock != null) {
                directLock.lock();
                try {
                    engine.run(batch);
                } finally {
                    directLock.unlock();
                }
            } else {
                engine.run(batch);
            }
            long engineDone = ev != null ? System.nanoTime() : 0;
            if (ev != null) {
                ev.end();
                if (ev.shouldCommit()) {
                    ev.engine = engine.name();
                    ev.rows = 1;
                    ev.length = len;
                    ev.engineNanos = engineDone - assembled;
                    ev.commit();
                }
            }
            for (int o = 0; o < outLayout.count; o++) {
                java.lang.foreign.MemorySegment.copy(batch.output(o).data(), 0, r.handle.output(), outLayout.offset[o], outLayout.rowBytes(o, len));
                r.outputShaped(o, len);
            }
            if (ev != null) {
                r.stages.stamp(assembled, assembled, assembled, engineDone, System.nanoTime(), 1);
            }
            r.directStatus = BatchStatus.OK;
        } catch (RuntimeException e) {
            r.directError = e;
            r.directStatus = BatchStatus.FAILED;
        }
        return r.directStatus;
    }

    private void prepare(Request r) {
        r.stages.reset();
        r.cachedStatus = 0;
        r.directStatus = 0;
        r.directError = null;
        if (shared != null) {
            r.sharedKey = null;
            r.sharedHit = false;
            r.sharedState = Request.SHARED_NONE;
        }
        r.handle.inputLength((int) inLayout.totalBytes);
        r.handle.lengthKey(r.length());
    }

    /** The cache key: the length, then every input's current bytes, contiguous. */
    private void buildKey(Request r) {
        int len = r.length();
        java.lang.foreign.MemorySegment key = r.key;
        key.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, len);
        long at = 4;
        for (int i = 0; i < inLayout.count; i++) {
            long bytes = inLayout.rowBytes(i, len);
            if (keyQuantum > 0 && inLayout.dtypes[i] == DType.FLOAT32) {
                // near-duplicates share a key: each feature rounded to a multiple of the quantum
                java.lang.foreign.MemorySegment in = r.handle.input();
                for (long e = 0; e < bytes / 4; e++) {
                    float v = in.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, inLayout.offset[i] + e * 4);
                    key.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, at, quantized(v, keyQuantum));
                    at += 8;
                }
            } else {
                java.lang.foreign.MemorySegment.copy(r.handle.input(), inLayout.offset[i], key, at, bytes);
                at += bytes;
            }
        }
        r.keyLength = (int) at;
    }

    /** Bucket of {@code v}: rint(v / quantum) when that is a long far from overflow; else a code of the exact bits. */
    static long quantized(float v, double quantum) {
        double q = Math.rint(v / quantum);
        if (Math.abs(q) < 0x1p62) {      // false for NaN and infinities too
            return (long) q;
        }
        // NaN, infinities and values whose bucket would saturate keep their exact bits, in a range
        // (below -2^62) no rounded bucket reaches: 3e30 no longer shares 1e30's answer, NaN not 0's
        return Long.MIN_VALUE + (Float.floatToRawIntBits(v) & 0xFFFF_FFFFL);
    }

    private boolean fromCache(Request r) {
        io.hotpath.service.events.CacheLookupEvent ev = lookupStart();
        long t0 = ev != null ? System.nanoTime() : 0;
        buildKey(r);
        int n = cache.get(modelId, r.key, 0, r.keyLength, r.handle.output(), 0, (int) outLayout.totalBytes);
        if (ev != null) {
            r.stages.lookup(System.nanoTime() - t0);
            lookupEvent(ev, "local", n >= 0);
        }
        if (n < 0) {
            return false;
        }
        for (int o = 0; o < outLayout.count; o++) {
            r.outputShaped(o, r.length());
        }
        r.cachedStatus = BatchStatus.OK;
        return true;
    }

    /** Offers an engine's answer to the cache, and to the shared tier when there is one (a full cache evicts; a too-large answer is skipped). */
    void remember(Request r) {
        int answer = answerBytes(r.length());
        cache.put(modelId, r.key, 0, r.keyLength, r.handle.output(), 0, answer);
        if (shared != null) {
            shared.store(r, answer);
        }
    }

    /** Stops accepting, drains (or fails) what is queued, and closes the engine when the service owns it. */
    @Override
    public void close() {
        close(null);
    }

    /** As {@link #close()}, with an explicit {@link BatcherConfig.CloseMode}. */
    public void close(BatcherConfig.CloseMode mode) {
        if (!guard.refuse()) {
            return;     // closed already
        }
        // new calls answer SHUTDOWN from here; the batcher answers what it accepted, which lets
        // callers blocked inside infer/await return and leave the guard
        if (mode == null) {
            batcher.close();
        } else {
            batcher.close(mode);
        }
        if (shared != null) {
            shared.close(closeTimeoutNanos);    // lookups in flight are decided (answered SHUTDOWN past the guard) before the store goes
        }
        boolean callersLeft = guard.awaitDrained(closeTimeoutNanos);
        boolean batcherDone = batcher.isTerminated();
        if (cache != null && callersLeft) {
            cache.close();
        }
        if (closeEngine) {
            engine.close();     // waits (bounded) for a run in flight itself
        }
        if (callersLeft && batcherDone) {
            arena.close();      // staging rows: the batcher thread that used them has finished
        } else {
            System.getLogger(InferenceService.class.getName()).log(System.Logger.Level.WARNING, "inference service over " + engine.name()
                    + ": " + (batcherDone ? guard.inside() + " caller(s) still inside" : "the batcher thread is still running (a stuck engine run?)")
                    + " after closeTimeout; its memory is left allocated rather than freed under them");
        }
    }

    /** Builds an {@link InferenceService}; {@link #build()} validates once. */
    public static final class Builder {
        private final Engine engine;
        private final BatcherConfig.Builder batching;
        private int[] buckets = new int[0];
        private boolean closeEngine = true;
        private java.util.function.Consumer<CacheOptions> cacheOptions;
        private double keyQuantum;
        private long closeTimeoutNanos = 30_000_000_000L;
        private ServiceReport report;
        private boolean direct;

        private Builder(Engine engine) {
            this.engine = java.util.Objects.requireNonNull(engine, "engine");
            this.batching = BatcherConfig.builder().maxBatchSize(engine.maxBatchSize()).queueCapacityBytes(1 << 22)
                    .maxRequests(1024).threadName("hotpath-batcher-" + engine.name());
        }

        /**
         * The batcher's options ({@link BatcherConfig}: max batch, preferred sizes, max queue
         * delay, queue bytes, max requests, idle strategies, close mode). Defaults: max batch =
         * the engine's capacity, 100 us max delay, 4 MiB per priority ring, 1024 requests. Payload
         * and output sizes are set from the model.
         */
        public Builder batching(java.util.function.Consumer<BatcherConfig.Builder> options) {
            options.accept(batching);
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

        /**
         * Puts an off-heap prediction cache in front of the batcher ({@code c -> c.budgetBytes(64L << 20)}):
         * a request whose model, length and input bytes equal an earlier answered one is answered
         * from it, bit for bit the engine's earlier answer. The key includes the engine's
         * {@link Engine#modelIdentity()}. {@link CacheOptions#redis} adds a shared tier on Redis
         * behind it. Default: no cache.
         */
        public Builder cache(java.util.function.Consumer<CacheOptions> options) {
            this.cacheOptions = java.util.Objects.requireNonNull(options);
            return this;
        }

        /**
         * Near-duplicate float inputs share a cache entry: before hashing, each float32 feature is
         * rounded to a multiple of {@code quantum} (for example 1e-3). This trades exactness for hit
         * rate: a request can get the answer computed for a slightly different input. Default 0:
         * exact keys.
         */
        public Builder cacheKeyQuantum(double quantum) {
            if (!(quantum >= 0) || Double.isInfinite(quantum)) {
                throw HotpathException.invalidArgument("cacheKeyQuantum must be a finite value >= 0, was " + quantum);
            }
            this.keyQuantum = quantum;
            return this;
        }

        /** How long close waits for the batcher and for callers still inside (default 30 s); past it memory is left allocated. */
        public Builder closeTimeout(java.time.Duration d) {
            if (d.isNegative()) {
                throw HotpathException.invalidArgument("closeTimeout must not be negative, was " + d);
            }
            this.closeTimeoutNanos = d.toNanos();
            batching.closeTimeout(d);
            return this;
        }

        /** Whether {@link InferenceService#close()} also closes the engine (default true). */
        public Builder closeEngine(boolean close) {
            this.closeEngine = close;
            return this;
        }

        /**
         * Direct mode: no batcher thread and no batching; {@code infer} runs the engine on the
         * caller's thread, on the request's own engine batch (made by {@code newRequest}). The
         * lowest latency for one caller; several callers run at once on an engine that allows it
         * ({@link Engine#concurrentRuns()}, the JVM engine does) and take turns otherwise. The
         * cache works as before; the batcher's metrics stay empty.
         */
        public Builder direct() {
            this.direct = true;
            return this;
        }

        /** What {@link InferenceService#report()} returns: set by whoever chose the engine and the model variant. */
        public Builder report(ServiceReport r) {
            this.report = java.util.Objects.requireNonNull(r, "report");
            return this;
        }

        public InferenceService build() {
            try {
                return new InferenceService(this);
            } catch (IllegalArgumentException e) {
                throw HotpathException.invalidArgument(e.getMessage());
            }
        }
    }
}
