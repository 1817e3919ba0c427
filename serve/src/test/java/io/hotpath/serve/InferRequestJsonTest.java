package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JSON part of an HTTP infer request, parsed by one connection's reused parser: each request
 * is read on its own, whatever the one before it was (complete, truncated, followed by a partial
 * token, refused half-way), and a complete one costs next to no heap.
 */
class InferRequestJsonTest {
    private static final JsonFactory JSON = InferRequestJson.factory(1 << 20);
    private static final List<String> INPUTS = List.of("features");
    private static final List<String> OUTPUTS = List.of("score");

    private static String good(int rows, long binary) {
        return "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[" + rows + ",64],\"parameters\":{\"binary_data_size\":"
                + binary + "}}],\"outputs\":[{\"name\":\"score\",\"parameters\":{\"binary_data\":true}}]}";
    }

    /** Parses {@code text} placed at an offset inside a larger buffer, as the HTTP body holds it. */
    private static String parse(InferRequestJson r, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf body = Unpooled.directBuffer(b.length + 16);
        body.writeZero(7).writeBytes(b).writeZero(9);
        try {
            return r.parse(JSON, body, 7, b.length, INPUTS, OUTPUTS);
        } finally {
            body.release();
        }
    }

    private static void assertGood(InferRequestJson r, int rows) {
        assertNull(parse(r, good(rows, rows * 256L)));
        assertEquals(1, r.inputCount);
        assertEquals(rows, r.inputs[0].shape[0]);
        assertEquals(rows * 256L, r.inputs[0].binarySize);
        assertTrue(r.inputs[0].name == INPUTS.get(0), "the model's own name string, not a copy");
        assertEquals(1, r.outputCount);
    }

    @Test
    void requestAfterRequestOnOneParser() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        for (int k = 1; k <= 5; k++) {
            assertGood(r, k);
        }
        assertNull(parse(r, "  \n" + good(2, 512) + " \r\n\t"), "whitespace around the object");
        assertEquals(2, r.inputs[0].shape[0]);
    }

    @Test
    void whateverCameBeforeDoesNotLeakIntoTheNextRequest() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        String[][] bad = {
            {good(1, 256) + " \"abc", "trailing content"},          // a partial string after the object would wait in the parser
            {good(1, 256) + " 12", "trailing content"},             // so would a partial number
            {good(1, 256) + " {}", "trailing content"},
            {"{\"inputs\":[{\"name\":\"features\"", "malformed JSON"},
            {"{", "malformed JSON"},
            {"", "not a JSON object"},
            {"[1,2]", "not a JSON object"},
            {"{\"id\": 5, \"inputs\": []}", "\"id\" must be a string"},    // refused half-way through the object
            {"{\"inputs\": x}", "malformed JSON"},
        };
        for (String[] c : bad) {
            String why = parse(r, c[0]);
            assertTrue(why != null && why.contains(c[1]), c[0] + " -> " + why);
            assertGood(r, 3);
        }
    }

    /** A JSON header larger than a connection keeps an array for parses on its own array, and the next request goes on as usual. */
    @Test
    void aLargeHeaderIsParsedAndNotKept() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        assertGood(r, 1);
        String g = good(2, 512);
        String large = "{" + " ".repeat(InferRequestJson.KEEP_BYTES + 100) + g.substring(1);
        assertNull(parse(r, large));
        assertEquals(2, r.inputs[0].shape[0]);
        assertGood(r, 3);
        String why = parse(r, large + " x");
        assertTrue(why != null && why.contains("trailing content"), why);
        assertGood(r, 4);
    }

    /** A malformed request's byte offset counts from its own first byte, not from the connection's first request. */
    @Test
    void errorOffsetsAreWithinTheRequest() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        assertGood(r, 1);
        assertGood(r, 2);
        String why = parse(r, "{\"inputs\": x}");
        assertTrue(why.endsWith("at byte 11"), why);
    }

    @Test
    void theParserIsRenewedAfterItsQuotaAndGoesOn() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        for (int k = 0; k < InferRequestJson.DOCUMENTS_PER_PARSER * 2 + 3; k++) {
            assertGood(r, 1 + k % 4);
        }
    }

    /**
     * What a reused parser saves: a new one costs about 900 bytes; a request on the reused one, a
     * few dozen (two headers alternate, so each is parsed, not taken as a repeat).
     */
    @Test
    void aCompleteRequestCostsNextToNoHeap() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        InferRequestJson r = new InferRequestJson(1 << 16);
        byte[] b = (good(1, 256) + good(2, 512)).getBytes(StandardCharsets.UTF_8);
        int first = good(1, 256).length();
        ByteBuf body = Unpooled.directBuffer(b.length).writeBytes(b);
        try {
            for (int k = 0; k < 20_000; k++) {
                assertNull(k % 2 == 0 ? r.parse(JSON, body, 0, first, INPUTS, OUTPUTS) : r.parse(JSON, body, first, b.length - first, INPUTS, OUTPUTS));
            }
            int n = 20_000;
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int k = 0; k < n; k++) {
                if (k % 2 == 0) {
                    r.parse(JSON, body, 0, first, INPUTS, OUTPUTS);
                } else {
                    r.parse(JSON, body, first, b.length - first, INPUTS, OUTPUTS);
                }
            }
            long perRequest = (mx.getCurrentThreadAllocatedBytes() - before) / n;
            assertEquals(0, r.repeats, "alternating headers are never repeats");
            assertTrue(perRequest < 200, perRequest + " bytes per request");
        } finally {
            body.release();
        }
    }

    /**
     * A repeated header with inline data, an id and a timeout leaves every field as parsing gave it;
     * a malformed request right after a repeat still reports its offset from its own first byte.
     */
    @Test
    void aRepeatedHeaderWithDataIdAndTimeoutKeepsThemAll() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        String h = "{\"id\":\"r-7\",\"parameters\":{\"timeout\":1500,\"binary_data_output\":true},\"inputs\":[{\"name\":\"features\","
                + "\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2.5,-3]}]}";
        for (int k = 0; k < 3; k++) {
            assertNull(parse(r, h));
            assertEquals("r-7", r.id);
            assertEquals(1500, r.timeoutMicros);
            assertTrue(r.binaryOutputs);
            assertEquals(1, r.inputCount);
            assertEquals(3, r.inputs[0].shape[1]);
            assertEquals(3, r.inputs[0].dataCount);
            assertEquals(3, r.numberCount);
            assertEquals(-1, r.outputCount);
        }
        assertEquals(2, r.repeats);
        String why = parse(r, "{\"inputs\": x}");
        assertTrue(why.endsWith("at byte 11"), why);
        assertNull(parse(r, h));
        assertEquals("r-7", r.id);
        assertEquals(2, r.repeats);
    }

    /**
     * The same header bytes again are compared, not parsed, and leave the fields as they were;
     * one byte different, another model's names, or a header after a refusal are parsed.
     */
    @Test
    void aRepeatedHeaderIsTakenAsTheSameRequestOnlyWhenItIs() {
        InferRequestJson r = new InferRequestJson(1 << 16);
        assertGood(r, 3);
        assertEquals(0, r.repeats);
        assertGood(r, 3);
        assertGood(r, 3);
        assertEquals(2, r.repeats);
        assertGood(r, 4);                                        // same length, one byte different
        assertEquals(2, r.repeats);
        String why = parse(r, good(4, 4 * 256L) + " x");          // refused
        assertTrue(why != null && why.contains("trailing content"), why);
        assertGood(r, 4);                                        // after a refusal the last good header is forgotten
        assertEquals(2, r.repeats);
        byte[] b = good(4, 1024).getBytes(StandardCharsets.UTF_8);
        ByteBuf body = Unpooled.wrappedBuffer(b);
        assertNull(r.parse(JSON, body, 0, b.length, List.of("x"), OUTPUTS));     // the same bytes for another model: parsed
        assertEquals(2, r.repeats);
        assertTrue(r.inputs[0].name != INPUTS.get(0) && r.inputs[0].name.equals("features"), "read against that model's names");
        assertGood(r, 4);                                        // and for this model again: parsed, its own name string
        assertEquals(2, r.repeats);
        assertGood(r, 4);
        assertEquals(3, r.repeats);
    }
}
