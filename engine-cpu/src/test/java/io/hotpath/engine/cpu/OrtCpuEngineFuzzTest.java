package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.hotpath.core.Batch;
import io.hotpath.core.HotpathException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link OrtCpuEngine#open(Path, CpuEngineOptions)} on mutated model bytes (seeds: the built-in mlp
 * and a few tiny models). Expected: the engine opens (it then describes its tensors, makes a batch
 * and closes) or the open is a {@link HotpathException}. Any other exception is a finding; so is a
 * native crash, which kills the JVM: each input is written to {@code target/engine-fuzz-last-input.onnx}
 * before the open so that it survives one. Without JAZZER_FUZZ this replays
 * {@code OrtCpuEngineFuzzTestInputs/} (docs/fuzzing.md).
 */
class OrtCpuEngineFuzzTest {
    private static final Path DIR = createDir();
    private static final Path LAST_INPUT = Path.of("target", "engine-fuzz-last-input.onnx");
    private static final CpuEngineOptions OPTIONS = CpuEngineOptions.builder().intraOpThreads(1).interOpThreads(1).maxBatchSize(4)
            .defaultMaxDimension(64).build();

    private static Path createDir() {
        try {
            Path dir = Files.createTempDirectory("hotpath-engine-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                dir.resolve("model.onnx").toFile().delete();
                dir.toFile().delete();
            }));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "2m")
    void opensOrRefusesMutatedModels(byte[] model) throws IOException {
        Path file = DIR.resolve("model.onnx");
        Files.write(file, model);
        if (Files.isDirectory(LAST_INPUT.getParent())) {
            Files.write(LAST_INPUT, model);
        }
        OrtCpuEngine engine;
        try {
            engine = OrtCpuEngine.open(file, OPTIONS);
        } catch (HotpathException expected) {
            return;
        }
        try (engine) {
            assertNotNull(engine.inputs());
            assertNotNull(engine.outputs());
            assertNotNull(engine.describe());
            try {
                Batch b = engine.newBatch();
                assertNotNull(b);
            } catch (HotpathException expected) {
                // a model that opens may still have shapes Hotpath cannot batch
            }
        }
    }
}
