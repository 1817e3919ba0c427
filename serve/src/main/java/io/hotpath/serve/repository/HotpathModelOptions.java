package io.hotpath.serve.repository;

import io.hotpath.batcher.BatcherConfig;
import io.hotpath.core.HotpathException;
import io.hotpath.embed.Budget;
import io.hotpath.embed.Precision;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.TreeSet;

/**
 * Hotpath's own options for one model: {@code hotpath.properties} beside {@code config.pbtxt}
 * ({@code <repo>/<model>/hotpath.properties}), a {@link Properties} file, every key optional.
 *
 * <table>
 *   <caption>Keys and defaults</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>engine</td><td>best</td><td>best, cpu, jvm or tensorrt</td></tr>
 *   <tr><td>precision</td><td>fp32</td><td>fp32, fp16, int8 or fastest; all but fp32 need calibration</td></tr>
 *   <tr><td>accuracy.cosine</td><td>mean 0.99, worst row 0.97</td><td>every row's cosine similarity to fp32 at least this</td></tr>
 *   <tr><td>accuracy.max_abs_error</td><td>no bound</td><td>no output value further than this from fp32's</td></tr>
 *   <tr><td>calibration</td><td>none</td><td>a .npy file of sample inputs; relative to the model folder</td></tr>
 *   <tr><td>cache.bytes</td><td>64 MiB</td><td>response cache budget when config.pbtxt enables response_cache; 64m, 1g, 65536 (0: no cache)</td></tr>
 *   <tr><td>cache.redis</td><td>the server's {@code --redis}</td><td>a shared cache tier on Redis behind the response cache:
 *       redis://host:port or rediss://... (TLS); {@code off}: none even when the server has one. Given here it applies
 *       whether or not config.pbtxt enables response_cache</td></tr>
 *   <tr><td>cache.redis.ttl_s</td><td>3600</td><td>how long an entry lives in Redis, seconds</td></tr>
 *   <tr><td>cache.redis.budget_us</td><td>300</td><td>how long a lookup may take before the request goes to the engine, µs</td></tr>
 *   <tr><td>threads</td><td>the engine's</td><td>intra-op threads (0: the engine's default)</td></tr>
 *   <tr><td>batching.max_batch</td><td>config's max_batch_size</td><td>largest batch</td></tr>
 *   <tr><td>batching.max_queue_delay_us</td><td>config's max_queue_delay_microseconds</td><td>longest wait for company</td></tr>
 *   <tr><td>queue.capacity</td><td>config's max_queue_size, else Hotpath's</td><td>requests in flight before 429</td></tr>
 *   <tr><td>request.timeout_ms</td><td>config's default_timeout_microseconds, else none</td><td>a request not answered by then fails</td></tr>
 * </table>
 *
 * <p>An unknown key is a warning; a bad value an INVALID_ARGUMENT naming the file, the key and the value.
 *
 * @param engine which engine runs the model
 * @param precision the precision asked for
 * @param precisionGiven whether the file sets {@code precision} (else a TensorRT precision hint in config.pbtxt may apply)
 * @param accuracyCosine {@code accuracy.cosine}, when given
 * @param accuracyMaxAbsError {@code accuracy.max_abs_error}, when given
 * @param calibration the calibration file, resolved against the model folder, or null
 * @param cacheBytes the response cache's budget in bytes
 * @param cacheRedis {@code cache.redis} when given ({@code off} included), else null
 * @param cacheRedisTtlSeconds {@code cache.redis.ttl_s}, when given
 * @param cacheRedisBudgetMicros {@code cache.redis.budget_us}, when given
 * @param threads {@code threads}, when given
 * @param maxBatch {@code batching.max_batch}, when given
 * @param maxQueueDelayMicros {@code batching.max_queue_delay_us}, when given
 * @param queueCapacity {@code queue.capacity}, when given
 * @param requestTimeoutMs {@code request.timeout_ms}, when given
 * @param fromFile whether a {@code hotpath.properties} was read
 * @param warnings one line each: {@code file: what}
 */
public record HotpathModelOptions(
        EngineKind engine,
        Precision precision,
        boolean precisionGiven,
        OptionalDouble accuracyCosine,
        OptionalDouble accuracyMaxAbsError,
        Path calibration,
        long cacheBytes,
        String cacheRedis,
        OptionalLong cacheRedisTtlSeconds,
        OptionalLong cacheRedisBudgetMicros,
        OptionalInt threads,
        OptionalInt maxBatch,
        OptionalLong maxQueueDelayMicros,
        OptionalInt queueCapacity,
        OptionalLong requestTimeoutMs,
        boolean fromFile,
        List<String> warnings) {

    /** The file's name in a model folder. */
    public static final String FILE_NAME = "hotpath.properties";
    /** The response cache budget when {@code cache.bytes} is not given: 64 MiB. */
    public static final long DEFAULT_CACHE_BYTES = 64L << 20;
    /** The largest file read: 1 MiB. */
    public static final int MAX_BYTES = 1 << 20;

    private static final List<String> KEYS = List.of("engine", "precision", "accuracy.cosine", "accuracy.max_abs_error", "calibration",
            "cache.bytes", "cache.redis", "cache.redis.ttl_s", "cache.redis.budget_us", "threads", "batching.max_batch", "batching.max_queue_delay_us", "queue.capacity", "request.timeout_ms");

    /** Every option at its default: what a model folder without the file gets. */
    public static final HotpathModelOptions DEFAULTS = new HotpathModelOptions(EngineKind.BEST, Precision.FP32, false,
            OptionalDouble.empty(), OptionalDouble.empty(), null, DEFAULT_CACHE_BYTES, null, OptionalLong.empty(), OptionalLong.empty(), OptionalInt.empty(), OptionalInt.empty(),
            OptionalLong.empty(), OptionalInt.empty(), OptionalLong.empty(), false, List.of());

    public HotpathModelOptions {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(accuracyCosine, "accuracyCosine");
        Objects.requireNonNull(accuracyMaxAbsError, "accuracyMaxAbsError");
        Objects.requireNonNull(cacheRedisTtlSeconds, "cacheRedisTtlSeconds");
        Objects.requireNonNull(cacheRedisBudgetMicros, "cacheRedisBudgetMicros");
        Objects.requireNonNull(threads, "threads");
        Objects.requireNonNull(maxBatch, "maxBatch");
        Objects.requireNonNull(maxQueueDelayMicros, "maxQueueDelayMicros");
        Objects.requireNonNull(queueCapacity, "queueCapacity");
        Objects.requireNonNull(requestTimeoutMs, "requestTimeoutMs");
        warnings = List.copyOf(warnings);
    }

    /** The engine a model runs on. */
    public enum EngineKind {
        /** The most preferred engine usable here for the model (the JVM engine for a small model, TensorRT, else the CPU). */
        BEST,
        /** ONNX Runtime on the CPU. */
        CPU,
        /** The JVM engine for small models. */
        JVM,
        /** TensorRT on an NVIDIA GPU. */
        TENSORRT;

        /** {@code best}, {@code cpu}, {@code jvm}, {@code tensorrt}. */
        public String kind() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The accuracy budget for the optimizer: Hotpath's default (mean cosine 0.99, worst row 0.97)
     * unless {@code accuracy.cosine} is given (then every row at least that), bounded by
     * {@code accuracy.max_abs_error} when given.
     */
    public Budget budget() {
        Budget b = accuracyCosine.isPresent() ? Budget.cosineAtLeast(accuracyCosine.getAsDouble()) : Budget.defaults();
        return accuracyMaxAbsError.isPresent() ? b.maxAbsErrorAtMost(accuracyMaxAbsError.getAsDouble()) : b;
    }

    /**
     * The options of a model folder: its {@code hotpath.properties} when there is one, else
     * {@link #DEFAULTS}; {@code label} names the file in messages ({@code resnet/hotpath.properties}).
     */
    public static HotpathModelOptions load(Path modelDir, String label) {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return DEFAULTS;
        }
        if (!Files.isRegularFile(file)) {
            throw HotpathException.invalidArgument(label + ": not a regular file");
        }
        byte[] bytes = Pbtxt.readBounded(file, label);
        return parse(label, new String(bytes, StandardCharsets.UTF_8), modelDir);
    }

    /**
     * Parses the text of a {@code hotpath.properties}; a relative {@code calibration} path resolves
     * against {@code modelDir}, and the file it names must exist.
     */
    public static HotpathModelOptions parse(String source, String text, Path modelDir) {
        if (text.length() > MAX_BYTES) {
            throw HotpathException.invalidArgument(source + ": larger than the limit of " + MAX_BYTES + " bytes (1 MiB)");
        }
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            throw HotpathException.invalidArgument(source + ": not a properties file: " + Pbtxt.oneLine(String.valueOf(e.getMessage())));
        }
        List<String> warnings = new ArrayList<>();
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            if (!KEYS.contains(key)) {
                warnings.add(source + ": unknown key '" + Pbtxt.oneLine(key) + "', ignored (keys: " + String.join(", ", KEYS) + ")");
            }
        }
        Values v = new Values(source, p);
        EngineKind engine = v.choice("engine", EngineKind.class, EngineKind.BEST);
        String precisionText = v.raw("precision");
        Precision precision = Precision.FP32;
        if (precisionText != null) {
            try {
                precision = Precision.parse(precisionText);
            } catch (HotpathException e) {
                throw v.bad("precision", precisionText, "use fp32, fp16, int8 or fastest");
            }
        }
        OptionalDouble cosine = v.decimal("accuracy.cosine", -1, 1, "a cosine similarity in [-1, 1]");
        OptionalDouble maxAbs = v.decimal("accuracy.max_abs_error", Double.MIN_VALUE, Double.POSITIVE_INFINITY, "a number > 0");
        Path calibration = null;
        String cal = v.raw("calibration");
        if (cal != null) {
            if (cal.isEmpty()) {
                throw v.bad("calibration", cal, "give a .npy file of sample inputs");
            }
            try {
                calibration = modelDir.resolve(cal).normalize();
            } catch (java.nio.file.InvalidPathException e) {
                throw v.bad("calibration", cal, "not a valid path");
            }
            if (!Files.isRegularFile(calibration)) {
                throw v.bad("calibration", cal, "no such file (" + calibration + ")");
            }
        }
        if (precision != Precision.FP32 && calibration == null) {
            throw HotpathException.invalidArgument(source + ": precision=" + precisionText.trim()
                    + " needs calibration=<file.npy> (sample inputs, relative to the model folder)");
        }
        long cacheBytes = v.bytes("cache.bytes", DEFAULT_CACHE_BYTES);
        String redis = v.raw("cache.redis");
        if (redis != null && !redis.equalsIgnoreCase("off") && !redis.matches("(?i)rediss?://\\S+")) {
            throw HotpathException.invalidArgument(source + ": cache.redis: expected redis://host:port, rediss://host:port (TLS) or off"
                    + (redis.contains("@") ? "" : ", was " + Values.shown(redis)));      // a value with credentials is never echoed
        }
        OptionalLong redisTtl = v.longValue("cache.redis.ttl_s", 1, 315_360_000, "seconds from 1 to 315360000 (10 years)");
        OptionalLong redisBudget = v.longValue("cache.redis.budget_us", 1, 60_000_000, "microseconds from 1 to 60000000");
        OptionalInt threads = v.integer("threads", 0, 1024, "0 (the engine's default) to 1024");
        OptionalInt maxBatch = v.integer("batching.max_batch", 1, BatcherConfig.MAX_BATCH_SIZE, "1 to " + BatcherConfig.MAX_BATCH_SIZE);
        OptionalLong delay = v.longValue("batching.max_queue_delay_us", 0, Long.MAX_VALUE / 1000, "microseconds >= 0");
        OptionalInt capacity = v.integer("queue.capacity", 1, BatcherConfig.MAX_REQUESTS, "1 to " + BatcherConfig.MAX_REQUESTS);
        OptionalLong timeout = v.longValue("request.timeout_ms", 0, Long.MAX_VALUE / 1_000_000, "milliseconds >= 0 (0: none)");
        return new HotpathModelOptions(engine, precision, precisionText != null, cosine, maxAbs, calibration, cacheBytes,
                redis, redisTtl, redisBudget, threads,
                maxBatch, delay, capacity, timeout, true, warnings);
    }

    /** Typed reads of the properties, each error naming the file, the key and the value. */
    private record Values(String source, Properties p) {
        String raw(String key) {
            String s = p.getProperty(key);
            return s == null ? null : s.trim();
        }

        HotpathException bad(String key, String value, String why) {
            return HotpathException.invalidArgument(source + ": " + key + "=" + shown(value) + ": " + why);
        }

        private static String shown(String value) {
            String one = Pbtxt.oneLine(value);
            return one.length() > 60 ? one.substring(0, 60) + "..." : one;
        }

        <E extends Enum<E>> E choice(String key, Class<E> type, E absent) {
            String s = raw(key);
            if (s == null) {
                return absent;
            }
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s)) {
                    return e;
                }
            }
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                names.add(e.name().toLowerCase(Locale.ROOT));
            }
            throw bad(key, s, "use " + String.join(", ", names));
        }

        OptionalLong longValue(String key, long min, long max, String range) {
            String s = raw(key);
            if (s == null) {
                return OptionalLong.empty();
            }
            long n;
            try {
                n = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw bad(key, s, "not an integer; use " + range);
            }
            if (n < min || n > max) {
                throw bad(key, s, "out of range; use " + range);
            }
            return OptionalLong.of(n);
        }

        OptionalInt integer(String key, int min, int max, String range) {
            OptionalLong n = longValue(key, min, max, range);
            return n.isPresent() ? OptionalInt.of((int) n.getAsLong()) : OptionalInt.empty();
        }

        OptionalDouble decimal(String key, double min, double max, String range) {
            String s = raw(key);
            if (s == null) {
                return OptionalDouble.empty();
            }
            double d;
            try {
                d = Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw bad(key, s, "not a number; use " + range);
            }
            if (!(d >= min && d <= max)) {
                throw bad(key, s, "out of range; use " + range);
            }
            return OptionalDouble.of(d);
        }

        /** A byte count: digits, optionally followed by k, m or g (KiB, MiB, GiB; {@code 64m}, {@code 64MiB}, {@code 1g}). */
        long bytes(String key, long absent) {
            String s = raw(key);
            if (s == null) {
                return absent;
            }
            String why = "use a byte count such as 67108864, 64m or 1g (k, m, g: KiB, MiB, GiB; 0: no cache)";
            int i = 0;
            while (i < s.length() && i < 18 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == 0) {
                throw bad(key, s, why);
            }
            long n = Long.parseLong(s.substring(0, i));
            String unit = s.substring(i).trim().toLowerCase(Locale.ROOT);
            int shift = switch (unit) {
                case "", "b" -> 0;
                case "k", "kb", "kib" -> 10;
                case "m", "mb", "mib" -> 20;
                case "g", "gb", "gib" -> 30;
                default -> throw bad(key, s, why);
            };
            if (n > (Long.MAX_VALUE >> shift)) {
                throw bad(key, s, "too large");
            }
            return n << shift;
        }
    }
}
