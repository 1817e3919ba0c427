/**
 * ONNX models as data: Hotpath's own protobuf rendering of the ONNX schema
 * ({@code io.hotpath.onnx.proto.Onnx}), a builder that writes models from Java
 * ({@link io.hotpath.onnx.OnnxBuilder}) and a WordPiece tokenizer
 * ({@link io.hotpath.onnx.WordPieceTokenizer}). The built-in models and their data live in the
 * module {@code models} ({@code io.hotpath.models}), so this module carries no model file.
 *
 * <p>A module of its own because three others need it and none of them can own it:
 * {@code engine-cpu}'s tests build models with it, the {@code optimizer} builds its IR on the same
 * generated classes, and {@code models} writes the generated built-in models with it.
 *
 * <p>May depend on: protobuf-java and Jackson (to read {@code tokenizer.json}). No native
 * library, no engine, no model.
 */
package io.hotpath.onnx;
