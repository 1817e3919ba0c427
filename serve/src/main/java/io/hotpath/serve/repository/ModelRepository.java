package io.hotpath.serve.repository;

import io.hotpath.core.HotpathException;
import io.hotpath.embed.Precision;
import io.hotpath.serve.repository.HotpathModelOptions.EngineKind;
import io.hotpath.serve.repository.TritonModelConfig.InstanceGroup;
import io.hotpath.serve.repository.TritonModelConfig.Kind;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Triton-style model repository as read from disk: one folder per model, numeric version
 * folders inside it, {@code config.pbtxt} and {@code hotpath.properties} optional beside them.
 *
 * <pre>
 * repo/
 *   resnet/
 *     config.pbtxt          optional; name must equal the folder's when given
 *     hotpath.properties    optional; Hotpath's own options
 *     1/model.onnx          default_model_filename, else model.onnx (a folder model.onnx/ holding model.onnx also works)
 *     2/model.onnx
 *   .cache/                 folders starting with '.' are ignored
 * </pre>
 *
 * <p>{@link #scan} fails as a whole (a {@link HotpathException}) when the repository is missing or
 * holds no model folder, or when a model's files are malformed (a wrong type in config.pbtxt, a
 * bad value in hotpath.properties, a name that is not the folder's). A model Hotpath cannot serve
 * (another platform or backend, a sequence or ensemble scheduler, no version folder, no model file
 * in the versions its policy selects) is skipped with a one-line reason in {@link #skipped()}, and
 * the others are served.
 *
 * @param root the repository folder
 * @param models one entry per model version to serve, by model name, highest version first
 * @param skipped one line per model skipped, with the reason
 * @param warnings repository-level warnings (files beside the model folders)
 */
public record ModelRepository(Path root, List<ModelEntry> models, List<String> skipped, List<String> warnings) {
    /** The configuration file's name in a model folder. */
    public static final String CONFIG_FILE = "config.pbtxt";

    public ModelRepository {
        Objects.requireNonNull(root, "root");
        models = List.copyOf(models);
        skipped = List.copyOf(skipped);
        warnings = List.copyOf(warnings);
    }

    /** Reads the repository at {@code repo}; see {@link ModelRepository}. */
    public static ModelRepository scan(Path repo) {
        if (!Files.exists(repo)) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, "model repository " + repo + " does not exist");
        }
        if (!Files.isDirectory(repo)) {
            throw HotpathException.invalidArgument("model repository " + repo + " is not a directory");
        }
        List<String> warnings = new ArrayList<>();
        List<Path> modelDirs = new ArrayList<>();
        for (Path p : list(repo)) {
            String name = p.getFileName().toString();
            if (name.startsWith(".")) {
                continue;
            }
            if (Files.isDirectory(p)) {
                modelDirs.add(p);
            } else {
                warnings.add(repo + ": '" + name + "' is a file, not a model folder; ignored");
            }
        }
        if (modelDirs.isEmpty()) {
            throw HotpathException.invalidArgument("model repository " + repo + " has no model folder (expected " + repo
                    + "/<model>/<version>/model.onnx, with an optional <model>/config.pbtxt)");
        }
        List<ModelEntry> models = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Path dir : modelDirs) {
            scanModel(dir, models, skipped);
        }
        return new ModelRepository(repo, models, skipped, warnings);
    }

    private static void scanModel(Path dir, List<ModelEntry> models, List<String> skipped) {
        String model = dir.getFileName().toString();
        Path configFile = dir.resolve(CONFIG_FILE);
        TritonModelConfig config = Files.exists(configFile)
                ? TritonModelConfig.parse(configFile, model + "/" + CONFIG_FILE, model)
                : TritonModelConfig.absent(model);
        String platform = config.unsupportedPlatform();
        if (platform != null) {
            skipped.add(model + ": " + platform + "; skipped");
            return;
        }
        if (config.unsupportedScheduler() != null) {
            skipped.add(model + ": " + config.unsupportedScheduler() + " is not supported by hotpath serve; skipped");
            return;
        }
        HotpathModelOptions options = HotpathModelOptions.load(dir, model + "/" + HotpathModelOptions.FILE_NAME);
        List<String> warnings = new ArrayList<>(config.warnings());
        warnings.addAll(options.warnings());
        Precision precision = precision(model, config, options, warnings);
        crossCheck(model, config, options, warnings);

        Map<Long, Path> versions = new LinkedHashMap<>();
        for (Path p : list(dir)) {
            String name = p.getFileName().toString();
            if (name.startsWith(".") || !Files.isDirectory(p)) {
                continue;
            }
            if (!isVersion(name)) {
                warnings.add(model + "/" + name + ": not a numeric version folder; ignored");
                continue;
            }
            long v = Long.parseLong(name);
            if (versions.containsKey(v)) {
                warnings.add(model + "/" + name + ": the same version as " + model + "/" + versions.get(v).getFileName() + "; ignored");
                continue;
            }
            versions.put(v, p);
        }
        if (versions.isEmpty()) {
            skipped.add(model + ": no numeric version folder (expected " + model + "/1/" + config.modelFilename() + "); skipped");
            return;
        }
        List<Long> present = new ArrayList<>(versions.keySet());
        if (config.versionPolicy() instanceof TritonModelConfig.VersionPolicy.Specific s) {
            for (long v : s.versions()) {
                if (!versions.containsKey(v)) {
                    warnings.add(model + ": version " + v + " named by version_policy has no folder; not served");
                }
            }
        }
        List<Long> selected = config.versionPolicy().select(present);
        List<ModelEntry> found = new ArrayList<>();
        for (long v : selected) {
            Path file = versions.get(v).resolve(config.modelFilename());
            if (Files.isDirectory(file)) {
                // an ONNX model with external data may be a folder holding model.onnx beside its weights
                file = file.resolve(TritonModelConfig.DEFAULT_MODEL_FILENAME);
            }
            if (!Files.isRegularFile(file)) {
                warnings.add(model + "/" + versions.get(v).getFileName() + ": no " + config.modelFilename() + "; version not served");
                continue;
            }
            found.add(new ModelEntry(model, versions.get(v).getFileName().toString(), file, dir, config, options, precision, List.of()));
        }
        if (found.isEmpty()) {
            skipped.add(model + ": version_policy " + describe(config.versionPolicy()) + " selects " + (selected.isEmpty() ? "none of" : "no model file in")
                    + " the versions present " + present.stream().sorted().toList() + "; skipped");
            return;
        }
        for (ModelEntry e : found) {
            models.add(new ModelEntry(e.name(), e.version(), e.modelFile(), e.modelDir(), e.config(), e.options(), e.precision(), warnings));
        }
    }

    /** The precision to serve at; see {@link ModelEntry#precision()}. */
    private static Precision precision(String model, TritonModelConfig config, HotpathModelOptions options, List<String> warnings) {
        Precision hint = config.precisionHint();
        if (options.precisionGiven()) {
            if (hint != null && hint != options.precision()) {
                warnings.add(model + ": config.pbtxt's TensorRT precision_mode asks for " + hint + "; hotpath.properties precision="
                        + options.precision().name().toLowerCase(java.util.Locale.ROOT) + " is used");
            }
            return options.precision();
        }
        if (hint == null) {
            return Precision.FP32;
        }
        if (options.calibration() != null) {
            return hint;
        }
        warnings.add(model + ": config.pbtxt's TensorRT precision_mode " + hint + " read but not acted on: it needs calibration=<file.npy> "
                + "in hotpath.properties; served at fp32");
        return Precision.FP32;
    }

    /** Warnings that need both files: an option the configuration makes moot, an instance kind the engine choice overrides. */
    private static void crossCheck(String model, TritonModelConfig config, HotpathModelOptions options, List<String> warnings) {
        String props = model + "/" + HotpathModelOptions.FILE_NAME;
        if (config.fromFile()) {
            if (config.maxBatchSize() == 0 && options.maxBatch().isPresent()) {
                warnings.add(props + ": batching.max_batch ignored: config.pbtxt's max_batch_size is 0 (the model does not batch)");
            }
            if (config.dynamicBatching() == null && options.maxQueueDelayMicros().isPresent()) {
                warnings.add(props + ": batching.max_queue_delay_us ignored: config.pbtxt has no dynamic_batching");
            }
            if (!config.responseCache() && options.fromFile() && options.cacheBytes() != HotpathModelOptions.DEFAULT_CACHE_BYTES) {
                warnings.add(props + ": cache.bytes ignored: config.pbtxt does not enable response_cache");
            }
        }
        String intra = config.parameters().get(TritonModelConfig.INTRA_OP_THREADS_PARAMETER);
        if (intra != null && ModelEntry.intraOpThreads(config) == null) {
            warnings.add(model + "/" + CONFIG_FILE + ": parameter " + TritonModelConfig.INTRA_OP_THREADS_PARAMETER + " "
                    + Pbtxt.quote(intra) + " is not a thread count in [0, 1024]; ignored");
        }
        for (InstanceGroup g : config.instanceGroups()) {
            String engine = options.engine().kind();
            if (g.kind() == Kind.KIND_GPU && (options.engine() == EngineKind.CPU || options.engine() == EngineKind.JVM)) {
                warnings.add(model + ": instance_group kind KIND_GPU read but not acted on: hotpath.properties engine=" + engine
                        + " runs the model on the CPU");
            } else if (g.kind() == Kind.KIND_GPU && options.engine() == EngineKind.BEST) {
                warnings.add(model + ": instance_group kind KIND_GPU: engine=best runs TensorRT when a GPU and its libraries are usable "
                        + "(or the JVM engine for a small model), else the CPU");
            } else if (g.kind() == Kind.KIND_CPU && options.engine() == EngineKind.TENSORRT) {
                warnings.add(model + ": instance_group kind KIND_CPU read but not acted on: hotpath.properties engine=tensorrt runs "
                        + "the model on the GPU");
            } else if (g.kind() == Kind.KIND_MODEL) {
                warnings.add(model + ": instance_group kind KIND_MODEL read but not acted on: hotpath.properties engine=" + engine
                        + " places the model");
            }
        }
    }

    private static String describe(TritonModelConfig.VersionPolicy p) {
        return switch (p) {
            case TritonModelConfig.VersionPolicy.Latest l -> "latest " + l.numVersions();
            case TritonModelConfig.VersionPolicy.All a -> "all";
            case TritonModelConfig.VersionPolicy.Specific s -> "specific " + s.versions();
        };
    }

    private static boolean isVersion(String name) {
        if (name.isEmpty() || name.length() > 18) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** A folder's entries sorted by name. */
    private static List<Path> list(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(out::add);
        } catch (IOException e) {
            throw HotpathException.invalidArgument("cannot list " + dir + ": " + Pbtxt.oneLine(String.valueOf(e.getMessage())));
        }
        out.sort(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        return out;
    }
}
