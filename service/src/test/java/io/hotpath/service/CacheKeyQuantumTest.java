package io.hotpath.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class CacheKeyQuantumTest {
    /** Before: NaN mapped to the bucket of 0 (the answer for zeros) and 3e30 to 1e30's (the cast saturated). */
    @Test
    void nanInfinitiesAndHugeFeaturesGetBucketsOfTheirOwn() {
        double q = 1e-3;
        assertNotEquals(InferenceService.quantized(Float.NaN, q), InferenceService.quantized(0f, q), "NaN is not zero");
        assertNotEquals(InferenceService.quantized(3e30f, q), InferenceService.quantized(1e30f, q), "3e30 is not 1e30");
        assertNotEquals(InferenceService.quantized(Float.POSITIVE_INFINITY, q), InferenceService.quantized(Float.NEGATIVE_INFINITY, q));
        assertNotEquals(InferenceService.quantized(-3e30f, q), InferenceService.quantized(3e30f, q));
        assertEquals(InferenceService.quantized(1.0001f, q), InferenceService.quantized(1.0002f, q), "near-duplicates still share");
        assertEquals(1000L, InferenceService.quantized(1.0f, q));
        assertEquals(-1000L, InferenceService.quantized(-1.0f, q));
        // the exact-bits codes lie below -2^62, where no rounded bucket is
        long code = InferenceService.quantized(Float.NaN, q);
        assertEquals(true, code < -(1L << 62));
    }
}
