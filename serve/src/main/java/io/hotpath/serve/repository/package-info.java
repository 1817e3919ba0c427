/**
 * Reading a Triton-style model repository so that an existing Triton repository of ONNX models
 * serves unchanged: {@link io.hotpath.serve.repository.ModelRepository#scan} finds the model
 * versions, {@link io.hotpath.serve.repository.Pbtxt} parses {@code config.pbtxt} (protobuf text
 * format, parsed here without protobuf), {@link io.hotpath.serve.repository.TritonModelConfig}
 * maps it to Triton's {@code ModelConfig} schema (warnings for what Hotpath ignores, errors with
 * {@code file:line:col} for what is wrong) and back to the JSON of Triton's config endpoint, and
 * {@link io.hotpath.serve.repository.HotpathModelOptions} reads Hotpath's own
 * {@code hotpath.properties}. Configuration time only: nothing here is on the request path.
 *
 * <p>May depend on: {@code hotpath-core} (exceptions, tensor specs), {@code hotpath-embed}
 * ({@code Precision}, {@code Budget}), {@code hotpath-ringbuffer-batcher} (its limits) and the JDK.
 * No third-party library.
 */
package io.hotpath.serve.repository;
