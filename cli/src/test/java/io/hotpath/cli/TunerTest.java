package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.serve.repository.HotpathModelOptions;
import io.hotpath.serve.repository.TritonModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hotpath tune's search on an engine whose cost is known: the real mlp preceded by a fixed busy
 * wait per run, whatever the rows, so a batch of four costs what a batch of one does and the
 * right answer is known: batch as many of the callers as there are.
 */
class TunerTest {
    private static Tuner.Setup knownCost(long costMicros) {
        OrtCpuEngine mlp = OrtCpuEngine.open(ModelCatalog.resolve("mlp"), CpuEngineOptions.builder().maxBatchSize(8).intraOpThreads(1).spinWait(false).build());
        return new Tuner.Setup("mlp+" + costMicros + "us", 1, new StageProfileTest.KnownCostEngine(mlp, costMicros * 1000));
    }

    /** A search at four callers on an engine that costs 1 ms per run, whatever the rows; its log printed; the engine closed after. */
    private static void search(double sloMillis, long budgetNanos, SearchCheck check) throws Exception {
        Tuner.Setup s = knownCost(1_000);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            Tuner t = new Tuner(List.of(s), 0, new Tuner.Load(4, 0), sloMillis, 1, 1, 5, 0.5, budgetNanos, new PrintStream(log, true));
            Tuner.Outcome r = t.run();
            System.out.print(log);
            check.accept(t, r);
        } finally {
            s.engine().close();
        }
    }

    interface SearchCheck {
        void accept(Tuner t, Tuner.Outcome r);
    }

    @Test
    void withAFixedCostPerRunItBatchesTheCallersAndBeatsBatchesOfOne() throws Exception {
        search(100, 120_000_000_000L, (t, r) -> {
            assertNotNull(r.chosen(), "a 100 ms objective is met");
            assertTrue(r.chosen().meets(100_000, new Tuner.Load(4, 0)));
            assertTrue(r.chosen().candidate().maxBatch() >= 4, "four callers share a run that costs the same for four rows: " + t.describe(r.chosen().candidate()));
            for (Tuner.Point p : r.tried()) {
                if (p.candidate().maxBatch() == 1) {
                    assertTrue(p.throughput() < 0.75 * r.chosen().throughput(), "batches of one get less than the chosen: " + t.line(p));
                }
            }
            assertTrue(r.tried().stream().anyMatch(p -> p.candidate().maxBatch() == 1), "batches of one were measured");
        });
    }

    @Test
    void anObjectiveBelowTheEnginesCostIsReportedAsUnmetWithTheClosest() throws Exception {
        search(0.5, 60_000_000_000L, (t, r) -> {
            assertNull(r.chosen(), "no configuration runs a 1 ms engine within 0.5 ms");
            assertEquals(1, r.tried().size(), "the cost curve pruned every candidate; only the one predicted nearest ran");
            assertTrue(r.pruned() > 0);
            assertNotNull(r.closest(), "the nearest and the default were measured");
            assertTrue(r.closest().p99Micros() > 500);
        });
    }

    @Test
    void theWrittenFolderIsAModelServeLoads(@TempDir Path dir) throws Exception {
        for (String model : new String[] {"mlp", "minilm-q"}) {
            Path folder = dir.resolve(model);
            try (OrtCpuEngine e = OrtCpuEngine.open(ModelCatalog.resolve(model), CpuEngineOptions.builder().maxBatchSize(4).intraOpThreads(1).build())) {
                TuneCommand.write(folder, ModelCatalog.resolve(model), new Tuner.Setup(model, 1, e), new Tuner.Candidate(0, 4, 300), false);
            }
        }
        // the server's own loader opens both: their tensors agree with the models, the batching is the tuned one
        List<io.hotpath.serve.ServedModel> served = io.hotpath.serve.RepositoryLoader.load(dir);
        try {
            assertEquals(2, served.size());
            for (io.hotpath.serve.ServedModel m : served) {
                assertEquals(4, m.maxRowsPerCall(), m.name());
                assertTrue(m.batched(), m.name());
            }
        } finally {
            for (io.hotpath.serve.ServedModel m : served) {
                m.close();
            }
        }
        Path folder = dir.resolve("mlp");
        TritonModelConfig c = TritonModelConfig.parse(folder.resolve("config.pbtxt"), "mlp/config.pbtxt", "mlp");
        assertEquals(4, c.maxBatchSize());
        assertEquals(300, c.dynamicBatching().maxQueueDelayMicros());
        HotpathModelOptions o = HotpathModelOptions.load(folder, "mlp");
        assertEquals(1, o.threads().getAsInt());
        assertEquals(4, o.maxBatch().getAsInt());
        assertEquals(300, o.maxQueueDelayMicros().getAsLong());
        assertTrue(Files.size(folder.resolve("1").resolve("model.onnx")) > 0);
        assertTrue(Files.readString(folder.resolve("embedding.java")).contains("maxBatchSize(4).maxQueueDelayMicros(300)"));
    }
}
