package io.hotpath.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class RecordLogTest {
    /**
     * The main log's re-insertion path: its only record leaves (the log is empty, head and tail near
     * the end), then a record longer than the rest of the log asks for room. It must go to offset
     * 0, inside the log, not past its end.
     */
    @Test
    void anEmptiedLogAppendsFromItsStartNotPastItsEnd() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mem = a.allocate(4096);
            RecordLog log = new RecordLog(mem, 1024, 1000, 0);
            assertTrue(log.roomAtHead(900));
            int first = log.append(900);
            assertEquals(0, first);
            log.advanceTail(900);           // the only record leaves: empty, head = tail = 900
            assertTrue(log.isEmpty());
            assertTrue(log.hasRoom(300), "an empty log of 1000 bytes has room for 300");
            int at = log.append(300);
            assertTrue(at + 300 <= log.capacity(), "the record lies inside the log: " + at + " + 300 <= " + log.capacity());
            assertEquals(0, at);
        }
    }
}
