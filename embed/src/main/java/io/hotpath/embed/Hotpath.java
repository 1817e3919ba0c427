package io.hotpath.embed;

import io.hotpath.batcher.BatcherConfig;
import io.hotpath.service.CacheOptions;
import io.hotpath.core.Engine;
import io.hotpath.core.EngineProvider;
import io.hotpath.core.HotpathException;
import io.hotpath.optimizer.CpuFeatures;
import io.hotpath.optimizer.Optimizer;
import io.hotpath.service.EngineChoice;
import io.hotpath.service.InferenceService;
import io.hotpath.service.ServiceReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * The entry point: one builder that does what Hotpath promises, in process.
 *
 * <pre>{@code
 * try (InferenceService svc = Hotpath.service(Path.of("model.onnx"))
 *         .engine(EngineChoice.BEST)                     // TensorRT if usable here, else ONNX Runtime on the CPU
 *         .precision(Precision.INT8, calibration)        // the optimizer, gated by the accuracy budget
 *         .accuracyBudget(Budget.cosineAtLeast(0.99))
 *         .batching(b -> b.maxBatchSize(32).maxQueueDelayMicros(200))
 *         .cache(c -> c.budgetBytes(256L << 20))
 *         .build()) {
 *     System.out.println(svc.report());                  // engine, precision, variant, accuracy, why
 * }
 * }</pre>
 *
 * <p>{@link ServiceBuilder#build()} validates everything once and throws a categorized
 * {@link HotpathException} for anything wrong, before a thread starts. The lower-level APIs
 * ({@code OrtCpuEngine}, {@code Optimizer}, {@code InferenceService.builder}) stay public.
 */
public final class Hotpath {
    private Hotpath() {
    }

    /** A builder for a service over the ONNX model {@code model}. */
    public static ServiceBuilder service(Path model) {
        return new ServiceBuilder(Objects.requireNonNull(model, "model"));
    }

    /** Configures and builds an {@link InferenceService}; see {@link Hotpath}. Not thread-safe; use once. */
    public static final class ServiceBuilder {
        /** Rows per engine run when the batching options leave {@code maxBatchSize} unset. */
        public static final int DEFAULT_MAX_BATCH = 32;
        /** Calibration items kept for validation (every n-th) when no separate validation set is given. */
        static final int HOLD_OUT_EVERY = 4;
        /** The fewest items a calibration set may have when validation is split off it. */
        static final int MIN_SPLIT_ITEMS = 8;
        private static final int UNSET = BatcherConfig.MAX_BATCH_SIZE;

        private final Path model;
        private EngineChoice engine = EngineChoice.BEST;
        private Precision precision = Precision.FP32;
        private Optimizer.Data calibration;
        private Optimizer.Data validation;
        private Budget budget = Budget.defaults();
        private final List<Consumer<BatcherConfig.Builder>> batching = new ArrayList<>();
        private Consumer<CacheOptions> cache;
        private int threads;
        private int sequenceLength = 128;
        private int timingRounds = 3;
        private Path cacheDir;
        private List<EngineProvider> providers;
        private boolean direct;

        private ServiceBuilder(Path model) {
            this.model = model;
        }

        /**
         * No batcher: each request runs on its caller's thread, on its own batch of one (callers take
         * turns on an engine that runs one batch at a time). The lowest latency for a few callers of a
         * small model; {@link #batching} then only sizes the engine's batch.
         */
        public ServiceBuilder direct() {
            this.direct = true;
            return this;
        }

        /** Which engine (default {@link EngineChoice#BEST}). */
        public ServiceBuilder engine(EngineChoice choice) {
            this.engine = Objects.requireNonNull(choice, "engine");
            return this;
        }

        /** {@link Precision#FP32}: the model as it is. Any other precision needs data: {@link #precision(Precision, Optimizer.Data)}. */
        public ServiceBuilder precision(Precision p) {
            this.precision = Objects.requireNonNull(p, "precision");
            return this;
        }

        /**
         * The precision to optimize for and the inputs to calibrate and validate on (realistic
         * inputs, never zeros): {@code Optimizer.Rows} of a single float input, {@code Optimizer.Text}
         * sentences for a BERT-style model, or {@code Optimizer.Samples} of every input. Unless
         * {@link #validation} is given, every 4th item is held out for validation, disjoint from calibration.
         */
        public ServiceBuilder precision(Precision p, Optimizer.Data calibrationData) {
            this.precision = Objects.requireNonNull(p, "precision");
            this.calibration = Objects.requireNonNull(calibrationData, "calibration data");
            return this;
        }

        /** Held-out inputs to measure accuracy on, disjoint from the calibration data. */
        public ServiceBuilder validation(Optimizer.Data validationData) {
            this.validation = Objects.requireNonNull(validationData, "validation data");
            return this;
        }

        /** How far the optimized model may move from the original (default: mean cosine 0.99, worst row 0.97). */
        public ServiceBuilder accuracyBudget(Budget b) {
            this.budget = Objects.requireNonNull(b, "budget");
            return this;
        }

        /** The dynamic batcher's options ({@link BatcherConfig.Builder}); the largest batch also sizes the engine (default {@value #DEFAULT_MAX_BATCH}). */
        public ServiceBuilder batching(Consumer<BatcherConfig.Builder> options) {
            batching.add(Objects.requireNonNull(options, "batching options"));
            return this;
        }

        /** An off-heap prediction cache in front of the batcher ({@code c -> c.budgetBytes(256L << 20)}); default none. */
        public ServiceBuilder cache(Consumer<CacheOptions> options) {
            this.cache = Objects.requireNonNull(options, "cache options");
            return this;
        }

        /** Threads one engine run may use (default 0: the engine's own default). */
        public ServiceBuilder threads(int n) {
            this.threads = n;
            return this;
        }

        /** Tokens per sentence when calibrating a text model on {@code Optimizer.Text} (default 128). */
        public ServiceBuilder sequenceLength(int n) {
            this.sequenceLength = n;
            return this;
        }

        /** Interleaved timing rounds per variant when choosing the fastest (default 3). */
        public ServiceBuilder timingRounds(int n) {
            this.timingRounds = n;
            return this;
        }

        /** Where optimized models are kept by content (default {@code $XDG_CACHE_HOME/hotpath/optimized} or {@code ~/.cache/hotpath/optimized}). */
        public ServiceBuilder optimizedModelCache(Path dir) {
            this.cacheDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Choose among these engines instead of those found on the class path (tests, or an application with its own). */
        public ServiceBuilder engineProviders(List<EngineProvider> list) {
            this.providers = List.copyOf(list);
            return this;
        }

        /**
         * Validates every option, chooses the engine, prepares the model (from the optimized-model
         * cache, or by running the optimizer and storing its choice), opens the engine and starts
         * the service. Everything wrong is one {@link HotpathException}; nothing is left open.
         */
        public InferenceService build() {
            long start = System.nanoTime();
            if (!Files.isRegularFile(model)) {
                throw new HotpathException(HotpathException.Category.NOT_FOUND, "model " + model + " is not a readable file");
            }
            if (threads < 0 || threads > 1024) {
                throw HotpathException.invalidArgument("threads " + threads + " outside [0, 1024] (0: the engine's default)");
            }
            if (sequenceLength < 1 || sequenceLength > 1 << 16) {
                throw HotpathException.invalidArgument("sequenceLength " + sequenceLength + " outside [1, 65536]");
            }
            if (timingRounds < 1 || timingRounds > 100) {
                throw HotpathException.invalidArgument("timingRounds " + timingRounds + " outside [1, 100]");
            }
            if (precision != Precision.FP32 && calibration == null) {
                throw HotpathException.invalidArgument("precision " + precision + " needs inputs to " + (precision.needsCalibration()
                        ? "calibrate and " : "") + "validate on: precision(Precision." + precision + ", data)");
            }
            int maxBatch = probeBatching();
            EngineProvider.Settings settings = new EngineProvider.Settings(maxBatch, threads);
            EngineChoice.Selection sel = providers == null ? engine.select(model) : engine.select(model, providers);

            Prepared prepared = precision == Precision.FP32 ? Prepared.original(model) : prepare(sel.provider());
            Path file = prepared.model() != null ? prepared.model() : model;
            Engine opened = sel.provider().open(file, settings);
            try {
                long ms = (System.nanoTime() - start) / 1_000_000;
                ServiceReport report = new ServiceReport(opened.describe(), sel.reason(), sel.considered(), prepared.precision(),
                        prepared.variant(), prepared.accuracy(), prepared.reason(), file, prepared.fromCache(), ms);
                InferenceService.Builder b = InferenceService.builder(opened).report(report)
                        .batching(c -> c.maxBatchSize(maxBatch));
                for (Consumer<BatcherConfig.Builder> o : batching) {
                    b.batching(o);
                }
                if (cache != null) {
                    b.cache(cache);
                }
                if (direct) {
                    b.direct();
                }
                InferenceService svc = b.build();
                System.getLogger(Hotpath.class.getName()).log(System.Logger.Level.INFO, "hotpath service over " + model + "\n" + report);
                return svc;
            } catch (RuntimeException | Error e) {
                opened.close();
                throw e;
            }
        }

        /** Applies the batching options to a probe to validate them once and learn the largest batch. */
        private int probeBatching() {
            BatcherConfig.Builder probe = BatcherConfig.builder().maxBatchSize(UNSET).maxPayloadBytes(1).maxOutputBytes(0);
            for (Consumer<BatcherConfig.Builder> o : batching) {
                o.accept(probe);
            }
            try {
                int n = probe.build().maxBatchSize();
                return n == UNSET ? DEFAULT_MAX_BATCH : n;
            } catch (IllegalArgumentException e) {
                throw HotpathException.invalidArgument("batching: " + e.getMessage());
            }
        }

        /** The model the engine runs, and what the report says about it. */
        record Prepared(Path model, String precision, String variant, String accuracy, String reason, boolean fromCache) {
            static Prepared original(Path model) {
                return new Prepared(null, "fp32", "original", "not measured (the original model)", "precision FP32 asked for: the model as given",
                        false);
            }

            static Prepared of(OptimizedModelCache.Entry e, boolean fromCache) {
                Properties p = e.choice();
                return new Prepared(e.model(), p.getProperty("precision"), p.getProperty("variant"), p.getProperty("accuracy", "not measured"),
                        p.getProperty("reason", ""), fromCache);
            }
        }

        private Prepared prepare(EngineProvider provider) {
            OptimizedModelCache store = new OptimizedModelCache(cacheDir != null ? cacheDir : OptimizedModelCache.defaultDirectory());
            Optimizer.Data cal = calibration;
            Optimizer.Data val = validation;
            if (val == null) {
                Optimizer.Data[] split = DataSplit.holdOut(calibration, HOLD_OUT_EVERY, MIN_SPLIT_ITEMS);
                cal = split[0];
                val = split[1];
            }
            boolean fusions = provider.runsContribOperators();
            CpuFeatures.Int8Scheme scheme = CpuFeatures.detect().int8Scheme();
            OptimizedModelCache.KeyDigest d = new OptimizedModelCache.KeyDigest().text("hotpath optimized model").text(OptimizedModelCache.FORMAT)
                    .file(model).text(precision.name()).text(budget.toString()).longValue(sequenceLength).text(provider.kind())
                    .text(Boolean.toString(fusions)).text(scheme.name());
            DataSplit.fingerprint(d, cal);
            DataSplit.fingerprint(d, val);
            String key = d.key();
            OptimizedModelCache.Entry hit = store.find(key);
            if (hit != null) {
                if (hit.model() == null || provider.availability(hit.model()).usable()) {
                    return Prepared.of(hit, true);
                }
                store.evict(key);       // a variant this engine cannot run (stored before that was checked): made again
            }
            List<String> precisions = new ArrayList<>();
            precisions.add("fp32");
            precisions.addAll(precision.optimizerPrecisions());
            Optimizer.Config cfg = new Optimizer.Config(precisions, List.of(io.hotpath.optimizer.CalibrationStats.Method.values()), sequenceLength,
                    30, budget.toOptimizer(), null, true, fusions).withRounds(timingRounds).withInt8Scheme(scheme);
            Path work;
            try {
                Files.createDirectories(store.directory());
                work = Files.createTempDirectory(store.directory(), "work-");
            } catch (java.io.IOException e) {
                throw new HotpathException(HotpathException.Category.INVALID_ARGUMENT, "cannot write the optimized-model cache "
                        + store.directory() + ": " + e.getMessage(), e);
            }
            try {
                Optimizer.Report r = Optimizer.run(model, model.getFileName().toString(), cal, val, List.of(), cfg, work);
                Optimizer.Variant chosen = r.chosen();
                // the variants are timed on ONNX Runtime; the engine chosen may not run the fastest (the JVM engine runs no Q/DQ INT8)
                String notRunnable = null;
                if (chosen != null) {
                    EngineProvider.Availability a = provider.availability(chosen.file());
                    if (!a.usable()) {
                        notRunnable = "the " + provider.kind() + " engine does not run " + chosen.name() + " (" + a.reason() + ")";
                        chosen = Optimizer.choose(r.variants().stream().filter(v -> provider.availability(v.file()).usable()).toList());
                    }
                }
                Properties p = new Properties();
                p.setProperty("created", java.time.Instant.now().toString());
                p.setProperty("cpu", r.cpu());
                p.setProperty("budget", budget.toString());
                Path variantFile;
                if (chosen == null) {
                    p.setProperty("precision", "fp32");
                    p.setProperty("variant", "original");
                    p.setProperty("accuracy", "not measured");
                    p.setProperty("reason", (notRunnable != null ? notRunnable + " and runs no other variant within the budget "
                            : "no variant met the budget ") + budget + " (" + summary(r) + "): the original model");
                    variantFile = null;
                } else {
                    boolean original = chosen.file().toAbsolutePath().normalize().equals(model.toAbsolutePath().normalize());
                    p.setProperty("precision", chosen.precision());
                    p.setProperty("variant", chosen.name());
                    p.setProperty("accuracy", chosen.accuracy().toString());
                    p.setProperty("reason", "the fastest within the budget " + budget + " by throughput at batch " + r.throughputBatch()
                            + " on ONNX Runtime CPU (variants within timing noise of it count as tied; the most accurate of those wins): "
                            + summary(r)
                            + (original && chosen.name().equals("fp32-opt-none") ? "; the engine runs it with its default graph optimization" : "")
                            + (notRunnable != null ? "; " + notRunnable + ", so the fastest of those it runs" : ""));
                    variantFile = original ? null : chosen.file();
                }
                return Prepared.of(store.store(key, p, variantFile), false);
            } finally {
                OptimizedModelCache.deleteTree(work);
            }
        }

        /** Each variant's name, throughput, p50 and whether it met the budget; the skipped ones with their reason. */
        private static String summary(Optimizer.Report r) {
            List<String> parts = new ArrayList<>();
            for (Optimizer.Variant v : r.variants()) {
                parts.add(String.format(java.util.Locale.ROOT, "%s %.0f/s, p50 %.1f us at batch 1%s", v.name(), v.throughputPerSecondBatch8(),
                        v.p50UsBatch1(), v.passed() ? "" : ", outside the budget"));
            }
            for (Optimizer.Skipped s : r.skipped()) {
                parts.add(s.name() + " skipped: " + s.reason());
            }
            return String.join("; ", parts);
        }
    }
}
