package io.hotpath.core;

import java.nio.file.Path;

/**
 * An engine implementation as the serving path finds it at run time: each engine module lists
 * its provider in {@code META-INF/services/io.hotpath.core.EngineProvider}, and engine choice
 * ({@code io.hotpath.service.EngineChoice}) loads them with {@link java.util.ServiceLoader}. An
 * application that carries only {@code hotpath-engine-cpu} therefore never loads a GPU class.
 */
public interface EngineProvider {
    /** The engine kind, lower case, as users name it: {@code cpu}, {@code tensorrt}. */
    String kind();

    /** Higher is preferred when the choice is "best": TensorRT above the CPU. */
    int preference();

    /**
     * Whether this engine can run {@code model} on this machine, and why (or why not), in one
     * line. Probes the hardware and libraries but opens nothing that must be closed; never throws
     * for an unusable machine (that is an answer, not an error).
     */
    Availability availability(Path model);

    /** Opens {@code model}; configuration errors are {@link HotpathException}s. */
    Engine open(Path model, Settings settings);

    /**
     * Whether this engine runs ONNX Runtime's contrib operators ({@code com.microsoft} domain, for
     * example the fused Attention): the optimizer uses those fusions only for an engine that does.
     */
    boolean runsContribOperators();

    /** Whether the engine can run here, and the reason in one line either way. */
    record Availability(boolean usable, String reason) {
        public static Availability usable(String reason) {
            return new Availability(true, reason);
        }

        public static Availability unusable(String reason) {
            return new Availability(false, reason);
        }
    }

    /**
     * What every engine takes: the largest batch one run accepts, and the threads one run may use
     * (0: the engine's own default). Engine-specific options stay on the engine's own API.
     */
    record Settings(int maxBatchSize, int threads) {
        public Settings {
            if (maxBatchSize < 1 || maxBatchSize > 1 << 16) {
                throw HotpathException.invalidArgument("maxBatchSize " + maxBatchSize + " outside [1, 65536]");
            }
            if (threads < 0 || threads > 1024) {
                throw HotpathException.invalidArgument("threads " + threads + " outside [0, 1024] (0: the engine's default)");
            }
        }
    }
}
