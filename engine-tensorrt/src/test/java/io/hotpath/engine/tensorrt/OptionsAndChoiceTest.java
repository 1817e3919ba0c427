package io.hotpath.engine.tensorrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.trt.TensorRt;
import io.hotpath.models.ModelCatalog;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class OptionsAndChoiceTest {
    @Test
    void precisionAndKindParseOrSayWhatIsAccepted() {
        assertEquals(Precision.FP16, Precision.parse("fp16"));
        assertEquals(Precision.INT8, Precision.parse(" INT8 "));
        HotpathException e = assertThrows(HotpathException.class, () -> Precision.parse("fp8"));
        assertTrue(e.getMessage().contains("fp32, tf32, fp16 or int8"));
        assertEquals(Engines.Kind.TENSORRT, Engines.Kind.parse("tensorrt"));
        assertThrows(HotpathException.class, () -> Engines.Kind.parse("gpu"));
    }

    @Test
    void optionsHaveDocumentedDefaultsAndRejectNonsense() {
        TensorRtOptions o = TensorRtOptions.builder().build();
        assertEquals(Precision.TF32, o.precision());
        assertEquals(3, o.optimizationLevel());
        assertEquals(1L << 30, o.workspaceBytes());
        assertEquals(128, o.maxDimension());
        assertEquals(false, o.cudaGraphs());
        assertThrows(HotpathException.class, () -> TensorRtOptions.builder().batchBuckets().build());
        assertThrows(HotpathException.class, () -> TensorRtOptions.builder().batchBuckets(0).build());
        assertThrows(HotpathException.class, () -> TensorRtOptions.builder().optimizationLevel(6).build());
        assertThrows(HotpathException.class, () -> TensorRtOptions.builder().workspaceBytes(1000).build());
        assertThrows(HotpathException.class, () -> TensorRtOptions.builder().maxDimension(0).build());
        assertThrows(HotpathException.class, () -> TensorRtOptions.builder().device(-1).build());
    }

    @Test
    void int8WithoutQdqCalibrationDataOrCacheIsAClearError() {
        TensorRtOptions o = TensorRtOptions.builder().precision(Precision.INT8).build();
        HotpathException e = assertThrows(HotpathException.class, () -> PlanLoader.calibrationDescription(Precision.INT8, false, o));
        assertEquals(Category.INVALID_ARGUMENT, e.category());
        assertTrue(e.getMessage().contains("Q/DQ"), e.getMessage());
        assertEquals("explicit Q/DQ (strongly typed)", PlanLoader.calibrationDescription(Precision.INT8, true, o));
        assertEquals("none", PlanLoader.calibrationDescription(Precision.FP16, false, o));
    }

    @Test
    void decisionRuleFallsBackToTheCpuAndSaysWhy() {
        Cuda.Status noGpu = new Cuda.Status(false, "no CUDA device: the driver reports 0 devices", 0, 13000, 13010);
        Cuda.Status gpu = new Cuda.Status(true, "", 1, 13000, 13010);
        TensorRt.Status noTrt = new TensorRt.Status(false, "TensorRT could not be loaded (libnvinfer.so.10 ...)", "none");
        TensorRt.Status trt = new TensorRt.Status(true, "", "10.15.1");
        Engines.Decision d1 = Engines.decide(noGpu, noTrt);
        assertEquals(Engines.Kind.CPU, d1.kind());
        assertTrue(d1.reason().contains("0 devices"), d1.reason());
        Engines.Decision d2 = Engines.decide(gpu, noTrt);
        assertEquals(Engines.Kind.CPU, d2.kind());
        assertTrue(d2.reason().contains("1 CUDA device(s) found but TensorRT is not usable") && d2.reason().contains("libnvinfer"), d2.reason());
        Engines.Decision d3 = Engines.decide(gpu, trt);
        assertEquals(Engines.Kind.TENSORRT, d3.kind());
        assertTrue(d3.reason().contains("TensorRT 10.15.1 on CUDA 13.1"), d3.reason());
    }

    @Test
    void onThisMachineBestOpensWhatTheProbesAllow() {
        Path mlp = ModelCatalog.resolve("mlp");
        Engines.Decision d = Engines.decide();
        try (var choice = new AutoCloseableChoice(Engines.open(mlp, Engines.Kind.BEST,
                TensorRtOptions.builder().batchBuckets(1, 8).build(), CpuEngineOptions.builder().build()))) {
            assertEquals(d.kind() == Engines.Kind.TENSORRT ? "tensorrt" : "onnxruntime-cpu", choice.c.engine().name());
            assertEquals(d.reason(), choice.c.reason());
        }
        if (!TensorRt.status().available()) {
            HotpathException e = assertThrows(HotpathException.class, () -> Engines.open(mlp, Engines.Kind.TENSORRT,
                    TensorRtOptions.builder().build(), CpuEngineOptions.builder().build()));
            assertEquals(Category.UNSUPPORTED, e.category());
            assertTrue(e.getMessage().contains(TensorRt.status().reason()), e.getMessage());
        }
    }

    private record AutoCloseableChoice(Engines.Choice c) implements AutoCloseable {
        @Override
        public void close() {
            c.engine().close();
        }
    }
}
