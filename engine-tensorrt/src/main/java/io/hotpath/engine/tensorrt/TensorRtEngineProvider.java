package io.hotpath.engine.tensorrt;

import io.hotpath.core.Engine;
import io.hotpath.core.EngineProvider;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * TensorRT as {@link EngineProvider} {@code tensorrt}: usable when a CUDA device, its driver and
 * the TensorRT libraries load here ({@link Engines#decide()}) and TensorRT takes the model's input
 * and output types. Preferred over the CPU. The model's precision is the model's own (an FP16 or
 * Q/DQ INT8 model builds as such); plans are cached as {@link TensorRtOptions} describes.
 */
public final class TensorRtEngineProvider implements EngineProvider {
    @Override
    public String kind() {
        return "tensorrt";
    }

    @Override
    public int preference() {
        return 100;
    }

    @Override
    public Availability availability(Path model) {
        Engines.Decision d = Engines.decide();
        if (d.kind() != Engines.Kind.TENSORRT) {
            return Availability.unusable(d.reason().replaceFirst("^ONNX Runtime on the CPU: ", ""));
        }
        String refusal = TensorRtEngine.ioTypeRefusal(model);
        if (refusal != null) {
            return Availability.unusable("TensorRT is usable here but the model's " + refusal);
        }
        return Availability.usable(d.reason());
    }

    @Override
    public Engine open(Path model, Settings settings) {
        return TensorRtEngine.open(model, TensorRtOptions.builder().batchBuckets(buckets(settings.maxBatchSize())).build());
    }

    /** 1, 8 and 64 up to the largest batch, and the largest batch itself: one optimization profile each. */
    static int[] buckets(int maxBatch) {
        return IntStream.concat(Arrays.stream(new int[] {1, 8, 64}).filter(b -> b < maxBatch), IntStream.of(maxBatch)).distinct().sorted().toArray();
    }

    @Override
    public boolean runsContribOperators() {
        return false;
    }
}
