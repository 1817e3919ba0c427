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
        assertNull(DType.fromOnnxCode(11), "double is not supported");
        assertNull(DType.fromOnnxCode(99));
        assertThrows(HotpathException.class, () -> DType.parse("float64"));
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
