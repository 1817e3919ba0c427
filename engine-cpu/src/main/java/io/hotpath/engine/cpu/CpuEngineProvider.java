package io.hotpath.engine.cpu;

import io.hotpath.core.Engine;
import io.hotpath.core.EngineProvider;
import java.nio.file.Path;

/**
 * ONNX Runtime on the CPU as {@link EngineProvider} {@code cpu}: usable wherever the ONNX Runtime
 * natives load, which is every machine Hotpath supports. The lowest preference, so "best" picks
 * it when nothing faster is usable.
 */
public final class CpuEngineProvider implements EngineProvider {
    @Override
    public String kind() {
        return "cpu";
    }

    @Override
    public int preference() {
        return 0;
    }

    @Override
    public Availability availability(Path model) {
        return Availability.usable("ONNX Runtime on the CPU (" + Runtime.getRuntime().availableProcessors() + " cores)");
    }

    @Override
    public Engine open(Path model, Settings settings) {
        CpuEngineOptions.Builder b = CpuEngineOptions.builder().maxBatchSize(settings.maxBatchSize());
        if (settings.threads() > 0) {
            b.intraOpThreads(settings.threads());
        }
        return OrtCpuEngine.open(model, b.build());
    }

    @Override
    public boolean runsContribOperators() {
        return true;
    }
}
