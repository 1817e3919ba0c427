package io.hotpath.nativebindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hotpath.core.HotpathException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

class SegmentPointersTest {

    @Test
    void aPointerSeesTheSegmentsBytesWithoutACopy() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64, 64);
            Pointer p = SegmentPointers.pointer(s);
            assertEquals(s.address(), p.address());
            assertEquals(64, p.capacity());
            FloatPointer f = new FloatPointer(p);
            s.set(ValueLayout.JAVA_FLOAT, 8, 3.25f);
            assertEquals(3.25f, f.get(2), "native side reads what Java wrote");
            f.put(3, -1.5f);
            assertEquals(-1.5f, s.get(ValueLayout.JAVA_FLOAT, 12), "Java reads what the native side wrote");
        }
    }

    @Test
    void aSegmentOverAPointerSharesItsMemory() {
        try (FloatPointer f = new FloatPointer(4)) {
            f.put(1, 7f);
            MemorySegment s = SegmentPointers.segment(f, 16);
            assertEquals(7f, s.get(ValueLayout.JAVA_FLOAT, 4));
            assertEquals(f.address(), s.address());
        }
    }

    @Test
    void aScopedSegmentBecomesInvalidWhenItsOwnerClosesTheScope() {
        // what PinnedMemory does: the view dies with the scope, before the memory is freed
        try (FloatPointer f = new FloatPointer(4)) {
            Arena scope = Arena.ofShared();
            MemorySegment s = SegmentPointers.segment(f, 16, scope);
            s.set(ValueLayout.JAVA_FLOAT, 0, 2.5f);
            assertEquals(2.5f, f.get(0));
            scope.close();
            assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_FLOAT, 0), "a stale view fails, it does not read freed memory");
            assertThrows(IllegalStateException.class, () -> s.set(ValueLayout.JAVA_FLOAT, 0, 1f));
        }
    }

    @Test
    void heapSegmentsAreRefused() {
        HotpathException e = assertThrows(HotpathException.class, () -> SegmentPointers.pointer(MemorySegment.ofArray(new float[4])));
        assertEquals(HotpathException.Category.INVALID_ARGUMENT, e.category());
    }

    @Test
    void aNativeHandleIsReleasedOnceAndRefusesUseAfterClose() {
        AtomicInteger releases = new AtomicInteger();
        NativeHandle h = new NativeHandle("test handle") {
            @Override
            protected void release() {
                releases.incrementAndGet();
            }
        };
        h.checkOpen();
        h.close();
        h.close();
        assertEquals(1, releases.get());
        IllegalStateException e = assertThrows(IllegalStateException.class, h::checkOpen);
        assertEquals("test handle is closed", e.getMessage());
    }
}
