package io.hotpath.serve;

import io.hotpath.batcher.BatchStatus;

/** How a call's {@link BatchStatus} travels: the HTTP status, the gRPC code and the one-line reason. */
final class HttpStatusMap {
    private HttpStatusMap() {
    }

    static int http(int status) {
        return switch (status) {
            case BatchStatus.OK -> 200;
            case BatchStatus.REJECTED -> 429;
            case BatchStatus.TIMEOUT -> 504;
            case BatchStatus.SHUTDOWN -> 503;
            default -> 500;
        };
    }

    static io.grpc.Status.Code grpc(int status) {
        return switch (status) {
            case BatchStatus.OK -> io.grpc.Status.Code.OK;
            case BatchStatus.REJECTED -> io.grpc.Status.Code.RESOURCE_EXHAUSTED;
            case BatchStatus.TIMEOUT -> io.grpc.Status.Code.DEADLINE_EXCEEDED;
            case BatchStatus.SHUTDOWN -> io.grpc.Status.Code.UNAVAILABLE;
            default -> io.grpc.Status.Code.INTERNAL;
        };
    }

    static String reason(InferCall call) {
        String why = call.reason();
        return switch (call.status()) {
            case BatchStatus.REJECTED -> "model '" + call.model().name() + "' is at capacity (its queue is full); retry later";
            case BatchStatus.TIMEOUT -> "deadline exceeded before model '" + call.model().name() + "' ran the request";
            case BatchStatus.SHUTDOWN -> "model '" + call.model().name() + "' is shutting down";
            default -> "inference failed in model '" + call.model().name() + "'" + (why == null ? "" : ": " + why.lines().findFirst().orElse(""));
        };
    }
}
