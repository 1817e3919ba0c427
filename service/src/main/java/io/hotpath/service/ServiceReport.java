package io.hotpath.service;

import java.nio.file.Path;
import java.util.List;

/**
 * What a service was built with and why, for logs and for people: the engine and the reason it was
 * chosen (with every engine considered), the precision and model variant that runs, its measured
 * accuracy against the float32 original, why that variant, and whether the optimized model came
 * from the on-disk cache.
 *
 * @param engine         the engine's {@code describe()} line
 * @param engineReason   why this engine, in one line
 * @param considered     one line per engine considered, usable or not and why
 * @param precision      fp32, fp16 or int8
 * @param variant        the optimizer's variant name (for example {@code int8-entropy}), or {@code original}
 * @param accuracy       the variant's measured accuracy against the float32 original, or {@code not measured}
 * @param reason         why this variant, in one line
 * @param modelFile      the model file the engine runs
 * @param fromCache      whether that file came from the optimized-model cache (no optimizer run at this start)
 * @param prepareMillis  time spent choosing and preparing the model (optimizer included), in milliseconds
 */
public record ServiceReport(String engine, String engineReason, List<String> considered, String precision, String variant,
        String accuracy, String reason, Path modelFile, boolean fromCache, long prepareMillis) {
    public ServiceReport {
        considered = List.copyOf(considered);
    }

    /** The report of a service built directly on an engine the caller opened. */
    static ServiceReport givenEngine(String describe) {
        return new ServiceReport(describe, "given to InferenceService.builder by the caller", List.of(), "as the model", "original",
                "not measured", "the model as given", null, false, 0);
    }

    /** A few lines, one fact each. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        s.append("engine     ").append(engine).append(" (").append(engineReason).append(")\n");
        for (String c : considered) {
            s.append("  considered ").append(c).append('\n');
        }
        s.append("precision  ").append(precision).append(", variant ").append(variant).append(": ").append(reason).append('\n');
        s.append("accuracy   ").append(accuracy).append('\n');
        if (modelFile != null) {
            s.append("model      ").append(modelFile).append(fromCache ? " (from the optimized-model cache)" : "").append('\n');
        }
        s.append("prepared   in ").append(prepareMillis).append(" ms");
        return s.toString();
    }
}
