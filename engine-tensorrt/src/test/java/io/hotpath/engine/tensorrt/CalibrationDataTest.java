package io.hotpath.engine.tensorrt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CalibrationDataTest {
    private static CalibrationData data(int samples) {
        CalibrationData d = new CalibrationData(List.of("ids", "mask"), List.of(new long[] {4}, new long[] {4}));
        for (int s = 0; s < samples; s++) {
            d.addLongs(Map.of("ids", new long[] {s, s + 1, s + 2, s + 3}, "mask", new long[] {1, 1, 1, s % 2}));
        }
        return d;
    }

    @Test
    void wholeBatchesOnlyTheRemainderDropped() {
        CalibrationData d = data(21);
        assertEquals(2, d.batches(8));
        assertEquals(21, d.batches(1));
        assertEquals(32, d.rowBytes("ids"));
        HotpathException e = assertThrows(HotpathException.class, () -> data(5).batches(8));
        assertTrue(e.getMessage().contains("5 calibration samples make no batch of 8"), e.getMessage());
        assertThrows(HotpathException.class, () -> d.batches(0));
    }

    @Test
    void fillCopiesTheBatchRowsInOrder() {
        CalibrationData d = data(16);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(8 * 32);
            d.fill(1, 8, "ids", dst);
            for (int r = 0; r < 8; r++) {
                for (int c = 0; c < 4; c++) {
                    assertEquals(8 + r + c, dst.getAtIndex(ValueLayout.JAVA_LONG, r * 4L + c));
                }
            }
        }
    }

    @Test
    void inconsistentOrMissingInputsAreRejected() {
        CalibrationData d = data(1);
        assertThrows(HotpathException.class, () -> d.addLongs(Map.of("ids", new long[] {1, 2, 3, 4})));
        assertThrows(HotpathException.class, () -> d.addLongs(Map.of("ids", new long[] {1, 2, 3}, "mask", new long[] {1, 1, 1, 1})));
        assertThrows(HotpathException.class, () -> new CalibrationData(List.of("a"), List.of()));
    }

    @Test
    void fingerprintFollowsTheBytes() {
        assertEquals(data(8).fingerprint(), data(8).fingerprint());
        assertNotEquals(data(8).fingerprint(), data(9).fingerprint());
        assertTrue(data(8).fingerprint().startsWith("8 samples ids[4]mask[4]"), data(8).fingerprint());
    }
}
