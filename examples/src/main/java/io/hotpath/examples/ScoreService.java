package io.hotpath.examples;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.embed.Budget;
import io.hotpath.embed.Hotpath;
import io.hotpath.embed.Precision;
import io.hotpath.optimizer.Optimizer;
import io.hotpath.service.EngineChoice;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.nio.file.Path;
import java.util.List;

public final class ScoreService {
    public static void main(String[] args) {
        List<float[]> recent = FeatureRows.sample(256, 42);              // feature rows seen recently: calibration data
        try (InferenceService svc = Hotpath.service(Path.of(args[0]))       // a model of 64 features -> 1 score
                .engine(EngineChoice.BEST)                                  // TensorRT if usable here, else the CPU
                .precision(Precision.INT8, new Optimizer.Rows(recent))      // calibrated, checked against FP32
                .accuracyBudget(Budget.cosineAtLeast(0.99).maxAbsErrorAtMost(0.05))
                .batching(b -> b.maxBatchSize(32).maxQueueDelayMicros(200))
                .cache(c -> c.budgetBytes(64L << 20))
                .build()) {                                                 // optimized once, then from disk
            System.out.println(svc.report());                               // engine, precision, variant, accuracy, why
            Request req = svc.newRequest();                                 // an off-heap slot, reused
            float[] row = recent.get(0);
            for (int i = 0; i < row.length; i++) {
                req.input("features").putFloat(i, row[i]);                  // written in place
            }
            if (svc.infer(req) == BatchStatus.OK) {                         // batched with other callers
                System.out.println("score " + req.output("score").getFloat(0));
            }
        }
    }
}
