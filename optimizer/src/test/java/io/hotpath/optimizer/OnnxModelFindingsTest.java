package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hotpath.core.HotpathException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproducers of what fuzzing {@link OnnxModel#load} found (docs/fuzzing.md, "Findings"): external-data
 * entries that should be INVALID_MODEL (a HotpathException) but are other exceptions or load. Each is
 * kept as a regression test now that it is fixed.
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
    void aLocationThatIsNoPathIsRefused() throws Exception {
        Path f = model("location", "w\u0000.bin");
        assertThrows(HotpathException.class, () -> OnnxModel.load(f));
    }

    @Test
    void anOffsetOrLengthThatIsNoNumberIsRefused() throws Exception {
        Path f = model("location", "w.bin", "offset", "abc");
        assertThrows(HotpathException.class, () -> OnnxModel.load(f));
        Path g = model("location", "w.bin", "length", "");
        assertThrows(HotpathException.class, () -> OnnxModel.load(g));
    }

    @Test
    void aNegativeOffsetIsRefused() throws Exception {
        Path f = model("location", "w.bin", "offset", "-1", "length", "1");
        assertThrows(HotpathException.class, () -> OnnxModel.load(f));
    }
}
