package io.hotpath.nativebindings.trt;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.tensorrt.nvinfer.ILogger;

/**
 * TensorRT's logger: messages go to {@link System.Logger} {@code io.hotpath.tensorrt} (errors as
 * ERROR, warnings as WARNING, info as DEBUG, verbose as TRACE), and the last 64 errors and warnings
 * are kept with a sequence number so a failed call can quote what TensorRT said during it.
 */
public final class TrtLog {
    private static final System.Logger LOG = System.getLogger("io.hotpath.tensorrt");
    private static final int KEEP = 64;
    private static final String[] recent = new String[KEEP];
    private static long sequence;
    private static final boolean echo = Boolean.getBoolean("hotpath.tensorrt.verbose");   // -Dhotpath.tensorrt.verbose=true prints the builder's progress

    private TrtLog() {
    }

    /** The position after the newest kept message; pass it to {@link #since(long)}. */
    public static synchronized long mark() {
        return sequence;
    }

    /** Errors and warnings logged after {@code mark}, oldest first (at most 64). */
    public static synchronized List<String> since(long mark) {
        List<String> out = new ArrayList<>();
        for (long s = Math.max(mark, sequence - KEEP); s < sequence; s++) {
            out.add(recent[(int) (s % KEEP)]);
        }
        return out;
    }

    /** The errors (not warnings) logged after {@code mark}, joined for an exception message. */
    public static String errorsSince(long mark) {
        List<String> all = since(mark);
        List<String> errors = all.stream().filter(m -> m.startsWith("ERROR")).toList();
        List<String> pick = errors.isEmpty() ? all : errors;
        return pick.isEmpty() ? "TensorRT logged no error" : String.join("; ", pick);
    }

    static synchronized void keep(String message) {
        recent[(int) (sequence % KEEP)] = message;
        sequence++;
    }

    /** The logger object handed to TensorRT; one per process, never freed. */
    static final class Logger extends ILogger {
        @Override
        public void log(Severity severity, String msg) {
            // JavaCPP hands callbacks an enum object carrying the native value; branch on the value, not the constant
            int v = severity == null ? 4 : severity.value;
            if (v <= 1) {                       // kINTERNAL_ERROR, kERROR
                keep("ERROR " + msg);
                LOG.log(System.Logger.Level.ERROR, msg);
            } else if (v == 2) {                // kWARNING
                keep("WARNING " + msg);
                LOG.log(System.Logger.Level.WARNING, msg);
            } else if (v == 3) {                // kINFO
                if (echo) {
                    System.err.println("[TensorRT] " + msg);
                }
                LOG.log(System.Logger.Level.DEBUG, msg);
            } else {                            // kVERBOSE
                LOG.log(System.Logger.Level.TRACE, msg);
            }
        }
    }
}
