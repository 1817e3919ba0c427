package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.hotpath.core.HotpathException;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.StringStringEntryProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@link OnnxModel#load} on arbitrary bytes and on a small model whose initializer is external data
 * with random {@code location}/{@code offset}/{@code length} entries. Each input gets its own
 * directory holding the model, a 512-byte data file {@code w.bin} (byte i is i), a directory
 * {@code sub} with a copy of it, and a file {@code outside.bin} one level up. Expected: the model
 * loads (and then every initializer is inline, and for the external one its bytes are exactly the
 * range the entries name) or a {@link HotpathException}; any other exception is a finding.
 * Without JAZZER_FUZZ this replays {@code OnnxModelFuzzTestInputs/} (docs/fuzzing.md).
 */
class OnnxModelFuzzTest {
    private static final Path ROOT = createRoot();
    private static final byte[] DATA = new byte[512];

    static {
        for (int i = 0; i < DATA.length; i++) {
            DATA[i] = (byte) i;
        }
    }

    private static Path createRoot() {
        try {
            Path root = Files.createTempDirectory("hotpath-onnx-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    delete(root);
                } catch (IOException | UncheckedIOException e) {
                    // best effort, at exit
                }
            }));
            Files.write(root.resolve("outside.bin"), new byte[512]);
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A model directory with the data files; deleted after the input. */
    private static Path newModelDir() throws IOException {
        Path dir = Files.createTempDirectory(ROOT, "m");
        Files.write(dir.resolve("w.bin"), DATA);
        Files.createDirectories(dir.resolve("sub"));
        Files.write(dir.resolve("sub").resolve("w.bin"), DATA);
        return dir;
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * Writes {@code bytes} as {@code dir/model.onnx} and loads it: the model, or null when it was
     * refused with a HotpathException (the only exception allowed; findings 5-7 are fixed).
     */
    static OnnxModel loadOrRefused(Path dir, byte[] bytes) throws IOException {
        Path file = dir.resolve("model.onnx");
        Files.write(file, bytes);
        try {
            return OnnxModel.load(file);
        } catch (HotpathException expected) {
            return null;
        }
    }

    /** y = x + w, w a float[16] initializer (64 bytes). */
    static ModelProto tiny() {
        return new OnnxBuilder("tiny", 17)
                .input("x", OnnxBuilder.FLOAT, "batch", 16)
                .initializer("w", new float[16], 16)
                .node("Add", "x,w", "y")
                .output("y", OnnxBuilder.FLOAT, "batch", 16)
                .build();
    }

    /** {@code m} with its first initializer moved to external data described by {@code entries} (keys "key#i", in order). */
    static ModelProto withExternalEntries(ModelProto m, Map<String, String> entries) {
        TensorProto.Builder w = m.getGraph().getInitializer(0).toBuilder().clearRawData().clearFloatData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL);
        entries.forEach((k, v) -> w.addExternalData(StringStringEntryProto.newBuilder().setKey(k.substring(0, k.lastIndexOf('#'))).setValue(v)));
        return m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(0, w)).build();
    }

    @FuzzTest(maxDuration = "2m")
    void loadsOrRefusesArbitraryBytes(byte[] bytes) throws IOException {
        Path dir = newModelDir();
        try {
            OnnxModel m = loadOrRefused(dir, bytes);
            if (m == null) {
                return;
            }
            for (TensorProto t : m.graph().getInitializerList()) {
                assertNotEquals(TensorProto.DataLocation.EXTERNAL, t.getDataLocation(), "initializer " + t.getName() + " left external");
            }
            try {
                assertEquals(m.graph().getNodeCount(), m.topologicalOrder().size());
            } catch (HotpathException expected) {
                // a cycle
            }
        } finally {
            delete(dir);
        }
    }

    @FuzzTest(maxDuration = "2m")
    void externalDataEntriesLoadExactlyOrAreRefused(FuzzedDataProvider d) throws IOException {
        Map<String, String> entries = new java.util.LinkedHashMap<>();
        int n = d.consumeInt(0, 5);
        for (int i = 0; i < n; i++) {
            String key = d.pickValue(new String[] {"location", "location", "offset", "offset", "length", "length", "checksum", ""});
            String value = switch (key) {
                case "location" -> d.consumeBoolean() ? d.pickValue(new String[] {"w.bin", "./w.bin", "sub/w.bin", "sub/../w.bin",
                        "sub//w.bin", "../outside.bin", "sub/../../outside.bin", "/etc/hostname", "", ".", "sub", "missing.bin", "w.bin/"})
                        : d.consumeString(24);
                case "offset", "length" -> d.consumeBoolean() ? Integer.toString(d.consumeInt(0, 600)) : d.pickValue(new String[] {"0", "64",
                        "-1", "-64", "512", "513", "2147483647", "2147483648", "9223372036854775807", "-9223372036854775808",
                        "99999999999999999999", "", " 1", "+1", "0x10", "1e3", "abc"});
                default -> d.consumeString(8);
            };
            entries.put(key + "#" + i, value);
        }
        // the proto keeps every entry, duplicates included; the loader reads them into a map, the last value of a key wins
        Map<String, String> all = new HashMap<>();
        entries.forEach((k, v) -> all.put(k.substring(0, k.lastIndexOf('#')), v));
        ModelProto model = withExternalEntries(tiny(), entries);
        Path dir = newModelDir();
        try {
            OnnxModel m = loadOrRefused(dir, model.toByteArray());
            if (m == null) {
                return;
            }
            // loaded: the bytes must be exactly the named range of the named file
            TensorProto w = m.graph().getInitializer(0);
            assertNotEquals(TensorProto.DataLocation.EXTERNAL, w.getDataLocation());
            Path data = dir.resolve(all.get("location")).normalize();
            if (Files.isDirectory(data)) {
                // a directory "loads" only with an explicit length of 0 (observation in docs/fuzzing.md): nothing read
                assertEquals(0, w.getRawData().size(), "bytes read from directory " + all.get("location"));
                return;
            }
            byte[] file0 = Files.readAllBytes(data);
            // the loader reads byte counts with surrounding white space stripped
            long offset = Long.parseLong(all.getOrDefault("offset", "0").strip());
            long length = all.containsKey("length") ? Long.parseLong(all.get("length").strip()) : file0.length - offset;
            if (offset < 0 || length < 0 || offset > file0.length || length > file0.length - offset) {
                throw new AssertionError("loaded although offset " + offset + " and length " + length + " lie outside the "
                        + file0.length + "-byte file; entries " + all + "; the initializer has " + w.getRawData().size() + " bytes");
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(file0, (int) offset, (int) (offset + length)), w.getRawData().toByteArray(),
                    "entries " + all);
        } finally {
            delete(dir);
        }
    }
}
