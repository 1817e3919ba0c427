package io.hotpath.serve;

import io.hotpath.core.EngineProvider;
import io.hotpath.core.HotpathException;
import io.hotpath.embed.Precision;
import io.hotpath.serve.repository.HotpathModelOptions;
import io.hotpath.serve.repository.ModelEntry;
import io.hotpath.serve.repository.ModelRepository;
import io.hotpath.serve.repository.TritonModelConfig;
import io.hotpath.service.EngineChoice;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens every model version a {@link ModelRepository} scan found: its engine and service as its
 * {@code config.pbtxt} and {@code hotpath.properties} say, its config completed from the model
 * (no config.pbtxt) or checked against it (a config that disagrees with the model fails the
 * start, as Triton's does), every warning logged on one line. Models the scan skipped are logged
 * with their reason.
 */
public final class RepositoryLoader {
    private RepositoryLoader() {
    }

    /** Rows in flight per model when neither hotpath.properties nor the queue policy says. */
    public static final int DEFAULT_SLOTS = ModelSettings.DEFAULT_SLOTS;

    /** Opens the repository's models; on any failure closes those already opened and throws. */
    public static List<ServedModel> load(Path repository) {
        return load(repository, null);
    }

    /**
     * As {@link #load(Path)}, with a server-wide shared cache tier for every model whose config enables
     * {@code response_cache} (a model's own {@code cache.redis} overrides it; {@code cache.redis=off} opts out).
     */
    public static List<ServedModel> load(Path repository, ModelSettings.SharedCacheSettings sharedDefault) {
        return load(repository, sharedDefault, false);
    }

    /**
     * As {@link #load(Path, ModelSettings.SharedCacheSettings)}; {@code batcherOnEventLoop} runs each model's batcher on
     * the server's event loop where that applies ({@link ModelSettings#batchesOnEventLoop()}).
     */
    public static List<ServedModel> load(Path repository, ModelSettings.SharedCacheSettings sharedDefault, boolean batcherOnEventLoop) {
        System.Logger log = System.getLogger(RepositoryLoader.class.getName());
        ModelRepository repo = ModelRepository.scan(repository);
        for (String w : repo.warnings()) {
            log.log(System.Logger.Level.WARNING, w);
        }
        for (String s : repo.skipped()) {
            log.log(System.Logger.Level.WARNING, "skipped: " + s);
        }
        if (repo.models().isEmpty()) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, "model repository " + repository + " has no model Hotpath can serve"
                    + (repo.skipped().isEmpty() ? "" : "; skipped: " + String.join("; ", repo.skipped())));
        }
        List<ServedModel> opened = new ArrayList<>();
        try {
            for (ModelEntry e : repo.models()) {
                for (String w : e.warnings()) {
                    log.log(System.Logger.Level.WARNING, "model '" + e.name() + "' version " + e.version() + ": " + w);
                }
                opened.add(open(e, sharedDefault, batcherOnEventLoop));
                log.log(System.Logger.Level.INFO, "loaded model '" + e.name() + "' version " + e.version() + " from " + e.modelFile());
            }
            return opened;
        } catch (RuntimeException | Error t) {
            for (ServedModel m : opened) {
                m.close();
            }
            throw t;
        }
    }

    static ServedModel open(ModelEntry e) {
        return open(e, null, false);
    }

    /** The shared tier model {@code e} gets: its own {@code cache.redis}, else the server's when its response cache is on. */
    static ModelSettings.SharedCacheSettings sharedCache(ModelEntry e, ModelSettings.SharedCacheSettings server) {
        HotpathModelOptions o = e.options();
        String uri = o.cacheRedis();
        if (uri != null && uri.equalsIgnoreCase("off")) {
            return null;
        }
        if (uri == null && (server == null || e.cacheBytes() == 0)) {
            return null;
        }
        java.time.Duration ttl = o.cacheRedisTtlSeconds().isPresent() ? java.time.Duration.ofSeconds(o.cacheRedisTtlSeconds().getAsLong())
                : server != null ? server.ttl() : java.time.Duration.ofHours(1);
        java.time.Duration budget = o.cacheRedisBudgetMicros().isPresent() ? java.time.Duration.ofNanos(o.cacheRedisBudgetMicros().getAsLong() * 1000)
                : server != null ? server.lookupBudget() : java.time.Duration.ofNanos(io.hotpath.service.CacheOptions.DEFAULT_LOOKUP_BUDGET_NANOS);
        return new ModelSettings.SharedCacheSettings(uri != null ? uri : server.uri(), ttl, budget);
    }

    static ServedModel open(ModelEntry e, ModelSettings.SharedCacheSettings sharedDefault, boolean batcherOnEventLoop) {
        if (e.precision() != Precision.FP32) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "model '" + e.name() + "' version " + e.version() + ": precision "
                    + e.precision() + " is asked for; hotpath serve runs models at the precision of their file in this version: optimize it "
                    + "with 'hotpath optimize' and put the optimized model.onnx in the repository (precision=fp32)");
        }
        boolean configured = e.configFromFile();
        boolean batching = configured ? e.dynamicBatching() : true;
        int maxBatch = configured ? Math.max(1, e.maxBatchSize()) : e.options().maxBatch().orElse(ModelSettings.DEFAULT_MAX_BATCH);
        TritonModelConfig.DynamicBatching db = e.config().dynamicBatching();
        int[] preferred = db == null ? new int[0] : db.preferredBatchSizes().stream().mapToInt(Integer::intValue).filter(p -> p <= maxBatch).toArray();
        int slots = e.queueCapacity() > 0 ? e.queueCapacity() : DEFAULT_SLOTS;
        ModelSettings s = new ModelSettings(e.name(), e.version(), e.modelFile(), engineChoice(e.options().engine()), maxBatch,
                e.maxQueueDelayMicros(), preferred, e.cacheBytes(), slots, e.requestTimeoutMs(), e.threads(), batching,
                sharedCache(e, sharedDefault), batcherOnEventLoop);
        List<EngineProvider> providers = e.options().engine() == HotpathModelOptions.EngineKind.JVM ? jvmOnly() : null;
        ServedModel m = s.open(null, providers);
        try {
            TritonModelConfig c = e.config();
            if (configured) {
                List<String> errors = c.validateAgainst(m.inputs(), m.outputs());
                if (!errors.isEmpty()) {
                    throw HotpathException.invalidArgument("model '" + e.name() + "' version " + e.version() + ": its config.pbtxt disagrees "
                            + "with " + e.modelFile().getFileName() + ": " + String.join("; ", errors));
                }
            } else {
                c = c.autocomplete(m.inputs(), m.outputs(), maxBatch);
            }
            return m.withConfig(c.toJson());
        } catch (RuntimeException | Error t) {
            m.close();
            throw t;
        }
    }

    private static EngineChoice engineChoice(HotpathModelOptions.EngineKind k) {
        return switch (k) {
            case CPU -> EngineChoice.CPU;
            case TENSORRT -> EngineChoice.TENSORRT;
            default -> EngineChoice.BEST;
        };
    }

    /** engine=jvm: the JVM engine alone (BEST among a list of one), or an error naming the missing module. */
    private static List<EngineProvider> jvmOnly() {
        for (EngineProvider p : ServiceLoader.load(EngineProvider.class)) {
            if (p.kind().equals("jvm")) {
                return List.of(p);
            }
        }
        throw new HotpathException(HotpathException.Category.UNSUPPORTED, "engine=jvm asked for, but hotpath-engine-jvm is not on the class path");
    }
}
