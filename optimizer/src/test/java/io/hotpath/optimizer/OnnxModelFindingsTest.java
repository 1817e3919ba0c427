package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hotpath.core.HotpathException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproducers of what fuzzing {@link OnnxModel#load} found (docs/fuzzing.md, "Findings"): external-data
 * entries that should be INVALID_MODEL (a HotpathException) but are other exceptions or load. Each is
 * disabled until the main code is fixed; enable it with the fix.
 */
class OnnxModelFindingsTest {
    @TempDir
    Path dir;

    private Path model(String... keyValues) throws Exception {
        Files.write(dir.resolve("w.bin"), new byte[512]);
        Map<String, String> e = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            e.put(keyValues[i] + "#" + i, keyValues[i + 1]);
        }
        Path f = dir.resolve("model.onnx");
        Files.write(f, OnnxModelFuzzTest.withExternalEntries(OnnxModelFuzzTest.tiny(), e).toByteArray());
        return f;
    }

    @Test
    @Disabled("finding 5 (docs/fuzzing.md): a location with a NUL character is a java.nio.file.InvalidPathException "
            + "from Path.of in OnnxModel.safeResolve; fix in the main code")
    void aLocationThatIsNoPathIsRefused() throws Exception {
        Path f = model("location", "w\u0000.bin");
        assertThrows(HotpathException.class, () -> OnnxModel.load(f));
    }

    @Test
    @Disabled("finding 6 (docs/fuzzing.md): an offset or length that is no decimal long is a NumberFormatException "
            + "from Long.parseLong in OnnxModel.inlineExternalData; fix in the main code")
    void anOffsetOrLengthThatIsNoNumberIsRefused() throws Exception {
        Path f = model("location", "w.bin", "offset", "abc");
        assertThrows(HotpathException.class, () -> OnnxModel.load(f));
        Path g = model("location", "w.bin", "length", "");
        assertThrows(HotpathException.class, () -> OnnxModel.load(g));
    }

    @Test
    @Disabled("finding 7 (docs/fuzzing.md): a negative offset with a length reaches FileChannel.read, an "
            + "IllegalArgumentException (Negative position); fix in the main code")
    void aNegativeOffsetIsRefused() throws Exception {
        Path f = model("location", "w.bin", "offset", "-1", "length", "1");
        assertThrows(HotpathException.class, () -> OnnxModel.load(f));
    }
}
