package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.serve.proto.DataType;
import io.hotpath.serve.proto.InferParameter;
import io.hotpath.serve.proto.InferTensorContents;
import io.hotpath.serve.proto.ModelConfig;
import io.hotpath.serve.proto.ModelConfigRequest;
import io.hotpath.serve.proto.ModelInferRequest;
import io.hotpath.serve.proto.ModelInferResponse;
import io.hotpath.serve.proto.ModelInstanceGroup;
import io.hotpath.serve.proto.ModelMetadataRequest;
import io.hotpath.serve.proto.ModelMetadataResponse;
import io.hotpath.serve.proto.ModelReadyRequest;
import io.hotpath.serve.proto.ModelStatistics;
import io.hotpath.serve.proto.ModelStatisticsRequest;
import io.hotpath.serve.proto.ModelStatisticsResponse;
import io.hotpath.serve.proto.ServerLiveRequest;
import io.hotpath.serve.proto.ServerMetadataRequest;
import io.hotpath.serve.proto.ServerMetadataResponse;
import io.hotpath.serve.proto.ServerReadyRequest;
import io.hotpath.service.Request;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real {@link HotpathServer} with the gRPC transport over the built-in {@code mlp} model, called
 * by grpc-java's Netty client through the hand-built method descriptors: every RPC, inference
 * against the model run directly, every refusal and its status code, deadlines, cancellation and
 * the message size limit.
 */
class GrpcTransportTest {
    private static final int FEATURES = 64;
    private static final long SLOW_QUEUE_DELAY_MICROS = 1_000_000;

    private static ServedModel mlp;
    private static ServedModel tight;
    private static ServedModel unbatched;
    private static ServedModel looped;
    private static ServedModel slowDeadline;
    private static ServedModel slowCancel;
    private static HotpathServer server;
    private static ManagedChannel channel;
    private static Request direct;

    @BeforeAll
    static void start() {
        Path file = io.hotpath.models.ModelCatalog.resolve("mlp");
        ModelRegistry registry = new ModelRegistry();
        List<ServedModel> opened = new ArrayList<>();
        try {
            mlp = add(registry, opened, ModelSettings.defaults("mlp", file).open(null));
            tight = add(registry, opened, ModelSettings.defaults("tight", file).withSlots(1).open(null));
            // no batcher: each request runs at once on the event loop that decoded it
            unbatched = add(registry, opened, ModelSettings.defaults("unbatched", file).withDynamicBatching(false).open(null));
            // a batcher run by the event loop that read the calls
            looped = add(registry, opened, ModelSettings.defaults("looped", file).withBatcherOnEventLoop(true).open(null));
            // a batcher that waits a second for company: a lone row stays queued long enough to time out or be cancelled
            slowDeadline = add(registry, opened, ModelSettings.defaults("slow-deadline", file).withSlots(4)
                    .withBatching(ModelSettings.DEFAULT_MAX_BATCH, SLOW_QUEUE_DELAY_MICROS).open(null));
            slowCancel = add(registry, opened, ModelSettings.defaults("slow-cancel", file).withSlots(4)
                    .withBatching(ModelSettings.DEFAULT_MAX_BATCH, SLOW_QUEUE_DELAY_MICROS).open(null));
            server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", -1, 0, -1, 1),
                    GrpcTransport::start);
        } catch (RuntimeException | Error e) {
            opened.forEach(ServedModel::close);
            throw e;
        }
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .proxyDetector(address -> null)
                .maxInboundMessageSize(16 << 20)
                .build();
        direct = mlp.service().newRequest();
    }

    private static ServedModel add(ModelRegistry registry, List<ServedModel> opened, ServedModel m) {
        opened.add(m);
        registry.add(m);
        return m;
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    // ---- health, metadata, config, statistics

    @Test
    void healthAndReadiness() {
        assertTrue(call(GrpcInferenceMethods.SERVER_LIVE, ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(call(GrpcInferenceMethods.SERVER_READY, ServerReadyRequest.getDefaultInstance()).getReady());
        assertTrue(call(GrpcInferenceMethods.MODEL_READY, ModelReadyRequest.newBuilder().setName("mlp").build()).getReady());
        assertTrue(call(GrpcInferenceMethods.MODEL_READY, ModelReadyRequest.newBuilder().setName("mlp").setVersion("1").build()).getReady());
        StatusRuntimeException unknown = fails(GrpcInferenceMethods.MODEL_READY, ModelReadyRequest.newBuilder().setName("nope").build());
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        assertEquals("unknown model 'nope'", unknown.getStatus().getDescription());
        StatusRuntimeException version = fails(GrpcInferenceMethods.MODEL_READY,
                ModelReadyRequest.newBuilder().setName("mlp").setVersion("7").build());
        assertEquals(Status.Code.NOT_FOUND, version.getStatus().getCode());
        assertEquals("model 'mlp' has no version '7'; it has [1]", version.getStatus().getDescription());
    }

    @Test
    void serverMetadata() {
        ServerMetadataResponse r = call(GrpcInferenceMethods.SERVER_METADATA, ServerMetadataRequest.getDefaultInstance());
        assertEquals("hotpath", r.getName());
        assertEquals("test", r.getVersion());
        assertEquals(ServerInfo.EXTENSIONS, r.getExtensionsList());
    }

    @Test
    void modelMetadata() {
        ModelMetadataResponse r = call(GrpcInferenceMethods.MODEL_METADATA, ModelMetadataRequest.newBuilder().setName("mlp").build());
        assertEquals("mlp", r.getName());
        assertEquals(List.of("1"), r.getVersionsList());
        assertEquals("onnxruntime_onnx", r.getPlatform());
        assertEquals(1, r.getInputsCount());
        assertEquals("features", r.getInputs(0).getName());
        assertEquals("FP32", r.getInputs(0).getDatatype());
        assertEquals(List.of(-1L, (long) FEATURES), r.getInputs(0).getShapeList());
        assertEquals(1, r.getOutputsCount());
        assertEquals("score", r.getOutputs(0).getName());
        assertEquals("FP32", r.getOutputs(0).getDatatype());
        assertEquals(List.of(-1L, 1L), r.getOutputs(0).getShapeList());
        assertEquals(Status.Code.NOT_FOUND,
                fails(GrpcInferenceMethods.MODEL_METADATA, ModelMetadataRequest.newBuilder().setName("nope").build()).getStatus().getCode());
    }

    @Test
    void modelConfig() {
        ModelConfig c = call(GrpcInferenceMethods.MODEL_CONFIG, ModelConfigRequest.newBuilder().setName("mlp").build()).getConfig();
        assertEquals("mlp", c.getName());
        assertEquals("onnxruntime_onnx", c.getPlatform());
        assertEquals("onnxruntime", c.getBackend());
        assertEquals(ModelSettings.DEFAULT_MAX_BATCH, c.getMaxBatchSize());
        assertEquals("features", c.getInput(0).getName());
        assertEquals(DataType.TYPE_FP32, c.getInput(0).getDataType());
        assertEquals(List.of((long) FEATURES), c.getInput(0).getDimsList());
        assertEquals("score", c.getOutput(0).getName());
        assertEquals(DataType.TYPE_FP32, c.getOutput(0).getDataType());
        assertEquals(List.of(1L), c.getOutput(0).getDimsList());
        assertTrue(c.hasDynamicBatching());
        assertEquals(ModelSettings.DEFAULT_QUEUE_DELAY_MICROS, c.getDynamicBatching().getMaxQueueDelayMicroseconds());
        assertEquals(0, c.getDynamicBatching().getPreferredBatchSizeCount());
        assertTrue(c.hasResponseCache());
        assertFalse(c.getResponseCache().getEnable());
        assertEquals(1, c.getInstanceGroupCount());
        assertEquals(1, c.getInstanceGroup(0).getCount());
        assertEquals(ModelInstanceGroup.Kind.KIND_CPU, c.getInstanceGroup(0).getKind());
        ModelConfig slow = call(GrpcInferenceMethods.MODEL_CONFIG, ModelConfigRequest.newBuilder().setName("slow-cancel").build()).getConfig();
        assertEquals(SLOW_QUEUE_DELAY_MICROS, slow.getDynamicBatching().getMaxQueueDelayMicroseconds());
        assertEquals(Status.Code.NOT_FOUND,
                fails(GrpcInferenceMethods.MODEL_CONFIG, ModelConfigRequest.newBuilder().setName("nope").build()).getStatus().getCode());
    }

    @Test
    void modelStatistics() {
        ModelStatistics before = statistics("mlp");
        float[][] rows = rows(2, 11);
        infer(rawRequest("mlp", rows).build());
        fails(GrpcInferenceMethods.MODEL_INFER, rawRequest("mlp", rows).setRawInputContents(0, ByteString.copyFrom(new byte[12])).build());
        ModelStatistics after = statistics("mlp");
        assertEquals("1", after.getVersion());
        assertEquals(before.getInferenceCount() + 2, after.getInferenceCount());
        assertEquals(before.getInferenceStats().getSuccess().getCount() + 1, after.getInferenceStats().getSuccess().getCount());
        assertEquals(before.getInferenceStats().getFail().getCount() + 1, after.getInferenceStats().getFail().getCount());
        assertTrue(after.getInferenceStats().getSuccess().getNs() > before.getInferenceStats().getSuccess().getNs());
        assertTrue(after.getExecutionCount() > 0);
        assertTrue(after.getLastInference() > 0);

        ModelStatisticsResponse all = call(GrpcInferenceMethods.MODEL_STATISTICS, ModelStatisticsRequest.getDefaultInstance());
        assertEquals(List.of("looped", "mlp", "slow-cancel", "slow-deadline", "tight", "unbatched"), all.getModelStatsList().stream().map(ModelStatistics::getName).toList());
        assertEquals(1, call(GrpcInferenceMethods.MODEL_STATISTICS, ModelStatisticsRequest.newBuilder().setName("mlp").setVersion("1").build())
                .getModelStatsCount());
        assertEquals(Status.Code.NOT_FOUND,
                fails(GrpcInferenceMethods.MODEL_STATISTICS, ModelStatisticsRequest.newBuilder().setName("nope").build()).getStatus().getCode());
    }

    private static ModelStatistics statistics(String model) {
        ModelStatisticsResponse r = call(GrpcInferenceMethods.MODEL_STATISTICS, ModelStatisticsRequest.newBuilder().setName(model).build());
        assertEquals(1, r.getModelStatsCount());
        assertEquals(model, r.getModelStats(0).getName());
        return r.getModelStats(0);
    }

    // ---- inference

    @Test
    void rawBatchOfOneMatchesTheModelRunDirectly() {
        float[][] rows = rows(1, 1);
        ModelInferResponse r = infer(rawRequest("mlp", rows).setId("request-1").build());
        assertEquals("mlp", r.getModelName());
        assertEquals("1", r.getModelVersion());
        assertEquals("request-1", r.getId());
        assertEquals(1, r.getOutputsCount());
        assertEquals("score", r.getOutputs(0).getName());
        assertEquals("FP32", r.getOutputs(0).getDatatype());
        assertEquals(List.of(1L, 1L), r.getOutputs(0).getShapeList());
        assertEquals(1, r.getRawOutputContentsCount());
        assertArrayEquals(directScores(rows), r.getRawOutputContents(0).toByteArray());
    }

    /** Sixteen calls of 1-4 rows at once to a model batched on the event loop: each answered, and right. */
    @Test
    void concurrentCallsToAModelBatchedOnTheEventLoop() throws Exception {
        assertTrue(looped.batchesOnEventLoop());
        List<float[][]> sent = new ArrayList<>();
        List<CompletableFuture<ModelInferResponse>> answers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            float[][] rows = rows(1 + i % 4, 500 + i);
            sent.add(rows);
            answers.add(inferAsync(rawRequest("looped", rows).build(), CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)));
        }
        for (int i = 0; i < 16; i++) {
            ModelInferResponse r = answers.get(i).get(30, TimeUnit.SECONDS);
            assertEquals(List.of((long) sent.get(i).length, 1L), r.getOutputs(0).getShapeList());
            float[] want = floats(directScores(sent.get(i)));
            float[] got = floats(r.getRawOutputContents(0).toByteArray());
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, 1e-5f, "call " + i);
        }
        awaitValue(() -> looped.stats().pendingNow(), 0);
    }

    private static float[] floats(byte[] littleEndian) {
        ByteBuffer b = ByteBuffer.wrap(littleEndian).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[littleEndian.length / 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = b.getFloat();
        }
        return f;
    }

    @Test
    void rawBatchOfThreeMatchesTheModelRunDirectly() {
        float[][] rows = rows(3, 2);
        ModelInferResponse r = infer(rawRequest("mlp", rows).build());
        assertEquals(List.of(3L, 1L), r.getOutputs(0).getShapeList());
        assertEquals("", r.getId());
        assertArrayEquals(directScores(rows), r.getRawOutputContents(0).toByteArray());
    }

    @Test
    void typedFp32ContentsMatchRawContents() {
        float[][] rows = rows(2, 3);
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (float[] row : rows) {
            for (float v : row) {
                c.addFp32Contents(v);
            }
        }
        ModelInferRequest typed = ModelInferRequest.newBuilder().setModelName("mlp")
                .addInputs(input(rows.length).setContents(c))
                .build();
        ModelInferResponse r = infer(typed);
        assertEquals(List.of(2L, 1L), r.getOutputs(0).getShapeList());
        assertArrayEquals(directScores(rows), r.getRawOutputContents(0).toByteArray());
        assertArrayEquals(infer(rawRequest("mlp", rows).build()).getRawOutputContents(0).toByteArray(),
                r.getRawOutputContents(0).toByteArray());
    }

    @Test
    void aModelWithoutDynamicBatchingAnswersOnTheEventLoop() {
        float[][] rows = rows(3, 13);
        ModelInferResponse r = infer(rawRequest("unbatched", rows).build());
        assertEquals("unbatched", r.getModelName());
        assertEquals(List.of(3L, 1L), r.getOutputs(0).getShapeList());
        assertArrayEquals(directScores(rows), r.getRawOutputContents(0).toByteArray());
        assertEquals(0, unbatched.stats().pendingNow());
        ModelConfig c = call(GrpcInferenceMethods.MODEL_CONFIG, ModelConfigRequest.newBuilder().setName("unbatched").build()).getConfig();
        assertFalse(c.hasDynamicBatching());
        assertEquals(ModelSettings.DEFAULT_MAX_BATCH, c.getMaxBatchSize());
    }

    @Test
    void requestedOutputsAreTheOnesReturned() {
        float[][] rows = rows(1, 4);
        ModelInferResponse r = infer(rawRequest("mlp", rows)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("score"))
                .putParameters("timeout", InferParameter.newBuilder().setInt64Param(10_000_000).build())
                .build());
        assertEquals(1, r.getOutputsCount());
        assertEquals("score", r.getOutputs(0).getName());
        assertArrayEquals(directScores(rows), r.getRawOutputContents(0).toByteArray());
        invalid("unexpected inference output 'nope' for model 'mlp'; its outputs are [score]", rawRequest("mlp", rows)
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope")));
    }

    @Test
    void malformedRequestsAreInvalidArgumentWithTheHttpReasons() {
        float[][] rows = rows(2, 5);
        long badBefore = mlp.stats().snapshot().bad();
        invalid("unexpected inference input 'other' for model 'mlp'; its inputs are [features]",
                rawRequest("mlp", rows).setInputs(0, input(2).setName("other")));
        invalid("input 'features' has datatype INT64; model 'mlp' takes FP32",
                rawRequest("mlp", rows).setInputs(0, input(2).setDatatype("INT64")));
        invalid("input 'features' has shape [2,63]; model 'mlp' expects [2,64] (spec [batch,64])",
                rawRequest("mlp", rows).setInputs(0, input(2).setShape(1, 63)));
        invalid("raw_input_contents has 2 entries; the request has 1 inputs",
                rawRequest("mlp", rows).addRawInputContents(ByteString.copyFrom(new byte[8])));
        invalid("input 'features' has 500 bytes in raw_input_contents; shape [2,64] of FP32 takes 512 bytes",
                rawRequest("mlp", rows).setRawInputContents(0, ByteString.copyFrom(new byte[500])));
        invalid("input 'features' has both contents and raw_input_contents",
                rawRequest("mlp", rows).setInputs(0, input(2).setContents(InferTensorContents.newBuilder().addFp32Contents(1f))));
        invalid("input 'features': string elements (BYTES) are not supported; every model input here is numeric",
                ModelInferRequest.newBuilder().setModelName("mlp")
                        .addInputs(input(1).setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("x")))));
        invalid("input 'features' has 3 elements in fp32_contents; shape [1,64] takes 64",
                ModelInferRequest.newBuilder().setModelName("mlp")
                        .addInputs(input(1).setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2).addFp32Contents(3))));
        invalid("input 'features' of datatype FP32 has elements outside fp32_contents, the field of its datatype",
                ModelInferRequest.newBuilder().setModelName("mlp")
                        .addInputs(input(1).setContents(InferTensorContents.newBuilder().addInt64Contents(1))));
        invalid("input 'features' has no contents and the request no raw_input_contents",
                ModelInferRequest.newBuilder().setModelName("mlp").addInputs(input(1)));
        invalid("expected input 'features' for model 'mlp'; missing", ModelInferRequest.newBuilder().setModelName("mlp"));
        invalid("batch size 33 outside [1, 32] for model 'mlp'", rawRequest("mlp", rows).setInputs(0, input(33)));
        invalid("parameter \"timeout\" must be a non-negative integer (microseconds)", rawRequest("mlp", rows)
                .putParameters("timeout", InferParameter.newBuilder().setStringParam("soon").build()));
        assertEquals(badBefore + 13, mlp.stats().snapshot().bad());
        // the server still answers
        assertArrayEquals(directScores(rows), infer(rawRequest("mlp", rows).build()).getRawOutputContents(0).toByteArray());
    }

    @Test
    void unknownModelOrVersionIsNotFound() {
        StatusRuntimeException e = fails(GrpcInferenceMethods.MODEL_INFER, rawRequest("nope", rows(1, 6)).build());
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals("unknown model 'nope'", e.getStatus().getDescription());
        e = fails(GrpcInferenceMethods.MODEL_INFER, rawRequest("mlp", rows(1, 6)).setModelVersion("2").build());
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals("model 'mlp' has no version '2'; it has [1]", e.getStatus().getDescription());
    }

    @Test
    void moreRowsThanFreeSlotsIsResourceExhaustedAtOnce() {
        long rejectedBefore = tight.stats().snapshot().rejected();
        StatusRuntimeException e = fails(GrpcInferenceMethods.MODEL_INFER, rawRequest("tight", rows(2, 7)).build());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals("model 'tight' is at capacity (1 rows in flight); retry later", e.getStatus().getDescription());
        assertEquals(rejectedBefore + 1, tight.stats().snapshot().rejected());
        float[][] one = rows(1, 7);
        assertArrayEquals(directScores(one), inferWhenFree(rawRequest("tight", one).build()).getRawOutputContents(0).toByteArray());
    }

    @Test
    void concurrentCallsBeyondTheSlotsAreEachAnsweredOnce() throws Exception {
        float[][] one = rows(1, 8);
        byte[] expected = directScores(one);
        ModelInferRequest req = rawRequest("tight", one).build();
        List<CompletableFuture<ModelInferResponse>> answers = new ArrayList<>();
        for (int k = 0; k < 64; k++) {
            answers.add(inferAsync(req, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)));
        }
        int ok = 0;
        int busy = 0;
        for (CompletableFuture<ModelInferResponse> a : answers) {
            try {
                assertArrayEquals(expected, a.get(30, TimeUnit.SECONDS).getRawOutputContents(0).toByteArray());
                ok++;
            } catch (java.util.concurrent.ExecutionException x) {
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, Status.fromThrowable(x.getCause()).getCode(), x.getCause().toString());
                busy++;
            }
        }
        assertEquals(64, ok + busy);
        assertTrue(ok >= 1);
        awaitValue(() -> tight.stats().pendingNow(), 0);
        assertArrayEquals(expected, inferWhenFree(req).getRawOutputContents(0).toByteArray());
    }

    @Test
    void deadlinesBecomeTheCallsDeadline() {
        warmUp(slowDeadline);
        float[][] one = rows(1, 9);
        // a deadline already past: never a result
        StatusRuntimeException past = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel,
                GrpcInferenceMethods.MODEL_INFER, CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.NANOSECONDS), rawRequest("mlp", one).build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, past.getStatus().getCode());

        // Triton's timeout parameter (microseconds): the server answers DEADLINE_EXCEEDED through HttpStatusMap
        ModelStats.Snapshot before = slowDeadline.stats().snapshot();
        StatusRuntimeException timeout = fails(GrpcInferenceMethods.MODEL_INFER, rawRequest("slow-deadline", one)
                .putParameters("timeout", InferParameter.newBuilder().setInt64Param(1).build()).build());
        assertEquals(Status.Code.DEADLINE_EXCEEDED, timeout.getStatus().getCode());
        assertEquals("deadline exceeded before model 'slow-deadline' ran the request", timeout.getStatus().getDescription());
        assertEquals(before.timedOut() + 1, slowDeadline.stats().snapshot().timedOut());

        // the gRPC deadline: the row (queued for a second) is answered TIMEOUT by the batcher, not run
        StatusRuntimeException grpc = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel,
                GrpcInferenceMethods.MODEL_INFER, CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS),
                rawRequest("slow-deadline", one).build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, grpc.getStatus().getCode());
        awaitValue(() -> slowDeadline.stats().snapshot().timedOut(), before.timedOut() + 2);
        awaitValue(() -> slowDeadline.stats().pendingNow(), 0);
        assertEquals(before.success(), slowDeadline.stats().snapshot().success());
        assertEquals(0, mlp.stats().pendingNow());
    }

    @Test
    void aCancelledCallIsDroppedAndTheServerAnswersOthers() throws Exception {
        warmUp(slowCancel);
        long successBefore = slowCancel.stats().snapshot().success();
        ClientCall<ModelInferRequest, ModelInferResponse> c = channel.newCall(GrpcInferenceMethods.MODEL_INFER, CallOptions.DEFAULT);
        CompletableFuture<ModelInferResponse> answer = new CompletableFuture<>();
        ClientCalls.asyncUnaryCall(c, rawRequest("slow-cancel", rows(1, 10)).build(), observer(answer));
        awaitValue(() -> slowCancel.stats().pendingNow(), 1);          // submitted: its row waits for company
        c.cancel("the test gives up", null);
        java.util.concurrent.ExecutionException x = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> answer.get(10, TimeUnit.SECONDS));
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(x.getCause()).getCode());

        assertTrue(call(GrpcInferenceMethods.SERVER_LIVE, ServerLiveRequest.getDefaultInstance()).getLive());
        float[][] rows = rows(2, 10);
        assertArrayEquals(directScores(rows), infer(rawRequest("mlp", rows).build()).getRawOutputContents(0).toByteArray());

        // the cancelled row still runs; its answer is dropped and its slot comes back
        awaitValue(() -> slowCancel.stats().pendingNow(), 0);
        assertEquals(successBefore + 1, slowCancel.stats().snapshot().success());
        warmUp(slowCancel);     // takes all 4 slots: fails RESOURCE_EXHAUSTED if the cancelled call kept one
    }

    @Test
    void aMessageOverTheSizeLimitIsResourceExhausted() {
        ModelInferRequest big = rawRequest("mlp", rows(1, 12)).setRawInputContents(0, ByteString.copyFrom(new byte[(1 << 20) + 1])).build();
        StatusRuntimeException e = fails(GrpcInferenceMethods.MODEL_INFER, big);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        float[][] one = rows(1, 12);
        assertArrayEquals(directScores(one), infer(rawRequest("mlp", one).build()).getRawOutputContents(0).toByteArray());
    }

    // ---- helpers

    /**
     * A batch of 4 on a slow model: makes its 4 request slots, so that a lone row then waits for
     * company; it needs every slot free (a slot kept by an earlier call fails it after 10 s).
     */
    private static void warmUp(ServedModel m) {
        float[][] rows = rows(4, 99);
        ModelInferResponse r = inferWhenFree(rawRequest(m.name(), rows).build());
        assertEquals(List.of(4L, 1L), r.getOutputs(0).getShapeList());
    }

    private static float[][] rows(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] rows = new float[n][FEATURES];
        for (float[] row : rows) {
            for (int f = 0; f < FEATURES; f++) {
                row[f] = (float) (random.nextDouble() * 4 - 2);
            }
        }
        return rows;
    }

    private static ModelInferRequest.InferInputTensor.Builder input(int batch) {
        return ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32").addShape(batch).addShape(FEATURES);
    }

    private static ModelInferRequest.Builder rawRequest(String model, float[][] rows) {
        ByteBuffer b = ByteBuffer.allocate(rows.length * FEATURES * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : rows) {
            for (float v : row) {
                b.putFloat(v);
            }
        }
        b.flip();
        return ModelInferRequest.newBuilder().setModelName(model).addInputs(input(rows.length)).addRawInputContents(ByteString.copyFrom(b));
    }

    /** The rows' scores from the model's own service, one row per request, as little-endian FP32 bytes. */
    private static synchronized byte[] directScores(float[][] rows) {
        ByteBuffer out = ByteBuffer.allocate(rows.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : rows) {
            MemorySegment.copy(row, 0, direct.input(0).data(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, FEATURES);
            assertEquals(BatchStatus.OK, mlp.service().infer(direct));
            out.putFloat(direct.output(0).getFloat(0));
        }
        return out.array();
    }

    private static ModelInferResponse infer(ModelInferRequest req) {
        return call(GrpcInferenceMethods.MODEL_INFER, req);
    }

    /**
     * Infers, retrying RESOURCE_EXHAUSTED for up to 10 s: a call's slots go back to the model on
     * the event loop just after its statistics count it finished.
     */
    private static ModelInferResponse inferWhenFree(ModelInferRequest req) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return infer(req);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED || System.nanoTime() > end) {
                    throw e;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static void invalid(String reason, ModelInferRequest.Builder req) {
        StatusRuntimeException e = fails(GrpcInferenceMethods.MODEL_INFER, req.build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
        assertEquals(reason, e.getStatus().getDescription());
    }

    private static <Q, R> R call(MethodDescriptor<Q, R> method, Q request) {
        return ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
    }

    private static <Q, R> StatusRuntimeException fails(MethodDescriptor<Q, R> method, Q request) {
        return assertThrows(StatusRuntimeException.class, () -> call(method, request));
    }

    private static CompletableFuture<ModelInferResponse> inferAsync(ModelInferRequest req, CallOptions options) {
        CompletableFuture<ModelInferResponse> f = new CompletableFuture<>();
        ClientCalls.asyncUnaryCall(channel.newCall(GrpcInferenceMethods.MODEL_INFER, options), req, observer(f));
        return f;
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> f) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                assertNotNull(value);
                f.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                if (!f.isDone()) {
                    f.completeExceptionally(new AssertionError("completed without a message"));
                }
            }
        };
    }

    /** Waits up to 10 s for {@code value} to read {@code want}. */
    private static void awaitValue(LongSupplier value, long want) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long v;
        while ((v = value.getAsLong()) != want && System.nanoTime() < end) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        assertEquals(want, v);
    }
}
