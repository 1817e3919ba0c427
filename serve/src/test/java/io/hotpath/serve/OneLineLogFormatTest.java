package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class OneLineLogFormatTest {
    @Test
    void aMultiLineMessageAndAThrowableStayOnOneLine() {
        LogRecord r = new LogRecord(Level.INFO, "engine jvm\n  considered \"cpu\": usable\\ok");
        r.setLoggerName("io.hotpath.embed.Hotpath");
        r.setThrown(new IllegalStateException("bad\nthing"));
        String line = new OneLineLogFormat().format(r);
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.endsWith("\n"));
        assertTrue(line.contains(" level=INFO logger=io.hotpath.embed.Hotpath msg=\"engine jvm\\n  considered \\\"cpu\\\": usable\\\\ok\""), line);
        assertTrue(line.contains("error=\"java.lang.IllegalStateException: bad\\nthing at "), line);
        assertTrue(line.startsWith("time=20"), line);
    }
}
