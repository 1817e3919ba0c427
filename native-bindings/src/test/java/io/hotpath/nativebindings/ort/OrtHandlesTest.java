package io.hotpath.nativebindings.ort;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.models.BuiltinModels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;

class OrtHandlesTest {
    private static final byte[] MLP = BuiltinModels.mlp(BuiltinModels.DEFAULT_SEED).toByteArray();

    @Test
    void theRuntimeReportsItsVersion() {
        assertEquals("1.24.1", Ort.get().version());
    }

    @Test
    void aSessionDescribesItsInputsAndOutputs() {
        try (SessionOptionsHandle o = new SessionOptionsHandle(); SessionHandle s = SessionHandle.open(MLP, o)) {
            assertEquals(1, s.inputCount());
            assertEquals(1, s.outputCount());
            TensorInfo in = s.input(0);
            assertEquals("features", in.name());
            assertEquals(1, in.elementType());
            assertArrayEquals(new long[] {-1, 64}, in.dims());
            assertEquals("batch", in.dimNames()[0]);
            assertEquals("score", s.output(0).name());
        }
    }

    @Test
    void ioBindingAndRunArgumentsBothRunOverHotpathMemory() {
        try (Arena arena = Arena.ofConfined();
             SessionOptionsHandle o = new SessionOptionsHandle().intraOpThreads(1).graphOptimization(GraphOptimization.ALL);
             SessionHandle s = SessionHandle.open(MLP, o);
             RunOptionsHandle ro = new RunOptionsHandle()) {
            MemorySegment x = arena.allocate(2 * 64 * 4, 64);
            for (int i = 0; i < 128; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) / 7f);
            }
            MemorySegment y1 = arena.allocate(2 * 4, 64);
            MemorySegment y2 = arena.allocate(2 * 4, 64);
            try (ValueHandle in = ValueHandle.tensor(x, x.byteSize(), new long[] {2, 64}, 2, 1);
                 ValueHandle out1 = ValueHandle.tensor(y1, y1.byteSize(), new long[] {2, 1}, 2, 1);
                 ValueHandle out2 = ValueHandle.tensor(y2, y2.byteSize(), new long[] {2, 1}, 2, 1);
                 IoBindingHandle binding = new IoBindingHandle(s);
                 BytePointer inName = IoBindingHandle.name("features");
                 BytePointer outName = IoBindingHandle.name("score");
                 RunArguments args = new RunArguments(List.of("features"), List.of("score"))) {
                binding.bindInput(inName, in);
                binding.bindOutput(outName, out1);
                s.run(ro, binding);
                args.input(0, in);
                args.output(0, out2);
                s.run(ro, args);
                for (int r = 0; r < 2; r++) {
                    float a = y1.getAtIndex(ValueLayout.JAVA_FLOAT, r);
                    assertTrue(a > 0 && a < 1, "sigmoid output " + a);
                    assertEquals(a, y2.getAtIndex(ValueLayout.JAVA_FLOAT, r), "IoBinding and Run agree");
                }
            }
        }
    }

    @Test
    void everyHandleClosesOnceAndRefusesUseAfterClose() {
        SessionOptionsHandle o = new SessionOptionsHandle();
        SessionHandle s = SessionHandle.open(MLP, o);
        RunOptionsHandle ro = new RunOptionsHandle();
        IoBindingHandle b = new IoBindingHandle(s);
        b.close();
        b.close();
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, s::inputCount);
        assertThrows(IllegalStateException.class, () -> new IoBindingHandle(s));
        assertThrows(IllegalStateException.class, () -> s.run(ro, b));
        o.close();
        o.close();
        assertThrows(IllegalStateException.class, () -> o.intraOpThreads(1));
        assertThrows(IllegalStateException.class, () -> SessionHandle.open(MLP, o));
        ro.close();
        ro.close();
        assertThrows(IllegalStateException.class, ro::terminate);
    }

    @Test
    void nativeErrorsKeepOnnxRuntimesCodeAndMessage() {
        try (SessionOptionsHandle o = new SessionOptionsHandle()) {
            HotpathException bad = assertThrows(HotpathException.class, () -> SessionHandle.open(new byte[] {1, 2, 3, 4, 5}, o));
            assertEquals(Category.INVALID_MODEL, bad.category());
            assertEquals(7, bad.nativeCode());
            assertEquals("ORT_INVALID_PROTOBUF", bad.nativeCodeName());
            assertTrue(bad.getMessage().toLowerCase(java.util.Locale.ROOT).contains("protobuf parsing failed"), bad.getMessage());

            HotpathException badEntry = assertThrows(HotpathException.class, () -> o.configEntry("", "1"));
            assertEquals(Category.INVALID_ARGUMENT, badEntry.category());
            assertTrue(badEntry.nativeCode() > 0, badEntry.getMessage());
        }
    }

    @Test
    void aRunWithAWrongInputTypeIsAnInvalidArgumentWithOrtsCode() {
        try (Arena arena = Arena.ofConfined();
             SessionOptionsHandle o = new SessionOptionsHandle();
             SessionHandle s = SessionHandle.open(MLP, o);
             RunOptionsHandle ro = new RunOptionsHandle();
             IoBindingHandle b = new IoBindingHandle(s);
             BytePointer name = IoBindingHandle.name("features")) {
            MemorySegment x = arena.allocate(64 * 8, 64);
            try (ValueHandle wrong = ValueHandle.tensor(x, x.byteSize(), new long[] {1, 64}, 2, 7)) {   // int64, not float
                b.bindInput(name, wrong);
                HotpathException e = assertThrows(HotpathException.class, () -> s.run(ro, b));
                assertEquals(Category.INVALID_ARGUMENT, e.category());
                assertEquals("ORT_INVALID_ARGUMENT", e.nativeCodeName());
            }
        }
    }

    @Test
    void errorCodesHaveOnnxRuntimesNames() {
        assertEquals("ORT_NO_SUCHFILE", Ort.codeName(3));
        assertEquals("ORT_INVALID_GRAPH", Ort.codeName(10));
        assertEquals(Category.NOT_FOUND, Ort.error(3, "x", Category.INVALID_MODEL, "loading").category());
        assertEquals(Category.INVALID_MODEL, Ort.error(10, "x", Category.ENGINE_FAILURE, "loading").category());
        assertEquals(Category.ENGINE_FAILURE, Ort.error(6, "x", Category.ENGINE_FAILURE, "running").category());
    }
}
