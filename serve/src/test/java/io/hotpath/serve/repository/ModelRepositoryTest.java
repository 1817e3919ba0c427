package io.hotpath.serve.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.embed.Precision;
import io.hotpath.serve.repository.HotpathModelOptions.EngineKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
    @TempDir
    Path repo;

    /** A model folder with the given version folders, each holding a (dummy) model.onnx: scan does not open models. */
    private Path model(String name, String config, String... versions) throws Exception {
        Path dir = Files.createDirectories(repo.resolve(name));
        if (config != null) {
            Files.writeString(dir.resolve("config.pbtxt"), config);
        }
        for (String v : versions) {
            Files.write(Files.createDirectories(dir.resolve(v)).resolve("model.onnx"), new byte[] {8, 1});
        }
        return dir;
    }

    private static List<String> versions(ModelRepository r, String model) {
        return r.models().stream().filter(e -> e.name().equals(model)).map(ModelEntry::version).toList();
    }

    @Test
    void latestVersionByDefaultAndConfigOptional() throws Exception {
        model("plain", null, "1", "2", "10");
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(1, r.models().size());
        ModelEntry e = r.models().get(0);
        assertEquals("plain", e.name());
        assertEquals("10", e.version(), "numeric order, not lexical");
        assertEquals(repo.resolve("plain/10/model.onnx"), e.modelFile());
        assertEquals(repo.resolve("plain"), e.modelDir());
        assertFalse(e.configFromFile(), "no config.pbtxt: to be autocompleted");
        assertEquals("plain", e.config().name());
        assertEquals(Precision.FP32, e.precision());
        assertEquals(List.of(), e.warnings());
        assertEquals(List.of(), r.skipped());
    }

    @Test
    void versionPoliciesChooseTheVersions() throws Exception {
        model("two", "version_policy: { latest: { num_versions: 2 } }", "1", "2", "3");
        model("every", "version_policy: { all: { } }", "1", "7");
        model("pinned", "version_policy { specific { versions: [ 1, 5 ] } }", "1", "2");
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(List.of("7", "1"), versions(r, "every"));
        assertEquals(List.of("1"), versions(r, "pinned"));
        assertEquals(List.of("3", "2"), versions(r, "two"));
        assertEquals(List.of("every", "every", "pinned", "two", "two"), r.models().stream().map(ModelEntry::name).toList(), "by folder name");
        ModelEntry pinned = r.models().get(2);
        assertEquals(List.of("pinned: version 5 named by version_policy has no folder; not served"), pinned.warnings());
    }

    @Test
    void aModelHotpathCannotServeIsSkippedAndTheRestServed() throws Exception {
        model("ok", "platform: \"onnxruntime_onnx\"", "1");
        model("plan", "name: \"plan\"\nplatform: \"tensorrt_plan\"", "1");
        model("py", "backend: \"python\"", "1");
        model("seq", "sequence_batching { }", "1");
        model("noversions", null);
        model("nofile", "default_model_filename: \"net.onnx\"", "1");
        model("gone", "version_policy { specific { versions: [ 4 ] } }", "1");
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(List.of("ok"), r.models().stream().map(ModelEntry::name).toList());
        assertEquals(List.of(
                "gone: version_policy specific [4] selects none of the versions present [1]; skipped",
                "nofile: version_policy latest 1 selects no model file in the versions present [1]; skipped",
                "noversions: no numeric version folder (expected noversions/1/model.onnx); skipped",
                "plan: platform 'tensorrt_plan' (Hotpath serves onnxruntime_onnx); skipped",
                "py: backend 'python' (Hotpath serves onnxruntime); skipped",
                "seq: sequence_batching is not supported by hotpath serve; skipped"), r.skipped());
    }

    @Test
    void nameMustMatchTheFolder() throws Exception {
        model("resnet", "\nname:  \"resnet50\"\n", "1");
        HotpathException e = assertThrows(HotpathException.class, () -> ModelRepository.scan(repo));
        assertEquals("INVALID_ARGUMENT: resnet/config.pbtxt:2:8: name \"resnet50\" does not match the model's folder \"resnet\" (Triton requires them equal)",
                e.getMessage());
    }

    @Test
    void malformedConfigFailsTheScanWithItsPosition() throws Exception {
        model("a", "max_batch_size: 4", "1");
        model("b", "max_batch_size: \"many\"", "1");
        HotpathException e = assertThrows(HotpathException.class, () -> ModelRepository.scan(repo));
        assertEquals("INVALID_ARGUMENT: b/config.pbtxt:1:17: 'max_batch_size' in model_config takes an integer, not the string \"many\"", e.getMessage());
    }

    @Test
    void emptyOrMissingRepositoryIsAClearError() throws Exception {
        HotpathException missing = assertThrows(HotpathException.class, () -> ModelRepository.scan(repo.resolve("nope")));
        assertEquals(HotpathException.Category.NOT_FOUND, missing.category());
        assertEquals("NOT_FOUND: model repository " + repo.resolve("nope") + " does not exist", missing.getMessage());
        Files.createDirectories(repo.resolve(".git"));
        Files.writeString(repo.resolve("README.md"), "models");
        HotpathException empty = assertThrows(HotpathException.class, () -> ModelRepository.scan(repo));
        assertTrue(empty.getMessage().startsWith("INVALID_ARGUMENT: model repository " + repo + " has no model folder (expected "), empty.getMessage());
        HotpathException file = assertThrows(HotpathException.class, () -> ModelRepository.scan(repo.resolve("README.md")));
        assertTrue(file.getMessage().endsWith("README.md is not a directory"), file.getMessage());
    }

    @Test
    void dotFoldersIgnoredOddFoldersReported() throws Exception {
        Path m = model("m", null, "1", "002");
        Files.createDirectories(m.resolve("latest"));
        Files.createDirectories(m.resolve(".ipynb_checkpoints"));
        Files.createDirectories(repo.resolve(".cache/1"));
        Files.writeString(repo.resolve("notes.txt"), "x");
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(List.of("002"), versions(r, "m"), "the version folder's own name");
        assertEquals(List.of("m/latest: not a numeric version folder; ignored"), r.models().get(0).warnings());
        assertEquals(List.of(repo + ": 'notes.txt' is a file, not a model folder; ignored"), r.warnings());
    }

    @Test
    void modelFileNamedByConfigOrAFolderHoldingModelOnnx() throws Exception {
        Path a = model("custom", "default_model_filename: \"net.onnx\"");
        Files.write(Files.createDirectories(a.resolve("1")).resolve("net.onnx"), new byte[] {1});
        Path b = model("external", null);
        Files.write(Files.createDirectories(b.resolve("3/model.onnx")).resolve("model.onnx"), new byte[] {1});
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(repo.resolve("custom/1/net.onnx"), r.models().get(0).modelFile());
        assertEquals(repo.resolve("external/3/model.onnx/model.onnx"), r.models().get(1).modelFile());
    }

    @Test
    void realisticModelWithOptionsResolvesItsServingSettings() throws Exception {
        Path dir = model("classifier", ConfigFixtures.CLASSIFIER, "1", "2", "3");
        Files.write(dir.resolve("calib.npy"), new byte[] {1});
        Files.writeString(dir.resolve("hotpath.properties"), "engine=cpu\ncalibration=calib.npy\ncache.bytes=16m\nbatching.max_queue_delay_us=50\n");
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(List.of("3", "2"), versions(r, "classifier"));
        ModelEntry e = r.models().get(0);
        assertTrue(e.configFromFile());
        assertEquals(EngineKind.CPU, e.options().engine());
        assertEquals(Precision.FP16, e.precision(), "the TensorRT precision_mode hint, calibration given");
        assertEquals(32, e.maxBatchSize());
        assertTrue(e.dynamicBatching());
        assertEquals(50, e.maxQueueDelayMicros(), "hotpath.properties overrides config.pbtxt");
        assertEquals(256, e.queueCapacity(), "max_queue_size");
        assertEquals(50, e.requestTimeoutMs(), "50,000 us");
        assertEquals(16L << 20, e.cacheBytes(), "response_cache enabled, cache.bytes its budget");
        assertEquals(4, e.threads(), "intra_op_thread_count");
        assertTrue(e.warnings().containsAll(e.config().warnings()));
        assertTrue(e.warnings().contains("classifier: instance_group kind KIND_GPU read but not acted on: hotpath.properties engine=cpu runs "
                + "the model on the CPU"), e.warnings().toString());
    }

    @Test
    void precisionHintWithoutCalibrationServesFp32AndSaysSo() throws Exception {
        String trt = "max_batch_size: 8\noptimization { execution_accelerators { gpu_execution_accelerator [ { name: \"tensorrt\" "
                + "parameters { key: \"precision_mode\" value: \"INT8\" } } ] } }";
        model("m", trt, "1");
        ModelEntry e = ModelRepository.scan(repo).models().get(0);
        assertEquals(Precision.FP32, e.precision());
        assertEquals(List.of("m: config.pbtxt's TensorRT precision_mode INT8 read but not acted on: it needs calibration=<file.npy> in "
                + "hotpath.properties; served at fp32"), e.warnings());
        assertEquals(8, e.maxBatchSize());
        assertFalse(e.dynamicBatching(), "no dynamic_batching in the file");
        assertEquals(0, e.maxQueueDelayMicros());
        assertEquals(0, e.queueCapacity(), "the server's default");
        assertEquals(0, e.requestTimeoutMs());
        assertEquals(0, e.cacheBytes(), "response_cache not enabled");
        assertEquals(0, e.threads());
    }

    @Test
    void optionsMootUnderTheConfigAreWarnings() throws Exception {
        Path dir = model("m", "max_batch_size: 0\nparameters { key: \"intra_op_thread_count\" value: { string_value: \"lots\" } }", "1");
        Files.writeString(dir.resolve("hotpath.properties"), "batching.max_batch=16\nbatching.max_queue_delay_us=100\ncache.bytes=1m\n");
        ModelEntry e = ModelRepository.scan(repo).models().get(0);
        assertEquals(0, e.maxBatchSize());
        assertEquals(0, e.threads());
        assertEquals(List.of(
                "m/hotpath.properties: batching.max_batch ignored: config.pbtxt's max_batch_size is 0 (the model does not batch)",
                "m/hotpath.properties: batching.max_queue_delay_us ignored: config.pbtxt has no dynamic_batching",
                "m/hotpath.properties: cache.bytes ignored: config.pbtxt does not enable response_cache",
                "m/config.pbtxt: parameter intra_op_thread_count \"lots\" is not a thread count in [0, 1024]; ignored"), e.warnings());
    }

    @Test
    void badOptionsFailTheScan() throws Exception {
        Path dir = model("m", null, "1");
        Files.writeString(dir.resolve("hotpath.properties"), "precision=int8\n");
        HotpathException e = assertThrows(HotpathException.class, () -> ModelRepository.scan(repo));
        assertTrue(e.getMessage().startsWith("INVALID_ARGUMENT: m/hotpath.properties: precision=int8 needs calibration="), e.getMessage());
    }

    @Test
    void autocompletedEntryKeepsItsOptions() throws Exception {
        Path dir = model("m", null, "1");
        Files.writeString(dir.resolve("hotpath.properties"), "batching.max_batch=4\n");
        ModelEntry e = ModelRepository.scan(repo).models().get(0);
        assertEquals(0, e.maxBatchSize(), "not batched until autocompleted");
        ModelEntry done = e.withConfig(e.config().autocomplete(
                List.of(new io.hotpath.core.TensorSpec("x", io.hotpath.core.DType.FLOAT32, io.hotpath.core.Shape.of(-1, 4))),
                List.of(new io.hotpath.core.TensorSpec("y", io.hotpath.core.DType.FLOAT32, io.hotpath.core.Shape.of(-1))), 32));
        assertEquals(32, done.config().maxBatchSize());
        assertEquals(4, done.maxBatchSize(), "batching.max_batch overrides the autocompleted 32");
        assertTrue(done.dynamicBatching());
        assertFalse(done.configFromFile());
    }

    /** The example of docs/serve-repository.md, and what the page says it does. */
    @Test
    void theDocumentedExample() throws Exception {
        Path dir = model("classifier", """
                name: "classifier"
                platform: "onnxruntime_onnx"
                max_batch_size: 32
                input [
                  { name: "input_ids"      data_type: TYPE_INT64 dims: [ -1 ] },
                  { name: "attention_mask" data_type: TYPE_INT64 dims: [ -1 ] }
                ]
                output [ { name: "logits" data_type: TYPE_FP32 dims: [ 3 ] } ]
                dynamic_batching {
                  preferred_batch_size: [ 8, 16 ]
                  max_queue_delay_microseconds: 200
                  default_queue_policy { max_queue_size: 256 default_timeout_microseconds: 50000 }
                }
                response_cache { enable: true }
                instance_group [ { count: 1 kind: KIND_GPU } ]
                optimization { execution_accelerators { gpu_execution_accelerator [ {
                  name: "tensorrt"
                  parameters { key: "precision_mode" value: "FP16" }
                } ] } }
                """, "1", "2");
        Files.write(dir.resolve("calib.npy"), new byte[] {1});
        Files.writeString(dir.resolve("hotpath.properties"), """
                # TensorRT where usable, else the CPU; FP16 as the config asks, checked on these samples
                engine=best
                calibration=calib.npy
                accuracy.cosine=0.99
                cache.bytes=128m
                batching.max_queue_delay_us=100
                """);
        ModelRepository r = ModelRepository.scan(repo);
        assertEquals(List.of("2"), versions(r, "classifier"));
        ModelEntry e = r.models().get(0);
        assertEquals(Precision.FP16, e.precision());
        assertEquals(io.hotpath.embed.Budget.cosineAtLeast(0.99), e.options().budget());
        assertEquals(32, e.maxBatchSize());
        assertEquals(100, e.maxQueueDelayMicros());
        assertEquals(256, e.queueCapacity());
        assertEquals(50, e.requestTimeoutMs());
        assertEquals(128L << 20, e.cacheBytes());
        assertEquals(List.of("classifier: instance_group kind KIND_GPU: engine=best runs TensorRT when a GPU and its libraries are usable "
                + "(or the JVM engine for a small model), else the CPU"), e.warnings());
    }
}
