package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.StringStringEntryProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
    @TempDir
    Path tmp;

    @Test
    void minilmLoadsSortsAndRoundTripsThroughExternalData() throws Exception {
        OnnxModel m = OnnxModel.load(ModelCatalog.resolve("minilm"));
        assertEquals(m.graph().getNodeCount(), m.topologicalOrder().size());
        Set<String> defined = new HashSet<>();
        m.graph().getInputList().forEach(v -> defined.add(v.getName()));
        m.graph().getInitializerList().forEach(t -> defined.add(t.getName()));
        for (NodeProto n : m.topologicalOrder()) {
            for (String in : n.getInputList()) {
                assertTrue(in.isEmpty() || defined.contains(in), "node " + n.getName() + " reads " + in + " before it is made");
            }
            defined.addAll(n.getOutputList());
        }
        Path file = tmp.resolve("minilm-ext.onnx");
        m.saveWithExternalData(file, 64 * 1024);
        assertTrue(Files.size(file) < 5_000_000, "large weights went to the data file: " + Files.size(file));
        assertTrue(Files.size(tmp.resolve("minilm-ext.onnx.data")) > 80_000_000);
        OnnxModel back = OnnxModel.load(file);
        assertEquals(m.proto(), back.proto(), "external data comes back inline, byte for byte");
        TensorTypes.checkLoads(back.proto(), "round trip");
    }

    @Test
    void externalDataOutsideTheModelDirectoryIsRefused() throws Exception {
        ModelProto m = OnnxModel.load(ModelCatalog.resolve("mlp")).proto();
        TensorProto w = m.getGraph().getInitializer(0);
        for (String location : List.of("../outside.bin", "/etc/passwd", "sub/../../outside.bin")) {
            ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(0, w.toBuilder().clearRawData().clearFloatData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location)))).build();
            Path dir = Files.createDirectories(tmp.resolve("m" + Math.abs(location.hashCode())));
            Path f = dir.resolve("bad.onnx");
            Files.write(f, bad.toByteArray());
            HotpathException e = assertThrows(HotpathException.class, () -> OnnxModel.load(f));
            assertEquals(Category.INVALID_ARGUMENT, e.category(), e.getMessage());
            assertTrue(e.getMessage().contains("leaves the model's directory"), e.getMessage());
        }
    }

    @Test
    void truncatedExternalDataMissingAndCorruptFilesAreClearErrors() throws Exception {
        OnnxModel m = OnnxModel.load(ModelCatalog.resolve("mlp"));
        Path file = tmp.resolve("mlp.onnx");
        m.saveWithExternalData(file, 1024);
        Path data = tmp.resolve("mlp.onnx.data");
        byte[] all = Files.readAllBytes(data);
        Files.write(data, java.util.Arrays.copyOf(all, all.length / 2));
        HotpathException e = assertThrows(HotpathException.class, () -> OnnxModel.load(file));
        assertEquals(Category.INVALID_MODEL, e.category());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.delete(data);
        assertEquals(Category.NOT_FOUND, assertThrows(HotpathException.class, () -> OnnxModel.load(file)).category());
        assertEquals(Category.NOT_FOUND, assertThrows(HotpathException.class, () -> OnnxModel.load(tmp.resolve("none.onnx"))).category());
        Path junk = tmp.resolve("junk.onnx");
        Files.write(junk, new byte[] {8, 7, 0x12, (byte) 0xff, (byte) 0xff, 1, 2, 3});
        assertEquals(Category.INVALID_MODEL, assertThrows(HotpathException.class, () -> OnnxModel.load(junk)).category());
    }

    /** The mlp model saved with its larger initializers in {@code dir/mlp.onnx.data}; returns the model file. */
    private static Path savedWithExternalData(Path dir) {
        Path file = dir.resolve("mlp.onnx");
        OnnxModel.load(ModelCatalog.resolve("mlp")).saveWithExternalData(file, 1024);
        return file;
    }

    /** The first external initializer of {@code file}, as stored (not inlined). */
    private static int firstExternal(ModelProto raw) {
        for (int i = 0; i < raw.getGraph().getInitializerCount(); i++) {
            if (raw.getGraph().getInitializer(i).getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                return i;
            }
        }
        throw new AssertionError("no external initializer");
    }

    /** Rewrites {@code file} so that its first external initializer has exactly these external-data entries; returns the tensor's name. */
    private static String rewriteExternal(Path file, Map<String, String> entries) throws Exception {
        ModelProto raw = ModelProto.parseFrom(Files.readAllBytes(file));
        int i = firstExternal(raw);
        TensorProto.Builder t = raw.getGraph().getInitializer(i).toBuilder().clearExternalData();
        entries.forEach((k, v) -> t.addExternalData(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        Files.write(file, raw.toBuilder().setGraph(raw.getGraph().toBuilder().setInitializer(i, t)).build().toByteArray());
        return t.getName();
    }

    private static Map<String, String> entries(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static HotpathException refused(Path file, Category category, String... mentions) {
        HotpathException e = assertThrows(HotpathException.class, () -> OnnxModel.load(file));
        assertEquals(category, e.category(), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), "one line: " + e.getMessage());
        for (String m : mentions) {
            assertTrue(e.getMessage().contains(m), "mentions '" + m + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void externalDataThroughASymlinkOutOfTheModelDirectoryIsRefused() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Path file = savedWithExternalData(dir);
        Path data = dir.resolve("mlp.onnx.data");
        Path moved = Files.move(data, outside.resolve("real.data"));
        String tensor = ModelProto.parseFrom(Files.readAllBytes(file)).getGraph().getInitializer(
                firstExternal(ModelProto.parseFrom(Files.readAllBytes(file)))).getName();

        // the data file itself is a link out of the directory: relative, then absolute
        Files.createSymbolicLink(data, Path.of("..", "outside", "real.data"));
        refused(file, Category.INVALID_ARGUMENT, "leaves the model's directory", "'" + tensor + "'", "'mlp.onnx.data'");
        Files.delete(data);
        Files.createSymbolicLink(data, moved);
        refused(file, Category.INVALID_ARGUMENT, "leaves the model's directory", "'" + tensor + "'", "'mlp.onnx.data'");

        // a directory on the way is the link
        Files.delete(data);
        Files.createSymbolicLink(dir.resolve("sub"), outside);
        rewriteExternal(file, entries("location", "sub/real.data"));
        refused(file, Category.INVALID_ARGUMENT, "leaves the model's directory", "'sub/real.data'");
        rewriteExternal(file, entries("location", "sub/../sub/real.data"));
        refused(file, Category.INVALID_ARGUMENT, "leaves the model's directory");

        // a link to a system file: refused, and nothing of it is read
        Path passwd = Path.of("/etc/passwd");
        if (Files.isRegularFile(passwd)) {
            Files.createSymbolicLink(dir.resolve("weights.bin"), passwd);
            rewriteExternal(file, entries("location", "weights.bin", "offset", "0", "length", "16"));
            HotpathException e = refused(file, Category.INVALID_ARGUMENT, "leaves the model's directory", "'weights.bin'");
            assertFalse(e.getMessage().contains("root:"), e.getMessage());
            Files.delete(dir.resolve("weights.bin"));      // links out of the temp dir: removed here, not by JUnit
        }
        Files.delete(dir.resolve("sub"));
    }

    @Test
    void symlinksThatStayInsideTheModelDirectoryStillLoad() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path file = savedWithExternalData(real);
        OnnxModel expected = OnnxModel.load(file);
        // the data file is a link to another file in the same directory
        Files.move(real.resolve("mlp.onnx.data"), Files.createDirectories(real.resolve("blobs")).resolve("w.bin"));
        Files.createSymbolicLink(real.resolve("mlp.onnx.data"), Path.of("blobs", "w.bin"));
        assertEquals(expected.proto(), OnnxModel.load(file).proto());
        // the model's directory itself is reached through a link
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertEquals(expected.proto(), OnnxModel.load(link.resolve("mlp.onnx")).proto());
    }

    @Test
    void danglingLoopingAndNonFileLocationsAreClearErrors() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Path file = savedWithExternalData(dir);
        Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere.bin"));
        rewriteExternal(file, entries("location", "dangling"));
        refused(file, Category.NOT_FOUND);
        Files.createSymbolicLink(dir.resolve("loop"), dir.resolve("loop"));
        rewriteExternal(file, entries("location", "loop"));
        refused(file, Category.INVALID_MODEL);
        rewriteExternal(file, entries("location", "."));
        refused(file, Category.INVALID_MODEL, "not a regular file");
        rewriteExternal(file, entries("location", "bad\u0000name"));
        refused(file, Category.INVALID_MODEL, "not a valid path");
    }

    @Test
    void badOffsetsAndLengthsAreOneLineInvalidModelErrors() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Path file = savedWithExternalData(dir);
        long size = Files.size(dir.resolve("mlp.onnx.data"));
        String s = Long.toString(size);
        String max = Long.toString(Long.MAX_VALUE);
        // each case: its entries, then what the message must name
        Object[][] cases = {
            {entries("offset", "-1"), "offset -1"},
            {entries("offset", "abc"), "offset 'abc'"},
            {entries("offset", ""), "offset ''"},
            {entries("offset", "99999999999999999999"), "offset '99999999999999999999'"},
            {entries("offset", "12\n34"), "offset '12?34'"},
            {entries("length", "-5"), "length -5"},
            {entries("length", "1e3"), "length '1e3'"},
            {entries("length", "0x10"), "length '0x10'"},
            {entries("length", max), "asks for " + max},
            {entries("offset", max, "length", "10"), "offset " + max},
            {entries("offset", max), "offset " + max},
            {entries("offset", "9223372036854775000", "length", "1000"), "offset 9223372036854775000"},
            {entries("offset", "0", "length", Long.toString(size + 1)), "asks for " + (size + 1)},
            {entries("offset", s, "length", "1"), "asks for 1 at offset " + s},
            {entries("offset", Long.toString(size + 1)), "offset " + (size + 1)},
        };
        for (Object[] c : cases) {
            Map<String, String> all = entries("location", "mlp.onnx.data");
            @SuppressWarnings("unchecked")
            Map<String, String> extra = (Map<String, String>) c[0];
            all.putAll(extra);
            String tensor = rewriteExternal(file, all);
            refused(file, Category.INVALID_MODEL, "'" + tensor + "'", (String) c[1]);
        }
        // the edge that is fine: an empty tensor at the very end (the model then has a wrongly sized initializer, not our concern here)
        rewriteExternal(file, entries("location", "mlp.onnx.data", "offset", s, "length", "0"));
        OnnxModel.load(file);
    }

    @Test
    void aTensorLargerThanAnArrayCanHoldIsUnsupportedNotAnOutOfMemoryError() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Path file = savedWithExternalData(dir);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("huge.bin").toFile(), "rw")) {
            f.setLength(3L << 30);      // sparse: no disk, and nothing is read
        }
        for (Map<String, String> c : List.of(
                entries("location", "huge.bin"),
                entries("location", "huge.bin", "offset", "4096"),
                entries("location", "huge.bin", "length", Long.toString(Integer.MAX_VALUE)),
                entries("location", "huge.bin", "length", Long.toString(OnnxModel.MAX_TENSOR_BYTES + 1)),
                entries("location", "huge.bin", "offset", "1", "length", Long.toString(2L << 30)))) {
            String tensor = rewriteExternal(file, c);
            refused(file, Category.UNSUPPORTED, "'" + tensor + "'", "at most " + OnnxModel.MAX_TENSOR_BYTES);
        }
    }

    @Test
    void aCycleIsReportedAndOrderIsRestored() {
        ModelProto m = new OnnxBuilder("cyc", 17)
                .input("x", OnnxBuilder.FLOAT, "batch", 4)
                .node("Relu", "x", "a")
                .node("Neg", "a", "b")
                .output("b", OnnxBuilder.FLOAT, "batch", 4)
                .build();
        // reversed node order: still a DAG, sorting restores it
        ModelProto reversed = m.toBuilder().setGraph(m.getGraph().toBuilder().clearNode()
                .addNode(m.getGraph().getNode(1)).addNode(m.getGraph().getNode(0))).build();
        OnnxModel r = OnnxModel.of(reversed);
        r.sortTopologically();
        assertEquals("Relu", r.graph().getNode(0).getOpType());
        TensorTypes.checkLoads(r.proto(), "sort");
        // a -> b -> a
        ModelProto cyc = m.toBuilder().setGraph(m.getGraph().toBuilder().setNode(0, m.getGraph().getNode(0).toBuilder().setInput(0, "b"))).build();
        HotpathException e = assertThrows(HotpathException.class, () -> OnnxModel.of(cyc).topologicalOrder());
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    }
}
