package io.hotpath.models;

import io.hotpath.onnx.OnnxBuilder;

import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.util.SplittableRandom;

/**
 * The small models Hotpath generates itself, from a fixed seed, so tests and benchmarks need no
 * downloaded file: a trading-style MLP and a small convolutional net. Weights are He-initialised
 * so activations stay in a realistic range through the layers.
 */
public final class BuiltinModels {
    /** Seed used by the {@code mlp} and {@code cnn} aliases. */
    public static final long DEFAULT_SEED = 20261126L;
    /** Operator set the built-in models are written for. */
    public static final long OPSET = 17;

    /** {@code mlp}'s input width. */
    public static final int MLP_FEATURES = 64;
    /** {@code mlp}'s hidden width. */
    public static final int MLP_HIDDEN = 256;

    /** {@code trees}' input width. */
    public static final int TREES_FEATURES = 32;
    /** {@code trees}' size: 500 trees of depth 6 to 8. */
    public static final int TREES_COUNT = 500;
    public static final int TREES_DEPTH = 8;

    private BuiltinModels() {
    }

    /**
     * A gradient-boosting-style regressor ({@code ai.onnx.ml TreeEnsembleRegressor}): {@code trees}
     * random trees of depth {@code depth - 2} to {@code depth} over {@code features float[batch,
     * features]}, BRANCH_LEQ, summed into {@code variable float[batch,1]}. See
     * {@link TreeEnsembleModels} for other operators, modes and aggregations.
     */
    public static ModelProto trees(int trees, int depth, int features, long seed) {
        return TreeEnsembleModels.build(TreeEnsembleModels.Spec.regressor(trees, depth, features, seed));
    }

    /**
     * {@code features float[batch,64] -> Gemm(256)+Relu -> MatMul(256)+Add+Relu -> Gemm(1) -> Sigmoid
     * -> score float[batch,1]}: Gemm, MatMul, Add, Relu and Sigmoid, as a tabular scoring model.
     */
    public static ModelProto mlp(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int f = MLP_FEATURES;
        int h = MLP_HIDDEN;
        return new OnnxBuilder("hotpath_mlp", OPSET)
                .input("features", OnnxBuilder.FLOAT, "batch", f)
                .initializer("w1", he(r, f * h, f), f, h)
                .initializer("b1", small(r, h), h)
                .initializer("w2", he(r, h * h, h), h, h)
                .initializer("b2", small(r, h), h)
                .initializer("w3", he(r, h, h), h, 1)
                .initializer("b3", small(r, 1), 1)
                .node("Gemm", "features,w1,b1", "h1")
                .node("Relu", "h1", "a1")
                .node("MatMul", "a1,w2", "m2")
                .node("Add", "m2,b2", "h2")
                .node("Relu", "h2", "a2")
                .node("Gemm", "a2,w3,b3", "logit")
                .node("Sigmoid", "logit", "score")
                .output("score", OnnxBuilder.FLOAT, "batch", 1)
                .build();
    }

    /**
     * {@code image float[batch,1,28,28] -> Conv(8,3x3)+Relu+MaxPool -> Conv(16,3x3)+Relu+MaxPool
     * -> Flatten -> Gemm(10) -> logits float[batch,10]}: a small image classifier.
     */
    public static ModelProto cnn(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new OnnxBuilder("hotpath_cnn", OPSET)
                .input("image", OnnxBuilder.FLOAT, "batch", 1, 28, 28)
                .initializer("c1_w", he(r, 8 * 9, 9), 8, 1, 3, 3)
                .initializer("c1_b", small(r, 8), 8)
                .initializer("c2_w", he(r, 16 * 8 * 9, 8 * 9), 16, 8, 3, 3)
                .initializer("c2_b", small(r, 16), 16)
                .initializer("fc_w", he(r, 16 * 7 * 7 * 10, 16 * 7 * 7), 16 * 7 * 7, 10)
                .initializer("fc_b", small(r, 10), 10)
                .node("Conv", "image,c1_w,c1_b", "c1", "pads", new long[] {1, 1, 1, 1}, "kernel_shape", new long[] {3, 3})
                .node("Relu", "c1", "r1")
                .node("MaxPool", "r1", "p1", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .node("Conv", "p1,c2_w,c2_b", "c2", "pads", new long[] {1, 1, 1, 1}, "kernel_shape", new long[] {3, 3})
                .node("Relu", "c2", "r2")
                .node("MaxPool", "r2", "p2", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .node("Flatten", "p2", "flat", "axis", 1L)
                .node("Gemm", "flat,fc_w,fc_b", "logits")
                .output("logits", OnnxBuilder.FLOAT, "batch", 10)
                .build();
    }

    private static float[] he(SplittableRandom r, int n, int fanIn) {
        double std = Math.sqrt(2.0 / fanIn);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (gaussian(r) * std);
        }
        return w;
    }

    private static float[] small(SplittableRandom r, int n) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            b[i] = (float) (r.nextDouble(-0.05, 0.05));
        }
        return b;
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
