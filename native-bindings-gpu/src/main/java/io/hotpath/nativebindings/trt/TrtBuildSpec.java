package io.hotpath.nativebindings.trt;

import java.util.List;

/**
 * Everything the TensorRT builder is told. Built by the engine layer from user options.
 *
 * @param fp16               allow FP16 kernels ({@code kFP16})
 * @param int8               allow INT8 kernels ({@code kINT8}); with a calibrator unless the network is strongly typed
 * @param tf32               allow TF32 for FP32 matrix work ({@code kTF32}, TensorRT's default); false gives strict FP32
 * @param stronglyTyped      build a strongly typed network: precisions come from the model (Q/DQ or FP16 models)
 * @param workspaceBytes     limit of the builder's scratch memory pool
 * @param optimizationLevel  builder optimization level 0..5 (TensorRT's default is 3)
 * @param profiles           one optimization profile per entry, in order
 * @param calibrationProfile index into {@code profiles} whose opt shapes the calibrator feeds (INT8 with a calibrator)
 * @param calibrator         the INT8 calibrator, or null
 * @param timingCache        a serialized timing cache to start from, or null
 */
public record TrtBuildSpec(boolean fp16, boolean int8, boolean tf32, boolean stronglyTyped, long workspaceBytes,
        int optimizationLevel, List<Profile> profiles, int calibrationProfile, Int8Calibrators.Feed calibrator,
        byte[] timingCache, Int8Calibrators.Algorithm calibrationAlgorithm) {

    /** Min, opt and max dimensions of every dynamic input for one profile. */
    public record Profile(List<InputRange> inputs) {
    }

    /** One input's range in a profile. */
    public record InputRange(String name, long[] min, long[] opt, long[] max) {
    }
}
