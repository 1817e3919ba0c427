package io.hotpath.cli;

import io.hotpath.engine.tensorrt.Engines;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.trt.TensorRt;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code hotpath info}: what this machine offers Hotpath: CPU, CUDA devices, the CUDA libraries TensorRT links, TensorRT. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Prints the CPU, the CUDA devices and libraries, the TensorRT version, and which engine --engine best would pick, "
                + "with the reason; with --model, each input and output of the model as ONNX Runtime sees it.")
final class InfoCommand implements Callable<Integer> {
    @picocli.CommandLine.Option(names = "--model", paramLabel = "FILE|ALIAS",
            description = "Also list the model's tensors: name, element type, declared shape (symbolic dimension names), capacity, binding.")
    String model;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        if (model != null) {
            tensors(out, io.hotpath.models.ModelCatalog.resolve(model));
        }
        out.println("system     " + SystemInfo.detect().summary());
        io.hotpath.optimizer.CpuFeatures cpu = io.hotpath.optimizer.CpuFeatures.detect();
        out.println("int8       " + cpu.int8Scheme().label() + (cpu.hasInt8DotProduct()
                ? " (8-bit weights: VNNI/AMX int8 dot product present)"
                : " (7-bit weights: no VNNI/AMX, ONNX Runtime's AVX2 u8 x s8 kernel would saturate 8-bit weights)"));
        Cuda.Status cuda = Cuda.status();
        out.println("cuda       " + (cuda.available() ? "runtime " + cuda.runtime() + ", driver " + cuda.driver() + ", "
                + cuda.deviceCount() + " device(s)" : "not usable: " + cuda.reason()));
        if (cuda.available()) {
            for (int i = 0; i < cuda.deviceCount(); i++) {
                Cuda.Device d = Cuda.device(i);
                out.printf("device %d   %s %s, %d SMs, %.1f GiB%n", i, d.name(), d.computeCapability(), d.multiprocessors(),
                        d.totalMemory() / (double) (1L << 30));
            }
            long[] mem = Cuda.memoryInfo();
            out.printf("memory     %.1f GiB free of %.1f GiB on the current device%n", mem[0] / (double) (1L << 30), mem[1] / (double) (1L << 30));
            for (String lib : new String[] {"cublas", "cudnn", "nvrtc"}) {
                out.println("library    " + lib + ": " + Cuda.libraryStatus(lib));
            }
        }
        TensorRt.Status trt = TensorRt.status();
        out.println("tensorrt   " + (trt.available() ? trt.version() : "not usable: " + trt.reason()));
        Engines.Decision d = Engines.decide();
        out.println("best       " + d.kind().name().toLowerCase(java.util.Locale.ROOT) + ": " + d.reason());
        return 0;
    }

    /** Each tensor of {@code file} as the CPU engine opens it with its default options. */
    private static void tensors(PrintStream out, java.nio.file.Path file) {
        try (io.hotpath.engine.cpu.OrtCpuEngine e = io.hotpath.engine.cpu.OrtCpuEngine.open(file)) {
            out.println("model      " + file + ": " + (e.maxBatchSize() > 1 || e.inputs().stream().allMatch(t -> t.shape().rank() > 0
                    && t.shape().isDynamic(0)) ? "batches on dimension 0" : "runs one row at a time (an input has no dynamic batch dimension)"));
            io.hotpath.core.Batch b = e.newBatch();
            for (int i = 0; i < b.inputCount(); i++) {
                line(out, "input", b.input(i), "written in place");
            }
            for (int i = 0; i < b.outputCount(); i++) {
                line(out, "output", b.output(i), e.outputEngineAllocated(i)
                        ? "engine-allocated each run (size known only after the run), read as a zero-copy view"
                        : "preallocated, bound once (shape derived from the inputs)");
            }
        }
    }

    private static void line(PrintStream out, String kind, io.hotpath.core.Tensor t, String binding) {
        io.hotpath.core.TensorSpec s = t.spec();
        out.printf("  %-6s   %-24s %-8s %-28s %s; %s%n", kind, s.name(), s.dtype().name().toLowerCase(java.util.Locale.ROOT),
                s.shape().rank() == 0 ? "[] (scalar)" : s.shape().toString(),
                t.isEngineAllocated() ? "capacity set by each run" : "capacity " + t.capacityElements() + " elements", binding);
    }
}
