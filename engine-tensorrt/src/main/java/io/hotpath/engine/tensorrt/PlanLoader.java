package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.trt.TensorRt;
import io.hotpath.nativebindings.trt.TrtBuildSpec;
import io.hotpath.nativebindings.trt.TrtBuilder;
import io.hotpath.nativebindings.trt.TrtPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Gets a deserialized plan for a model and options: works out the optimization profiles and the
 * {@link PlanCacheKey}, loads the plan from the {@link PlanCache} or builds it (with a
 * {@link CalibrationFeed} for implicit INT8) and stores it there with the timing cache. A cached
 * plan that cannot be deserialized, or whose contexts cannot be made, is rebuilt with a warning.
 */
final class PlanLoader {
    private static final System.Logger LOG = System.getLogger("io.hotpath.tensorrt");

    /**
     * A deserialized plan, owned by whoever receives it (closing it is theirs), and what was
     * learned while getting it.
     *
     * @param builtNow  true when this load built the plan, false when it came from the cache
     * @param buildNanos the build's duration, 0 for a cached plan
     */
    record Loaded(TrtPlan plan, PlanTensors tensors, String layersJson, PlanCacheKey key, Path planFile, boolean builtNow,
                  long buildNanos, boolean explicitQuantization, List<ShapeProfiles.Profile> profiles, Cuda.Device device) {
    }

    private PlanLoader() {
    }

    /** Makes {@code options.device()} current, then loads or builds the plan for {@code model}. */
    static Loaded load(Path model, TensorRtOptions options) {
        Cuda.setDevice(options.device());
        Cuda.Device dev = Cuda.device(options.device());
        String sha = PlanCacheKey.sha256(model);
        PlanCache cache = new PlanCache(options.cacheDirectory());
        // parsing is needed only for the model's inputs and Q/DQ flag; a model seen before skips it (TensorRT's parser
        // objects cannot be freed through the preset, so every parse costs memory too)
        TrtBuilder.ParsedModel parsed = cache.loadModelInfo(sha).orElseGet(() -> {
            TrtBuilder.ParsedModel m = TrtBuilder.inspect(model);
            cache.storeModelInfo(sha, m);
            return m;
        });
        List<String> names = parsed.inputs().stream().map(TrtBuilder.ParsedInput::name).toList();
        List<long[]> dims = parsed.inputs().stream().map(TrtBuilder.ParsedInput::dims).toList();
        List<ShapeProfiles.Profile> profiles = options.profiles() != null ? options.profiles()
                : ShapeProfiles.forBuckets(names, dims, options.batchBuckets(), options.maxDimension());
        boolean qdq = parsed.explicitQuantization();
        Precision p = options.precision();
        String calibration = calibrationDescription(p, qdq, options);
        PlanCacheKey key = new PlanCacheKey(sha, p.label(), calibration, PlanCacheKey.profilesText(profiles),
                "workspace=" + options.workspaceBytes() + " level=" + options.optimizationLevel(), dev.name(), dev.computeCapability(),
                TensorRt.status().version(), Cuda.status().runtime());
        Optional<byte[]> cached = cache.load(key);
        if (cached.isPresent()) {
            try {
                TrtPlan plan = TrtPlan.deserialize(cached.get());
                return loaded(plan, key, cache.planFile(key), false, 0, qdq, profiles, dev);
            } catch (HotpathException e) {
                LOG.log(System.Logger.Level.WARNING, "cached plan " + cache.planFile(key) + " could not be loaded (" + e.getMessage()
                        + "); rebuilding");
            }
        }
        TrtBuildSpec spec = buildSpec(p, qdq, options, profiles, cache.loadTimingCache(dev.name(), TensorRt.status().version()));
        TrtBuilder.Result built;
        try (CalibrationFeed feed = (CalibrationFeed) spec.calibrator()) {
            built = TrtBuilder.build(model, spec);
        }
        cache.storeTimingCache(dev.name(), TensorRt.status().version(), built.timingCache());
        TrtPlan plan = TrtPlan.deserialize(built.plan());
        cache.store(key, built.plan(), plan.layerInformationJson());
        return loaded(plan, key, cache.planFile(key), true, built.buildNanos(), qdq, profiles, dev);
    }

    /**
     * Works out the plan's tensors (which makes a context per profile) and layer report; inside the
     * cached-plan try, so that a plan that deserializes but cannot run is rebuilt too.
     */
    private static Loaded loaded(TrtPlan plan, PlanCacheKey key, Path planFile, boolean builtNow, long buildNanos, boolean qdq,
                                 List<ShapeProfiles.Profile> profiles, Cuda.Device dev) {
        PlanTensors tensors;
        String layersJson;
        try {
            tensors = PlanTensors.of(plan, profiles);
            layersJson = plan.layerInformationJson();
        } catch (RuntimeException | Error e) {
            plan.close();       // a plan that cannot run is freed here, not left to the garbage collector (the caller may rebuild)
            throw e;
        }
        return new Loaded(plan, tensors, layersJson, key, planFile, builtNow, buildNanos, qdq, profiles, dev);
    }

    /**
     * The calibration part of the plan-cache key: "none" unless INT8; for INT8 the Q/DQ mode, or the
     * calibration algorithm, data fingerprint and cache file hash. INVALID_ARGUMENT for INT8 with
     * nothing to calibrate from.
     */
    static String calibrationDescription(Precision p, boolean qdq, TensorRtOptions options) {
        if (p != Precision.INT8) {
            return "none";
        }
        if (qdq) {
            return "explicit Q/DQ (strongly typed)";
        }
        StringBuilder sb = new StringBuilder(options.calibrationAlgorithm().name().toLowerCase(java.util.Locale.ROOT));
        if (options.calibrationData() != null) {
            sb.append(" batch=").append(options.calibrationBatch()).append(' ').append(options.calibrationData().fingerprint());
        }
        Path cacheFile = options.calibrationCache();
        if (cacheFile != null && Files.isRegularFile(cacheFile)) {
            sb.append(" cache sha256=").append(PlanCacheKey.sha256(cacheFile), 0, 16);
        }
        if (options.calibrationData() == null && (cacheFile == null || !Files.isRegularFile(cacheFile))) {
            throw HotpathException.invalidArgument("INT8 needs a model with Q/DQ nodes (from the optimizer), calibration data, "
                    + "or a calibration cache file; this model has no Q/DQ nodes and none of the others was given");
        }
        return sb.toString();
    }

    private static TrtBuildSpec buildSpec(Precision p, boolean qdq, TensorRtOptions options, List<ShapeProfiles.Profile> profiles,
            byte[] timingCache) {
        List<TrtBuildSpec.Profile> specProfiles = new ArrayList<>();
        for (ShapeProfiles.Profile profile : profiles) {
            List<TrtBuildSpec.InputRange> ranges = new ArrayList<>();
            for (ShapeProfiles.Range r : profile.ranges()) {
                ranges.add(new TrtBuildSpec.InputRange(r.input(), r.min(), r.opt(), r.max()));
            }
            specProfiles.add(new TrtBuildSpec.Profile(ranges));
        }
        boolean stronglyTyped = p == Precision.INT8 && qdq;
        boolean int8 = p == Precision.INT8;
        boolean fp16 = p == Precision.FP16 || (p == Precision.INT8 && !qdq);
        boolean tf32 = p != Precision.FP32;
        int calibrationProfile = 0;
        CalibrationFeed feed = null;
        if (int8 && !qdq) {
            calibrationProfile = CalibrationFeed.profileFor(profiles, options.calibrationBatch());
            feed = new CalibrationFeed(options.calibrationData(), profiles.get(calibrationProfile), options.calibrationCache());
        }
        return new TrtBuildSpec(fp16, int8, tf32, stronglyTyped, options.workspaceBytes(), options.optimizationLevel(), specProfiles,
                calibrationProfile, feed, timingCache, options.calibrationAlgorithm());
    }
}
