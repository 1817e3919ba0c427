/**
 * The microsecond path: small ONNX models compiled at load time into plain JVM code. Dense layers
 * (Gemm, MatMul, Add, Mul, activations, Softmax, LayerNormalization, BatchNormalization folded)
 * become loops over weights packed once, with bias and activation fused into the matrix loop;
 * tree ensembles become flat node arrays. A run makes no native call and allocates nothing.
 *
 * <p>May depend on: {@code core} and {@code onnx-model} (to read the model). No native library.
 */
package io.hotpath.engine.jvm;
