package io.hotpath.nativebindings.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.nativebindings.trt.TensorRt;
import org.junit.jupiter.api.Test;

class CudaErrorsTest {
    @Test
    void cudaErrorsMapToCategoriesWithCodeAndName() {
        assertEquals(Category.UNSUPPORTED, Cuda.categoryOf(100));
        assertEquals(Category.UNSUPPORTED, Cuda.categoryOf(35));
        assertEquals(Category.INVALID_ARGUMENT, Cuda.categoryOf(1));
        assertEquals(Category.ENGINE_FAILURE, Cuda.categoryOf(2));
        assertEquals(Category.ENGINE_FAILURE, Cuda.categoryOf(700));
        HotpathException e = Cuda.error(2, "cudaMalloc(1024 bytes)");
        assertEquals(2, e.nativeCode());
        assertEquals("cudaErrorMemoryAllocation", e.nativeCodeName());
        assertTrue(e.getMessage().contains("cudaMalloc(1024 bytes) failed: cudaErrorMemoryAllocation (2)"), e.getMessage());
        Cuda.check(0, "nothing");   // success is quiet
        assertThrows(HotpathException.class, () -> Cuda.check(719, "kernel"));
    }

    @Test
    void versionsReadAsPeopleWriteThem() {
        assertEquals("13.1", Cuda.versionString(13010));
        assertEquals("12.9", Cuda.versionString(12090));
        assertEquals("none", Cuda.versionString(0));
        assertEquals("10.15.1", TensorRt.versionString(101501));
        assertEquals("none", TensorRt.versionString(0));
    }

    @Test
    void statusNeverThrowsAndExplainsAbsence() {
        Cuda.Status s = Cuda.status();
        if (!s.available()) {
            assertFalse(s.reason().isBlank());
            HotpathException e = assertThrows(HotpathException.class, Cuda::requireAvailable);
            assertEquals(Category.UNSUPPORTED, e.category());
            assertThrows(HotpathException.class, () -> new PinnedMemory(64));
            assertFalse(TensorRt.status().available());
            assertFalse(TensorRt.status().reason().isBlank());
        } else {
            assertTrue(s.deviceCount() > 0);
        }
    }
}
