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
