package io.hotpath.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.core.HotpathException;
import io.hotpath.engine.cpu.CpuEngineProvider;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.engine.tensorrt.TensorRtEngineProvider;
import io.hotpath.models.ModelCatalog;
import io.hotpath.optimizer.Optimizer;
import io.hotpath.service.EngineChoice;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.service.ServiceReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HotpathServiceTest {
    @TempDir
    Path cacheDir;

    static List<float[]> rows(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] row = new float[64];
            for (int k = 0; k < 64; k++) {
                row[k] = (float) r.nextGaussian();
            }
            out.add(row);
        }
        return out;
    }

    /** The service's answer for one row of 64 features. */
    static float score(InferenceService svc, float[] x) {
        Request r = svc.newRequest();
        for (int i = 0; i < 64; i++) {
            r.input("features").putFloat(i, x[i]);
        }
        assertEquals(BatchStatus.OK, svc.infer(r));
        return r.output("score").getFloat(0);
    }

    static float direct(Path model, float[] x) {
        try (OrtCpuEngine e = OrtCpuEngine.open(model)) {
            Batch b = e.newBatch();
            b.input("features").reshape(1, 64);
            for (int i = 0; i < 64; i++) {
                b.input("features").putFloat(i, x[i]);
            }
            e.run(b);
            return b.output("score").getFloat(0);
        }
    }

    long entries() throws Exception {
        try (Stream<Path> s = Files.list(cacheDir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve(OptimizedModelCache.CHOICE))).count();
        }
    }

    @Test
    void fp32OnTheCpuRunsTheModelAsGivenAndSaysWhy() {
        Path mlp = ModelCatalog.resolve("mlp");
        float[] x = rows(1, 7).get(0);
        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).batching(b -> b.maxBatchSize(16).maxQueueDelayMicros(50))
                .cache(c -> c.budgetBytes(1L << 20)).optimizedModelCache(cacheDir).build()) {
            ServiceReport rep = svc.report();
            assertEquals("fp32", rep.precision());
            assertEquals("original", rep.variant());
            assertEquals(mlp, rep.modelFile());
            assertTrue(rep.engineReason().contains("ONNX Runtime on the CPU") && rep.engineReason().contains("asked for"), rep.engineReason());
            assertEquals(16, svc.engine().maxBatchSize(), "the batching's largest batch sizes the engine");
            assertTrue(svc.cache() != null);
            assertEquals(direct(mlp, x), score(svc, x));
            assertEquals(direct(mlp, x), score(svc, x), "the cached answer is the engine's");
        }
    }

    @Test
    void int8IsOptimizedOnceThenServedFromTheCacheByContent() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        Optimizer.Data cal = new Optimizer.Rows(rows(96, 1));
        Budget budget = Budget.cosineAtLeast(0.99).maxAbsErrorAtMost(0.05);
        float[] x = rows(1, 11).get(0);
        float first;
        ServiceReport a;
        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).precision(Precision.INT8, cal).accuracyBudget(budget)
                .timingRounds(1).optimizedModelCache(cacheDir).build()) {
            a = svc.report();
            first = score(svc, x);
        }
        assertFalse(a.fromCache());
        assertTrue(List.of("fp32", "int8").contains(a.precision()), a.toString());
        assertTrue(a.reason().contains("int8-minmax") && a.reason().contains("fp32"), "every variant is named with its timing: " + a.reason());
        if (!a.variant().equals("original") && !a.variant().startsWith("fp32")) {
            assertTrue(Files.isRegularFile(a.modelFile()) && a.modelFile().startsWith(cacheDir), a.modelFile().toString());
        }
        assertTrue(Math.abs(first - direct(mlp, x)) <= 0.05, "within the budget's max_abs_err: " + first + " vs " + direct(mlp, x));
        assertEquals(1, entries());

        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).precision(Precision.INT8, new Optimizer.Rows(rows(96, 1)))
                .accuracyBudget(budget).optimizedModelCache(cacheDir).build()) {
            ServiceReport b = svc.report();
            assertTrue(b.fromCache(), "same model, data and budget: no optimizer run");
            assertEquals(a.variant(), b.variant());
            assertEquals(a.precision(), b.precision());
            assertEquals(a.accuracy(), b.accuracy());
            assertEquals(Float.floatToRawIntBits(first), Float.floatToRawIntBits(score(svc, x)), "the same model file answers the same");
        }
        assertEquals(1, entries());

        // other calibration data is another key
        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).precision(Precision.INT8, new Optimizer.Rows(rows(96, 2)))
                .accuracyBudget(budget).timingRounds(1).optimizedModelCache(cacheDir).build()) {
            assertFalse(svc.report().fromCache());
        }
        assertEquals(2, entries());
    }

    @Test
    void anUnreadableCacheEntryIsRewrittenNotTrusted() throws Exception {
        Path mlp = ModelCatalog.resolve("mlp");
        Optimizer.Data cal = new Optimizer.Rows(rows(32, 3));
        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).precision(Precision.FP16, cal).timingRounds(1)
                .optimizedModelCache(cacheDir).build()) {
            assertFalse(svc.report().fromCache());
        }
        Path entry;
        try (Stream<Path> s = Files.list(cacheDir)) {
            entry = s.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        Files.writeString(entry.resolve(OptimizedModelCache.CHOICE), "format=0\n");
        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).precision(Precision.FP16, cal).timingRounds(1)
                .optimizedModelCache(cacheDir).build()) {
            assertFalse(svc.report().fromCache(), "a foreign format is not trusted");
        }
        try (InferenceService svc = Hotpath.service(mlp).engine(EngineChoice.CPU).precision(Precision.FP16, cal)
                .optimizedModelCache(cacheDir).build()) {
            assertTrue(svc.report().fromCache(), "and the rewritten entry is found again");
        }
    }

    /**
     * The optimizer times its variants on ONNX Runtime; where INT8 wins there (CPUs with VNNI) the
     * JVM engine, which runs no Q/DQ model, must get the fastest variant it does run, on every CPU.
     */
    @Test
    void int8AskedOfTheJvmEngineGivesTheFastestVariantItRuns() {
        Path mlp = ModelCatalog.resolve("mlp");
        Budget budget = Budget.cosineAtLeast(0.99).maxAbsErrorAtMost(0.05);
        float[] x = rows(1, 21).get(0);
        ServiceReport a;
        try (InferenceService svc = Hotpath.service(mlp).precision(Precision.INT8, new Optimizer.Rows(rows(96, 3))).accuracyBudget(budget)
                .timingRounds(1).optimizedModelCache(cacheDir).build()) {
            a = svc.report();
            assertEquals("jvm", svc.engine().name(), a.toString());
            assertEquals("fp32", a.precision(), a.toString());
            assertTrue(Math.abs(score(svc, x) - direct(mlp, x)) <= 0.05, a.toString());
        }
        System.out.println("HotpathServiceTest: INT8 asked of the JVM engine: " + a.variant() + ": " + a.reason());
        try (InferenceService svc = Hotpath.service(mlp).precision(Precision.INT8, new Optimizer.Rows(rows(96, 3))).accuracyBudget(budget)
                .optimizedModelCache(cacheDir).build()) {
            assertTrue(svc.report().fromCache(), svc.report().toString());
            assertEquals(a.variant(), svc.report().variant());
            assertEquals("jvm", svc.engine().name());
        }
    }

    @Test
    void bestChoosesTheJvmEngineForASmallModelAndListsEveryEngineConsidered() {
        Path mlp = ModelCatalog.resolve("mlp");
        float[] x = rows(1, 5).get(0);
        try (InferenceService svc = Hotpath.service(mlp).optimizedModelCache(cacheDir).build()) {
            ServiceReport r = svc.report();
            assertEquals(List.of("jvm", "tensorrt", "cpu"), r.considered().stream().map(s -> s.substring(0, s.indexOf(':'))).toList(),
                    "most preferred first: " + r.considered());
            assertEquals("jvm", svc.engine().name(), r.toString());
            assertTrue(r.engineReason().contains("under the small-model threshold"), r.engineReason());
            assertEquals(direct(mlp, x), score(svc, x), 1e-5f, "the JVM engine agrees with ONNX Runtime");
        }
        Path cnn = ModelCatalog.resolve("cnn");
        try (InferenceService svc = Hotpath.service(cnn).optimizedModelCache(cacheDir).build()) {
            ServiceReport r = svc.report();
            assertTrue(r.considered().get(0).startsWith("jvm: not usable, the JVM engine does not compile node 'Conv_0' (Conv)"), r.considered().get(0));
            boolean trtUsable = r.considered().get(1).startsWith("tensorrt: usable");
            assertEquals(trtUsable ? "tensorrt" : "onnxruntime-cpu", svc.engine().name().startsWith("tensorrt") ? "tensorrt" : svc.engine().name());
        }
    }

    @Test
    void engineChoiceRule() {
        Path mlp = ModelCatalog.resolve("mlp");
        CpuEngineProvider cpu = new CpuEngineProvider();
        TensorRtEngineProvider trt = new TensorRtEngineProvider();
        EngineChoice.Selection best = EngineChoice.BEST.select(mlp, List.of(cpu, trt));
        boolean trtUsable = trt.availability(mlp).usable();
        assertEquals(trtUsable ? "tensorrt" : "cpu", best.provider().kind());
        assertEquals(List.of("tensorrt", "cpu"), best.considered().stream().map(s -> s.substring(0, s.indexOf(':'))).toList());
        if (!trtUsable) {
            HotpathException e = assertThrows(HotpathException.class, () -> EngineChoice.TENSORRT.select(mlp, List.of(cpu, trt)));
            assertEquals(HotpathException.Category.UNSUPPORTED, e.category());
            assertTrue(e.getMessage().contains("engine tensorrt was asked for but is not usable here: "), e.getMessage());
        }
        HotpathException missing = assertThrows(HotpathException.class, () -> EngineChoice.TENSORRT.select(mlp, List.of(cpu)));
        assertTrue(missing.getMessage().contains("not on the class path") && missing.getMessage().contains("hotpath-engine-tensorrt"),
                missing.getMessage());
        HotpathException none = assertThrows(HotpathException.class, () -> EngineChoice.BEST.select(mlp, List.of()));
        assertTrue(none.getMessage().contains("no usable engine"), none.getMessage());
        assertEquals(EngineChoice.TENSORRT, EngineChoice.parse(" TensorRT "));
        assertThrows(HotpathException.class, () -> EngineChoice.parse("gpu"));
    }

    @Test
    void everyConfigurationErrorIsOneCategorizedExceptionAtBuild() {
        Path mlp = ModelCatalog.resolve("mlp");
        record Case(HotpathException.Category category, String says, Hotpath.ServiceBuilder builder) {
        }
        List<Case> cases = List.of(
                new Case(HotpathException.Category.NOT_FOUND, "is not a readable file", Hotpath.service(cacheDir.resolve("absent.onnx"))),
                new Case(HotpathException.Category.INVALID_ARGUMENT, "needs inputs to calibrate and validate on",
                        Hotpath.service(mlp).precision(Precision.INT8)),
                new Case(HotpathException.Category.INVALID_ARGUMENT, "give at least 8",
                        Hotpath.service(mlp).precision(Precision.INT8, new Optimizer.Rows(rows(5, 1)))),
                new Case(HotpathException.Category.INVALID_ARGUMENT, "batching: maxBatchSize must be in [1, ",
                        Hotpath.service(mlp).batching(b -> b.maxBatchSize(0))),
                new Case(HotpathException.Category.INVALID_ARGUMENT, "threads -1", Hotpath.service(mlp).threads(-1)),
                new Case(HotpathException.Category.INVALID_ARGUMENT, "timingRounds 0", Hotpath.service(mlp).timingRounds(0)),
                new Case(HotpathException.Category.INVALID_ARGUMENT, "budget", Hotpath.service(mlp).engine(EngineChoice.CPU)
                        .cache(c -> c.budgetBytes(-5))));
        for (Case c : cases) {
            HotpathException e = assertThrows(HotpathException.class, () -> c.builder().optimizedModelCache(cacheDir).build().close(), c.says());
            assertEquals(c.category(), e.category(), e.getMessage());
            assertTrue(e.getMessage().contains(c.says()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
        assertThrows(HotpathException.class, () -> Budget.cosineAtLeast(1.5));
        assertNotEquals(Budget.cosineAtLeast(0.99), Budget.defaults());
    }
}
