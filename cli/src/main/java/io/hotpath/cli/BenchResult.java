package io.hotpath.cli;

import io.hotpath.core.Engine;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.engine.tensorrt.TensorRtEngine;
import java.nio.file.Path;

/**
 * One measured configuration of {@code hotpath bench}: what ran, on which engine and machine, and
 * its latency and throughput. The direct bench makes one per batch size; each load-generator step
 * wraps one in a {@link LoadStepResult}. {@link BenchJson} writes it.
 *
 * @param model      the --model argument as given (a file or an alias)
 * @param modelFile  the file it resolved to
 * @param batch      rows per run (the load generator: the largest --batch)
 * @param opt        the graph optimization level, lower case
 * @param throughput items per second (direct) or requests per second (load generator)
 */
record BenchResult(String model, Path modelFile, EngineFacts engine, int batch, int seq, int threads, String opt, int warmup,
                   int iterations, LatencyStats latency, double throughput, SystemInfo system) {

    /**
     * The engine's identity as the report gives it.
     *
     * @param onnxRuntimeVersion the ONNX Runtime version for the CPU engine, else null
     * @param tensorRt           the TensorRT engine's build and device facts, else null
     */
    record EngineFacts(String name, String options, String description, String onnxRuntimeVersion, TensorRtFacts tensorRt) {
        static EngineFacts of(Engine engine) {
            String options = engine instanceof OrtCpuEngine o ? o.options().toString()
                    : engine instanceof TensorRtEngine t ? t.options().toString() : engine.describe();
            return new EngineFacts(engine.name(), options, engine.describe(),
                    engine instanceof OrtCpuEngine ? OrtCpuEngine.runtimeVersion() : null,
                    engine instanceof TensorRtEngine t ? TensorRtFacts.of(t) : null);
        }
    }

    /** What a TensorRT run depends on: precision, GPU, library versions, and where its plan came from. */
    record TensorRtFacts(String precision, boolean cudaGraphs, String gpu, String computeCapability, String tensorRtVersion,
                         String cudaRuntime, String cudaDriver, boolean planBuiltNow, double buildSeconds, String planFile) {
        static TensorRtFacts of(TensorRtEngine t) {
            return new TensorRtFacts(t.options().precision().label(), t.options().cudaGraphs(), t.device().name(),
                    t.device().computeCapability(), io.hotpath.nativebindings.trt.TensorRt.status().version(),
                    io.hotpath.nativebindings.cuda.Cuda.status().runtime(), io.hotpath.nativebindings.cuda.Cuda.status().driver(),
                    t.builtNow(), t.buildNanos() / 1e9, t.planFile().toString());
        }
    }
}
