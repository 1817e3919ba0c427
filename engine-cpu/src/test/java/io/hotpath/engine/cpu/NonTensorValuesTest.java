package io.hotpath.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.hotpath.core.HotpathException;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.TypeProto;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sequence and optional values, which ONNX Runtime runs but Hotpath's tensor engine does not: each
 * is refused when the model opens, in one line naming the value and its kind.
 */
class NonTensorValuesTest {
    @TempDir
    Path tmp;

    private static TypeProto floatTensor() {
        return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(OnnxBuilder.FLOAT)).build();
    }

    /** {@code model} with graph output {@code index} (or input, when {@code input}) re-typed as {@code type}. */
    private Path retyped(ModelProto model, boolean input, int index, TypeProto type, String file) {
        ModelProto.Builder m = model.toBuilder();
        if (input) {
            m.getGraphBuilder().getInputBuilder(index).setType(type);
        } else {
            m.getGraphBuilder().getOutputBuilder(index).setType(type);
        }
        return OnnxBuilder.write(m.build(), tmp.resolve(file));
    }

    @Test
    void sequenceAndOptionalValuesAreRefusedNamingTheValueAndItsKind() throws Exception {
        TypeProto sequence = TypeProto.newBuilder().setSequenceType(TypeProto.Sequence.newBuilder().setElemType(floatTensor())).build();
        TypeProto optional = TypeProto.newBuilder().setOptionalType(TypeProto.Optional.newBuilder().setElemType(floatTensor())).build();
        Path seqOut = retyped(new OnnxBuilder("seq", 15).input("x", OnnxBuilder.FLOAT, 2).output("seq", OnnxBuilder.FLOAT, 2)
                .node("SequenceConstruct", "x,x", "seq").build(), false, 0, sequence, "seq_out.onnx");
        Path seqIn = retyped(new OnnxBuilder("seq_in", 15).input("seq", OnnxBuilder.FLOAT, 2).initializer("zero", new long[] {0})
                .output("first", OnnxBuilder.FLOAT, 2).node("SequenceAt", "seq,zero", "first").build(), true, 0, sequence, "seq_in.onnx");
        Path optOut = retyped(new OnnxBuilder("opt", 15).input("x", OnnxBuilder.FLOAT, 2).output("maybe", OnnxBuilder.FLOAT, 2)
                .node("Optional", "x", "maybe").build(), false, 0, optional, "opt_out.onnx");
        Object[][] cases = {
            {seqOut, "output 'seq' is a sequence, not a tensor"},
            {seqIn, "input 'seq' is a sequence, not a tensor"},
            {optOut, "output 'maybe' is an optional, not a tensor"},
        };
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (Object[] c : cases) {
            Path model = (Path) c[0];
            try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
                assertEquals(1, s.getNumOutputs(), "ONNX Runtime itself loads " + model.getFileName());
            }
            HotpathException ex = assertThrows(HotpathException.class, () -> OrtCpuEngine.open(model));
            assertEquals(HotpathException.Category.UNSUPPORTED, ex.category(), ex.getMessage());
            assertTrue(ex.getMessage().contains((String) c[1]) && !ex.getMessage().contains("\n"), ex.getMessage());
        }
    }
}
