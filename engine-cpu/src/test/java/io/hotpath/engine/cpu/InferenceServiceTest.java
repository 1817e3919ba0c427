package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.core.HotpathException;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.core.Tensor;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The serving path (batcher + engine) on real models. */
class InferenceServiceTest {

    @Test
    void batchedAnswersEqualTheEnginesAnswersRowByRow() throws Exception {
        int threads = 8;
        int perThread = 200;
        float[] x = Fixtures.features(threads, 64, 21);
        float[] expected = Fixtures.runMlp(CpuEngineOptions.builder().maxBatchSize(threads).build(), x, threads);
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(8).intraOpThreads(1).build());
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(200)).build()) {
            AtomicInteger wrong = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int row = t;
                new Thread(() -> {
                    Request r = svc.newRequest();
                    Tensor in = r.input("features");
                    for (int i = 0; i < 64; i++) {
                        in.putFloat(i, x[row * 64 + i]);
                    }
                    for (int i = 0; i < perThread; i++) {
                        int s = svc.infer(r);
                        if (s != BatchStatus.OK || Math.abs(r.output("score").getFloat(0) - expected[row]) > 1e-5) {
                            wrong.incrementAndGet();
                        }
                    }
                    done.countDown();
                }).start();
            }
            assertTrue(done.await(120, TimeUnit.SECONDS));
            assertEquals(0, wrong.get(), "every answer equals the engine's own answer for that row");
            var sizes = svc.metrics().intervalBatchSize(null);
            assertEquals(threads * perThread, svc.metrics().completed());
            assertTrue(sizes.getMaxValue() > 1, "requests were batched: max batch " + sizes.getMaxValue());
        }
        assertThrows(IllegalStateException.class, engine::newBatch, "the service closed the engine it owns");
    }

    @Test
    void variableLengthRequestsArePaddedAndAnsweredAtTheirOwnLength() throws Exception {
        int seq = 32;
        List<String> sentences = Fixtures.SENTENCES;
        float[][] alone = new float[sentences.size()][];
        int[] lengths = new int[sentences.size()];
        try (OrtCpuEngine e = OrtCpuEngine.open(Fixtures.minilm(), CpuEngineOptions.builder().maxBatchSize(1).maxDimension("sequence_length", seq).build())) {
            Batch b = e.newBatch();
            for (int s = 0; s < sentences.size(); s++) {
                int[] ids = Fixtures.tokenizer().encode(sentences.get(s), seq);
                lengths[s] = ids.length;
                Fixtures.fillMinilm(b, List.of(sentences.get(s)), ids.length);
                e.run(b);
                alone[s] = new float[ids.length * 384];
                for (int i = 0; i < alone[s].length; i++) {
                    alone[s][i] = b.output(0).getFloat(i);
                }
            }
        }
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.minilm(), CpuEngineOptions.builder().maxBatchSize(8).maxDimension("sequence_length", seq).build());
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(20_000)).lengthBuckets(12, 20).build()) {
            assertEquals(seq, svc.maxLength());
            Request[] rs = new Request[sentences.size()];
            CountDownLatch done = new CountDownLatch(rs.length);
            for (int s = 0; s < rs.length; s++) {
                Request r = svc.newRequest().length(lengths[s]);
                int[] ids = Fixtures.tokenizer().encode(sentences.get(s), seq);
                for (int c = 0; c < ids.length; c++) {
                    r.input("input_ids").putLong(c, ids[c]);
                    r.input("attention_mask").putLong(c, 1);
                    r.input("token_type_ids").putLong(c, 0);
                }
                rs[s] = r;
                assertEquals(BatchStatus.PENDING, svc.inferAsync(r, (req, status) -> done.countDown()));
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            for (int s = 0; s < rs.length; s++) {
                assertEquals(BatchStatus.OK, svc.await(rs[s]));
                Tensor out = rs[s].output("last_hidden_state");
                assertArrayEquals(new long[] {1, lengths[s], 384}, out.shape());
                double diff = 0;
                for (int i = 0; i < alone[s].length; i++) {
                    diff = Math.max(diff, Math.abs(out.getFloat(i) - alone[s][i]));
                }
                assertTrue(diff <= 1e-4, "sentence " + s + " padded in a batch vs alone: max abs diff " + diff);
            }
        }
    }

    @Test
    void aRepeatedRequestIsAnsweredFromTheCacheBitForBit() throws Exception {
        int seq = 16;
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.minilm(), CpuEngineOptions.builder().maxBatchSize(4).maxDimension("sequence_length", seq).build());
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxQueueDelayMicros(0))
                .cache(c -> c.budgetBytes(8L << 20)).build()) {
            Request r = svc.newRequest();
            int[] ids = Fixtures.tokenizer().encode("The cache answers repeated questions.", seq);
            r.length(ids.length);
            for (int c = 0; c < ids.length; c++) {
                r.input("input_ids").putLong(c, ids[c]);
                r.input("attention_mask").putLong(c, 1);
                r.input("token_type_ids").putLong(c, 0);
            }
            assertEquals(BatchStatus.OK, svc.infer(r));
            assertTrue(!r.fromCache(), "the first answer comes from the engine");
            Tensor out = r.output("last_hidden_state");
            int[] engineBits = new int[(int) out.elementCount()];
            for (int i = 0; i < engineBits.length; i++) {
                engineBits[i] = Float.floatToRawIntBits(out.getFloat(i));
                out.putFloat(i, Float.NaN);          // scribble: the cached answer must rewrite every element
            }
            assertEquals(BatchStatus.OK, svc.infer(r));
            assertTrue(r.fromCache(), "the same input is answered from the cache");
            assertArrayEquals(new long[] {1, ids.length, 384}, out.shape());
            for (int i = 0; i < engineBits.length; i++) {
                assertEquals(engineBits[i], Float.floatToRawIntBits(out.getFloat(i)), "element " + i);
            }
            assertEquals(1, svc.cache().hits());

            r.input("input_ids").putLong(1, 2000);     // another input: the engine again
            assertEquals(BatchStatus.OK, svc.infer(r));
            assertTrue(!r.fromCache());
            CountDownLatch async = new CountDownLatch(1);
            assertEquals(BatchStatus.OK, svc.inferAsync(r, (req, status) -> async.countDown()), "a cached async answer is immediate");
            assertTrue(async.await(1, TimeUnit.SECONDS));
            assertTrue(r.fromCache());
        }
    }

    @Test
    void keyRoundingLetsNearDuplicatesShareAnAnswerOnlyWhenAskedFor() {
        for (double quantum : new double[] {0, 1e-3}) {
            OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(2).build());
            try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxQueueDelayMicros(0))
                    .cache(c -> c.budgetBytes(1 << 20)).cacheKeyQuantum(quantum).build()) {
                Request r = svc.newRequest();
                float[] x = Fixtures.features(1, 64, 3);
                for (int i = 0; i < 64; i++) {
                    r.input("features").putFloat(i, x[i]);
                }
                assertEquals(BatchStatus.OK, svc.infer(r));
                r.input("features").putFloat(0, x[0] + 1e-6f);     // a near-duplicate
                assertEquals(BatchStatus.OK, svc.infer(r));
                assertEquals(quantum > 0, r.fromCache(), "quantum " + quantum);
            }
        }
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp());
        assertThrows(HotpathException.class, () -> InferenceService.builder(engine).cacheKeyQuantum(-1));
        engine.close();
    }

    @Test
    void anEngineFailureFailsThatBatchWithTheEnginesError() {
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.mlp(), CpuEngineOptions.builder().maxBatchSize(4).build());
        try (InferenceService svc = InferenceService.builder(engine).batching(c -> c.maxQueueDelayMicros(0)).closeEngine(false).build()) {
            Request r = svc.newRequest();
            assertEquals(BatchStatus.OK, svc.infer(r));
            engine.close();      // the engine dies under the service
            assertEquals(BatchStatus.FAILED, svc.infer(r));
            assertTrue(r.error() instanceof IllegalStateException, String.valueOf(r.error()));
            assertEquals(BatchStatus.FAILED, svc.infer(r), "the batcher keeps serving (and keeps reporting the failure)");
        }
    }

    @Test
    void badRequestsAndOptionsAreClearErrors() {
        OrtCpuEngine engine = OrtCpuEngine.open(Fixtures.minilm(), CpuEngineOptions.builder().maxBatchSize(2).maxDimension("sequence_length", 16).build());
        try (InferenceService svc = InferenceService.builder(engine).build()) {
            Request r = svc.newRequest();
            HotpathException tooLong = assertThrows(HotpathException.class, () -> r.length(17));
            assertTrue(tooLong.getMessage().contains("17") && tooLong.getMessage().contains("16"), tooLong.getMessage());
            HotpathException unknown = assertThrows(HotpathException.class, () -> r.input("pixels"));
            assertTrue(unknown.getMessage().contains("'pixels'") && unknown.getMessage().contains("input_ids"), unknown.getMessage());
            assertThrows(HotpathException.class, () -> InferenceService.builder(engine).batching(c -> c.maxBatchSize(3)).build(), "over the engine's capacity");
            assertThrows(HotpathException.class, () -> InferenceService.builder(engine).batching(c -> c.maxQueueDelayMicros(-5)).build());
        }
    }

    /** Invoker mode: no batcher thread; the application's own duty cycle runs the batches, requests come from another thread. */
    @Test
    void theApplicationsDutyCycleRunsTheBatchesInInvokerMode() throws Exception {
        java.nio.file.Path mlp = io.hotpath.models.ModelCatalog.resolve("mlp");
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) {
            x[i] = (i % 9) / 9f - 0.4f;
        }
        float expected;
        try (OrtCpuEngine ref = OrtCpuEngine.open(mlp)) {
            Batch b = ref.newBatch();
            b.input("features").reshape(1, 64);
            for (int i = 0; i < 64; i++) {
                b.input("features").putFloat(i, x[i]);
            }
            ref.run(b);
            expected = b.output("score").getFloat(0);
        }
        try (InferenceService svc = InferenceService.builder(OrtCpuEngine.open(mlp, CpuEngineOptions.builder().maxBatchSize(8).build()))
                .batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(50).agentInvoker()).build()) {
            org.agrona.concurrent.AgentInvoker invoker = svc.invoker();
            AtomicInteger answered = new AtomicInteger();
            AtomicInteger wrong = new AtomicInteger();
            Thread caller = new Thread(() -> {
                Request r = svc.newRequest();
                for (int n = 0; n < 500; n++) {
                    for (int i = 0; i < 64; i++) {
                        r.input("features").putFloat(i, x[i]);
                    }
                    if (svc.infer(r) != BatchStatus.OK || Math.abs(r.output("score").getFloat(0) - expected) > 1e-5) {
                        wrong.incrementAndGet();
                    }
                    answered.incrementAndGet();
                }
            });
            caller.start();
            long work = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (caller.isAlive() && System.nanoTime() < end) {
                work += invoker.invoke();          // the application's duty cycle
            }
            caller.join(1_000);
            assertEquals(500, answered.get());
            assertEquals(0, wrong.get());
            assertTrue(work >= 500, "the batches ran inside invoke(): work " + work);
            assertThrows(IllegalStateException.class, () -> svc.infer(svc.newRequest()), "a blocking infer on the invoking thread would never return");
        }
    }
}
