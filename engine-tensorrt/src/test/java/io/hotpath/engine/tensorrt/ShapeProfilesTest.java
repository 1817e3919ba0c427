package io.hotpath.engine.tensorrt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeProfilesTest {
    private static final List<String> NAMES = List.of("input_ids", "attention_mask");
    private static final List<long[]> DIMS = List.of(new long[] {-1, -1}, new long[] {-1, -1});

    @Test
    void oneProfilePerBucketWithOptAtTheTop() {
        List<ShapeProfiles.Profile> p = ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {64, 1, 8}, 128);
        assertEquals(3, p.size());
        ShapeProfiles.Range r0 = p.get(0).range("input_ids");
        assertArrayEquals(new long[] {1, 1}, r0.min());
        assertArrayEquals(new long[] {1, 128}, r0.opt());
        assertArrayEquals(new long[] {1, 128}, r0.max());
        ShapeProfiles.Range r1 = p.get(1).range("attention_mask");
        assertArrayEquals(new long[] {2, 1}, r1.min());
        assertArrayEquals(new long[] {8, 128}, r1.opt());
        ShapeProfiles.Range r2 = p.get(2).range("input_ids");
        assertArrayEquals(new long[] {9, 1}, r2.min());
        assertArrayEquals(new long[] {64, 128}, r2.max());
        assertArrayEquals(new long[] {64, 128}, ShapeProfiles.maxShape(p, "input_ids"));
    }

    @Test
    void staticDimensionsStayFixed() {
        List<ShapeProfiles.Profile> p = ShapeProfiles.forBuckets(List.of("features"), List.<long[]>of(new long[] {-1, 64}), new int[] {4}, 999);
        ShapeProfiles.Range r = p.get(0).range("features");
        assertArrayEquals(new long[] {1, 64}, r.min());
        assertArrayEquals(new long[] {4, 64}, r.opt());
        assertArrayEquals(new long[] {4, 64}, r.max());
    }

    @Test
    void selectsTheFirstProfileThatHoldsEveryInput() {
        List<ShapeProfiles.Profile> p = ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {1, 8, 64}, 128);
        String[] names = NAMES.toArray(String[]::new);
        int[] ranks = {2, 2};
        assertEquals(0, ShapeProfiles.select(p, names, new long[][] {{1, 128}, {1, 128}}, ranks));
        assertEquals(1, ShapeProfiles.select(p, names, new long[][] {{5, 16}, {5, 16}}, ranks));
        assertEquals(1, ShapeProfiles.select(p, names, new long[][] {{8, 128}, {8, 128}}, ranks));
        assertEquals(2, ShapeProfiles.select(p, names, new long[][] {{9, 1}, {9, 1}}, ranks));
        assertEquals(2, ShapeProfiles.select(p, names, new long[][] {{64, 128}, {64, 128}}, ranks));
        assertEquals(-1, ShapeProfiles.select(p, names, new long[][] {{65, 128}, {65, 128}}, ranks));
        assertEquals(-1, ShapeProfiles.select(p, names, new long[][] {{4, 129}, {4, 129}}, ranks));
        assertEquals(-1, ShapeProfiles.select(p, names, new long[][] {{4, 16, 1}, {4, 16}}, new int[] {3, 2}));
    }

    @Test
    void noProfileErrorNamesTheShapesAndTheProfiles() {
        List<ShapeProfiles.Profile> p = ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {1, 8}, 128);
        HotpathException e = ShapeProfiles.noProfile(p, NAMES.toArray(String[]::new), new long[][] {{9, 128}, {9, 128}}, new int[] {2, 2});
        assertEquals(Category.INVALID_ARGUMENT, e.category());
        assertTrue(e.getMessage().contains("input_ids=[9,128]"), e.getMessage());
        assertTrue(e.getMessage().contains("max=[8, 128]"), e.getMessage());
    }

    @Test
    void badRangesAndBucketsAreClearErrors() {
        assertThrows(HotpathException.class, () -> new ShapeProfiles.Range("x", new long[] {2}, new long[] {1}, new long[] {3}));
        assertThrows(HotpathException.class, () -> new ShapeProfiles.Range("x", new long[] {1}, new long[] {1, 2}, new long[] {3}));
        assertThrows(HotpathException.class, () -> ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {}, 128));
        assertThrows(HotpathException.class, () -> ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {0, 8}, 128));
        assertThrows(HotpathException.class, () -> ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {8}, 0));
        assertThrows(HotpathException.class, () -> ShapeProfiles.maxShape(
                ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {8}, 16), "token_type_ids"));
    }

    @Test
    void calibrationUsesTheProfileWhoseOptBatchIsClosest() {
        List<ShapeProfiles.Profile> p = ShapeProfiles.forBuckets(NAMES, DIMS, new int[] {1, 8, 64}, 128);
        assertEquals(1, CalibrationFeed.profileFor(p, 8));
        assertEquals(0, CalibrationFeed.profileFor(p, 1));
        assertEquals(2, CalibrationFeed.profileFor(p, 50));
    }
}
