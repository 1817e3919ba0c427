package io.hotpath.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * The Java side of {@code hotpath profile}: a JFR recording of Hotpath's own events (which make
 * the service stamp each request's stages) and of JFR's execution samples (threads running Java)
 * and native-method samples (threads inside a native call, such as ONNX Runtime's run), read back
 * as the hottest frames and as the stacks of a flame graph.
 */
final class JfrSamples {
    /** One frame's share: its name and how many samples had it on top. */
    record Frame(String name, long samples) {
    }

    /** A stack, root first, and how many samples had it. */
    record Stack(List<String> frames, long samples) {
    }

    /** What the recording held. */
    record Read(List<Frame> hottest, List<Stack> stacks, long javaSamples, long nativeSamples, long hotpathEvents) {
    }

    /** Frames where a thread waits rather than works (an idle strategy yielding or parking): marked, so they are not read as work. */
    private static final java.util.Set<String> WAITING = java.util.Set.of("Thread.yield0", "Thread.yield", "Unsafe.park", "LockSupport.parkNanos",
            "Thread.sleep0", "Thread.sleepNanos0", "Object.wait0");

    private JfrSamples() {
    }

    /** A recording of Hotpath's events (every one) and of execution samples every {@code sampleMillis}, started. */
    static Recording start(int sampleMillis) {
        Recording r = new Recording();
        try {
            configure(r, sampleMillis);
            r.start();
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
        return r;
    }

    private static void configure(Recording r, int sampleMillis) {
        r.setName("hotpath-profile");
        for (String e : new String[] {"hotpath.Request", "hotpath.Batch", "hotpath.CacheLookup", "hotpath.Callback", "hotpath.Tokenize"}) {
            r.enable(e).withThreshold(Duration.ZERO);
        }
        r.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(sampleMillis));
        r.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(Math.max(sampleMillis, 10)));
        r.setToDisk(true);
    }

    /** Reads the samples of {@code file}: the top {@code top} frames by samples on top of the stack, and every stack. */
    static Read read(Path file, int top) throws IOException {
        Map<String, Long> self = new HashMap<>();
        Map<List<String>, Long> stacks = new LinkedHashMap<>();
        long java = 0;
        long nat = 0;
        long hotpath = 0;
        try (RecordingFile f = new RecordingFile(file)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                String type = e.getEventType().getName();
                if (type.startsWith("hotpath.")) {
                    hotpath++;
                    continue;
                }
                boolean isNative = type.equals("jdk.NativeMethodSample");
                if (!isNative && !type.equals("jdk.ExecutionSample")) {
                    continue;
                }
                RecordedStackTrace st = e.getStackTrace();
                if (st == null || st.getFrames().isEmpty()) {
                    continue;
                }
                if (isNative) {
                    nat++;
                } else {
                    java++;
                }
                List<RecordedFrame> frames = st.getFrames();
                String onTop = name(frames.get(0));
                String leaf = onTop + (WAITING.contains(onTop) ? " [waiting]" : isNative ? " [native]" : "");
                self.merge(leaf, 1L, Long::sum);
                List<String> path = new ArrayList<>(frames.size());
                for (int i = frames.size() - 1; i >= 0; i--) {
                    path.add(name(frames.get(i)));
                }
                path.set(path.size() - 1, leaf);
                stacks.merge(List.copyOf(path), 1L, Long::sum);
            }
        }
        List<Frame> hottest = self.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()
                .thenComparing(Map.Entry.comparingByKey())).limit(top).map(x -> new Frame(x.getKey(), x.getValue())).toList();
        List<Stack> all = stacks.entrySet().stream().map(x -> new Stack(x.getKey(), x.getValue()))
                .sorted(Comparator.comparing((Stack s) -> String.join(";", s.frames()))).toList();
        return new Read(hottest, all, java, nat, hotpath);
    }

    private static String name(RecordedFrame f) {
        var m = f.getMethod();
        if (m == null) {
            return "?";
        }
        String cls = m.getType().getName();
        int dot = cls.lastIndexOf('.');
        return (dot >= 0 ? cls.substring(dot + 1) : cls) + "." + m.getName();
    }

    static void print(PrintStream out, Read r) {
        long total = r.javaSamples() + r.nativeSamples();
        out.printf(Locale.ROOT, "  %d samples (%d in Java, %d in native calls); the frame on top of the stack ([waiting]: an idle thread yielding or parking):%n",
                total, r.javaSamples(), r.nativeSamples());
        for (Frame f : r.hottest()) {
            out.printf(Locale.ROOT, "  %6.1f%%  %s%n", total == 0 ? 0 : 100.0 * f.samples() / total, f.name());
        }
    }
}
