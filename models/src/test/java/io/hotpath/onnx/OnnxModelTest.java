package io.hotpath.onnx;

import io.hotpath.models.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
    @TempDir
    Path tmp;

    @Test
    void aBuiltModelRoundTripsThroughItsBytes() throws Exception {
        ModelProto m = new OnnxBuilder("tiny", 17)
                .input("x", OnnxBuilder.FLOAT, "batch", 2)
                .initializer("w", new float[] {1, 2, 3, 4}, 2, 2)
                .node("MatMul", "x,w", "y")
                .node("Relu", "y", "z")
                .output("z", OnnxBuilder.FLOAT, "batch", 2)
                .build();
        ModelProto back = ModelProto.parseFrom(m.toByteArray());
        assertEquals(m, back);
        assertEquals(17, back.getOpsetImport(0).getVersion());
        assertEquals("batch", back.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
        assertEquals(List.of("MatMul", "Relu"), back.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList());
        assertEquals(16, back.getGraph().getInitializer(0).getRawData().size());
    }

    @Test
    void theBuilderRefusesUndefinedAndDuplicateNames() {
        assertThrows(IllegalArgumentException.class, () -> new OnnxBuilder("g", 17).node("Relu", "nothing", "y"));
        assertThrows(IllegalArgumentException.class, () -> new OnnxBuilder("g", 17)
                .input("x", OnnxBuilder.FLOAT, 1).input("x", OnnxBuilder.FLOAT, 1));
        assertThrows(IllegalArgumentException.class, () -> new OnnxBuilder("g", 17)
                .input("x", OnnxBuilder.FLOAT, 1).output("y", OnnxBuilder.FLOAT, 1).build());
        assertThrows(IllegalArgumentException.class, () -> new OnnxBuilder("g", 17).initializer("w", new float[3], 2, 2));
    }

    @Test
    void builtinModelsAreDeterministicAndUseTheAdvertisedOps() {
        ModelProto mlp = BuiltinModels.mlp(BuiltinModels.DEFAULT_SEED);
        assertArrayEquals(mlp.toByteArray(), BuiltinModels.mlp(BuiltinModels.DEFAULT_SEED).toByteArray());
        assertTrue(mlp.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList()
                .containsAll(List.of("Gemm", "MatMul", "Add", "Relu", "Sigmoid")));
        ModelProto cnn = BuiltinModels.cnn(BuiltinModels.DEFAULT_SEED);
        assertTrue(cnn.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList()
                .containsAll(List.of("Conv", "MaxPool", "Flatten", "Gemm")));
        assertTrue(!java.util.Arrays.equals(mlp.toByteArray(), BuiltinModels.mlp(1).toByteArray()), "the seed matters");
    }

    @Test
    void aliasesResolveToFilesAndPathsPassThrough() throws Exception {
        for (String alias : ModelCatalog.ALIASES) {
            Path p = ModelCatalog.resolve(alias);
            assertTrue(Files.size(p) > 1000, alias + " -> " + p);
            ModelProto m = ModelProto.parseFrom(Files.readAllBytes(p));
            assertTrue(m.getGraph().getNodeCount() > 0, alias);
        }
        assertEquals(tmp.resolve("x.onnx"), ModelCatalog.resolve(tmp.resolve("x.onnx").toString()));
    }

    @Test
    void theVocabularyOfMiniLmIsReadFromItsEmbeddingTable() {
        assertEquals(30522, VocabularyProbe.vocabularySize(ModelCatalog.resolve("minilm"), "input_ids").orElse(-1));
        assertTrue(VocabularyProbe.vocabularySize(ModelCatalog.resolve("mlp"), "features").isEmpty());
    }

    @Test
    void wordPieceMatchesBertsTokenization() {
        WordPieceTokenizer t = ModelCatalog.minilmTokenizer();
        assertEquals(30522, t.vocabSize());
        assertArrayEquals(new int[] {101, 7592, 2088, 102}, t.encode("Hello world", 128));
        assertEquals(List.of("[CLS]", "hello", ",", "world", "!", "[SEP]"), t.tokens("Hello, world!"));
        assertEquals(List.of("[CLS]", "cafe", "[SEP]"), t.tokens("Café"), "accents are stripped");
        assertEquals(List.of("[CLS]", "una", "##ffa", "##ble", "[SEP]"), t.tokens("unaffable"));
        int[] truncated = t.encode("one two three four five six", 4);
        assertEquals(4, truncated.length);
        assertEquals(101, truncated[0]);
        assertEquals(102, truncated[3]);
    }
}
