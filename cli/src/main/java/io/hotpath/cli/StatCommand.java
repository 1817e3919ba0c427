package io.hotpath.cli;

import io.hotpath.batcher.BatcherCountersDescriptor;
import io.hotpath.batcher.BatcherCountersFile;
import io.hotpath.core.HotpathException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hotpath stat}: the counters of running batchers, read from their counters files (Agrona
 * counters in a memory-mapped file, {@link BatcherCountersDescriptor}) as Aeron's {@code AeronStat}
 * reads a media driver's. Without {@code --file} or {@code --pid} it lists the files it finds.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Prints the counters of a running batcher (one that publishes them: BatcherConfig.Builder.publishCounters() or "
                + "countersFile(path)), live: each counter's value and its rate per second since the last sample. Without --file or "
                + "--pid, lists the counters files in the directory.")
final class StatCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--file", paramLabel = "FILE", description = "The counters file to read.")
    Path file;

    @Option(names = "--pid", paramLabel = "N", description = "Read the counters files of process N (in --dir).")
    Long pid;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to look for counters files (default: ${java.io.tmpdir}/hotpath-<user>).")
    Path dir;

    @Option(names = "--interval", paramLabel = "MS", defaultValue = "1000", description = "Milliseconds between samples (default ${DEFAULT-VALUE}).")
    long intervalMs;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "Samples to print, then exit; 0 = until interrupted (default ${DEFAULT-VALUE}).")
    long count;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Checks checks = new Checks(spec);
        checks.range("--interval", intervalMs, 1, 3_600_000, null);
        checks.range("--count", count, 0, Long.MAX_VALUE, null);
        if (file != null && pid != null) {
            throw checks.fail("--file and --pid exclude each other: read one file, or the files of one process");
        }
        Path directory = dir != null ? dir : BatcherCountersDescriptor.defaultDirectory();
        PrintStream out = System.out;
        if (file == null && pid == null) {
            return list(out, directory);
        }
        List<Path> paths = new ArrayList<>();
        if (file != null) {
            paths.add(file);
        } else {
            for (Path p : BatcherCountersFile.list(directory)) {
                if (BatcherCountersDescriptor.pidOf(p.getFileName().toString()) == pid) {
                    paths.add(p);
                }
            }
            if (paths.isEmpty()) {
                throw new HotpathException(HotpathException.Category.NOT_FOUND, "no counters file of process " + pid + " in " + directory
                        + (ProcessHandle.of(pid).isPresent() ? " (its batchers publish none?)" : " (no such process)"));
            }
        }
        List<BatcherCountersFile> files = new ArrayList<>();
        try {
            for (Path p : paths) {
                files.add(openLive(p));
            }
            return watch(out, files);
        } finally {
            for (BatcherCountersFile f : files) {
                f.close();
            }
        }
    }

    /** Opens {@code p} and checks that its batcher is running; anything else is one line, exit code 2. */
    private static BatcherCountersFile openLive(Path p) throws IOException {
        BatcherCountersFile f;
        try {
            f = BatcherCountersFile.open(p);
        } catch (NoSuchFileException e) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, p + ": no such counters file");
        } catch (IllegalArgumentException e) {
            throw new HotpathException(HotpathException.Category.INVALID_ARGUMENT, p + ": " + e.getMessage());
        }
        String problem = f.isClosed() ? "its batcher has finished" : !f.isProcessAlive()
                ? "stale: process " + f.pid() + " that wrote it is not running (it ended without closing its batcher; delete the file)"
                : null;
        if (problem != null) {
            f.close();
            throw new HotpathException(HotpathException.Category.INVALID_ARGUMENT, p + ": " + problem);
        }
        return f;
    }

    private static int list(PrintStream out, Path directory) throws IOException {
        List<Path> paths = BatcherCountersFile.list(directory);
        if (paths.isEmpty()) {
            out.println("no counters files in " + directory);
            return 0;
        }
        out.printf("%-8s %-7s %-24s %s%n", "pid", "state", "batcher", "file");
        for (Path p : paths) {
            String pidText = Long.toString(BatcherCountersDescriptor.pidOf(p.getFileName().toString()));
            String state;
            String name = "-";
            try (BatcherCountersFile f = BatcherCountersFile.open(p)) {
                pidText = Long.toString(f.pid());
                name = f.name();
                state = f.isClosed() ? "closed" : f.isProcessAlive() ? "live" : "stale";
            } catch (NoSuchFileException e) {
                continue;       // its batcher finished while we listed
            } catch (IllegalArgumentException e) {
                state = "corrupt";
            }
            out.printf("%-8s %-7s %-24s %s%n", pidText, state, name, p);
        }
        return 0;
    }

    private int watch(PrintStream out, List<BatcherCountersFile> files) throws InterruptedException {
        long[][] previous = new long[files.size()][];
        long previousNanos = 0;
        for (long sample = 1; count == 0 || sample <= count; sample++) {
            if (sample > 1) {
                TimeUnit.MILLISECONDS.sleep(intervalMs);
            }
            long now = System.nanoTime();
            String time = LocalTime.now().format(TIME);
            for (int i = 0; i < files.size(); i++) {
                BatcherCountersFile f = files.get(i);
                if (f.isClosed() || !f.isProcessAlive()) {
                    out.println(time + " " + f.name() + " (pid " + f.pid() + "): " + (f.isClosed() ? "the batcher has finished" : "the process has ended"));
                    return 0;
                }
                out.println(time + " " + f.name() + " (pid " + f.pid() + ") " + f.path());
                previous[i] = print(out, f, previous[i], (now - previousNanos) / 1e9);
            }
            previousNanos = now;
            out.flush();
        }
        return 0;
    }

    /** Prints every counter of {@code f} with its rate since {@code last} (null on the first sample); returns the values, by counter id. */
    private static long[] print(PrintStream out, BatcherCountersFile f, long[] last, double seconds) {
        long[] values = new long[f.counters().maxCounterId() + 1];
        f.counters().forEach((value, id, label) -> {
            values[id] = value;
            String rate = last == null || id >= last.length ? "-" : String.format(java.util.Locale.ROOT, "%.1f/s", (value - last[id]) / seconds);
            out.printf(java.util.Locale.ROOT, "  %-16s %16d %16s%n", label, value, rate);
        });
        return values;
    }
}
