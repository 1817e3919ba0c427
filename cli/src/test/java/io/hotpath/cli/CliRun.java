package io.hotpath.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** Runs the {@code hotpath} command in-process with stdout and stderr captured (shared by the CLI tests). */
final class CliRun {
    private CliRun() {
    }

    /** Exit code, stdout, stderr. */
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        return capture(() -> HotpathCommand.execute(args));
    }

    static Result capture(Callable<Integer> command) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = command.call();
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } catch (Exception ex) {
            throw new AssertionError(ex);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** As an array {exit code, stdout, stderr}, the form the older tests read. */
    static Object[] runToArray(String... args) {
        Result r = run(args);
        return new Object[] {r.code(), r.out(), r.err()};
    }
}
