package io.hotpath.examples;

import io.hotpath.core.Batch;
import io.hotpath.core.Engine;
import io.hotpath.engine.tensorrt.Engines;
import io.hotpath.models.ModelCatalog;

/**
 * Choosing the engine by what the machine has: TensorRT when a CUDA device and its libraries are
 * usable, else ONNX Runtime on the CPU, with the reason either way. The rest of the program does
 * not care which it got: both are the same {@link Engine}.
 */
public final class EngineChoice {
    private EngineChoice() {
    }

    /** Opens {@code mlp} on the best engine here, runs it once on zeros, and returns the engine's name, the reason and the score. */
    public static String[] chooseAndRun() {
        Engines.Choice choice = Engines.best(ModelCatalog.resolve("mlp"));
        try (Engine engine = choice.engine()) {
            Batch batch = engine.newBatch();
            batch.input("features").reshape(1, 64);
            engine.run(batch);
            return new String[] {engine.name(), choice.reason(), Float.toString(batch.output("score").getFloat(0))};
        }
    }

    public static void main(String[] args) {
        String[] r = chooseAndRun();
        System.out.println("engine " + r[0] + " (" + r[1] + "); score of zeros " + r[2]);
    }
}
