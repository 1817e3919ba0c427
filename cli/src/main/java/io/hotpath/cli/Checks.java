package io.hotpath.cli;

import io.hotpath.core.HotpathException;
import io.hotpath.core.TensorSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The one place where the commands check their options, before any work starts: ranges and caps
 * of numbers (NaN and infinities are refused), names from a fixed set, input files that must be
 * readable, output files and directories that must be writable, and the memory a run's buffers
 * will take. Each failure is a {@link CommandLine.ParameterException} whose message names the
 * option, the value and what is allowed; {@link HotpathCommand} prints it as one line, exit code 2.
 *
 * <p>The caps keep a typo from turning into an OutOfMemoryError after minutes of work:
 * <ul>
 *   <li>{@link #MAX_BATCH} rows per run ({@code --batch}, {@code --max-batch}, {@code --trt-buckets});
 *   <li>{@link #MAX_SEQ} for the other dynamic dimensions ({@code --seq});
 *   <li>{@link #MAX_CONCURRENCY} client threads, {@link #MAX_IN_FLIGHT} request handles;
 *   <li>{@link #memoryLimitBytes()}, half of the machine's physical memory, for the off-heap
 *       buffers a run allocates ({@code --cache-mb}, and batch buffers and request handles, whose
 *       size is known once the model's tensors are).
 * </ul>
 */
final class Checks {
    /** Largest batch (rows per run). */
    static final int MAX_BATCH = 65_536;
    /** Largest size of a dynamic dimension other than the batch. */
    static final int MAX_SEQ = 65_536;
    /** Most closed-loop client threads (each keeps a latency histogram of about 256 KiB and a pool of inputs). */
    static final int MAX_CONCURRENCY = 1_024;
    /** Most request handles at once (open-loop in-flight requests, or all closed-loop clients of a sweep). */
    static final int MAX_IN_FLIGHT = 65_536;
    /** Most ONNX Runtime intra-op threads. */
    static final int MAX_THREADS = 1_024;
    /** Longest measured time per step or configuration, in seconds (a day). */
    static final double MAX_SECONDS = 86_400;
    /** Highest open-loop rate, requests per second. */
    static final double MAX_RATE = 10_000_000;
    /** The batcher's own limit on the queue delay, microseconds (a minute). */
    static final long MAX_DELAY_US = 60_000_000L;

    private final CommandSpec spec;

    Checks(CommandSpec spec) {
        this.spec = spec;
    }

    /** A usage error: one line, exit code 2. */
    CommandLine.ParameterException fail(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    // ---- numbers ----------------------------------------------------------------------------

    int range(String option, int value, int min, int max) {
        return (int) range(option, value, min, max, null);
    }

    /** {@code value} in [min, max]; {@code why} (may be null) says where max comes from. */
    long range(String option, long value, long min, long max, String why) {
        if (value < min || value > max) {
            throw fail(option + " " + value + ": must be " + (value < min && max >= Integer.MAX_VALUE ? ">= " + min : "between " + min + " and " + max)
                    + (why != null && value > max ? " (" + why + ")" : ""));
        }
        return value;
    }

    /** Every value of a list option in [min, max]. */
    int[] each(String option, int[] values, int min, int max) {
        if (values == null) {
            return null;
        }
        for (int v : values) {
            range(option, v, min, max);
        }
        return values;
    }

    /** A finite number in (0, max]. */
    double positive(String option, double value, double max) {
        if (!Double.isFinite(value) || value <= 0 || value > max) {
            throw fail(option + " " + value + ": must be a number > 0 and <= " + fmt(max));
        }
        return value;
    }

    /** A finite number in [min, max]. */
    double between(String option, double value, double min, double max) {
        if (!Double.isFinite(value) || value < min || value > max) {
            throw fail(option + " " + value + ": must be a number between " + fmt(min) + " and " + fmt(max));
        }
        return value;
    }

    static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    // ---- names ------------------------------------------------------------------------------

    /** {@code value} (any case, trimmed) if it is one of {@code allowed}, in lower case. */
    String oneOf(String option, String value, String... allowed) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw fail(option + " '" + value + "': must be one of " + String.join(", ", allowed));
    }

    /** Every value of a list option one of {@code allowed}; returned in lower case. */
    List<String> eachOneOf(String option, List<String> values, String... allowed) {
        return values.stream().map(v -> oneOf(option, v, allowed)).toList();
    }

    /** Parses {@code value} with a library parser; its INVALID_ARGUMENT (or IllegalArgumentException) becomes a usage error naming the option. */
    <T> T parse(String option, String value, Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (HotpathException e) {
            if (e.category() != HotpathException.Category.INVALID_ARGUMENT) {
                throw e;
            }
            throw fail(option + " '" + value + "': " + HotpathCommand.withoutCategory(e));
        } catch (IllegalArgumentException e) {
            throw fail(option + " '" + value + "': " + e.getMessage());
        }
    }

    /**
     * Runs {@code open} (an engine being opened with sizes from the options); an INVALID_ARGUMENT
     * it throws (its own capacity checks, say) becomes a usage error prefixed with {@code options},
     * the options and values that sized it.
     */
    <T> T opening(String options, java.util.function.Supplier<T> open) {
        try {
            return open.get();
        } catch (HotpathException e) {
            if (e.category() != HotpathException.Category.INVALID_ARGUMENT) {
                throw e;
            }
            throw fail(options + ": " + HotpathCommand.withoutCategory(e));
        }
    }

    // ---- files ------------------------------------------------------------------------------

    /** An existing, readable regular file. */
    Path inputFile(String option, Path file) {
        if (file == null) {
            return null;
        }
        if (!Files.exists(file)) {
            throw fail(option + " " + file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw fail(option + " " + file + ": not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw fail(option + " " + file + ": not readable");
        }
        return file;
    }

    /**
     * A file the command will write: not a directory, writable if it exists, and its directory
     * exists (or can be created: the nearest existing ancestor is a directory we can create
     * files in; probed by creating and deleting a file there, which catches read-only file
     * systems and the root user alike).
     */
    Path outputFile(String option, Path file) {
        if (file == null) {
            return null;
        }
        Path abs = file.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            throw fail(option + " " + file + ": is a directory, expected a file");
        }
        if (Files.exists(abs)) {
            if (!Files.isWritable(abs)) {
                throw fail(option + " " + file + ": not writable");
            }
            return file;   // overwritten in place (its directory need not take new files: /dev/null, say)
        }
        probeDirectory(option, file, abs.getParent());
        return file;
    }

    /** A directory the command will create files in: an existing writable directory, or one that can be created. */
    Path outputDir(String option, Path dir) {
        if (dir == null) {
            return null;
        }
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw fail(option + " " + dir + ": not a directory");
        }
        probeDirectory(option, dir, abs);
        return dir;
    }

    private void probeDirectory(String option, Path given, Path dir) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw fail(option + " " + given + ": no existing directory above it");
        }
        if (!Files.isDirectory(existing)) {
            throw fail(option + " " + given + ": " + existing + " is not a directory");
        }
        try {
            Files.delete(Files.createTempFile(existing, ".hotpath-write-check", ".tmp"));
        } catch (IOException | SecurityException e) {
            throw fail(option + " " + given + ": cannot write in " + existing + " (" + HotpathCommand.oneLine(String.valueOf(e.getMessage())) + ")");
        }
    }

    // ---- memory -----------------------------------------------------------------------------

    /** Half of the machine's physical memory (the container's, where there is one): the cap on a run's off-heap buffers. */
    static long memoryLimitBytes() {
        long physical = 0;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            physical = os.getTotalMemorySize();
        }
        if (physical <= 0) {
            physical = Runtime.getRuntime().maxMemory();
        }
        return physical / 2;
    }

    /** Why the memory limit is what it is, for messages. */
    static String memoryLimitWhy() {
        return "half of this machine's physical memory, " + bytes(memoryLimitBytes());
    }

    /** Bytes of one batch of {@code rows} rows of {@code tensors}: dimension 0 dynamic = rows, other dynamic ones = seq; saturates at Long.MAX_VALUE. */
    static long batchBytes(List<TensorSpec> tensors, long rows, long seq) {
        long total = 0;
        try {
            for (TensorSpec t : tensors) {
                long n = t.dtype().byteSize();
                for (int d = 0; d < t.shape().rank(); d++) {
                    n = Math.multiplyExact(n, t.shape().isDynamic(d) ? (d == 0 ? rows : seq) : Math.max(1, t.shape().dim(d)));
                }
                total = Math.addExact(total, n);
            }
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
        return total;
    }

    /** a * b, or Long.MAX_VALUE when that overflows (both non-negative). */
    static long saturatingMultiply(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** a + b, or Long.MAX_VALUE when that overflows (both non-negative). */
    static long saturatingAdd(long a, long b) {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Refuses a run whose buffers ({@code bytes}, as computed by the caller) exceed {@link #memoryLimitBytes()}; {@code what} names the options and values. */
    void memory(String what, long bytes) {
        long limit = memoryLimitBytes();
        if (bytes > limit) {
            throw fail(what + ": the buffers need " + bytes(bytes) + "; the limit is " + bytes(limit) + " (half of this machine's physical memory)");
        }
    }

    /** 1.5 GiB, 12.0 MiB, 512 B. */
    static String bytes(long b) {
        if (b == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
