package io.hotpath.engine.tensorrt;

import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.trt.TensorRt;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Picks the engine for a model: TensorRT when a CUDA device and the TensorRT libraries are
 * present and TensorRT takes the model's input and output types, ONNX Runtime on the CPU
 * otherwise, and says which and why.
 */
public final class Engines {
    /** Which engine to use. */
    public enum Kind {
        /** TensorRT if usable here and it takes the model's input and output types, else the CPU. */
        BEST,
        /** TensorRT or a clear UNSUPPORTED error saying what is missing. */
        TENSORRT,
        /** ONNX Runtime on the CPU. */
        CPU;

        public static Kind parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw HotpathException.invalidArgument("unknown engine '" + s + "'; use best, tensorrt or cpu");
            }
        }
    }

    /** The engine opened and the reason it was chosen. */
    public record Choice(Engine engine, String reason) {
    }

    /** What {@link Kind#BEST} would choose here, without opening anything: "tensorrt" or "cpu", and why. */
    public record Decision(Kind kind, String reason) {
    }

    private Engines() {
    }

    /** The decision for BEST on this machine, from the CUDA and TensorRT probes. */
    public static Decision decide() {
        return decide(Cuda.status(), TensorRt.status());
    }

    /** The decision rule itself, separated from the probes so it can be tested without a GPU. */
    static Decision decide(Cuda.Status cuda, TensorRt.Status trt) {
        if (!cuda.available()) {
            return new Decision(Kind.CPU, "ONNX Runtime on the CPU: " + cuda.reason());
        }
        if (!trt.available()) {
            return new Decision(Kind.CPU, "ONNX Runtime on the CPU: " + cuda.deviceCount() + " CUDA device(s) found but TensorRT is not usable: "
                    + trt.reason());
        }
        return new Decision(Kind.TENSORRT, "TensorRT " + trt.version() + " on CUDA " + cuda.runtime() + " (" + cuda.deviceCount()
                + " device(s), driver " + cuda.driver() + ")");
    }

    /** Opens {@code model} on the engine {@code kind} asks for. */
    public static Choice open(Path model, Kind kind, TensorRtOptions trt, CpuEngineOptions cpu) {
        switch (kind) {
            case CPU -> {
                return new Choice(OrtCpuEngine.open(model, cpu), "ONNX Runtime on the CPU: asked for");
            }
            case TENSORRT -> {
                TensorRt.requireAvailable();
                return new Choice(TensorRtEngine.open(model, trt), decide().reason() + ": asked for");
            }
            default -> {
                Decision d = decide();
                if (d.kind() == Kind.TENSORRT) {
                    String refusal = TensorRtEngine.ioTypeRefusal(model);
                    if (refusal != null) {
                        return new Choice(OrtCpuEngine.open(model, cpu), "ONNX Runtime on the CPU: TensorRT is usable here but the model's " + refusal);
                    }
                    return new Choice(TensorRtEngine.open(model, trt), d.reason());
                }
                return new Choice(OrtCpuEngine.open(model, cpu), d.reason());
            }
        }
    }

    /** {@link Kind#BEST} with default options for both engines. */
    public static Choice best(Path model) {
        return open(model, Kind.BEST, TensorRtOptions.builder().build(), CpuEngineOptions.builder().build());
    }
}
