package io.hotpath.serve;

import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One log record, one line, for log collectors: {@code time=... level=... logger=... msg="..."},
 * with line breaks and quotes escaped inside the message (a multi-line report stays one record)
 * and a throwable as {@code error="Class: message"} plus its first frame.
 */
public final class OneLineLogFormat extends Formatter {
    /** Puts this format on every handler of the root logger (the server's logs go to stderr as one line each). */
    public static void install() {
        for (Handler h : Logger.getLogger("").getHandlers()) {
            h.setFormatter(new OneLineLogFormat());
        }
    }

    @Override
    public String format(LogRecord r) {
        StringBuilder b = new StringBuilder(160);
        b.append("time=").append(Instant.ofEpochMilli(r.getMillis())).append(" level=").append(r.getLevel().getName())
                .append(" logger=").append(r.getLoggerName()).append(" msg=\"");
        escape(b, formatMessage(r));
        b.append('"');
        Throwable t = r.getThrown();
        if (t != null) {
            b.append(" error=\"");
            escape(b, t.toString());
            StackTraceElement[] st = t.getStackTrace();
            if (st.length > 0) {
                b.append(" at ");
                escape(b, st[0].toString());
            }
            b.append('"');
        }
        return b.append('\n').toString();
    }

    static void escape(StringBuilder b, String s) {
        if (s == null) {
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> b.append(c);
            }
        }
    }
}
