package io.hotpath.serve;

import io.grpc.Server;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.hotpath.core.TensorSpec;
import io.hotpath.serve.proto.InferStatistics;
import io.hotpath.serve.proto.ModelConfigRequest;
import io.hotpath.serve.proto.ModelConfigResponse;
import io.hotpath.serve.proto.ModelMetadataRequest;
import io.hotpath.serve.proto.ModelMetadataResponse;
import io.hotpath.serve.proto.ModelReadyRequest;
import io.hotpath.serve.proto.ModelReadyResponse;
import io.hotpath.serve.proto.ModelStatistics;
import io.hotpath.serve.proto.ModelStatisticsRequest;
import io.hotpath.serve.proto.ModelStatisticsResponse;
import io.hotpath.serve.proto.ServerLiveResponse;
import io.hotpath.serve.proto.ServerMetadataResponse;
import io.hotpath.serve.proto.ServerReadyResponse;
import io.hotpath.serve.proto.StatisticDuration;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Open Inference Protocol's gRPC transport ({@code inference.GRPCInferenceService}): grpc-java's
 * Netty server on the server's own event loops, with a direct executor (no handler blocks:
 * {@code ModelInfer} submits its rows and answers from a callback, {@link GrpcInferHandler}).
 * Health, metadata, config and statistics answer what the HTTP endpoints answer; status codes
 * follow {@link HttpStatusMap}. A message over the request size limit is refused by gRPC itself
 * with RESOURCE_EXHAUSTED.
 */
public final class GrpcTransport implements HotpathServer.Grpc {
    /** HTTP/2 flow-control window per stream (fixed, 1 MiB: inference messages are sent whole). */
    static final int FLOW_CONTROL_WINDOW = 1 << 20;

    private static final long CLOSE_WAIT_MILLIS = 5_000;

    private final Server server;
    private final ModelRegistry registry;
    private final ServerInfo info;

    private GrpcTransport(EventLoopGroup loops, Class<? extends ServerChannel> channelType, String host, int port, ModelRegistry registry,
            ServerInfo info) {
        this.registry = registry;
        this.info = info;
        GrpcInferHandler infer = new GrpcInferHandler(registry, info, loops);
        ServerServiceDefinition service = ServerServiceDefinition.builder(GrpcInferenceMethods.DESCRIPTOR)
                .addMethod(GrpcInferenceMethods.SERVER_LIVE, unary((q, out) -> answer(out,
                        ServerLiveResponse.newBuilder().setLive(registry.live()).build())))
                .addMethod(GrpcInferenceMethods.SERVER_READY, unary((q, out) -> answer(out,
                        ServerReadyResponse.newBuilder().setReady(registry.ready()).build())))
                .addMethod(GrpcInferenceMethods.MODEL_READY, unary(this::modelReady))
                .addMethod(GrpcInferenceMethods.SERVER_METADATA, unary((q, out) -> answer(out, ServerMetadataResponse.newBuilder()
                        .setName(info.name()).setVersion(info.version()).addAllExtensions(ServerInfo.EXTENSIONS).build())))
                .addMethod(GrpcInferenceMethods.MODEL_METADATA, unary(this::modelMetadata))
                .addMethod(GrpcInferenceMethods.MODEL_INFER, unary(infer::infer))
                .addMethod(GrpcInferenceMethods.MODEL_CONFIG, unary(this::modelConfig))
                .addMethod(GrpcInferenceMethods.MODEL_STATISTICS, unary(this::modelStatistics))
                .build();
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .bossEventLoopGroup(loops)
                .workerEventLoopGroup(loops)
                .channelType(channelType)
                .maxInboundMessageSize((int) info.maxRequestBytes())
                // a fixed window: grpc-java's automatic tuning sends BDP pings, each an extra round trip that
                // wakes both sides on a small request's latency path
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                .directExecutor()
                .addService(service)
                .build();
        try {
            this.server = s.start();
        } catch (IOException | RuntimeException e) {
            s.shutdownNow();
            throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.INVALID_ARGUMENT,
                    "cannot listen on " + host + ":" + port + " (grpc): " + e.getMessage(), e);
        }
    }

    /** Starts the transport; the signature of {@link HotpathServer.GrpcFactory}, so {@code GrpcTransport::start} is one. */
    public static HotpathServer.Grpc start(EventLoopGroup loops, Class<? extends ServerChannel> channelType, String host, int port,
            ModelRegistry registry, ServerInfo info) {
        return new GrpcTransport(loops, channelType, host, port, registry, info);
    }

    @Override
    public int port() {
        return server.getPort();
    }

    /** Refuses new calls and connections; calls already accepted are still answered. */
    @Override
    public void stopAccepting() {
        server.shutdown();
    }

    @Override
    public boolean awaitTermination(long millis) throws InterruptedException {
        return server.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }

    /** Cancels every call still open and waits for the listener and connections to close. */
    @Override
    public void close() {
        server.shutdownNow();
        try {
            if (!server.awaitTermination(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                info.log().log(System.Logger.Level.WARNING, "grpc server did not terminate within " + CLOSE_WAIT_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void modelReady(ModelReadyRequest q, StreamObserver<ModelReadyResponse> out) {
        ServedModel m = registry.find(q.getName(), q.getVersion());
        if (m == null) {
            out.onError(modelNotFound(registry, q.getName(), q.getVersion()));
            return;
        }
        answer(out, ModelReadyResponse.newBuilder().setReady(registry.ready()).build());
    }

    private void modelMetadata(ModelMetadataRequest q, StreamObserver<ModelMetadataResponse> out) {
        ServedModel m = registry.find(q.getName(), q.getVersion());
        if (m == null) {
            out.onError(modelNotFound(registry, q.getName(), q.getVersion()));
            return;
        }
        ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder()
                .setName(m.name())
                .addAllVersions(registry.versions(m.name()))
                .setPlatform(m.platform());
        for (TensorSpec t : m.inputs()) {
            b.addInputs(tensor(t));
        }
        for (TensorSpec t : m.outputs()) {
            b.addOutputs(tensor(t));
        }
        answer(out, b.build());
    }

    private static ModelMetadataResponse.TensorMetadata tensor(TensorSpec t) {
        ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(t.name())
                .setDatatype(java.util.Objects.requireNonNullElse(WireType.name(t.dtype()), ""));      // "": a type the protocol cannot name
        for (long d : Metadata.wireShape(t)) {
            b.addShape(d);
        }
        return b.build();
    }

    private void modelConfig(ModelConfigRequest q, StreamObserver<ModelConfigResponse> out) {
        ServedModel m = registry.find(q.getName(), q.getVersion());
        if (m == null) {
            out.onError(modelNotFound(registry, q.getName(), q.getVersion()));
            return;
        }
        answer(out, ModelConfigResponse.newBuilder().setConfig(GrpcModelConfig.of(m.config())).build());
    }

    /** Triton's statistics: every model for an empty name; every version of the model for an empty version. */
    private void modelStatistics(ModelStatisticsRequest q, StreamObserver<ModelStatisticsResponse> out) {
        Collection<ServedModel> models;
        if (q.getName().isEmpty()) {
            models = registry.all();
        } else if (q.getVersion().isEmpty()) {
            models = new ArrayList<>();
            for (String v : registry.versions(q.getName())) {
                models.add(registry.find(q.getName(), v));
            }
        } else {
            ServedModel m = registry.find(q.getName(), q.getVersion());
            models = m == null ? List.of() : List.of(m);
        }
        if (models.isEmpty()) {
            out.onError(modelNotFound(registry, q.getName(), q.getVersion()));
            return;
        }
        ModelStatisticsResponse.Builder b = ModelStatisticsResponse.newBuilder();
        for (ServedModel m : models) {
            ModelStats.Snapshot s = m.stats().snapshot();
            b.addModelStats(ModelStatistics.newBuilder()
                    .setName(m.name())
                    .setVersion(m.version())
                    .setLastInference(s.lastInferenceMillis())
                    .setInferenceCount(s.inferences())
                    .setExecutionCount(s.executions())
                    .setInferenceStats(InferStatistics.newBuilder()
                            .setSuccess(duration(s.success(), s.successNanos()))
                            .setFail(duration(s.failure(), s.failureNanos()))
                            .setQueue(duration(s.queued(), s.queueNanos()))
                            .setComputeInput(duration(0, 0))
                            .setComputeInfer(duration(s.executions(), s.computeNanos()))
                            .setComputeOutput(duration(0, 0))
                            .setCacheHit(duration(s.cacheHits(), 0))
                            .setCacheMiss(duration(s.cacheMisses(), 0))));
        }
        answer(out, b.build());
    }

    private static StatisticDuration duration(long count, long ns) {
        return StatisticDuration.newBuilder().setCount(count).setNs(ns).build();
    }

    /** NOT_FOUND with the HTTP endpoints' reason. */
    static StatusRuntimeException modelNotFound(ModelRegistry registry, String name, String version) {
        boolean known = !registry.versions(name).isEmpty();
        return status(Status.NOT_FOUND, known ? "model '" + name + "' has no version '" + version + "'; it has " + registry.versions(name)
                : "unknown model '" + name + "'");
    }

    /** {@code status} with the one-line {@code why}, as an exception without a stack trace. */
    static StatusRuntimeException status(Status status, String why) {
        return new Refusal(status.withDescription(why));
    }

    private static <T> void answer(StreamObserver<T> out, T response) {
        out.onNext(response);
        out.onCompleted();
    }

    /** A unary handler that answers INTERNAL, with the exception logged, when it throws. */
    private <Q, R> ServerCallHandler<Q, R> unary(ServerCalls.UnaryMethod<Q, R> method) {
        return ServerCalls.asyncUnaryCall((q, out) -> {
            try {
                method.invoke(q, out);
            } catch (RuntimeException | Error e) {
                info.log().log(System.Logger.Level.ERROR, "answering a grpc call: " + e, e);
                try {
                    out.onError(status(Status.INTERNAL, "internal error: " + e.getClass().getSimpleName()
                            + (e.getMessage() == null ? "" : ": " + e.getMessage().lines().findFirst().orElse(""))));
                } catch (RuntimeException alreadyClosed) {
                    e.addSuppressed(alreadyClosed);
                }
            }
        });
    }

    /** A status as an exception without a stack trace: refusals are expected, and frequent under overload. */
    private static final class Refusal extends StatusRuntimeException {
        private static final long serialVersionUID = 1L;

        Refusal(Status status) {
            super(status);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
