/**
 * {@code hotpath serve}: a model server that speaks the Open Inference Protocol (KServe v2) over
 * HTTP/REST and gRPC on Netty's native epoll transport, reads a Triton-style model repository
 * ({@code <repo>/<model>/<version>/model.onnx} with {@code config.pbtxt}) and publishes
 * Triton-named Prometheus metrics. Each model is an {@link io.hotpath.service.InferenceService}
 * built through {@link io.hotpath.embed.Hotpath}; wire bytes are decoded straight into the
 * requests' off-heap input slots.
 *
 * <p>May depend on: {@code hotpath-core}, {@code hotpath-service}, {@code hotpath-embed} and the
 * batcher and cache they use; Netty, grpc-java, protobuf, jackson-core. Engines are found at run
 * time, as everywhere else.
 */
package io.hotpath.serve;
