package io.hotpath.serve.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.serve.GrpcInferenceMethods;
import io.hotpath.serve.GrpcTransport;
import io.hotpath.serve.HotpathServer;
import io.hotpath.serve.ModelRegistry;
import io.hotpath.serve.ModelSettings;
import io.hotpath.serve.ServedModel;
import io.hotpath.serve.ServerInfo;
import io.hotpath.serve.proto.ModelInferRequest;
import io.hotpath.serve.proto.ModelInferResponse;
import io.hotpath.service.Request;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link GrpcInferClient} against a real {@link HotpathServer} over the built-in {@code mlp}:
 * its answers equal grpc-java's and the in-process service's, requests and answers over many
 * frames and past the server's flow-control window, the server's refusals read from its trailers,
 * polling, and no allocation per call.
 */
class GrpcInferClientTest {
    private static final int FEATURES = 64;
    /** Rows in one request to {@code wide}: 2 MiB of input, past the server's 1 MiB window and over many 16 KiB frames. */
    private static final int WIDE_ROWS = 8192;

    private static ServedModel mlp;
    private static ServedModel wide;
    private static HotpathServer server;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        Path file = io.hotpath.models.ModelCatalog.resolve("mlp");
        ModelRegistry registry = new ModelRegistry();
        mlp = ModelSettings.defaults("mlp", file).withDynamicBatching(false).open(null);
        registry.add(mlp);
        wide = ModelSettings.defaults("wide", file).withSlots(WIDE_ROWS).withBatching(WIDE_ROWS, 0).open(null);
        registry.add(wide);
        // a lone row waits 60 s for company here (once four request handles exist): a call that does not come back
        registry.add(ModelSettings.defaults("stalled", file).withSlots(8).withBatching(32, 60_000_000).open(null));
        server = HotpathServer.start(registry, ServerInfo.of("test", 8 << 20), new HotpathServer.Listen("127.0.0.1", -1, 0, -1, 1),
                GrpcTransport::start);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().maxInboundMessageSize(16 << 20).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();      // closes the served models too
        }
    }

    @Test
    void answersEqualGrpcJavasAndTheServicesOwn() throws IOException {
        try (GrpcInferClient c = client("mlp", 1)) {
            for (int i = 0; i < 200; i++) {
                ByteBuffer row = rows(1, i);
                assertEquals(GrpcInferClient.OK, c.infer(row.duplicate()), () -> c.statusMessage());
                assertEquals(1, c.rawOutputs());
                byte[] mine = bytes(c.rawOutput(0));
                ModelInferResponse theirs = ClientCalls.blockingUnaryCall(channel, GrpcInferenceMethods.MODEL_INFER, CallOptions.DEFAULT,
                        request("mlp", 1, row.duplicate()));
                assertArrayEquals(theirs.getRawOutputContents(0).toByteArray(), mine);
                assertArrayEquals(direct(mlp, row.duplicate(), 1), mine);
                assertEquals(ByteBuffer.wrap(mine).order(ByteOrder.LITTLE_ENDIAN).getFloat(0), c.outputFloat(0));
            }
        }
    }

    @Test
    void aRequestOverManyFramesAndPastTheFlowControlWindow() throws IOException {
        try (GrpcInferClient c = client("wide", WIDE_ROWS)) {
            for (int i = 0; i < 3; i++) {
                ByteBuffer rows = rows(WIDE_ROWS, 1000 + i);
                assertEquals(GrpcInferClient.OK, c.infer(rows.duplicate()), () -> c.statusMessage());
                // 32 KiB of scores: the answer too comes in several DATA frames. Which rows share an engine run
                // depends on when the batcher drains them, and the last bit of a score can depend on that
                ByteBuffer expected = ByteBuffer.wrap(direct(mlp, rows, WIDE_ROWS)).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer got = c.rawOutput(0);
                assertEquals(WIDE_ROWS * 4, got.remaining());
                for (int r = 0; r < WIDE_ROWS; r++) {
                    float e = expected.getFloat(r * 4);
                    assertEquals(e, got.getFloat(r * 4), 1e-5f * Math.max(1f, Math.abs(e)), "row " + r);
                }
            }
        }
    }

    @Test
    void refusalsComeWithTheServersStatusAndMessage() throws IOException {
        try (GrpcInferClient unknown = client("nope", 1)) {
            assertEquals(5, unknown.infer(rows(1, 1)));          // NOT_FOUND
            assertEquals("unknown model 'nope'", unknown.statusMessage());
        }
        // the shape says 2 rows, the bytes hold 1: the server refuses the sizes
        List<HttpInferClient.Input> lying = List.of(new HttpInferClient.Input("features", "FP32", new long[] {2, FEATURES}, FEATURES * 4L));
        try (GrpcInferClient c = new GrpcInferClient("127.0.0.1", server.grpcPort(), "mlp", lying)) {
            assertEquals(3, c.infer(rows(1, 2)));                // INVALID_ARGUMENT
            assertTrue(c.statusMessage().contains("byte"), c.statusMessage());
            assertEquals(3, c.infer(rows(1, 3)));                // the connection goes on after a refusal
        }
        try (GrpcInferClient c = client("mlp", 1)) {
            assertThrows(IllegalArgumentException.class, () -> c.infer(rows(2, 4)));
            assertEquals(GrpcInferClient.OK, c.infer(rows(1, 5)));
        }
    }

    @Test
    void aRefusalWhileTheRequestIsStillBeingSentEndsTheCall() throws IOException {
        // 10 MiB over the server's 8 MiB message limit: grpc-java refuses on reading the message's length, long before
        // the client has sent it all (its windows let 1 MiB through), and stops opening the windows
        int rows = 40_000;
        try (GrpcInferClient c = client("wide", rows)) {
            assertEquals(8, c.infer(rows(rows, 6)));            // RESOURCE_EXHAUSTED
            assertTrue(c.statusMessage().contains("8388608"), c.statusMessage());
        }
        try (GrpcInferClient c = client("mlp", 1)) {
            assertEquals(GrpcInferClient.OK, c.infer(rows(1, 7)));
        }
    }

    @Test
    void pollingGivesTheSameAnswers() throws IOException {
        try (GrpcInferClient c = client("mlp", 1).spin(true)) {
            for (int i = 0; i < 50; i++) {
                ByteBuffer row = rows(1, 500 + i);
                assertEquals(GrpcInferClient.OK, c.infer(row.duplicate()));
                assertArrayEquals(direct(mlp, row, 1), bytes(c.rawOutput(0)));
            }
        }
    }

    @Test
    void aCallAllocatesNothingOnTheCallersThread() throws IOException {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (GrpcInferClient c = client("mlp", 1)) {
            ByteBuffer row = rows(1, 7);
            float sum = 0;
            for (int i = 0; i < 3000; i++) {
                row.clear();
                assertEquals(GrpcInferClient.OK, c.infer(row));
            }
            // past the wrap of the client's read buffer and several of the server's WINDOW_UPDATEs. Up to three windows
            // of 10,000 calls: a JIT event (a deoptimization re-running a call in the interpreter, where allocations the
            // compiler removes are made) may land in one, seen once in CI; a call that allocates shows in every window.
            List<Long> windows = new ArrayList<>();
            for (int w = 0; w < 3 && (windows.isEmpty() || windows.get(windows.size() - 1) != 0L); w++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 10_000; i++) {
                    row.clear();
                    if (c.infer(row) != GrpcInferClient.OK) {
                        throw new AssertionError(c.statusMessage());
                    }
                    sum += c.outputFloat(0);
                }
                windows.add(threads.getCurrentThreadAllocatedBytes() - before);
            }
            assertTrue(Float.isFinite(sum));
            assertEquals(0L, (long) windows.get(windows.size() - 1), "bytes allocated by 10,000 calls, window by window: " + windows);
        }
    }

    @Test
    void aBusyPollingServerAnswersBothClients() throws IOException {
        ModelRegistry registry = new ModelRegistry();
        ServedModel m = ModelSettings.defaults("mlp", io.hotpath.models.ModelCatalog.resolve("mlp")).withDynamicBatching(false).open(null);
        registry.add(m);
        // grpc-java writes its answers from an event-loop task: a polling loop must run those too
        HotpathServer s = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20),
                new HotpathServer.Listen("127.0.0.1", -1, 0, -1, 1, true), GrpcTransport::start);
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", s.grpcPort()).usePlaintext().build();
        try (GrpcInferClient c = new GrpcInferClient("127.0.0.1", s.grpcPort(), "mlp", inputs(1)).spin(true)) {
            for (int i = 0; i < 100; i++) {
                ByteBuffer row = rows(1, 900 + i);
                byte[] expected = direct(mlp, row.duplicate(), 1);
                assertEquals(GrpcInferClient.OK, c.infer(row.duplicate()));
                assertArrayEquals(expected, bytes(c.rawOutput(0)));
                ModelInferResponse theirs = ClientCalls.blockingUnaryCall(ch, GrpcInferenceMethods.MODEL_INFER,
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request("mlp", 1, row.duplicate()));
                assertArrayEquals(expected, theirs.getRawOutputContents(0).toByteArray());
            }
        } finally {
            ch.shutdownNow();
            s.close();
        }
    }

    @Test
    void closingFromAnotherThreadEndsACallInProgressForGood() throws Exception {
        try (GrpcInferClient four = client("stalled", 4)) {
            assertEquals(GrpcInferClient.OK, four.infer(rows(4, 10)));     // four handles: a lone row now waits for company
        }
        GrpcInferClient c = client("stalled", 1);
        java.util.concurrent.CompletableFuture<Object> call = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return c.infer(rows(1, 11));
            } catch (IOException e) {
                return e;
            }
        });
        Thread.sleep(200);
        c.close();
        Object outcome = call.get(30, TimeUnit.SECONDS);
        assertTrue(outcome instanceof IOException, String.valueOf(outcome));
        assertThrows(IOException.class, () -> c.infer(rows(1, 12)));      // closed: no reconnect
    }

    @Test
    void aClosedServerIsAnIOException() throws IOException {
        ModelRegistry registry = new ModelRegistry();
        ServedModel m = ModelSettings.defaults("mlp", io.hotpath.models.ModelCatalog.resolve("mlp")).withDynamicBatching(false).open(null);
        registry.add(m);
        HotpathServer s = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", -1, 0, -1, 1),
                GrpcTransport::start);
        GrpcInferClient c;
        try {
            c = new GrpcInferClient("127.0.0.1", s.grpcPort(), "mlp", inputs(1));
            assertEquals(GrpcInferClient.OK, c.infer(rows(1, 8)));
        } finally {
            s.close();
        }
        try (c) {
            IOException e = assertThrows(IOException.class, () -> c.infer(rows(1, 9)));
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
        }
    }

    private static GrpcInferClient client(String model, int rows) throws IOException {
        return new GrpcInferClient("127.0.0.1", server.grpcPort(), model, inputs(rows));
    }

    private static List<HttpInferClient.Input> inputs(int rows) {
        return List.of(new HttpInferClient.Input("features", "FP32", new long[] {rows, FEATURES}, rows * FEATURES * 4L));
    }

    private static ByteBuffer rows(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocateDirect(n * FEATURES * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n * FEATURES; i++) {
            b.putFloat((float) (random.nextDouble() * 4 - 2));
        }
        return b.flip();
    }

    private static ModelInferRequest request(String model, int rows, ByteBuffer payload) {
        return ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32").addShape(rows).addShape(FEATURES))
                .addRawInputContents(ByteString.copyFrom(payload)).build();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    /** The scores of {@code rows} rows from the model's own service, one row per request, as little-endian bytes. */
    private static byte[] direct(ServedModel m, ByteBuffer rows, int n) {
        ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        Request q = m.service().newRequest();
        MemorySegment in = MemorySegment.ofBuffer(rows);
        for (int r = 0; r < n; r++) {
            MemorySegment.copy(in, ValueLayout.JAVA_BYTE, (long) r * FEATURES * 4, q.input(0).data(), ValueLayout.JAVA_BYTE, 0, FEATURES * 4L);
            assertEquals(BatchStatus.OK, m.service().infer(q));
            out.putFloat(q.output(0).getFloat(0));
        }
        return out.array();
    }
}
