package io.hotpath.serve.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import io.hotpath.embed.Precision;
import io.hotpath.serve.repository.TritonModelConfig.DynamicBatching;
import io.hotpath.serve.repository.TritonModelConfig.InstanceGroup;
import io.hotpath.serve.repository.TritonModelConfig.Kind;
import io.hotpath.serve.repository.TritonModelConfig.QueuePolicy;
import io.hotpath.serve.repository.TritonModelConfig.Tensor;
import io.hotpath.serve.repository.TritonModelConfig.TimeoutAction;
import io.hotpath.serve.repository.TritonModelConfig.VersionPolicy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TritonModelConfigTest {
    private static final String SRC = "classifier/config.pbtxt";

    private static TritonModelConfig parse(String text) {
        return TritonModelConfig.parse(SRC, text);
    }

    private static String error(String text) {
        HotpathException e = assertThrows(HotpathException.class, () -> parse(text));
        assertEquals(HotpathException.Category.INVALID_ARGUMENT, e.category());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private static void assertErrorContains(String text, String fragment) {
        String message = error(text);
        assertTrue(message.contains(fragment), message);
    }

    private static TensorSpec spec(String name, DType t, long... dims) {
        return new TensorSpec(name, t, Shape.of(dims));
    }

    @Test
    void realisticOnnxConfigMapsEveryField() {
        TritonModelConfig c = parse(ConfigFixtures.CLASSIFIER);
        assertEquals("classifier", c.name());
        assertEquals("onnxruntime_onnx", c.platform());
        assertEquals("", c.backend());
        assertNull(c.unsupportedPlatform());
        assertEquals(32, c.maxBatchSize());
        assertTrue(c.maxBatchSizeGiven());
        assertEquals(new VersionPolicy.Latest(2), c.versionPolicy());
        assertEquals(2, c.inputs().size());
        Tensor ids = c.inputs().get(0);
        assertEquals("input_ids", ids.name());
        assertEquals(TritonDataType.TYPE_INT64, ids.dataType());
        assertEquals(DType.INT64, ids.dtype());
        assertEquals(List.of(-1L), ids.dims());
        assertNull(ids.reshape());
        assertFalse(ids.optional());
        assertEquals("FORMAT_NONE", ids.format());
        assertEquals("classifier/config.pbtxt:8:3", ids.position().toString());
        assertTrue(c.inputs().get(1).optional());
        Tensor logits = c.outputs().get(0);
        assertEquals("logits", logits.name());
        assertEquals(DType.FLOAT32, logits.dtype());
        assertEquals(List.of(3L), logits.dims());
        assertEquals(new DynamicBatching(List.of(8, 16), 200, false, 0, 0, new QueuePolicy(TimeoutAction.REJECT, 50_000, true, 256)),
                c.dynamicBatching());
        assertTrue(c.responseCache());
        assertEquals(List.of(new InstanceGroup("", Kind.KIND_GPU, 1, List.of(0)), new InstanceGroup("cpu_fallback", Kind.KIND_CPU, 2, List.of())),
                c.instanceGroups());
        assertEquals(1, c.optimization().graphLevel());
        assertEquals(1, c.optimization().gpuAccelerators().size());
        assertEquals("tensorrt", c.optimization().gpuAccelerators().get(0).name());
        assertEquals(Map.of("precision_mode", "FP16", "max_workspace_size_bytes", "1073741824"),
                c.optimization().gpuAccelerators().get(0).parameters());
        assertEquals(Precision.FP16, c.precisionHint());
        assertEquals(Map.of("intra_op_thread_count", "4", "cudnn_conv_algo_search", "HEURISTIC"), c.parameters());
        assertEquals(1, c.modelWarmupCount());
        assertEquals("model.onnx", c.modelFilename());
        assertNull(c.unsupportedScheduler());
        assertTrue(c.fromFile());
        assertEquals(List.of(
                "classifier/config.pbtxt:47:10: optimization graph level 1 read but not acted on: the engine applies its own graph optimizations",
                "classifier/config.pbtxt:52:18: tensorrt parameter \"max_workspace_size_bytes\" read but not acted on: Hotpath's TensorRT "
                        + "engine uses its own settings",
                "classifier/config.pbtxt:42:31: instance_group gpus [0] read but not acted on: the engine uses the device it finds first",
                "classifier/config.pbtxt:43:26: instance_group count 2 read but not acted on: Hotpath serves a model with one engine behind "
                        + "one batcher; its intra-op threads (hotpath.properties threads=) are the parallelism",
                "classifier/config.pbtxt:41:1: 2 instance groups read but not acted on as such: Hotpath serves the model with one engine",
                "classifier/config.pbtxt:58:13: parameter \"cudnn_conv_algo_search\" read but not acted on: Hotpath reads only "
                        + "intra_op_thread_count (as threads=, which hotpath.properties overrides)",
                "classifier/config.pbtxt:60:1: model_warmup (1 entry) read but not acted on: its entries are not run (hotpath serve warms models with zeros of its own: --warmup-requests)"),
                c.warnings());
    }

    @Test
    void unknownFieldsAreWarningsWithTheirPosition() {
        TritonModelConfig c = parse("name: \"m\"\nfoo: 3\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] colour: \"red\" } ]\n"
                + "dynamic_batching { max_queue_delay_microseconds: 100 bogus { a: 1 } }\n");
        assertEquals(List.of(
                "classifier/config.pbtxt:3:54: unknown field 'colour' in model_config.input[0], ignored",
                "classifier/config.pbtxt:4:54: unknown field 'bogus' in model_config.dynamic_batching, ignored",
                "classifier/config.pbtxt:2:1: unknown field 'foo' in model_config, ignored"), c.warnings());
        assertEquals(100, c.dynamicBatching().maxQueueDelayMicros());
    }

    @Test
    void knownFieldsHotpathDoesNotActOnAreWarningsSayingWhatItDoesInstead() {
        TritonModelConfig c = parse("""
                name: "m"
                max_batch_size: 4
                dynamic_batching { priority_levels: 3 default_priority_level: 2 preserve_ordering: true
                  default_queue_policy { timeout_action: DELAY } }
                metric_tags { key: "team" value: "search" }
                output [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] label_filename: "labels.txt" } ]
                """);
        List<String> w = c.warnings();
        assertEquals(5, w.size(), w.toString());
        assertTrue(w.contains("classifier/config.pbtxt:6:55: 'label_filename' in model_config.output[0] read but not acted on: the "
                + "classification extension is not supported; outputs are returned as tensors"), w.toString());
        assertTrue(w.contains("classifier/config.pbtxt:3:65: preserve_ordering read but not acted on: each response is sent when its "
                + "batch completes"), w.toString());
        assertTrue(w.contains("classifier/config.pbtxt:3:20: priority_levels 3 read but not acted on: every request waits in one queue, "
                + "first come first served"), w.toString());
        assertTrue(w.contains("classifier/config.pbtxt:4:26: timeout_action DELAY read but not acted on: a request past its timeout is "
                + "answered with a timeout error (REJECT)"), w.toString());
        assertTrue(w.contains("classifier/config.pbtxt:5:1: 'metric_tags' in model_config read but not acted on: metrics carry the model "
                + "and version labels only"), w.toString());
        assertEquals(TimeoutAction.DELAY, c.dynamicBatching().defaultQueuePolicy().timeoutAction());
        assertEquals(3, c.dynamicBatching().priorityLevels());
    }

    @Test
    void wrongTypesAreErrorsWithLineAndColumn() {
        assertEquals("INVALID_ARGUMENT: classifier/config.pbtxt:2:17: 'max_batch_size' in model_config takes an integer, not the string \"8\"",
                error("name: \"m\"\nmax_batch_size: \"8\"\n"));
        assertEquals("INVALID_ARGUMENT: classifier/config.pbtxt:1:7: 'name' in model_config takes a quoted string, not m",
                error("name: m"));
        assertEquals("INVALID_ARGUMENT: classifier/config.pbtxt:1:17: max_batch_size is -1; it must be 0 (no batching) or a positive batch size",
                error("max_batch_size: -1"));
        assertErrorContains("input [ { name: \"x\" data_type: TYPE_FLOAT32 dims: [1] } ]",
                "INVALID_ARGUMENT: classifier/config.pbtxt:1:32: 'data_type' in model_config.input[0] is 'TYPE_FLOAT32', not one of TYPE_BOOL");
        assertErrorContains("instance_group [ { kind: KIND_TPU } ]", "1:26: 'kind' in model_config.instance_group[0] is 'KIND_TPU'");
        assertErrorContains("max_batch_size: 1.5", "1:17: 'max_batch_size' in model_config takes an integer, not the number 1.5");
        assertErrorContains("max_batch_size: 4294967296", "is 4294967296, outside [-2147483648, 2147483647]");
        assertErrorContains("max_batch_size: 99999999999999999999999999999999999999", "outside");
        assertErrorContains("response_cache { enable: yes }", "1:26: 'enable' in model_config.response_cache takes true or false, not 'yes'");
        assertErrorContains("response_cache: true", "'response_cache' in model_config takes a message { ... }, not the value true");
        assertErrorContains("name: { a: 1 }", "1:7: 'name' in model_config takes a value, not a message");
        assertErrorContains("name: \"a\"\nname: \"b\"", "2:7: field 'name' of model_config takes one value but is given 2 (first at 1:7)");
        assertErrorContains("input [ { data_type: TYPE_FP32 dims: [1] } ]", "1:9: input entry without a name");
        assertErrorContains("input [ { name: \"x\" dims: [1] } ]", "input 'x' has no data_type");
        assertErrorContains("input [ { name: \"x\" data_type: TYPE_FP32 } ]", "input 'x' has no dims");
        assertErrorContains("input [ { name: \"x\" data_type: TYPE_FP32 dims: [ ] } ]", "1:42: input 'x' has no dims");
        assertErrorContains("input [ { name: \"x\" data_type: TYPE_FP32 dims: [0] } ]", "1:49: input 'x' dims [0]: a dimension must be >= 1, or -1 for a variable size");
        assertErrorContains("output [ { name: \"y\" data_type: TYPE_FP32 dims: [1] }, { name: \"y\" data_type: TYPE_FP32 dims: [1] } ]", "output 'y' is given twice");
        assertErrorContains("input [ { name: \"x\" data_type: TYPE_FP32 dims: [1] reshape { shape: [] } } ]", "empty reshape but max_batch_size is 0");
        assertErrorContains("max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 8 ] }", "2:44: preferred_batch_size 8 must be in [1, max_batch_size = 4]");
        assertErrorContains("version_policy { latest { num_versions: 0 } }", "num_versions >= 1");
        assertErrorContains("version_policy { latest { num_versions: 1 } all { } }", "version_policy sets latest and all");
        assertErrorContains("version_policy { specific { versions: [ -2 ] } }", "'versions' in model_config.version_policy.specific is -2");
        assertErrorContains("instance_group [ { count: -1 } ]", "instance_group count is -1");
        assertErrorContains("optimization { execution_accelerators { gpu_execution_accelerator [ { name: \"tensorrt\" "
                + "parameters { key: \"precision_mode\" value: \"FP8\" } } ] } }", "tensorrt precision_mode \"FP8\" is not FP32, FP16 or INT8");
        assertErrorContains("dynamic_batching { priority_levels: 2 default_priority_level: 3 }", "default_priority_level 3 must be in [1, priority_levels = 2]");
        assertErrorContains("parameters { key: \"k\" value: \"v\" }", "'value' in model_config.parameters[0] takes a message { ... }");
    }

    @Test
    void enumsAndBooleansInEveryFormTextFormatAllows() {
        TritonModelConfig c = parse("""
                input [ { name: "a" data_type: 11 dims: [ 2 ] optional: True } ]
                output [ { name: "b" data_type: TYPE_BF16 dims: 2, dims: 0x3 } ]
                instance_group { kind: 2 }
                response_cache < enable: 1 >
                version_policy: { specific { versions: 3 versions: [ 1 ] } }
                """);
        assertEquals(TritonDataType.TYPE_FP32, c.inputs().get(0).dataType());
        assertTrue(c.inputs().get(0).optional());
        assertEquals(List.of(2L, 3L), c.outputs().get(0).dims());
        assertEquals(DType.BFLOAT16, c.outputs().get(0).dtype());
        assertEquals(Kind.KIND_CPU, c.instanceGroups().get(0).kind());
        assertTrue(c.responseCache());
        assertEquals(new VersionPolicy.Specific(List.of(3L, 1L)), c.versionPolicy());
        assertEquals(List.of(3L, 1L), c.versionPolicy().select(List.of(1L, 2L, 3L)));
        assertEquals(List.of(), c.warnings());
    }

    @Test
    void versionPolicies() {
        List<Long> present = List.of(1L, 10L, 2L);
        assertEquals(List.of(10L), VersionPolicy.DEFAULT.select(present));
        assertEquals(List.of(10L, 2L), new VersionPolicy.Latest(2).select(present));
        assertEquals(List.of(10L, 2L, 1L), new VersionPolicy.All().select(present));
        assertEquals(List.of(2L), new VersionPolicy.Specific(List.of(2L, 7L)).select(present));
        assertEquals(new VersionPolicy.All(), parse("version_policy: { all: {} }").versionPolicy());
        assertEquals(VersionPolicy.DEFAULT, parse("version_policy { }").versionPolicy());
    }

    @Test
    void schedulersAndPlatformsHotpathDoesNotServe() {
        assertEquals("sequence_batching", parse("sequence_batching { max_sequence_idle_microseconds: 5000000 }").unsupportedScheduler());
        assertEquals("ensemble_scheduling", parse("platform: \"ensemble\" ensemble_scheduling { step [ ] }").unsupportedScheduler());
        assertEquals("platform 'tensorrt_plan' (Hotpath serves onnxruntime_onnx)", parse("platform: \"tensorrt_plan\"").unsupportedPlatform());
        assertEquals("backend 'python' (Hotpath serves onnxruntime)", parse("backend: \"python\"").unsupportedPlatform());
        assertNull(parse("backend: \"onnxruntime\"").unsupportedPlatform());
        assertNull(parse("").unsupportedPlatform());
        assertEquals(List.of(), parse("").warnings());
    }

    @Test
    void precisionHintComesOnlyFromATensorRtAccelerator() {
        String int8 = "optimization { execution_accelerators { gpu_execution_accelerator [ { name: \"tensorrt\" "
                + "parameters { key: \"precision_mode\" value: \"int8\" } } ] } }";
        assertEquals(Precision.INT8, parse(int8).precisionHint());
        String fp32 = int8.replace("int8", "FP32");
        assertNull(parse(fp32).precisionHint());
        TritonModelConfig openvino = parse("optimization { execution_accelerators { cpu_execution_accelerator : [ { name : \"openvino\" } ] } }");
        assertNull(openvino.precisionHint());
        assertEquals(1, openvino.warnings().size());
        assertTrue(openvino.warnings().get(0).contains("cpu_execution_accelerator \"openvino\" read but not acted on: hotpath.properties engine= "
                + "chooses the engine"), openvino.warnings().toString());
    }

    @Test
    void jsonIsWhatTritonsConfigEndpointReturns() {
        Map<String, Object> j = parse(ConfigFixtures.CLASSIFIER).toJson();
        assertEquals(List.of("name", "platform", "backend", "runtime", "version_policy", "max_batch_size", "input", "output", "batch_input",
                "batch_output", "optimization", "dynamic_batching", "instance_group", "default_model_filename", "cc_model_filenames", "metric_tags",
                "parameters", "response_cache"), List.copyOf(j.keySet()));
        assertEquals("classifier", j.get("name"));
        assertEquals("onnxruntime", j.get("backend"), "autocompleted");
        assertEquals(Map.of("latest", Map.of("num_versions", 2)), j.get("version_policy"));
        assertEquals(32, j.get("max_batch_size"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> inputs = (List<Map<String, Object>>) j.get("input");
        Map<String, Object> ids = inputs.get(0);
        assertEquals(List.of("name", "data_type", "format", "dims", "is_shape_tensor", "allow_ragged_batch", "optional", "is_non_linear_format_io"),
                List.copyOf(ids.keySet()));
        assertEquals("TYPE_INT64", ids.get("data_type"));
        assertEquals(List.of(-1L), ids.get("dims"), "dims are JSON numbers, as Triton prints them, not protobuf's int64 strings");
        assertEquals(true, inputs.get(1).get("optional"));
        @SuppressWarnings("unchecked")
        Map<String, Object> logits = ((List<Map<String, Object>>) j.get("output")).get(0);
        assertEquals("", logits.get("label_filename"));
        @SuppressWarnings("unchecked")
        Map<String, Object> db = (Map<String, Object>) j.get("dynamic_batching");
        assertEquals(List.of(8, 16), db.get("preferred_batch_size"));
        assertEquals(200L, db.get("max_queue_delay_microseconds"));
        assertEquals(Map.of("timeout_action", "REJECT", "default_timeout_microseconds", 50_000L, "allow_timeout_override", true, "max_queue_size", 256),
                db.get("default_queue_policy"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> groups = (List<Map<String, Object>>) j.get("instance_group");
        assertEquals("classifier_0", groups.get(0).get("name"), "an unnamed group is named <model>_<index>, as Triton does");
        assertEquals("KIND_GPU", groups.get(0).get("kind"));
        assertEquals(List.of(0), groups.get(0).get("gpus"));
        assertEquals("cpu_fallback", groups.get(1).get("name"));
        assertEquals(2, groups.get(1).get("count"));
        @SuppressWarnings("unchecked")
        Map<String, Object> opt = (Map<String, Object>) j.get("optimization");
        assertEquals(Map.of("level", 1), opt.get("graph"));
        assertEquals(Map.of("enable", true), opt.get("input_pinned_memory"));
        @SuppressWarnings("unchecked")
        Map<String, Object> acc = (Map<String, Object>) opt.get("execution_accelerators");
        assertEquals(List.of(Map.of("name", "tensorrt", "parameters", Map.of("precision_mode", "FP16", "max_workspace_size_bytes", "1073741824"))),
                acc.get("gpu_execution_accelerator"));
        assertEquals(Map.of("intra_op_thread_count", Map.of("string_value", "4"), "cudnn_conv_algo_search", Map.of("string_value", "HEURISTIC")),
                j.get("parameters"));
        assertEquals("model.onnx", j.get("default_model_filename"));
        assertEquals(Map.of("enable", true), j.get("response_cache"));
        assertFalse(j.containsKey("model_warmup"), "warm-up entries are not reproduced");
    }

    @Test
    void autocompleteFillsABatchedModelFromItsTensors() {
        List<TensorSpec> in = List.of(spec("input_ids", DType.INT64, -1, -1), spec("attention_mask", DType.INT64, -1, -1));
        List<TensorSpec> out = List.of(spec("logits", DType.FLOAT32, -1, 3), spec("score", DType.FLOAT32, -1));
        TritonModelConfig absent = TritonModelConfig.absent("classifier");
        assertFalse(absent.fromFile());
        TritonModelConfig c = absent.autocomplete(in, out, 32);
        assertEquals(32, c.maxBatchSize());
        assertFalse(c.maxBatchSizeGiven());
        assertEquals("onnxruntime_onnx", c.platform());
        assertEquals("onnxruntime", c.backend());
        assertSame(DynamicBatching.DEFAULTS, c.dynamicBatching(), "a model that batches gets dynamic batching, as Triton's ONNX backend does");
        assertEquals(List.of(new Tensor("input_ids", TritonDataType.TYPE_INT64, List.of(-1L), null, false, false, "FORMAT_NONE", null),
                new Tensor("attention_mask", TritonDataType.TYPE_INT64, List.of(-1L), null, false, false, "FORMAT_NONE", null)), c.inputs());
        assertEquals(List.of(3L), c.outputs().get(0).dims());
        Tensor score = c.outputs().get(1);
        assertEquals(List.of(1L), score.dims(), "a batched vector: dims [1] with an empty reshape, as Triton writes it");
        assertEquals(List.of(), score.reshape());
        assertEquals(List.of(), c.validateAgainst(in, out));
        Map<String, Object> j = c.toJson();
        @SuppressWarnings("unchecked")
        Map<String, Object> db = (Map<String, Object>) j.get("dynamic_batching");
        assertEquals(List.of(32), db.get("preferred_batch_size"), "Triton shows [max_batch_size] when none is given");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> groups = (List<Map<String, Object>>) j.get("instance_group");
        assertEquals(List.of(Map.of("name", "classifier", "kind", "KIND_CPU", "count", 1, "gpus", List.of(), "secondary_devices", List.of(),
                "profile", List.of(), "passive", false, "host_policy", "")), groups);
        assertEquals(List.of(), j.get("model_warmup"));
        assertEquals(Map.of("shape", List.of()), ((List<?>) j.get("output")).stream().map(o -> ((Map<?, ?>) o).get("reshape")).toList().get(1));
    }

    @Test
    void autocompleteLeavesAModelWithoutABatchDimensionUnbatched() {
        List<TensorSpec> in = List.of(spec("x", DType.FLOAT32, 1, 4));
        List<TensorSpec> out = List.of(spec("y", DType.FLOAT32, 1), new TensorSpec("s", DType.FLOAT64, Shape.of()));
        TritonModelConfig c = TritonModelConfig.absent("m").autocomplete(in, out, 32);
        assertEquals(0, c.maxBatchSize());
        assertNull(c.dynamicBatching());
        assertEquals(List.of(1L, 4L), c.inputs().get(0).dims());
        assertEquals(List.of(1L), c.outputs().get(1).dims(), "a scalar: dims [1] reshape []");
        assertEquals(List.of(), c.outputs().get(1).reshape());
        assertEquals(List.of(), c.validateAgainst(in, out));
        assertEquals(0, TritonModelConfig.absent("m").autocomplete(List.of(spec("x", DType.FLOAT32, -1, 4)), List.of(), 0).maxBatchSize(),
                "engineMaxBatch 0: no batching");
    }

    @Test
    void autocompleteKeepsWhatTheFileSays() {
        TritonModelConfig file = parse("max_batch_size: 0\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ -1, 2 ] } ]");
        TritonModelConfig c = file.autocomplete(List.of(spec("x", DType.FLOAT32, -1, 4)), List.of(spec("y", DType.FLOAT32, -1, 2), spec("z", DType.INT64, -1)), 8);
        assertEquals(0, c.maxBatchSize(), "the file's max_batch_size: 0 stands");
        assertNull(c.dynamicBatching());
        assertEquals(List.of(-1L, 4L), c.inputs().get(0).dims(), "inputs filled, full shape");
        assertEquals(1, c.outputs().size(), "the file's outputs are kept: a subset of the model's");
        HotpathException e = assertThrows(HotpathException.class, () -> TritonModelConfig.absent("m")
                .autocomplete(List.of(spec("x", DType.FLOAT8E4M3FN, -1)), List.of(), 8));
        assertEquals(HotpathException.Category.UNSUPPORTED, e.category());
        assertTrue(e.getMessage().contains("the model's input 'x' has element type float8e4m3fn"), e.getMessage());
    }

    @Test
    void validateAgainstReportsEveryMismatchOnOneLine() {
        TritonModelConfig c = parse("""
                max_batch_size: 8
                input [
                  { name: "ids" data_type: TYPE_INT32 dims: [ -1 ] },
                  { name: "extra" data_type: TYPE_FP32 dims: [ 4 ] }
                ]
                output [
                  { name: "logits" data_type: TYPE_FP32 dims: [ -1 ] },
                  { name: "pooled" data_type: TYPE_FP32 dims: [ 2, 384 ] },
                  { name: "probs" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ ] } }
                ]
                """);
        List<TensorSpec> in = List.of(spec("ids", DType.INT64, -1, -1), spec("mask", DType.INT64, -1, -1));
        List<TensorSpec> out = List.of(spec("logits", DType.FLOAT32, -1, 3), spec("pooled", DType.FLOAT32, -1, 384), spec("probs", DType.FLOAT32, -1));
        assertEquals(List.of(
                "classifier/config.pbtxt:3:3: input 'ids': data_type TYPE_INT32 (int32) but the model's is int64",
                "classifier/config.pbtxt:4:3: input 'extra': the model has no input of that name (its inputs: ids, mask)",
                "classifier/config.pbtxt:7:3: output 'logits': dims give the shape [-1,-1] but the model's is [?,3] (dimension 1 is fixed in the model)",
                "classifier/config.pbtxt:8:3: output 'pooled': dims give the shape [-1,2,384] but the model's is [?,384]",
                "classifier/config.pbtxt: the model's input 'mask' (int64[?,?]) is missing from the configuration"),
                c.validateAgainst(in, out));
        TritonModelConfig fixedBatch = parse("max_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 3 ] } ]");
        List<String> errors = fixedBatch.validateAgainst(List.of(spec("x", DType.FLOAT32, 1, 3)), List.of());
        assertEquals(List.of("classifier/config.pbtxt:2:9: input 'x': max_batch_size is 4 but the model's shape [1,3] has no variable first (batch) "
                + "dimension; set max_batch_size: 0 and give the full shape in dims"), errors);
    }
}
