package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchProcessor;
import io.hotpath.batcher.BatchRequest;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.BatcherCountersDescriptor;
import io.hotpath.batcher.DynamicBatcher;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hotpath stat} against a real batcher running in this JVM, and its refusals. */
class StatCommandTest {
    @TempDir
    Path tmp;

    /** Copies each 8-byte row through. */
    static final class Echo implements BatchProcessor {
        final MemorySegment rows = MemorySegment.ofArray(new long[8]);

        @Override
        public void stage(int bucket, int row, MemorySegment src, long offset, int length, int lengthKey) {
            MemorySegment.copy(src, offset, rows, row * 8L, 8);
        }

        @Override
        public void moveRow(int bucket, int from, int to) {
            MemorySegment.copy(rows, from * 8L, rows, to * 8L, 8);
        }

        @Override
        public void run(int bucket, int n) {
        }

        @Override
        public void output(int bucket, int row, BatchRequest request) {
            MemorySegment.copy(rows, row * 8L, request.output(), 0, 8);
        }
    }

    private static DynamicBatcher batcher(BatcherConfig.Builder b) {
        return new DynamicBatcher(b.maxBatchSize(8).maxQueueDelayMicros(0).maxPayloadBytes(8).maxOutputBytes(8).queueCapacityBytes(4096).build(),
                new Echo());
    }

    /** The value column of every line "  label  value  rate" under sample headers, in order. */
    private static List<long[]> samples(String out, String label) {
        List<long[]> found = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^  " + Pattern.quote(label) + "\\s+(\\d+)\\s+(\\S+)$").matcher(out);
        while (m.find()) {
            found.add(new long[] {Long.parseLong(m.group(1)), m.group(2).equals("-") ? -1 : (long) Double.parseDouble(m.group(2).replace("/s", ""))});
        }
        return found;
    }

    @Test
    void printsTheCountersOfARunningBatcherAndTheirRates() {
        Path file = tmp.resolve("svc.counters");
        try (DynamicBatcher b = batcher(BatcherConfig.builder().threadName("stat-test").countersFile(file))) {
            BatchRequest r = b.newRequest().inputLength(8);
            for (int i = 0; i < 25; i++) {
                assertEquals(BatchStatus.OK, b.infer(r));
            }
            r.deadlineNanos(System.nanoTime() - 1);
            assertEquals(BatchStatus.TIMEOUT, b.infer(r));
            CliRun.Result res = CliRun.run("stat", "--file", file.toString(), "--count", "2", "--interval", "20");
            assertEquals(0, res.code(), res.err());
            assertTrue(res.out().contains("stat-test (pid " + ProcessHandle.current().pid() + ")"), res.out());
            String[][] expected = {
                    {"submitted", "" + b.metrics().submitted()}, {"completed", "" + b.metrics().completed()},
                    {"timed out", "" + b.metrics().timedOut()}, {"batches", "" + b.metrics().batches()},
                    {"rejected", "0"}, {"failed", "0"}, {"shutdown", "0"}, {"errors", "0"}, {"in flight", "0"}};
            assertEquals(26, b.metrics().submitted());
            assertEquals(25, b.metrics().completed());
            for (String[] e : expected) {
                List<long[]> s = samples(res.out(), e[0]);
                assertEquals(2, s.size(), e[0] + " in two samples:\n" + res.out());
                assertEquals(Long.parseLong(e[1]), s.get(0)[0], e[0] + ":\n" + res.out());
                assertEquals(Long.parseLong(e[1]), s.get(1)[0], e[0]);
                assertEquals(-1, s.get(0)[1], "no rate on the first sample");
                assertEquals(0, s.get(1)[1], e[0] + ": nothing happened between the samples");
            }
        }
    }

    @Test
    void findsAProcesssFilesAndListsTheDirectory() {
        Path dir = tmp.resolve("counters");
        long pid = ProcessHandle.current().pid();
        Path f = dir.resolve(BatcherCountersDescriptor.defaultFileName(pid, "by-pid", 1));
        try (DynamicBatcher b = batcher(BatcherConfig.builder().threadName("by-pid").countersFile(createDirs(f)))) {
            BatchRequest r = b.newRequest().inputLength(8);
            for (int i = 0; i < 3; i++) {
                b.infer(r);
            }
            CliRun.Result res = CliRun.run("stat", "--dir", dir.toString(), "--pid", "" + pid, "--count", "1");
            assertEquals(0, res.code(), res.err());
            assertEquals(3, samples(res.out(), "completed").get(0)[0], res.out());
            CliRun.Result list = CliRun.run("stat", "--dir", dir.toString());
            assertEquals(0, list.code(), list.err());
            assertTrue(list.out().contains(pid + "") && list.out().contains("live") && list.out().contains("by-pid"), list.out());
        }
        CliRun.Result empty = CliRun.run("stat", "--dir", dir.toString());
        assertEquals(0, empty.code());
        assertTrue(empty.out().startsWith("no counters files in "), "the batcher deleted its file: " + empty.out());
    }

    private static Path createDirs(Path f) {
        try {
            Files.createDirectories(f.getParent());
            return f;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void missingStaleCorruptAndBadOptionsAreOneLineAndExitCode2() throws Exception {
        CliErrorsTest.assertOneLine(CliRun.run("stat", "--file", tmp.resolve("nope.counters").toString(), "--count", "1"), 2,
                "nope.counters", "no such counters file");
        Path junk = Files.writeString(tmp.resolve("junk.counters"), "junk");
        CliErrorsTest.assertOneLine(CliRun.run("stat", "--file", junk.toString(), "--count", "1"), 2, "junk.counters", "not a batcher counters file");
        Path zeros = Files.write(tmp.resolve("zeros.counters"), new byte[BatcherCountersDescriptor.FILE_LENGTH]);
        CliErrorsTest.assertOneLine(CliRun.run("stat", "--file", zeros.toString(), "--count", "1"), 2, "magic");

        Path live = tmp.resolve("live.counters");
        try (DynamicBatcher b = batcher(BatcherConfig.builder().countersFile(live))) {
            byte[] copy = Files.readAllBytes(live);
            ByteBuffer.wrap(copy).order(ByteOrder.nativeOrder()).putLong(BatcherCountersDescriptor.PID_OFFSET, Long.MAX_VALUE - 1);
            Path stale = Files.write(tmp.resolve("stale.counters"), copy);
            CliErrorsTest.assertOneLine(CliRun.run("stat", "--file", stale.toString(), "--count", "1"), 2, "stale", "not running");
            CliRun.Result listed = CliRun.run("stat", "--dir", tmp.toString());
            assertTrue(listed.out().contains("stale") && listed.out().contains("corrupt") && listed.out().contains("live"), listed.out());
            CliErrorsTest.assertOneLine(CliRun.run("stat", "--file", live.toString(), "--interval", "0"), 2, "--interval", "0");
            CliErrorsTest.assertOneLine(CliRun.run("stat", "--file", live.toString(), "--pid", "1"), 2, "--file", "--pid");
            CliErrorsTest.assertOneLine(CliRun.run("stat", "--count", "-1"), 2, "--count");
        }
        CliErrorsTest.assertOneLine(CliRun.run("stat", "--dir", tmp.toString(), "--pid", "" + (Long.MAX_VALUE - 1)), 2, "no counters file of process");
    }
}
