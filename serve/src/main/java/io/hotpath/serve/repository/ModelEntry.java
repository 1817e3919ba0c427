package io.hotpath.serve.repository;

import io.hotpath.embed.Precision;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One model version to serve, as {@link ModelRepository#scan} found it: where its file is, its
 * Triton configuration, Hotpath's options, the precision to serve it at, and every warning
 * about it. The serving settings below resolve the rule "hotpath.properties overrides
 * config.pbtxt, which overrides Hotpath's defaults" in one place.
 *
 * @param name the model's name (its folder's)
 * @param version the version folder's name ({@code "1"})
 * @param modelFile the ONNX file
 * @param modelDir the model's folder ({@code <repo>/<model>})
 * @param config the configuration; {@code config.fromFile()} is false when the folder has no config.pbtxt
 * @param options {@code hotpath.properties}, or its defaults
 * @param precision the precision to serve at: hotpath.properties' {@code precision} when given, else a
 *        TensorRT {@code precision_mode} hint of config.pbtxt when calibration data is given, else fp32
 * @param warnings the configuration's, the options' and the scan's warnings, one line each
 */
public record ModelEntry(String name, String version, Path modelFile, Path modelDir, TritonModelConfig config,
        HotpathModelOptions options, Precision precision, List<String> warnings) {
    public ModelEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(modelFile, "modelFile");
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(precision, "precision");
        warnings = List.copyOf(warnings);
    }

    /** Whether the configuration came from a config.pbtxt (false: it is to be autocompleted from the model). */
    public boolean configFromFile() {
        return config.fromFile();
    }

    /** This entry with another configuration, typically {@code config().autocomplete(...)}. */
    public ModelEntry withConfig(TritonModelConfig completed) {
        return new ModelEntry(name, version, modelFile, modelDir, completed, options, precision, warnings);
    }

    /**
     * The largest batch: 0 when the configuration's {@code max_batch_size} is 0 (the model does not
     * batch), else {@code batching.max_batch} when given, else {@code max_batch_size}.
     */
    public int maxBatchSize() {
        return config.maxBatchSize() == 0 ? 0 : options.maxBatch().orElse(config.maxBatchSize());
    }

    /** Whether requests are batched together: the configuration has {@code dynamic_batching} and the model batches. */
    public boolean dynamicBatching() {
        return config.dynamicBatching() != null && maxBatchSize() > 0;
    }

    /** How long the oldest request waits for company: {@code batching.max_queue_delay_us}, else {@code max_queue_delay_microseconds}, else 0. */
    public long maxQueueDelayMicros() {
        if (options.maxQueueDelayMicros().isPresent()) {
            return options.maxQueueDelayMicros().getAsLong();
        }
        return config.dynamicBatching() == null ? 0 : config.dynamicBatching().maxQueueDelayMicros();
    }

    /**
     * Requests in flight before the server answers 429: {@code queue.capacity}, else the queue
     * policy's {@code max_queue_size} when &gt; 0, else 0, meaning the server's own default.
     */
    public int queueCapacity() {
        if (options.queueCapacity().isPresent()) {
            return options.queueCapacity().getAsInt();
        }
        TritonModelConfig.DynamicBatching d = config.dynamicBatching();
        return d == null || d.defaultQueuePolicy() == null ? 0 : d.defaultQueuePolicy().maxQueueSize();
    }

    /**
     * The request timeout in milliseconds: {@code request.timeout_ms}, else the queue policy's
     * {@code default_timeout_microseconds} rounded up to whole milliseconds, else 0 (none).
     */
    public long requestTimeoutMs() {
        if (options.requestTimeoutMs().isPresent()) {
            return options.requestTimeoutMs().getAsLong();
        }
        TritonModelConfig.DynamicBatching d = config.dynamicBatching();
        if (d == null || d.defaultQueuePolicy() == null) {
            return 0;
        }
        long micros = d.defaultQueuePolicy().defaultTimeoutMicros();
        return micros / 1000 + (micros % 1000 == 0 ? 0 : 1);
    }

    /** The response cache's budget: {@code cache.bytes} when the configuration enables {@code response_cache}, else 0 (no cache). */
    public long cacheBytes() {
        return config.responseCache() ? options.cacheBytes() : 0;
    }

    /**
     * Intra-op threads: {@code threads} when given, else the configuration's
     * {@code intra_op_thread_count} parameter when it is a number in [0, 1024], else 0 (the engine's default).
     */
    public int threads() {
        if (options.threads().isPresent()) {
            return options.threads().getAsInt();
        }
        Integer fromConfig = intraOpThreads(config);
        return fromConfig == null ? 0 : fromConfig;
    }

    /** The {@code intra_op_thread_count} parameter as a thread count, or null when absent or not a number in [0, 1024]. */
    static Integer intraOpThreads(TritonModelConfig config) {
        String s = config.parameters().get(TritonModelConfig.INTRA_OP_THREADS_PARAMETER);
        if (s == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(s.trim());
            return n >= 0 && n <= 1024 ? n : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
