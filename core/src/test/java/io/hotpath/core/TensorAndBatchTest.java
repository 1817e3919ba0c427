package io.hotpath.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorAndBatchTest {
    private static final TensorSpec IDS = new TensorSpec("input_ids", DType.INT64, Shape.of(new long[] {-1, -1}, new String[] {"batch", "seq"}));
    private static final TensorSpec FEATURES = new TensorSpec("features", DType.FLOAT32, Shape.of(-1, 4));

    @Test
    void elementsAreWrittenInPlaceInTheSegment() {
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(FEATURES, a, 2, 4);
            t.putFloat(5, 1.5f);
            assertEquals(1.5f, t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 5 * 4L));
            assertEquals(1.5f, t.getAsFloat(5));
            assertEquals(8, t.elementCount());
            assertEquals(32, t.byteSize());
        }
    }

    @Test
    void reshapeWithinCapacityAndAFailedReshapeLeavesTheShapeAlone() {
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(IDS, a, 2, 8);      // 16 elements of capacity
            t.reshape(4, 4);
            assertArrayEquals(new long[] {4, 4}, t.shape());
            HotpathException tooBig = assertThrows(HotpathException.class, () -> t.reshape(3, 8));
            assertEquals(HotpathException.Category.INVALID_ARGUMENT, tooBig.category());
            assertTrue(tooBig.getMessage().contains("'input_ids'") && tooBig.getMessage().contains("[3,8]")
                    && tooBig.getMessage().contains("capacity"), tooBig.getMessage());
            assertArrayEquals(new long[] {4, 4}, t.shape(), "unchanged after a failed reshape");
            HotpathException rank = assertThrows(HotpathException.class, () -> t.reshape(16));
            assertTrue(rank.getMessage().contains("rank 1"), rank.getMessage());
            assertArrayEquals(new long[] {4, 4}, t.shape());
        }
    }

    @Test
    void fixedDimensionsCannotBeChanged() {
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(FEATURES, a, 2, 4);
            HotpathException e = assertThrows(HotpathException.class, () -> t.reshape(2, 5));
            assertTrue(e.getMessage().contains("'features'") && e.getMessage().contains("[2,5]")
                    && e.getMessage().contains("[?,4]"), e.getMessage());
        }
    }

    @Test
    void indicesOutsideTheCurrentShapeAreCaught() {
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(FEATURES, a, 2, 4).reshape(1, 4);
            assertTrue(Tensor.BOUNDS_CHECKS, "the test build turns bounds checks on");
            assertThrows(IndexOutOfBoundsException.class, () -> t.putFloat(4, 1f));
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(-1));
        }
    }

    @Test
    void halfPrecisionElementsWidenToFloat() {
        try (Arena a = Arena.ofConfined()) {
            Tensor h = Tensor.allocate(new TensorSpec("h", DType.FLOAT16, Shape.of(2)), a, 2);
            h.putShort(0, Float.floatToFloat16(0.5f));
            assertEquals(0.5f, h.getAsFloat(0));
            Tensor b = Tensor.allocate(new TensorSpec("b", DType.BFLOAT16, Shape.of(2)), a, 2);
            b.putShort(1, (short) (Float.floatToIntBits(-2.0f) >>> 16));
            assertEquals(-2.0f, b.getAsFloat(1));
        }
    }

    private static Tensor vector(Arena a, DType t, int n) {
        return Tensor.allocate(new TensorSpec(t.toString(), t, Shape.of(n)), a, n);
    }

    @Test
    void doublesAreStoredAsEightLittleEndianBytes() {
        try (Arena a = Arena.ofConfined()) {
            Tensor d = vector(a, DType.FLOAT64, 3);
            d.putDouble(2, Math.PI);
            assertEquals(Math.PI, d.data().get(ValueLayout.JAVA_DOUBLE_UNALIGNED, 16));
            assertEquals(Math.PI, d.getDouble(2));
            assertEquals(Math.PI, d.getAsDouble(2));
            assertEquals((float) Math.PI, d.getAsFloat(2));
            assertEquals(24, d.byteSize());
            assertThrows(IndexOutOfBoundsException.class, () -> d.getDouble(3));
        }
    }

    @Test
    void unsignedIntegersWidenAsUnsignedAndSignedOnesAsSigned() {
        try (Arena a = Arena.ofConfined()) {
            Tensor i16 = vector(a, DType.INT16, 1);
            i16.putShort(0, (short) -2);
            assertEquals(-2, i16.getAsLong(0));
            assertEquals(-2f, i16.getAsFloat(0));
            Tensor u16 = vector(a, DType.UINT16, 1);
            u16.putShort(0, (short) -2);
            assertEquals(65534, u16.getAsLong(0));
            assertEquals(65534.0, u16.getAsDouble(0));
            Tensor u32 = vector(a, DType.UINT32, 1);
            u32.putInt(0, -1);
            assertEquals(4294967295L, u32.getAsLong(0));
            assertEquals(4294967295.0, u32.getAsDouble(0));
            Tensor u64 = vector(a, DType.UINT64, 2);
            u64.putLong(0, -1);                  // 2^64 - 1
            u64.putLong(1, Long.MIN_VALUE + 1);  // 2^63 + 1
            assertEquals(-1, u64.getAsLong(0), "the bits, as Long.toUnsignedString reads them");
            assertEquals(0x1p64, u64.getAsDouble(0));
            assertEquals(0x1p64f, u64.getAsFloat(0));
            assertEquals(0x1p63, u64.getAsDouble(1), "2^63 + 1 rounds to 2^63");
            Tensor u8 = vector(a, DType.UINT8, 1);
            u8.putByte(0, (byte) 200);
            assertEquals(200f, u8.getAsFloat(0));
            Tensor bool = vector(a, DType.BOOL, 1);
            bool.putByte(0, (byte) 1);
            assertEquals(1, bool.getAsLong(0));
        }
    }

    @Test
    void putAsConvertsLikeACastAndWrapsIntegers() {
        try (Arena a = Arena.ofConfined()) {
            Tensor u16 = vector(a, DType.UINT16, 1);
            u16.putAsLong(0, 65536 + 7);
            assertEquals(7, u16.getAsLong(0));
            Tensor i8 = vector(a, DType.INT8, 1);
            i8.putAsDouble(0, -3.9);
            assertEquals(-3, i8.getAsLong(0), "truncated toward zero");
            Tensor u64 = vector(a, DType.UINT64, 1);
            u64.putAsDouble(0, 0x1p63 + 4096);
            assertEquals("9223372036854779904", Long.toUnsignedString(u64.getLong(0)));
            Tensor bf = vector(a, DType.BFLOAT16, 2);
            bf.putAsDouble(0, 1.0 + 0x1p-8 + 0x1p-9);    // above the halfway point between 1 and 1 + 2^-7
            assertEquals(1.0f + 0x1p-7f, bf.getAsFloat(0), "rounded to nearest, not truncated");
            bf.putAsDouble(1, Double.NaN);
            assertTrue(Float.isNaN(bf.getAsFloat(1)));
            Tensor h = vector(a, DType.FLOAT16, 1);
            h.putAsLong(0, 3);
            assertEquals(3f, h.getAsFloat(0));
            Tensor b = vector(a, DType.BOOL, 1);
            b.putAsDouble(0, -0.5);
            assertEquals(1, b.getByte(0));
            Tensor f = vector(a, DType.FLOAT32, 1);
            HotpathException e = assertThrows(HotpathException.class, () -> f.getAsLong(0));
            assertTrue(e.getMessage().contains("'float32' is float32, not an integer type"), e.getMessage());
        }
    }

    @Test
    void memoryTooSmallForOneRowIsRejected() {
        try (Arena a = Arena.ofConfined()) {
            HotpathException e = assertThrows(HotpathException.class, () -> new Tensor(FEATURES, a.allocate(8)));
            assertTrue(e.getMessage().contains("'features'"), e.getMessage());
        }
    }

    @Test
    void aBatchFindsTensorsByNameAndNamesTheUnknownOnes() {
        try (Arena a = Arena.ofConfined()) {
            Tensor ids = Tensor.allocate(IDS, a, 2, 3);
            Tensor out = Tensor.allocate(FEATURES, a, 2, 4);
            Batch b = Batch.of(List.of(ids), List.of(out));
            assertSame(ids, b.input("input_ids"));
            assertSame(out, b.output("features"));
            HotpathException e = assertThrows(HotpathException.class, () -> b.input("attention_mask"));
            assertTrue(e.getMessage().contains("'attention_mask'") && e.getMessage().contains("input_ids"), e.getMessage());
            b.batchSize(1);
            assertArrayEquals(new long[] {1, 3}, ids.shape());
            assertThrows(HotpathException.class, () -> Batch.of(List.of(ids, ids), List.of(out)));
        }
    }

    @Test
    void engineStateBelongsToItsOwner() {
        try (Arena a = Arena.ofConfined()) {
            Batch b = Batch.of(List.of(Tensor.allocate(FEATURES, a, 1, 4)), List.of());
            Object engineA = new Object();
            b.engineState(engineA, "bound");
            assertEquals("bound", b.engineState(engineA));
            assertEquals(null, b.engineState(new Object()));
        }
    }
}
