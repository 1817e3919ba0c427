package io.hotpath.serve;

import io.hotpath.embed.Hotpath;
import io.hotpath.service.EngineChoice;
import io.hotpath.service.InferenceService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one model version is served: what a Triton {@code config.pbtxt} and Hotpath's
 * {@code hotpath.properties} say, or the command line's defaults for {@code --model}.
 *
 * @param maxBatch rows the batcher puts in one engine run, and the most rows one wire request may carry (Triton's max_batch_size)
 * @param maxQueueDelayMicros how long the batcher waits for a fuller batch (Triton's dynamic_batching max_queue_delay_microseconds)
 * @param preferredBatchSizes batch sizes the batcher runs as soon as it has them (empty: none)
 * @param cacheBytes the response cache's budget, 0 for no cache (Triton's response_cache { enable })
 * @param slots rows in flight at most before new requests are refused (429 / RESOURCE_EXHAUSTED)
 * @param requestTimeoutMillis the deadline of a request that carries none, 0 for none
 * @param threads the engine's intra-op threads, 0 for its default
 * @param dynamicBatching whether a batcher groups requests (Triton: a {@code dynamic_batching} section); without it each
 *     request runs at once on the thread that decoded it, the lowest latency for a small model
 * @param sharedCache the shared cache tier on Redis behind the response cache, or null for none
 * @param batcherOnEventLoop run the batcher's work on the server's event loop rather than a thread of its own, where that
 *     applies ({@link #batchesOnEventLoop()}): the rows read in one pass over the sockets become one engine run, with no
 *     hand-off between threads. Meant for a server with one event loop (see {@link ServedModel#batchesOnEventLoop()})
 */
public record ModelSettings(String name, String version, Path file, EngineChoice engine, int maxBatch, long maxQueueDelayMicros,
        int[] preferredBatchSizes, long cacheBytes, int slots, long requestTimeoutMillis, int threads, boolean dynamicBatching,
        SharedCacheSettings sharedCache, boolean batcherOnEventLoop) {

    /** As the canonical constructor, with the batcher on a thread of its own. */
    public ModelSettings(String name, String version, Path file, EngineChoice engine, int maxBatch, long maxQueueDelayMicros,
            int[] preferredBatchSizes, long cacheBytes, int slots, long requestTimeoutMillis, int threads, boolean dynamicBatching,
            SharedCacheSettings sharedCache) {
        this(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, slots, requestTimeoutMillis, threads,
                dynamicBatching, sharedCache, false);
    }

    /**
     * A shared cache tier on Redis ({@code redis://host:port} or {@code rediss://...}; credentials in the URI are never
     * logged): entries live {@code ttl}; a lookup not answered within {@code lookupBudget} goes to the engine.
     */
    public record SharedCacheSettings(String uri, java.time.Duration ttl, java.time.Duration lookupBudget) {
        public SharedCacheSettings {
            java.util.Objects.requireNonNull(uri, "uri");
            java.util.Objects.requireNonNull(ttl, "ttl");
            java.util.Objects.requireNonNull(lookupBudget, "lookupBudget");
        }

        @Override
        public String toString() {
            int at = uri.indexOf('@');
            int scheme = uri.indexOf("://");
            String shown = at > 0 && scheme > 0 && at > scheme ? uri.substring(0, scheme + 3) + uri.substring(at + 1) : uri;
            return shown + " ttl " + ttl.toSeconds() + " s, budget " + lookupBudget.toNanos() / 1000 + " µs";
        }
    }

    public static final int DEFAULT_MAX_BATCH = 32;
    public static final long DEFAULT_QUEUE_DELAY_MICROS = 0;      // Triton's default too: run what is queued, batches form under load
    public static final int DEFAULT_SLOTS = 1024;

    /** The defaults for one model file served with {@code --model}. */
    public static ModelSettings defaults(String name, Path file) {
        return new ModelSettings(name, "1", file, EngineChoice.BEST, DEFAULT_MAX_BATCH, DEFAULT_QUEUE_DELAY_MICROS, new int[0], 0,
                DEFAULT_SLOTS, 0, 0, true, null, false);
    }

    /** With a shared cache tier behind the response cache (null: none); a model without a response cache gets a small one in front. */
    public ModelSettings withSharedCache(SharedCacheSettings shared) {
        return new ModelSettings(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, slots,
                requestTimeoutMillis, threads, dynamicBatching, shared, batcherOnEventLoop);
    }

    public ModelSettings withCacheBytes(long bytes) {
        return new ModelSettings(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, bytes, slots,
                requestTimeoutMillis, threads, dynamicBatching, sharedCache, batcherOnEventLoop);
    }

    public ModelSettings withSlots(int n) {
        return new ModelSettings(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, n,
                requestTimeoutMillis, threads, dynamicBatching, sharedCache, batcherOnEventLoop);
    }

    public ModelSettings withBatching(int max, long delayMicros) {
        return new ModelSettings(name, version, file, engine, max, delayMicros, preferredBatchSizes, cacheBytes, slots,
                requestTimeoutMillis, threads, dynamicBatching, sharedCache, batcherOnEventLoop);
    }

    public ModelSettings withEngine(EngineChoice e) {
        return new ModelSettings(name, version, file, e, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, slots,
                requestTimeoutMillis, threads, dynamicBatching, sharedCache, batcherOnEventLoop);
    }

    public ModelSettings withDynamicBatching(boolean on) {
        return new ModelSettings(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, slots,
                requestTimeoutMillis, threads, on, sharedCache, batcherOnEventLoop);
    }

    public ModelSettings withRequestTimeoutMillis(long ms) {
        return new ModelSettings(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, slots, ms,
                threads, dynamicBatching, sharedCache, batcherOnEventLoop);
    }

    public ModelSettings withBatcherOnEventLoop(boolean on) {
        return new ModelSettings(name, version, file, engine, maxBatch, maxQueueDelayMicros, preferredBatchSizes, cacheBytes, slots,
                requestTimeoutMillis, threads, dynamicBatching, sharedCache, on);
    }

    /**
     * Whether the model's batcher runs on the event loop: asked for ({@link #batcherOnEventLoop()}), with dynamic batching,
     * no queue delay (the loop runs what one pass over the sockets read; it keeps no timer for a fuller batch) and no
     * shared cache (whose lookups end on the Redis client's threads, away from the loop). Otherwise the batcher has a
     * thread of its own.
     */
    public boolean batchesOnEventLoop() {
        return batcherOnEventLoop && dynamicBatching && maxQueueDelayMicros == 0 && sharedCache == null;
    }

    /** Builds the model's service (engine choice, batching, cache) and wraps it for the transports. */
    public ServedModel open(Map<String, Object> configFromFile) {
        return open(configFromFile, null);
    }

    /** As {@link #open(Map)}, choosing among {@code providers} only (null: every engine on the class path). */
    public ServedModel open(Map<String, Object> configFromFile, java.util.List<io.hotpath.core.EngineProvider> providers) {
        int queueDelay = (int) Math.min(Integer.MAX_VALUE, maxQueueDelayMicros);
        boolean onLoop = batchesOnEventLoop();
        Hotpath.ServiceBuilder b = Hotpath.service(file).engine(engine).threads(threads)
                .batching(c -> {
                    c.maxBatchSize(maxBatch).maxQueueDelayMicros(queueDelay).maxRequests(slots + 1).threadName("hotpath-batcher-" + name);
                    if (preferredBatchSizes.length > 0) {
                        c.preferredBatchSizes(preferredBatchSizes);
                    }
                    if (onLoop) {
                        c.agentInvoker();
                    }
                });
        if (cacheBytes > 0 || sharedCache != null) {
            b.cache(c -> {
                if (cacheBytes > 0) {
                    c.budgetBytes(cacheBytes);
                }
                if (sharedCache != null) {
                    c.redis(sharedCache.uri(), sharedCache.ttl(), sharedCache.lookupBudget());
                }
            });
        }
        if (!dynamicBatching) {
            b.direct();
        }
        if (providers != null) {
            b.engineProviders(providers);
        }
        InferenceService svc = b.build();
        try {
            ServedModel m = new ServedModel(name, version, svc, slots, maxBatch, null, requestTimeoutMillis * 1_000_000L, onLoop);
            return m.withConfig(configFromFile != null ? configFromFile : autocompleted(m));
        } catch (RuntimeException | Error e) {
            svc.close();
            throw e;
        }
    }

    /** The config a Triton config endpoint would show for a model served without a config.pbtxt. */
    Map<String, Object> autocompleted(ServedModel m) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name);
        c.put("platform", "onnxruntime_onnx");
        c.put("backend", "onnxruntime");
        c.put("max_batch_size", m.batched() ? maxBatch : 0);
        c.put("input", tensors(m, m.inputs()));
        c.put("output", tensors(m, m.outputs()));
        if (dynamicBatching) {
            Map<String, Object> db = new LinkedHashMap<>();
            db.put("max_queue_delay_microseconds", maxQueueDelayMicros);
            List<Object> pref = new ArrayList<>();
            for (int p : preferredBatchSizes) {
                pref.add(p);
            }
            db.put("preferred_batch_size", pref);
            c.put("dynamic_batching", db);
        }
        c.put("response_cache", Map.of("enable", cacheBytes > 0));
        c.put("instance_group", List.of(Map.of("count", 1, "kind", "KIND_CPU")));
        return c;
    }

    private static List<Object> tensors(ServedModel m, List<io.hotpath.core.TensorSpec> ts) {
        List<Object> out = new ArrayList<>();
        for (io.hotpath.core.TensorSpec t : ts) {
            long[] shape = Metadata.wireShape(t);
            long[] dims = m.batched() && shape.length > 0 ? java.util.Arrays.copyOfRange(shape, 1, shape.length) : shape;
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("data_type", WireType.configName(t.dtype()));
            e.put("dims", dims);
            out.add(e);
        }
        return out;
    }
}
