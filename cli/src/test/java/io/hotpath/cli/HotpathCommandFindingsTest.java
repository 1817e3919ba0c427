package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproducers of what fuzzing {@link HotpathCommand#execute} found (docs/fuzzing.md, "Findings"): each should be
 * one "hotpath: ..." line and exit code 2, not a raw exception. Enable each with its fix.
 */
class HotpathCommandFindingsTest {
    @TempDir
    Path tmp;

    /** Runs the command; asserts exit code 2 and no stack trace in what it printed. */
    private static void assertCleanError(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int code;
        try {
            PrintStream p = new PrintStream(o, true, StandardCharsets.UTF_8);
            System.setOut(p);
            System.setErr(p);
            code = HotpathCommand.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String printed = o.toString(StandardCharsets.UTF_8);
        assertFalse(printed.contains("\tat "), "a raw stack trace:\n" + printed);
        assertEquals(2, code, printed);
    }

    @Test
    void aBatchTooLargeToAllocateIsAnErrorLine() {
        assertCleanError("bench", "--model", "mlp", "--iterations", "1", "--warmup", "0", "--batch", "2147483647");
    }

    @Test
    void anHdrLogThatIsADirectoryIsAnErrorLine() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("a-directory"));
        assertCleanError("bench", "--model", "mlp", "--iterations", "4", "--warmup", "0", "--concurrency", "1", "--hdr-log", dir.toString());
    }

    @Test
    void anOrtProfileInAMissingDirectoryCreatesTheDirectory() throws Exception {
        // fixed by creating the directory (as --json and --out do): the run succeeds and the profile is there
        Path dir = tmp.resolve("missing-dir");
        assertEquals(0, HotpathCommand.execute("bench", "--model", "mlp", "--iterations", "1", "--warmup", "0", "--ort-profile",
                dir.resolve("x.out").toString()));
        try (var files = Files.list(dir)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("x.out")), "the profile was written");
        }
    }

    @Test
    void aJsonPathBelowAFileIsAnErrorLine() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertCleanError("bench", "--model", "mlp", "--iterations", "1", "--warmup", "0", "--json", file.resolve("out.json").toString());
    }

    @Test
    void anEmptyOrtProfilePrefixIsAnErrorLine() {
        assertCleanError("bench", "--model", "mlp", "--iterations", "1", "--warmup", "0", "--ort-profile", "");
    }
}
