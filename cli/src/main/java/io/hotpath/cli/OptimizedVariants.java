package io.hotpath.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hotpath.core.HotpathException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The variants a {@code hotpath optimize --out DIR} run found within its accuracy budget, read
 * from {@code DIR/report.json}: each one's name and model file (as the report gives it, else
 * {@code DIR/variants/NAME.onnx} when the folder was moved). {@code hotpath tune --optimized DIR}
 * tries them as the precision dimension of its search.
 */
final class OptimizedVariants {
    /** One variant that passed: its name in the report and its model file. */
    record Variant(String name, String precision, Path file) {
    }

    private OptimizedVariants() {
    }

    /** The passing variants of {@code dir}'s report, in the report's order; INVALID_ARGUMENT when there is no report or none passed. */
    static List<Variant> read(Path dir) {
        Path report = dir.resolve("report.json");
        if (!Files.isRegularFile(report)) {
            throw HotpathException.invalidArgument("--optimized " + dir + ": no report.json there (write one with hotpath optimize --out " + dir + ")");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(report.toFile());
        } catch (IOException e) {
            throw HotpathException.invalidArgument("--optimized " + dir + ": report.json is not readable JSON: " + e.getMessage());
        }
        JsonNode variants = root.path("variants");
        if (!variants.isArray()) {
            throw HotpathException.invalidArgument("--optimized " + dir + ": report.json has no variants list (not a hotpath optimize report?)");
        }
        List<Variant> out = new ArrayList<>();
        for (JsonNode v : variants) {
            if (!v.path("passed").asBoolean(false)) {
                continue;
            }
            String name = v.path("name").asText("");
            Path file = v.hasNonNull("file") ? Path.of(v.path("file").asText()) : null;
            if (file == null || !Files.isRegularFile(file)) {
                file = dir.resolve("variants").resolve(name + ".onnx");
            }
            if (!Files.isRegularFile(file)) {
                throw HotpathException.invalidArgument("--optimized " + dir + ": variant " + name + " passed but its model file is gone (" + file + ")");
            }
            out.add(new Variant(name, v.path("precision").asText(""), file));
        }
        if (out.isEmpty()) {
            throw HotpathException.invalidArgument("--optimized " + dir + ": no variant passed the accuracy budget in that report; nothing to try");
        }
        return out;
    }
}
