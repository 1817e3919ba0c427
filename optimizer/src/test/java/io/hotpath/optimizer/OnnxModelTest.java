package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.onnx.ModelCatalog;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.StringStringEntryProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
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
