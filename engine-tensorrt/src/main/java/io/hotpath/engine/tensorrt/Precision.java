package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import java.util.Locale;

/** The arithmetic TensorRT may use. */
public enum Precision {
    /** Strict FP32: TF32 off, every matrix product in full single precision. */
    FP32,
    /** FP32 tensors with TF32 matrix products (TensorRT's own default on Ampere and later). */
    TF32,
    /** FP16 kernels allowed where faster (TF32 for what stays in FP32). */
    FP16,
    /**
     * INT8: from the model's Q/DQ nodes (a strongly typed build) when it has them, else TensorRT's
     * implicit calibration with a Java calibrator over the user's calibration data; FP16 allowed
     * for the layers that stay out of INT8.
     */
    INT8;

    /** Parses fp32, tf32, fp16 or int8 (any case); anything else is INVALID_ARGUMENT listing them. */
    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw HotpathException.invalidArgument("unknown precision '" + s + "'; use fp32, tf32, fp16 or int8");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
