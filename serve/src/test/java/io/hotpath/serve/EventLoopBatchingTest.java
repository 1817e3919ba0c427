package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.Request;
import io.netty.channel.EventLoop;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A batching model whose batcher runs on the server's event loop
 * ({@link ModelSettings#withBatcherOnEventLoop}): the requests read in one pass over the sockets
 * become one engine run; answers match the model run directly; a connection's pipelined requests
 * are answered in order; with two event loops
 * every request read on either is answered; and which models it applies to.
 */
class EventLoopBatchingTest {
    private static final Path MLP = ModelCatalog.resolve("mlp");
    private static ServedModel reference;
    private static Request referenceRequest;

    @BeforeAll
    static void openReference() {
        // no batcher: the test thread runs it directly (a blocking infer on a loop-driven model would wait for a loop)
        reference = ModelSettings.defaults("reference", MLP).withDynamicBatching(false).open(null);
        referenceRequest = reference.service().newRequest();
    }

    @AfterAll
    static void closeReference() {
        reference.close();
    }

    @Test
    void appliesWithBatchingNoQueueDelayAndNoSharedCache() {
        ModelSettings s = ModelSettings.defaults("m", MLP).withBatcherOnEventLoop(true);
        assertTrue(s.batchesOnEventLoop());
        assertFalse(ModelSettings.defaults("m", MLP).batchesOnEventLoop(), "asked for only");
        assertFalse(s.withBatching(32, 100).batchesOnEventLoop(), "a queue delay needs a timer: the batcher keeps its thread");
        assertFalse(s.withDynamicBatching(false).batchesOnEventLoop(), "no batcher at all");
        assertFalse(s.withSharedCache(new ModelSettings.SharedCacheSettings("redis://127.0.0.1:1", Duration.ofSeconds(1),
                Duration.ofMillis(1))).batchesOnEventLoop(), "Redis lookups end on the client's threads");
        try (ServedModel m = s.open(null); ServedModel t = ModelSettings.defaults("t", MLP).open(null)) {
            assertTrue(m.batchesOnEventLoop());
            assertFalse(t.batchesOnEventLoop());
        }
    }

    /** The loop held still while eight connections send: its next pass reads all eight, and one engine run answers them. */
    @Test
    void theRequestsOfOnePassAreOneEngineRun() throws Exception {
        onePass(32, 1);
    }

    /** With one row a batch the same pass is eight runs, more than one drain task takes: the rest go to the next task. */
    @Test
    void aPassOfMoreBatchesThanOneTaskRunsIsAnsweredInTurns() throws Exception {
        onePass(1, 8);
    }

    private void onePass(int maxBatch, int runs) throws Exception {
        try (Served s = new Served(1, ModelSettings.defaults("mlp", MLP).withBatching(maxBatch, 0).withBatcherOnEventLoop(true))) {
            int n = 8;
            List<Socket> sockets = new ArrayList<>();
            CountDownLatch release = new CountDownLatch(1);
            try {
                float[][] rows = new float[n][];
                for (int i = 0; i < n; i++) {
                    Socket k = new Socket("127.0.0.1", s.server.httpPort());
                    sockets.add(k);
                    k.setSoTimeout(20_000);
                    rows[i] = rows(1, 100 + i);
                    exchange(k, rows[i]);       // connected, read once: the channel is active before the loop is held
                }
                ServedModel m = s.model;
                ModelStats.Snapshot before = m.stats().snapshot();
                EventLoop loop = s.server.eventLoops().next();
                CountDownLatch held = new CountDownLatch(1);
                loop.execute(() -> {
                    held.countDown();
                    await(release);
                });
                assertTrue(held.await(10, TimeUnit.SECONDS));
                for (int i = 0; i < n; i++) {
                    send(sockets.get(i), rows[i]);
                }
                Thread.sleep(100);          // loopback delivers within the write; this only leaves room for a loaded machine
                release.countDown();
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(direct(rows[i]), receive(sockets.get(i)), 1e-5f, "connection " + i);
                }
                ModelStats.Snapshot after = m.stats().snapshot();
                assertEquals(n, after.inferences() - before.inferences());
                assertEquals(runs, after.executions() - before.executions(), "the eight requests read in one pass, " + maxBatch + " a batch");
            } finally {
                release.countDown();        // a failure above must not keep the loop held
                for (Socket k : sockets) {
                    k.close();
                }
            }
        }
    }

    /**
     * Three requests pipelined on one connection: each answer, written inside a batch, starts the next request, whose
     * row goes to the next drain; all three answered in order.
     */
    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Served s = new Served(1, ModelSettings.defaults("mlp", MLP).withBatcherOnEventLoop(true));
                Socket k = new Socket("127.0.0.1", s.server.httpPort())) {
            k.setSoTimeout(20_000);
            float[][] rows = {rows(1, 1), rows(2, 2), rows(3, 3)};
            OutputStream os = k.getOutputStream();
            for (float[] r : rows) {
                os.write(request(r));
            }
            os.flush();
            for (float[] r : rows) {
                assertArrayEquals(direct(r), receive(k), 1e-5f);
            }
        }
    }

    /**
     * One request at a time, more than the batcher's ring holds, so its records wrap round many times: each is answered
     * (a drain that stopped at the padding before a wrap, seeing no record, left the next request queued for ever).
     */
    @Test
    void oneAtATimeAcrossManyRingWraps() throws Exception {
        try (Served s = new Served(1, ModelSettings.defaults("mlp", MLP).withBatcherOnEventLoop(true));
                Socket k = new Socket("127.0.0.1", s.server.httpPort())) {
            k.setSoTimeout(20_000);
            // a 64-float row is a 288-byte record: the service's 4 MiB ring wraps after about 14,600
            for (int i = 0; i < 32_000; i++) {
                float[] in = rows(1, i);
                assertArrayEquals(direct(in), exchange(k, in), 1e-5f, "request " + i);
            }
        }
    }

    /** Two event loops, sixteen connections from eight threads, calls of 1-4 rows: every answer right, each once. */
    @Test
    void twoEventLoopsAnswerEveryRequest() throws Exception {
        try (Served s = new Served(2, ModelSettings.defaults("mlp", MLP).withBatcherOnEventLoop(true))) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int c = 0; c < 16; c++) {
                    int conn = c;
                    done.add(pool.submit(() -> {
                        try (Socket k = new Socket("127.0.0.1", s.server.httpPort())) {
                            k.setSoTimeout(20_000);
                            for (int i = 0; i < 50; i++) {
                                float[] in = rows(1 + (i + conn) % 4, conn * 1000L + i);
                                assertArrayEquals(direct(in), exchange(k, in), 1e-5f, "connection " + conn + " request " + i);
                            }
                        }
                        return 50;
                    }));
                }
                int answered = 0;
                for (Future<Integer> f : done) {
                    answered += f.get(60, TimeUnit.SECONDS);
                }
                assertEquals(800, answered);
                assertEquals(0, s.model.stats().pendingNow());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** A server over one model; closing it closes both. */
    private static final class Served implements AutoCloseable {
        final ServedModel model;
        final HotpathServer server;

        Served(int loops, ModelSettings settings) {
            model = settings.open(null);
            ModelRegistry registry = new ModelRegistry();
            registry.add(model);
            try {
                server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, -1, -1, loops), null);
            } catch (RuntimeException | Error e) {
                model.close();
                throw e;
            }
        }

        @Override
        public void close() {
            server.close();         // closes the registry's models too
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static float[] rows(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] f = new float[n * 64];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return f;
    }

    /** The rows' scores from the reference model, one row at a time. */
    private static synchronized float[] direct(float[] in) {
        float[] out = new float[in.length / 64];
        for (int r = 0; r < out.length; r++) {
            for (int i = 0; i < 64; i++) {
                referenceRequest.input(0).putFloat(i, in[r * 64 + i]);
            }
            assertEquals(BatchStatus.OK, reference.service().infer(referenceRequest));
            out[r] = referenceRequest.output(0).getFloat(0);
        }
        return out;
    }

    private static float[] exchange(Socket k, float[] in) throws Exception {
        send(k, in);
        return receive(k);
    }

    private static void send(Socket k, float[] in) throws Exception {
        OutputStream os = k.getOutputStream();
        os.write(request(in));
        os.flush();
    }

    /** A binary infer of {@code in}'s rows asking for binary output, as HTTP/1.1 keep-alive. */
    private static byte[] request(float[] in) {
        byte[] body = HttpTransportTest.binaryBody(in, in.length / 64, true);
        String head = "POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                + "Inference-Header-Content-Length: " + HttpTransportTest.headerLength(body) + "\r\nContent-Length: " + body.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    /** Reads one 200 answer and returns its binary output's floats. */
    private static float[] receive(Socket k) throws Exception {
        InputStream is = k.getInputStream();
        String head = HttpTransportTest.readHead(is);
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        int length = -1;
        int jsonLength = -1;
        for (String line : head.split("\r\n")) {
            String l = line.toLowerCase(java.util.Locale.ROOT);
            if (l.startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            } else if (l.startsWith("inference-header-content-length:")) {
                jsonLength = Integer.parseInt(line.substring(32).trim());
            }
        }
        assertTrue(length > 0 && jsonLength > 0 && length > jsonLength, head);
        byte[] body = is.readNBytes(length);
        assertEquals(length, body.length);
        ByteBuffer b = ByteBuffer.wrap(body, jsonLength, length - jsonLength).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(length - jsonLength) / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat();
        }
        return out;
    }
}
