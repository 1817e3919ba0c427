package io.hotpath.engine.tensorrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.DType;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import io.hotpath.onnx.proto.Onnx.TypeProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The graph's input and output types read from the file without loading it, and what TensorRT refuses of them. No GPU needed. */
class OnnxIoTypesTest {
    @TempDir
    Path tmp;

    @Test
    void readsEveryInputAndOutputTypeSkippingTheWeights() throws IOException {
        Path model = new OnnxBuilder("mixed", 17)
                .input("x", OnnxBuilder.FLOAT, "batch", 4)
                .input("m", OnnxBuilder.DOUBLE, "batch")
                .rawInitializer("w", OnnxBuilder.FLOAT, new byte[4 << 20], 1 << 20)
                .node("Cast", "m", "m_out", "to", (long) OnnxBuilder.UINT16)
                .node("Identity", "x", "y")
                .output("y", OnnxBuilder.FLOAT, "batch", 4)
                .output("m_out", OnnxBuilder.UINT16, "batch")
                .write(tmp.resolve("mixed.onnx"));
        assertTrue(Files.size(model) > 4 << 20);
        assertEquals(List.of(new OnnxIoTypes.Io("x", true, 1), new OnnxIoTypes.Io("m", true, 11),
                new OnnxIoTypes.Io("y", false, 1), new OnnxIoTypes.Io("m_out", false, 4)), OnnxIoTypes.read(model));
        assertEquals("input 'm' has element type float64, which TensorRT does not take as an engine input or output "
                + "(it takes float32, float16, bfloat16, int8, uint8, int32, int64, bool); ONNX Runtime on the CPU runs it",
                TensorRtEngine.ioTypeRefusal(model));
    }

    @Test
    void anInputThatAnInitializerBacksIsAWeightNotAnInput() throws IOException {
        // IR version 3 style: the weight is listed among the graph inputs too, and is float64
        ModelProto.Builder m = new OnnxBuilder("ir3", 17)
                .input("x", OnnxBuilder.DOUBLE, 2)
                .rawInitializer("w", OnnxBuilder.DOUBLE, new byte[16], 2)
                .node("Add", "x,w", "y").output("y", OnnxBuilder.DOUBLE, 2)
                .build().toBuilder();
        m.getGraphBuilder().addInput(ValueInfoProto.newBuilder().setName("w")
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.DOUBLE_VALUE))));
        Path model = OnnxBuilder.write(m.build(), tmp.resolve("ir3.onnx"));
        assertEquals(List.of("x", "y"), OnnxIoTypes.read(model).stream().map(OnnxIoTypes.Io::name).toList());
    }

    @Test
    void typesTensorRtLacksAreRefusedNamingTheTensorAndOthersPass() {
        for (DType t : DType.values()) {
            Path model = new OnnxBuilder("id", 17).input("a", t.onnxCode(), "batch").node("Identity", "a", "b")
                    .output("b", t.onnxCode(), "batch").write(tmp.resolve(t + ".onnx"));
            String refusal = TensorRtEngine.ioTypeRefusal(model);
            if (TensorRtEngine.IO_TYPES.contains(t)) {
                assertNull(refusal, t.toString());
            } else {
                assertTrue(refusal.startsWith("input 'a' has element type " + t + ", which TensorRT does not take"), refusal);
            }
        }
        assertEquals(10, DType.values().length - TensorRtEngine.IO_TYPES.size(),
                "float64, int16, uint16, uint32, uint64, string and the four 8-bit floats");
        Path f4 = new OnnxBuilder("f4", 23).input("a", OnnxBuilder.FLOAT, 2).node("Cast", "a", "b", "to", 23L)
                .output("b", 23, 2).write(tmp.resolve("f4.onnx"));
        assertEquals(DType.unsupportedMessage("output", "b", 23), TensorRtEngine.ioTypeRefusal(f4), "a type no Hotpath engine takes: core's message");
        assertNull(TensorRtEngine.ioTypeRefusal(ModelCatalog.resolve("mlp")), "a float32 model");
    }

    @Test
    void aFileThatIsNotWellFormedIsAnIOExceptionAndLeftToTensorRtsParser() throws IOException {
        Path junk = Files.write(tmp.resolve("junk.onnx"), new byte[] {0x3a, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 1, 2});
        assertThrows(IOException.class, () -> OnnxIoTypes.read(junk));
        assertNull(TensorRtEngine.ioTypeRefusal(junk));
        assertNull(TensorRtEngine.ioTypeRefusal(tmp.resolve("missing.onnx")));
    }
}
