package io.hotpath.embed;

import io.hotpath.core.HotpathException;
import java.util.List;
import java.util.Locale;

/**
 * The precision an application asks for. The optimizer builds the variants of that precision,
 * measures each against the float32 original, times them beside float32, and keeps the fastest
 * within the accuracy budget: asking for INT8 yields float32 when no INT8 variant is within the
 * budget, or when float32 is faster on this CPU, and the report says which and why.
 */
public enum Precision {
    /** The model as it is: no optimizer run, no calibration data needed. */
    FP32(List.of()),
    /** Float16 weights and activations where the operators allow, float32 elsewhere. */
    FP16(List.of("fp16")),
    /** INT8 Q/DQ, calibrated on the application's data (static quantization), and dynamic INT8 where it applies. */
    INT8(List.of("int8")),
    /** Every variant (float32, FP16, INT8): the fastest within the budget. */
    FASTEST(List.of("fp16", "int8"));

    private final List<String> tried;

    Precision(List<String> tried) {
        this.tried = tried;
    }

    /** The optimizer's precisions to try besides float32 (the reference and the fallback). */
    List<String> optimizerPrecisions() {
        return tried;
    }

    /** Whether this precision needs calibration data (INT8 does; the others are validated on it when given). */
    boolean needsCalibration() {
        return tried.contains("int8");
    }

    /** Parses fp32, fp16, int8 or fastest (any case). */
    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw HotpathException.invalidArgument("unknown precision '" + s + "'; use fp32, fp16, int8 or fastest");
        }
    }
}
