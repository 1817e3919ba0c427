/**
 * ONNX models as data: Hotpath's own protobuf rendering of the ONNX schema
 * ({@code io.hotpath.onnx.proto.Onnx}), a builder that writes models from Java
 * ({@link io.hotpath.onnx.OnnxBuilder}), the built-in models ({@link io.hotpath.onnx.BuiltinModels},
 * {@link io.hotpath.onnx.ModelCatalog}: {@code minilm}, {@code minilm-q}, {@code mlp}, {@code cnn})
 * and MiniLM's WordPiece tokenizer ({@link io.hotpath.onnx.WordPieceTokenizer}).
 *
 * <p>A module of its own (not in ARCHITECTURE.md's list) because three others need it and none
 * of them can own it: {@code engine-cpu}'s tests build models with it, the {@code optimizer}
 * builds its IR on the same generated classes, and {@code cli} resolves aliases through it;
 * putting it in the optimizer would make {@code engine-cpu} depend on a module that depends on it.
 *
 * <p>May depend on: protobuf-java, Jackson (to read {@code tokenizer.json}) and the Maven
 * artifacts that ship MiniLM. No native library, no engine.
 */
package io.hotpath.onnx;
