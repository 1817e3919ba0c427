package io.hotpath.examples;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import java.nio.file.Path;

public final class Embed {
    public static void main(String[] args) {
        long[] tokens = {101, 7592, 2088, 102};       // "Hello world" through MiniLM's WordPiece tokenizer
        try (OrtCpuEngine engine = OrtCpuEngine.open(Path.of(args[0]),    // all-MiniLM-L6-v2's model.onnx
                CpuEngineOptions.builder()
                    .graphOptimization(GraphOptimization.ALL)
                    .intraOpThreads(2)
                    .maxBatchSize(8)                              // capacity of dimension 0
                    .maxDimension("sequence_length", 128)         // capacity of a named dynamic dimension
                    .build())) {
            Batch batch = engine.newBatch();                      // off-heap, allocated and bound once
            Tensor ids = batch.input("input_ids").reshape(1, tokens.length);   // this run's shape
            Tensor mask = batch.input("attention_mask").reshape(1, tokens.length);
            Tensor types = batch.input("token_type_ids").reshape(1, tokens.length);
            for (int i = 0; i < tokens.length; i++) {             // written in place, no long[] per run
                ids.putLong(i, tokens[i]);
                mask.putLong(i, 1);
                types.putLong(i, 0);
            }
            engine.run(batch);                                    // 0 B allocated per run in steady state
            System.out.println(batch.output("last_hidden_state").getFloat(0));
        }
    }
}
