package io.hotpath.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapeAndDTypeTest {

    @Test
    void dynamicDimensionsCarryTheirNames() {
        Shape s = Shape.of(new long[] {-1, -1, 384}, new String[] {"batch_size", "", "ignored"});
        assertEquals(3, s.rank());
        assertTrue(s.isDynamic(0));
        assertEquals("batch_size", s.dimName(0));
        assertNull(s.dimName(1), "an empty name is no name");
        assertNull(s.dimName(2), "fixed dimensions have no name");
        assertEquals("[batch_size,?,384]", s.toString());
        assertFalse(s.isStatic());
    }

    @Test
    void acceptsChecksRankAndFixedDimensionsOnly() {
        Shape s = Shape.of(-1, 64);
        assertTrue(s.accepts(new long[] {8, 64}, 2));
        assertFalse(s.accepts(new long[] {8, 63}, 2));
        assertFalse(s.accepts(new long[] {8, 64, 1}, 3));
        assertFalse(s.accepts(new long[] {-2, 64}, 2));
    }

    @Test
    void elementCountOfAStaticShapeAndRefusalForADynamicOne() {
        assertEquals(2 * 3 * 4, Shape.of(2, 3, 4).elementCount());
        HotpathException e = assertThrows(HotpathException.class, () -> Shape.of(-1, 4).elementCount());
        assertEquals(HotpathException.Category.INVALID_ARGUMENT, e.category());
    }

    @Test
    void badDimensionsAreRejected() {
        HotpathException e = assertThrows(HotpathException.class, () -> Shape.of(2, -3));
        assertTrue(e.getMessage().contains("-3"), e.getMessage());
        assertThrows(HotpathException.class, () -> Shape.of(new long[] {1, 2}, new String[] {"a"}));
    }

    @Test
    void dtypesMapToOnnxCodesBothWays() {
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromOnnxCode(t.onnxCode()));
            assertEquals(t, DType.parse(t.toString()));
        }
        assertEquals(1, DType.FLOAT32.onnxCode());
        assertEquals(7, DType.INT64.onnxCode());
        assertEquals(10, DType.FLOAT16.onnxCode());
        assertEquals(16, DType.BFLOAT16.onnxCode());
        assertEquals(8, DType.INT64.byteSize());
        assertEquals(2, DType.BFLOAT16.byteSize());
        assertEquals(11, DType.FLOAT64.onnxCode());
        assertEquals(5, DType.INT16.onnxCode());
        assertEquals(4, DType.UINT16.onnxCode());
        assertEquals(12, DType.UINT32.onnxCode());
        assertEquals(13, DType.UINT64.onnxCode());
        assertEquals(8, DType.FLOAT64.byteSize());
        assertEquals(2, DType.UINT16.byteSize());
        assertEquals(4, DType.UINT32.byteSize());
        assertEquals(8, DType.UINT64.byteSize());
        assertEquals(DType.STRING, DType.fromOnnxCode(8));
        assertEquals(DType.FLOAT8E5M2, DType.fromOnnxCode(19));
        assertEquals(1, DType.FLOAT8E4M3FN.byteSize());
        assertNull(DType.fromOnnxCode(23), "float4e2m1 is not supported");
        assertNull(DType.fromOnnxCode(14), "complex64 is not supported");
        assertNull(DType.fromOnnxCode(99));
        assertThrows(HotpathException.class, () -> DType.parse("complex64"));
    }

    @Test
    void anUnsupportedElementTypeIsRefusedNamingTheTensorAndTheType() {
        assertEquals(DType.UINT32, DType.ofTensor("input", "x", 12));
        HotpathException e = assertThrows(HotpathException.class, () -> DType.ofTensor("output", "z", 14));
        assertEquals(HotpathException.Category.UNSUPPORTED, e.category());
        assertTrue(e.getMessage().startsWith("UNSUPPORTED: output 'z' has element type complex64, which Hotpath does not support (supported: float32, float64,"),
                e.getMessage());
        String f4 = assertThrows(HotpathException.class, () -> DType.ofTensor("input", "q", 23)).getMessage();
        assertTrue(f4.contains("input 'q' has element type float4e2m1,"), f4);
        assertEquals("string", DType.onnxName(8));
        assertEquals("float8e5m2", DType.onnxName(19));
        assertEquals("int4", DType.onnxName(22));
        assertEquals("ONNX element type 99", DType.onnxName(99));
    }

    @Test
    void exceptionMessagesCarryCategoryAndNativeCode() {
        HotpathException e = new HotpathException(HotpathException.Category.INVALID_MODEL, "bad file", 7, "ORT_INVALID_PROTOBUF", null);
        assertEquals(7, e.nativeCode());
        assertEquals("ORT_INVALID_PROTOBUF", e.nativeCodeName());
        assertEquals("INVALID_MODEL: bad file [ORT_INVALID_PROTOBUF=7]", e.getMessage());
        assertEquals(HotpathException.NO_NATIVE_CODE, HotpathException.invalidArgument("x").nativeCode());
    }
}
