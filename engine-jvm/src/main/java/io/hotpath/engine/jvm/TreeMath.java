package io.hotpath.engine.jvm;

/**
 * The post transforms of the ai.onnx.ml tree operators computed as ONNX Runtime computes them
 * (ml_common.h): in float32, step for step, with its own inverse-erf approximation for PROBIT.
 * Java's exp and log are rounded from double, the C library's expf and logf are float
 * functions; the two agree to the last bit almost always and differ by an ulp at most.
 */
final class TreeMath {
    private static final float SQRT2 = (float) Math.sqrt(2.0);
    private static final float PI = (float) Math.PI;

    private TreeMath() {
    }

    static float exp(float v) {
        return (float) Math.exp(v);
    }

    static float logistic(float v) {
        float e = 1 / (1 + exp(-Math.abs(v)));
        return v < 0 ? 1 - e : e;
    }

    /** ONNX Runtime's ErfInv: Winitzki's approximation with a = 0.147, in float. */
    static float erfInv(float x) {
        float sgn = x < 0 ? -1.0f : 1.0f;
        x = (1 - x) * (1 + x);
        float log = (float) Math.log(x);
        float v = 2 / (PI * 0.147f) + 0.5f * log;
        float v2 = 1 / 0.147f * log;
        float v3 = -v + (float) Math.sqrt(v * v - v2);
        return sgn * (float) Math.sqrt(v3);
    }

    static float probit(float v) {
        return SQRT2 * erfInv(2 * v - 1);
    }

    static void softmax(float[] v, int off, int n) {
        float max = -Float.MAX_VALUE;
        for (int i = off; i < off + n; i++) {
            if (v[i] > max) {
                max = v[i];
            }
        }
        float sum = 0;
        for (int i = off; i < off + n; i++) {
            v[i] = exp(v[i] - max);
            sum += v[i];
        }
        for (int i = off; i < off + n; i++) {
            v[i] = v[i] / sum;
        }
    }

    /** Softmax where scores within 1e-7 of zero stay (almost) zero instead of becoming exp(0). */
    static void softmaxZero(float[] v, int off, int n) {
        float max = -Float.MAX_VALUE;
        for (int i = off; i < off + n; i++) {
            if (v[i] > max) {
                max = v[i];
            }
        }
        float expNegMax = exp(-max);
        float sum = 0;
        for (int i = off; i < off + n; i++) {
            if (v[i] > 0.0000001f || v[i] < -0.0000001f) {
                v[i] = exp(v[i] - max);
                sum += v[i];
            } else {
                v[i] = v[i] * expNegMax;
            }
        }
        for (int i = off; i < off + n; i++) {
            v[i] = v[i] / sum;
        }
    }
}
