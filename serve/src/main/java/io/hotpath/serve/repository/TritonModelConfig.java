package io.hotpath.serve.repository;

import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import io.hotpath.embed.Precision;
import io.hotpath.serve.repository.Pbtxt.Position;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A model's Triton configuration ({@code config.pbtxt}), the part of Triton's
 * {@code ModelConfig} schema Hotpath reads, immutable. {@link #parse} maps the text-format tree:
 * a value of the wrong type, an unknown enum value or a value out of range is a
 * {@link HotpathException} naming {@code file:line:col}; a field the schema does not have, and a
 * field Hotpath reads but does not act on, is a one-line entry of {@link #warnings()} (what
 * Hotpath does instead included). {@link #absent} stands for a model folder without the file;
 * {@link #autocomplete} fills inputs, outputs and batching from the model itself, and
 * {@link #validateAgainst} checks the file's tensors against the model's.
 *
 * @param name the model's name ({@code ""} when the file does not say; the repository fills in the folder's)
 * @param platform {@code "onnxruntime_onnx"}, another platform, or {@code ""}
 * @param backend {@code "onnxruntime"}, another backend, or {@code ""}
 * @param maxBatchSize 0: the model does not batch and {@code dims} are the full shapes; &gt; 0:
 *        every input and output has a leading batch dimension up to this size, which {@code dims} leave out
 * @param maxBatchSizeGiven whether the file sets {@code max_batch_size} (autocomplete fills it only when not)
 * @param inputs the {@code input} entries, in order
 * @param outputs the {@code output} entries, in order
 * @param dynamicBatching the {@code dynamic_batching} settings, or null when the model has none
 * @param responseCache {@code response_cache { enable: true }}
 * @param instanceGroups the {@code instance_group} entries as written (none when absent)
 * @param optimization graph level and execution accelerators
 * @param versionPolicy which versions load (latest 1 when absent)
 * @param defaultModelFilename the model file's name in a version folder ({@code ""}: {@code model.onnx})
 * @param parameters {@code parameters} map, key to {@code string_value}
 * @param modelWarmupCount how many {@code model_warmup} entries the file has (read, not run)
 * @param unsupportedScheduler {@code "sequence_batching"} or {@code "ensemble_scheduling"} when the
 *        file asks for a scheduler Hotpath does not have (the repository skips the model), else null
 * @param fromFile false when there was no {@code config.pbtxt} ({@link #absent})
 * @param source the file's label in messages ({@code resnet/config.pbtxt})
 * @param warnings one line each, {@code file:line:col: what, and what Hotpath does}
 */
public record TritonModelConfig(
        String name,
        String platform,
        String backend,
        int maxBatchSize,
        boolean maxBatchSizeGiven,
        List<Tensor> inputs,
        List<Tensor> outputs,
        DynamicBatching dynamicBatching,
        boolean responseCache,
        List<InstanceGroup> instanceGroups,
        Optimization optimization,
        VersionPolicy versionPolicy,
        String defaultModelFilename,
        Map<String, String> parameters,
        int modelWarmupCount,
        String unsupportedScheduler,
        boolean fromFile,
        String source,
        List<String> warnings) {

    /** Triton's platform name for ONNX Runtime models. */
    public static final String ONNX_PLATFORM = "onnxruntime_onnx";
    /** Triton's backend name for ONNX Runtime. */
    public static final String ONNX_BACKEND = "onnxruntime";
    /** The model file's name when {@code default_model_filename} is not given. */
    public static final String DEFAULT_MODEL_FILENAME = "model.onnx";
    /** The {@code parameters} key Triton's ONNX Runtime backend reads as intra-op threads; Hotpath reads it too. */
    public static final String INTRA_OP_THREADS_PARAMETER = "intra_op_thread_count";

    public TritonModelConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(backend, "backend");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        instanceGroups = List.copyOf(instanceGroups);
        Objects.requireNonNull(optimization, "optimization");
        Objects.requireNonNull(versionPolicy, "versionPolicy");
        Objects.requireNonNull(defaultModelFilename, "defaultModelFilename");
        parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        Objects.requireNonNull(source, "source");
        warnings = List.copyOf(warnings);
    }

    // ---- the schema's parts -------------------------------------------------------------------

    /**
     * An {@code input} or {@code output} entry. {@code dims} use -1 for a variable dimension and
     * leave out the batch dimension when {@code max_batch_size > 0}.
     *
     * @param reshape the {@code reshape { shape }} the model sees instead of {@code dims}, or null when none
     * @param optional inputs only: the request may leave it out
     * @param isShapeTensor read for compatibility; ONNX models have no shape tensors
     * @param format inputs only: {@code FORMAT_NONE}, {@code FORMAT_NHWC} or {@code FORMAT_NCHW} (informational)
     * @param position where the entry is in the file, or null when autocompleted
     */
    public record Tensor(String name, TritonDataType dataType, List<Long> dims, List<Long> reshape, boolean optional,
            boolean isShapeTensor, String format, Position position) {
        public Tensor {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dataType, "dataType");
            dims = List.copyOf(dims);
            reshape = reshape == null ? null : List.copyOf(reshape);
            Objects.requireNonNull(format, "format");
        }

        /** The Hotpath element type. */
        public DType dtype() {
            return dataType.dtype();
        }

        /** The dims the model itself sees, batch dimension excluded: {@code reshape} when given, else {@code dims}. */
        public List<Long> modelDims() {
            return reshape != null ? reshape : dims;
        }
    }

    /** {@code default_queue_policy}'s {@code timeout_action}. */
    public enum TimeoutAction implements MessageReader.ProtoEnum {
        REJECT, DELAY;

        @Override
        public int number() {
            return ordinal();
        }
    }

    /**
     * {@code dynamic_batching.default_queue_policy}. Hotpath reads {@code max_queue_size} as the
     * queue bound (0: unbounded here, Hotpath's default applies) and
     * {@code default_timeout_microseconds} as the request timeout (0: none).
     */
    public record QueuePolicy(TimeoutAction timeoutAction, long defaultTimeoutMicros, boolean allowTimeoutOverride, int maxQueueSize) {
        public QueuePolicy {
            Objects.requireNonNull(timeoutAction, "timeoutAction");
        }
    }

    /**
     * {@code dynamic_batching}.
     *
     * @param preferredBatchSizes batch sizes that run without waiting longer (none: as written; Triton shows {@code [max_batch_size]})
     * @param maxQueueDelayMicros how long the oldest request waits for company
     * @param defaultQueuePolicy the queue policy, or null when not given
     */
    public record DynamicBatching(List<Integer> preferredBatchSizes, long maxQueueDelayMicros, boolean preserveOrdering,
            long priorityLevels, long defaultPriorityLevel, QueuePolicy defaultQueuePolicy) {
        /** {@code dynamic_batching { }}: every field at its default. */
        public static final DynamicBatching DEFAULTS = new DynamicBatching(List.of(), 0, false, 0, 0, null);

        public DynamicBatching {
            preferredBatchSizes = List.copyOf(preferredBatchSizes);
        }
    }

    /** {@code instance_group}'s {@code kind}. */
    public enum Kind implements MessageReader.ProtoEnum {
        KIND_AUTO, KIND_GPU, KIND_CPU, KIND_MODEL;

        @Override
        public int number() {
            return ordinal();
        }
    }

    /** An {@code instance_group} entry as written ({@code count} 0 when not given). */
    public record InstanceGroup(String name, Kind kind, int count, List<Integer> gpus) {
        public InstanceGroup {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(kind, "kind");
            gpus = List.copyOf(gpus);
        }
    }

    /** An execution accelerator: its name ({@code tensorrt}, {@code openvino}) and its string parameters. */
    public record Accelerator(String name, Map<String, String> parameters) {
        public Accelerator {
            Objects.requireNonNull(name, "name");
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        }
    }

    /**
     * {@code optimization}: the graph level (null when not given) and the execution accelerators.
     */
    public record Optimization(Integer graphLevel, List<Accelerator> gpuAccelerators, List<Accelerator> cpuAccelerators) {
        /** No {@code optimization} in the file. */
        public static final Optimization NONE = new Optimization(null, List.of(), List.of());

        public Optimization {
            gpuAccelerators = List.copyOf(gpuAccelerators);
            cpuAccelerators = List.copyOf(cpuAccelerators);
        }

        /**
         * The precision a TensorRT accelerator asks for with {@code precision_mode} {@code "FP16"} or
         * {@code "INT8"}, or null (none asked, or {@code "FP32"}).
         */
        public Precision precisionHint() {
            for (Accelerator a : gpuAccelerators) {
                if (a.name().equalsIgnoreCase("tensorrt")) {
                    String mode = a.parameters().get("precision_mode");
                    if (mode != null) {
                        switch (mode.toUpperCase(Locale.ROOT)) {
                            case "FP16" -> {
                                return Precision.FP16;
                            }
                            case "INT8" -> {
                                return Precision.INT8;
                            }
                            default -> {
                            }
                        }
                    }
                }
            }
            return null;
        }
    }

    /** {@code version_policy}: which of a model's numeric version folders load. */
    public sealed interface VersionPolicy {
        /** The versions to load out of those present, highest first. */
        List<Long> select(List<Long> present);

        /** The JSON form Triton's config endpoint gives. */
        Map<String, Object> toJson();

        /** {@code latest { num_versions: n }}: the n highest versions (the default, with n = 1). */
        record Latest(int numVersions) implements VersionPolicy {
            @Override
            public List<Long> select(List<Long> present) {
                return present.stream().sorted(java.util.Comparator.reverseOrder()).limit(numVersions).toList();
            }

            @Override
            public Map<String, Object> toJson() {
                return Map.of("latest", Map.of("num_versions", numVersions));
            }
        }

        /** {@code all { }}: every version. */
        record All() implements VersionPolicy {
            @Override
            public List<Long> select(List<Long> present) {
                return present.stream().sorted(java.util.Comparator.reverseOrder()).toList();
            }

            @Override
            public Map<String, Object> toJson() {
                return Map.of("all", Map.of());
            }
        }

        /** {@code specific { versions: [...] }}: the listed versions that are present. */
        record Specific(List<Long> versions) implements VersionPolicy {
            public Specific {
                versions = List.copyOf(versions);
            }

            @Override
            public List<Long> select(List<Long> present) {
                return present.stream().filter(versions::contains).sorted(java.util.Comparator.reverseOrder()).toList();
            }

            @Override
            public Map<String, Object> toJson() {
                return Map.of("specific", Map.of("versions", versions));
            }
        }

        /** Latest 1, Triton's default. */
        VersionPolicy DEFAULT = new Latest(1);
    }

    // ---- construction -------------------------------------------------------------------------

    /** The configuration of a model folder without {@code config.pbtxt}: everything at Triton's defaults, to be autocompleted. */
    public static TritonModelConfig absent(String modelName) {
        return new TritonModelConfig(modelName, "", "", 0, false, List.of(), List.of(), null, false, List.of(),
                Optimization.NONE, VersionPolicy.DEFAULT, "", Map.of(), 0, null, false, modelName + "/config.pbtxt (none)", List.of());
    }

    /**
     * Reads and maps a model folder's file (at most {@link Pbtxt#MAX_BYTES}); {@code label} names it
     * in messages. With {@code folderName} non-null the file's {@code name} must be that (an error at
     * its line and column otherwise) and is filled in when the file gives none.
     */
    public static TritonModelConfig parse(Path file, String label, String folderName) {
        return map(Pbtxt.parse(label, Pbtxt.readBounded(file, label)), label, folderName);
    }

    /** Maps text-format bytes; {@code source} names them in positions and messages. */
    public static TritonModelConfig parse(String source, byte[] bytes) {
        return map(Pbtxt.parse(source, bytes), source, null);
    }

    /** Maps text; {@code source} names it in positions and messages. */
    public static TritonModelConfig parse(String source, String text) {
        return map(Pbtxt.parse(source, text), source, null);
    }

    private static TritonModelConfig map(Pbtxt.Message root, String source, String folderName) {
        List<String> warnings = new ArrayList<>();
        MessageReader r = new MessageReader(root, "model_config", warnings);
        String name = r.string("name", "");
        if (folderName != null) {
            if (name.isEmpty()) {
                name = folderName;
            } else if (!name.equals(folderName)) {
                throw r.error(r.valueAt("name"), "name " + Pbtxt.quote(name) + " does not match the model's folder " + Pbtxt.quote(folderName)
                        + " (Triton requires them equal)");
            }
        }
        String platform = r.string("platform", "");
        String backend = r.string("backend", "");
        r.notActedOn("runtime", "Hotpath runs the model with its own engine (hotpath.properties engine=)");
        VersionPolicy policy = versionPolicy(r.message("version_policy"));
        int maxBatch = r.int32("max_batch_size", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (maxBatch < 0) {
            throw r.error(r.valueAt("max_batch_size"), "max_batch_size is " + maxBatch + "; it must be 0 (no batching) or a positive batch size");
        }
        boolean maxBatchGiven = r.has("max_batch_size");
        List<Tensor> inputs = tensors(r, "input", true, maxBatch);
        List<Tensor> outputs = tensors(r, "output", false, maxBatch);
        r.notActedOn("batch_input", "Hotpath passes the model only the requests' own inputs");
        r.notActedOn("batch_output", "Hotpath returns the model's outputs as they are");
        Optimization optimization = optimization(r.message("optimization"));
        DynamicBatching dynamic = dynamicBatching(r.message("dynamic_batching"), maxBatch);
        String unsupported = null;
        for (String scheduler : List.of("sequence_batching", "ensemble_scheduling")) {
            if (r.has(scheduler)) {
                unsupported = unsupported == null ? scheduler : unsupported;
            }
        }
        List<InstanceGroup> groups = instanceGroups(r);
        String defaultFile = r.string("default_model_filename", "");
        r.notActedOn("cc_model_filenames", "Hotpath loads default_model_filename (model.onnx) on every device");
        r.notActedOn("metric_tags", "metrics carry the model and version labels only");
        Map<String, String> parameters = r.map("parameters", (entry, field) -> {
            MessageReader v = entry.message(field);
            if (v == null) {
                return "";
            }
            String s = v.string("string_value", "");
            v.finish();
            return s;
        });
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            if (p.getKey().equals(INTRA_OP_THREADS_PARAMETER)) {
                continue;
            }
            r.warn(r.entryAt("parameters", p.getKey()), "parameter " + Pbtxt.quote(p.getKey()) + " read but not acted on: Hotpath reads only "
                    + INTRA_OP_THREADS_PARAMETER + " (as threads=, which hotpath.properties overrides)");
        }
        int warmups = 0;
        if (r.has("model_warmup")) {
            warmups = r.messages("model_warmup").size();
            r.warn(r.where("model_warmup"), "model_warmup (" + warmups + (warmups == 1 ? " entry" : " entries")
                    + ") read but not acted on: its entries are not run (hotpath serve warms models with zeros of its own: --warmup-requests)");
        }
        r.notActedOn("model_operations", "Hotpath loads the model with its own engine settings");
        r.notActedOn("model_transaction_policy", "Hotpath answers each request with exactly one response");
        r.notActedOn("model_repository_agents", "Hotpath reads the repository as it is on disk");
        boolean cache = false;
        MessageReader rc = r.message("response_cache");
        if (rc != null) {
            cache = rc.bool("enable", false);
            rc.finish();
        }
        r.finish();
        return new TritonModelConfig(name, platform, backend, maxBatch, maxBatchGiven, inputs, outputs, dynamic, cache, groups,
                optimization, policy, defaultFile, parameters, warmups, unsupported, true, source, warnings);
    }

    private static VersionPolicy versionPolicy(MessageReader m) {
        if (m == null) {
            return VersionPolicy.DEFAULT;
        }
        List<String> set = new ArrayList<>();
        VersionPolicy policy = VersionPolicy.DEFAULT;
        MessageReader latest = m.message("latest");
        if (latest != null) {
            set.add("latest");
            int n = latest.int32("num_versions", 0, 0, Integer.MAX_VALUE);
            if (n < 1) {
                throw latest.error(latest.valueAt("num_versions"), "version_policy latest needs num_versions >= 1, was " + n);
            }
            latest.finish();
            policy = new VersionPolicy.Latest(n);
        }
        MessageReader all = m.message("all");
        if (all != null) {
            set.add("all");
            all.finish();
            policy = new VersionPolicy.All();
        }
        MessageReader specific = m.message("specific");
        if (specific != null) {
            set.add("specific");
            List<Long> versions = specific.int64s("versions", 0, Long.MAX_VALUE);
            specific.finish();
            policy = new VersionPolicy.Specific(versions);
        }
        if (set.size() > 1) {
            throw m.error(m.position(), "version_policy sets " + String.join(" and ", set) + "; it takes one of latest, all, specific");
        }
        m.finish();
        return policy;
    }

    private static List<Tensor> tensors(MessageReader r, String field, boolean input, int maxBatch) {
        List<Tensor> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (MessageReader t : r.messages(field)) {
            String name = t.string("name", "");
            if (name.isEmpty()) {
                throw t.error(t.position(), field + " entry without a name");
            }
            if (!names.add(name)) {
                throw t.error(t.position(), field + " '" + name + "' is given twice");
            }
            TritonDataType type = t.enumValue("data_type", TritonDataType.class, null);
            if (type == null) {
                throw t.error(t.position(), field + " '" + name + "' has no data_type (for example data_type: TYPE_FP32)");
            }
            List<Long> dims = t.int64s("dims", Long.MIN_VALUE, Long.MAX_VALUE);
            if (dims.isEmpty()) {
                // Triton refuses empty dims too; a scalar is dims: [ 1 ] with reshape { shape: [ ] }
                throw t.error(t.where("dims"), field + " '" + name + "' has no dims (for example dims: [ -1, 128 ]; -1 for a variable "
                        + "size; a scalar is dims: [ 1 ] with reshape { shape: [ ] })");
            }
            checkDims(t, "dims", field, name, "dims", dims);
            List<Long> reshape = null;
            MessageReader rs = t.message("reshape");
            if (rs != null) {
                reshape = rs.int64s("shape", Long.MIN_VALUE, Long.MAX_VALUE);
                checkDims(rs, "shape", field, name, "reshape shape", reshape);
                if (reshape.isEmpty() && maxBatch == 0) {
                    throw rs.error(rs.position(), field + " '" + name + "' has an empty reshape but max_batch_size is 0: the tensor would hold no data");
                }
                rs.finish();
            }
            boolean shapeTensor = t.bool("is_shape_tensor", false);
            if (shapeTensor) {
                t.warn(t.where("is_shape_tensor"), field + " '" + name + "' is_shape_tensor read but not acted on: ONNX models have no shape "
                        + "tensors, it is passed as an ordinary tensor");
            }
            if (t.bool("is_non_linear_format_io", false)) {
                t.warn(t.where("is_non_linear_format_io"), field + " '" + name
                        + "' is_non_linear_format_io read but not acted on: the tensor is passed in its linear layout");
            }
            boolean optional = false;
            String format = "FORMAT_NONE";
            if (input) {
                optional = t.bool("optional", false);
                format = t.enumValue("format", Format.class, Format.FORMAT_NONE).name();
                if (t.bool("allow_ragged_batch", false)) {
                    t.warn(t.where("allow_ragged_batch"), "input '" + name
                            + "' allow_ragged_batch read but not acted on: requests are batched only when their shapes agree");
                }
            } else {
                t.notActedOn("label_filename", "the classification extension is not supported; outputs are returned as tensors");
            }
            t.finish();
            out.add(new Tensor(name, type, dims, reshape, optional, shapeTensor, format, t.position()));
        }
        return out;
    }

    /** {@code input}'s {@code format}; informational (Triton's ONNX Runtime backend does not act on it either). */
    private enum Format implements MessageReader.ProtoEnum {
        FORMAT_NONE, FORMAT_NHWC, FORMAT_NCHW;

        @Override
        public int number() {
            return ordinal();
        }
    }

    private static void checkDims(MessageReader t, String dimsField, String field, String name, String what, List<Long> dims) {
        for (int i = 0; i < dims.size(); i++) {
            long d = dims.get(i);
            if (d < 1 && d != Shape.DYNAMIC) {
                throw t.error(t.valueAt(dimsField, i), field + " '" + name + "' " + what + " " + dims
                        + ": a dimension must be >= 1, or -1 for a variable size");
            }
        }
        if (dims.size() > Shape.MAX_RANK) {
            throw t.error(t.where(dimsField), field + " '" + name + "' " + what + " has " + dims.size() + " dimensions, above Hotpath's "
                    + Shape.MAX_RANK);
        }
    }

    private static DynamicBatching dynamicBatching(MessageReader m, int maxBatch) {
        if (m == null) {
            return null;
        }
        List<Integer> preferred = m.int32s("preferred_batch_size", Integer.MIN_VALUE, Integer.MAX_VALUE);
        for (int i = 0; i < preferred.size(); i++) {
            int p = preferred.get(i);
            if (p <= 0 || p > maxBatch) {
                throw m.error(m.valueAt("preferred_batch_size", i), "preferred_batch_size " + p + " must be in [1, max_batch_size = " + maxBatch + "]");
            }
        }
        long delay = m.int64("max_queue_delay_microseconds", 0, 0, Long.MAX_VALUE);
        boolean preserve = m.bool("preserve_ordering", false);
        if (preserve) {
            m.warn(m.where("preserve_ordering"), "preserve_ordering read but not acted on: each response is sent when its batch completes");
        }
        long levels = m.int64("priority_levels", 0, 0, Long.MAX_VALUE);
        long defaultLevel = m.int64("default_priority_level", 0, 0, Long.MAX_VALUE);
        if (levels > 0) {
            if (defaultLevel < 1 || defaultLevel > levels) {
                throw m.error(m.valueAt("default_priority_level"), "default_priority_level " + defaultLevel + " must be in [1, priority_levels = "
                        + levels + "]");
            }
            m.warn(m.where("priority_levels"), "priority_levels " + levels
                    + " read but not acted on: every request waits in one queue, first come first served");
        }
        QueuePolicy policy = null;
        MessageReader q = m.message("default_queue_policy");
        if (q != null) {
            TimeoutAction action = q.enumValue("timeout_action", TimeoutAction.class, TimeoutAction.REJECT);
            long timeout = q.int64("default_timeout_microseconds", 0, 0, Long.MAX_VALUE);
            boolean override = q.bool("allow_timeout_override", false);
            int size = (int) q.int64("max_queue_size", 0, 0, Integer.MAX_VALUE);
            if (action == TimeoutAction.DELAY) {
                q.warn(q.where("timeout_action"), "timeout_action DELAY read but not acted on: a request past its timeout is answered "
                        + "with a timeout error (REJECT)");
            }
            q.finish();
            policy = new QueuePolicy(action, timeout, override, size);
        }
        m.notActedOn("priority_queue_policy", "every request follows default_queue_policy");
        m.finish();
        return new DynamicBatching(preferred, delay, preserve, levels, defaultLevel, policy);
    }

    private static List<InstanceGroup> instanceGroups(MessageReader r) {
        List<InstanceGroup> out = new ArrayList<>();
        for (MessageReader g : r.messages("instance_group")) {
            String name = g.string("name", "");
            Kind kind = g.enumValue("kind", Kind.class, Kind.KIND_AUTO);
            int count = g.int32("count", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
            if (count < 0) {
                throw g.error(g.valueAt("count"), "instance_group count is " + count + "; it must be >= 1 (0 or absent: 1)");
            }
            List<Integer> gpus = g.int32s("gpus", 0, Integer.MAX_VALUE);
            if (count > 1) {
                g.warn(g.where("count"), "instance_group count " + count + " read but not acted on: Hotpath serves a model with one engine "
                        + "behind one batcher; its intra-op threads (hotpath.properties threads=) are the parallelism");
            }
            if (!gpus.isEmpty()) {
                g.warn(g.where("gpus"), "instance_group gpus " + gpus + " read but not acted on: the engine uses the device it finds first");
            }
            for (String f : List.of("rate_limiter", "secondary_devices", "profile", "passive", "host_policy")) {
                g.notActedOn(f, "Hotpath places the model by its engine choice alone");
            }
            g.finish();
            out.add(new InstanceGroup(name, kind, count, gpus));
        }
        if (out.size() > 1) {
            r.warn(r.where("instance_group"), out.size() + " instance groups read but not acted on as such: Hotpath serves the model "
                    + "with one engine");
        }
        return out;
    }

    private static Optimization optimization(MessageReader m) {
        if (m == null) {
            return Optimization.NONE;
        }
        Integer level = null;
        MessageReader graph = m.message("graph");
        if (graph != null) {
            level = graph.int32("level", 0, Integer.MIN_VALUE, Integer.MAX_VALUE);
            graph.warn(graph.position(), "optimization graph level " + level
                    + " read but not acted on: the engine applies its own graph optimizations");
            graph.finish();
        }
        List<Accelerator> gpu = List.of();
        List<Accelerator> cpu = List.of();
        MessageReader acc = m.message("execution_accelerators");
        if (acc != null) {
            gpu = accelerators(acc, "gpu_execution_accelerator");
            cpu = accelerators(acc, "cpu_execution_accelerator");
            acc.finish();
        }
        for (String f : List.of("priority", "cuda", "input_pinned_memory", "output_pinned_memory", "gather_kernel_buffer_threshold",
                "eager_batching")) {
            m.notActedOn(f, "Hotpath's engines manage their own memory and streams");
        }
        m.finish();
        return new Optimization(level, gpu, cpu);
    }

    private static List<Accelerator> accelerators(MessageReader m, String field) {
        List<Accelerator> out = new ArrayList<>();
        for (MessageReader a : m.messages(field)) {
            String name = a.string("name", "");
            Map<String, String> params = a.map("parameters", (entry, f) -> entry.string(f, ""));
            boolean tensorrt = name.equalsIgnoreCase("tensorrt") && field.startsWith("gpu");
            if (!tensorrt) {
                a.warn(a.position(), field + " " + Pbtxt.quote(name) + " read but not acted on: hotpath.properties engine= chooses "
                        + "the engine (best: TensorRT when usable, else the CPU)");
            } else {
                for (Map.Entry<String, String> p : params.entrySet()) {
                    if (p.getKey().equals("precision_mode")) {
                        String mode = p.getValue().toUpperCase(Locale.ROOT);
                        if (!mode.equals("FP32") && !mode.equals("FP16") && !mode.equals("INT8")) {
                            throw a.error(a.entryAt("parameters", p.getKey()), "tensorrt precision_mode " + Pbtxt.quote(p.getValue())
                                    + " is not FP32, FP16 or INT8");
                        }
                    } else {
                        a.warn(a.entryAt("parameters", p.getKey()), "tensorrt parameter " + Pbtxt.quote(p.getKey())
                                + " read but not acted on: Hotpath's TensorRT engine uses its own settings");
                    }
                }
            }
            a.finish();
            out.add(new Accelerator(name, params));
        }
        return out;
    }

    // ---- derived views ------------------------------------------------------------------------

    /** The name of the model file in a version folder: {@code default_model_filename}, else {@code model.onnx}. */
    public String modelFilename() {
        return defaultModelFilename.isEmpty() ? DEFAULT_MODEL_FILENAME : defaultModelFilename;
    }

    /** The precision a TensorRT accelerator asks for, or null; see {@link Optimization#precisionHint()}. */
    public Precision precisionHint() {
        return optimization.precisionHint();
    }

    /**
     * Why Hotpath cannot serve this model from its platform and backend, or null when it can: the
     * platform must be {@code onnxruntime_onnx} or empty, the backend {@code onnxruntime} or empty.
     */
    public String unsupportedPlatform() {
        if (!platform.isEmpty() && !platform.equals(ONNX_PLATFORM)) {
            return "platform '" + platform + "' (Hotpath serves " + ONNX_PLATFORM + ")";
        }
        if (!backend.isEmpty() && !backend.equals(ONNX_BACKEND)) {
            return "backend '" + backend + "' (Hotpath serves " + ONNX_BACKEND + ")";
        }
        return null;
    }

    /** This configuration with another name (the repository fills the folder's name into a file that gives none). */
    public TritonModelConfig withName(String newName) {
        return new TritonModelConfig(newName, platform, backend, maxBatchSize, maxBatchSizeGiven, inputs, outputs, dynamicBatching,
                responseCache, instanceGroups, optimization, versionPolicy, defaultModelFilename, parameters, modelWarmupCount,
                unsupportedScheduler, fromFile, source, warnings);
    }

    // ---- the model's own tensors ----------------------------------------------------------------

    /**
     * This configuration completed from the model's own tensors, as Triton's ONNX Runtime backend
     * does: inputs (outputs) are filled from the model when the configuration lists none; when the
     * file does not set {@code max_batch_size}, it becomes {@code engineMaxBatch} if every input and
     * output has a dynamic first dimension (the batch) and {@code engineMaxBatch > 0}, else 0, and
     * a model that batches this way gets {@code dynamic_batching} with its defaults unless the file
     * has a scheduler. A tensor whose shape is left empty (a scalar, or a batched vector) is written
     * as Triton does: {@code dims: [1]} with {@code reshape { shape: [] }}. An 8-bit float tensor,
     * which Triton has no type for, is UNSUPPORTED.
     */
    public TritonModelConfig autocomplete(List<TensorSpec> modelInputs, List<TensorSpec> modelOutputs, int engineMaxBatch) {
        int batch = maxBatchSize;
        DynamicBatching dynamic = dynamicBatching;
        if (!maxBatchSizeGiven) {
            boolean batchable = engineMaxBatch > 0 && !(modelInputs.isEmpty() && modelOutputs.isEmpty());
            for (List<TensorSpec> specs : List.of(modelInputs, modelOutputs)) {
                for (TensorSpec t : specs) {
                    batchable &= t.shape().rank() >= 1 && t.shape().isDynamic(0);
                }
            }
            batch = batchable ? engineMaxBatch : 0;
            if (batch > 0 && dynamic == null && unsupportedScheduler == null) {
                dynamic = DynamicBatching.DEFAULTS;
            }
        }
        List<Tensor> in = inputs.isEmpty() ? fromModel(modelInputs, "input", batch > 0) : inputs;
        List<Tensor> out = outputs.isEmpty() ? fromModel(modelOutputs, "output", batch > 0) : outputs;
        boolean onnx = unsupportedPlatform() == null;
        return new TritonModelConfig(name, onnx ? ONNX_PLATFORM : platform, onnx ? ONNX_BACKEND : backend, batch,
                maxBatchSizeGiven, in, out, dynamic, responseCache, instanceGroups, optimization, versionPolicy, defaultModelFilename,
                parameters, modelWarmupCount, unsupportedScheduler, fromFile, source, warnings);
    }

    private static List<Tensor> fromModel(List<TensorSpec> specs, String kind, boolean batched) {
        List<Tensor> out = new ArrayList<>();
        for (TensorSpec t : specs) {
            TritonDataType type = TritonDataType.of(t.dtype());
            if (type == null) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "the model's " + kind + " '" + t.name() + "' has element type "
                        + t.dtype() + ", which a Triton model configuration cannot express");
            }
            long[] shape = t.shape().toArray();
            int from = batched && shape.length > 0 ? 1 : 0;
            List<Long> dims = new ArrayList<>();
            for (int i = from; i < shape.length; i++) {
                dims.add(shape[i]);
            }
            List<Long> reshape = null;
            if (dims.isEmpty()) {
                dims.add(1L);
                reshape = List.of();
            }
            out.add(new Tensor(t.name(), type, dims, reshape, false, false, "FORMAT_NONE", null));
        }
        return out;
    }

    /**
     * Checks this configuration's inputs and outputs against the model's: every configured tensor
     * must be one of the model's, with the same element type and a shape the model accepts (with
     * {@code max_batch_size > 0} the model's first dimension must be a variable batch dimension and
     * {@code dims}, or {@code reshape} when given, match the rest; a fixed model dimension must not
     * be configured -1); every model input must be configured. The model's outputs the
     * configuration leaves out are allowed (they are not returned). Returns one line per mismatch,
     * empty when none.
     */
    public List<String> validateAgainst(List<TensorSpec> modelInputs, List<TensorSpec> modelOutputs) {
        List<String> errors = new ArrayList<>();
        check(errors, "input", inputs, modelInputs);
        check(errors, "output", outputs, modelOutputs);
        Set<String> configured = new HashSet<>();
        inputs.forEach(t -> configured.add(t.name()));
        for (TensorSpec m : modelInputs) {
            if (!configured.contains(m.name())) {
                errors.add(source + ": the model's input '" + m.name() + "' (" + m.dtype() + m.shape() + ") is missing from the configuration");
            }
        }
        return errors;
    }

    private void check(List<String> errors, String kind, List<Tensor> configured, List<TensorSpec> model) {
        Map<String, TensorSpec> byName = new LinkedHashMap<>();
        model.forEach(t -> byName.put(t.name(), t));
        for (Tensor c : configured) {
            String at = (c.position() != null ? c.position().toString() : source) + ": " + kind + " '" + c.name() + "': ";
            TensorSpec m = byName.get(c.name());
            if (m == null) {
                errors.add(at + "the model has no " + kind + " of that name (its " + kind + "s: " + String.join(", ", byName.keySet()) + ")");
                continue;
            }
            if (c.dtype() != m.dtype()) {
                errors.add(at + "data_type " + c.dataType() + " (" + c.dtype() + ") but the model's is " + m.dtype());
            }
            Shape s = m.shape();
            int from = 0;
            if (maxBatchSize > 0) {
                if (s.rank() == 0 || !s.isDynamic(0)) {
                    errors.add(at + "max_batch_size is " + maxBatchSize + " but the model's shape " + s
                            + " has no variable first (batch) dimension; set max_batch_size: 0 and give the full shape in dims");
                    continue;
                }
                from = 1;
            }
            List<Long> dims = c.modelDims();
            String full = (maxBatchSize > 0 ? "[-1" + (dims.isEmpty() ? "" : ",") : "[") + join(dims) + "]";
            if (s.rank() - from != dims.size()) {
                errors.add(at + (c.reshape() != null ? "reshape " : "dims ") + "give the shape " + full + " but the model's is " + s);
                continue;
            }
            for (int i = 0; i < dims.size(); i++) {
                long want = dims.get(i);
                if (s.isDynamic(from + i)) {
                    continue;
                }
                if (want != s.dim(from + i)) {
                    errors.add(at + (c.reshape() != null ? "reshape " : "dims ") + "give the shape " + full + " but the model's is " + s
                            + " (dimension " + (from + i) + (want == Shape.DYNAMIC ? " is fixed in the model" : " differs") + ")");
                    break;
                }
            }
        }
    }

    private static String join(List<Long> dims) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < dims.size(); i++) {
            b.append(i == 0 ? "" : ",").append(dims.get(i));
        }
        return b.toString();
    }

    // ---- JSON -----------------------------------------------------------------------------------

    /**
     * The configuration as Triton's {@code GET /v2/models/{model}/config} returns it: protobuf's
     * JSON mapping with the proto's snake_case field names, every scalar and list field printed
     * even at its default, absent messages left out, and (as Triton does) the 64-bit integers
     * ({@code dims}, {@code reshape.shape}, {@code versions}, the microsecond fields,
     * {@code priority_levels}) as JSON numbers, not the strings protobuf would print. Triton's
     * normalizations are applied: platform and backend for ONNX Runtime, version_policy latest 1,
     * default_model_filename {@code model.onnx}, one CPU instance group named after the model when
     * none is given (unnamed groups {@code <model>_<i>}, count 0 as 1),
     * {@code preferred_batch_size [max_batch_size]} when dynamic batching gives none, pinned memory
     * on. {@code model_warmup} entries are not reproduced (an empty list when the file has none).
     * Values are String, Integer, Long, Boolean, List and Map (insertion-ordered).
     */
    public Map<String, Object> toJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", name);
        boolean onnx = unsupportedPlatform() == null;
        j.put("platform", platform.isEmpty() && onnx ? ONNX_PLATFORM : platform);
        j.put("backend", backend.isEmpty() && onnx ? ONNX_BACKEND : backend);
        j.put("runtime", "");
        j.put("version_policy", versionPolicy.toJson());
        j.put("max_batch_size", maxBatchSize);
        j.put("input", inputs.stream().map(t -> tensorJson(t, true)).toList());
        j.put("output", outputs.stream().map(t -> tensorJson(t, false)).toList());
        j.put("batch_input", List.of());
        j.put("batch_output", List.of());
        j.put("optimization", optimizationJson());
        if (dynamicBatching != null) {
            j.put("dynamic_batching", dynamicJson(dynamicBatching));
        }
        j.put("instance_group", groupsJson());
        j.put("default_model_filename", modelFilename());
        j.put("cc_model_filenames", Map.of());
        j.put("metric_tags", Map.of());
        Map<String, Object> params = new LinkedHashMap<>();
        parameters.forEach((k, v) -> params.put(k, Map.of("string_value", v)));
        j.put("parameters", params);
        if (modelWarmupCount == 0) {
            j.put("model_warmup", List.of());
        }
        if (responseCache) {
            j.put("response_cache", Map.of("enable", true));
        }
        return j;
    }

    private static Map<String, Object> tensorJson(Tensor t, boolean input) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", t.name());
        j.put("data_type", t.dataType().name());
        if (input) {
            j.put("format", t.format());
        }
        j.put("dims", t.dims());
        if (t.reshape() != null) {
            j.put("reshape", Map.of("shape", t.reshape()));
        }
        if (!input) {
            j.put("label_filename", "");
        }
        j.put("is_shape_tensor", t.isShapeTensor());
        if (input) {
            j.put("allow_ragged_batch", false);
            j.put("optional", t.optional());
        }
        j.put("is_non_linear_format_io", false);
        return j;
    }

    private Map<String, Object> optimizationJson() {
        Map<String, Object> j = new LinkedHashMap<>();
        if (optimization.graphLevel() != null) {
            j.put("graph", Map.of("level", optimization.graphLevel()));
        }
        j.put("priority", "PRIORITY_DEFAULT");
        if (!optimization.gpuAccelerators().isEmpty() || !optimization.cpuAccelerators().isEmpty()) {
            Map<String, Object> acc = new LinkedHashMap<>();
            acc.put("gpu_execution_accelerator", optimization.gpuAccelerators().stream().map(TritonModelConfig::acceleratorJson).toList());
            acc.put("cpu_execution_accelerator", optimization.cpuAccelerators().stream().map(TritonModelConfig::acceleratorJson).toList());
            j.put("execution_accelerators", acc);
        }
        j.put("input_pinned_memory", Map.of("enable", true));
        j.put("output_pinned_memory", Map.of("enable", true));
        j.put("gather_kernel_buffer_threshold", 0);
        j.put("eager_batching", false);
        return j;
    }

    private static Map<String, Object> acceleratorJson(Accelerator a) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", a.name());
        j.put("parameters", a.parameters());
        return j;
    }

    private Map<String, Object> dynamicJson(DynamicBatching d) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("preferred_batch_size", d.preferredBatchSizes().isEmpty() && maxBatchSize > 0 ? List.of(maxBatchSize) : d.preferredBatchSizes());
        j.put("max_queue_delay_microseconds", d.maxQueueDelayMicros());
        j.put("preserve_ordering", d.preserveOrdering());
        j.put("priority_levels", d.priorityLevels());
        j.put("default_priority_level", d.defaultPriorityLevel());
        if (d.defaultQueuePolicy() != null) {
            QueuePolicy q = d.defaultQueuePolicy();
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("timeout_action", q.timeoutAction().name());
            p.put("default_timeout_microseconds", q.defaultTimeoutMicros());
            p.put("allow_timeout_override", q.allowTimeoutOverride());
            p.put("max_queue_size", q.maxQueueSize());
            j.put("default_queue_policy", p);
        }
        j.put("priority_queue_policy", Map.of());
        return j;
    }

    private List<Map<String, Object>> groupsJson() {
        List<InstanceGroup> groups = instanceGroups.isEmpty() ? List.of(new InstanceGroup(name, Kind.KIND_CPU, 1, List.of())) : instanceGroups;
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            InstanceGroup g = groups.get(i);
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("name", g.name().isEmpty() ? name + "_" + i : g.name());
            j.put("kind", g.kind() == Kind.KIND_AUTO ? (g.gpus().isEmpty() ? Kind.KIND_CPU.name() : Kind.KIND_GPU.name()) : g.kind().name());
            j.put("count", Math.max(1, g.count()));
            j.put("gpus", g.gpus());
            j.put("secondary_devices", List.of());
            j.put("profile", List.of());
            j.put("passive", false);
            j.put("host_policy", "");
            out.add(j);
        }
        return out;
    }
}
