package io.hotpath.cli;

import io.hotpath.core.HotpathException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hotpath} command. Every failure ends as one line on stderr starting {@code hotpath: }:
 * a user error (a bad option or value, an unusable path, an invalid or missing model, a
 * HotpathException of category INVALID_ARGUMENT, INVALID_MODEL, NOT_FOUND or UNSUPPORTED) with
 * exit code 2, anything else (including an OutOfMemoryError) with exit code 1 and a hint that
 * {@code --verbose} prints the stack trace.
 */
@Command(name = "hotpath", mixinStandardHelpOptions = true, version = "hotpath 0.1.0",
        description = "Hotpath: a GC-free inference runtime for the JVM.",
        subcommands = {DemoCommand.class, BenchCommand.class, ProfileCommand.class, TuneCommand.class, OptimizeCommand.class, AdviseCommand.class, InfoCommand.class, SoakCommand.class, StatCommand.class, ServeCommand.class, JitterCommand.class})
public final class HotpathCommand implements Runnable {
    /** Exit code of a user error. */
    static final int USAGE = 2;
    /** Exit code of an unexpected failure. */
    static final int FAILURE = 1;

    private static final Set<HotpathException.Category> USER_ERRORS = EnumSet.of(HotpathException.Category.INVALID_ARGUMENT,
            HotpathException.Category.INVALID_MODEL, HotpathException.Category.NOT_FOUND, HotpathException.Category.UNSUPPORTED);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private boolean verbose;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "On a failure, also print the stack trace (any subcommand).")
    void verbose(boolean on) {
        verbose = on;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the command line and returns its exit code; every failure prints one clear line. */
    public static int execute(String... args) {
        return execute(new CommandLine(new HotpathCommand()), args);
    }

    /** As {@link #execute(String...)} on {@code cl}, whose command is a {@link HotpathCommand} (tests add subcommands to it). */
    static int execute(CommandLine cl, String... args) {
        HotpathCommand top = cl.getCommand();
        boolean verboseArg = Arrays.asList(args).contains("--verbose");
        cl.setParameterExceptionHandler((ex, a) -> report(ex, ex.getCommandLine().getErr(), top.verbose || verboseArg));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex, cmd.getErr(), top.verbose || verboseArg));
        try {
            return cl.execute(args);
        } catch (Throwable t) {
            // picocli lets Errors (OutOfMemoryError, StackOverflowError) through its handlers
            return report(t, cl.getErr(), top.verbose || verboseArg);
        }
    }

    /** Prints one line for {@code t} (and with --verbose its stack trace) and returns the exit code. */
    static int report(Throwable t, PrintWriter err, boolean verbose) {
        Throwable c = t instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : t;
        int code = exitCode(c);
        String line = "hotpath: " + describe(c);
        if (c instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            line += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        }
        if ((c instanceof CommandLine.UnmatchedArgumentException || c instanceof CommandLine.MissingParameterException)
                && ((CommandLine.ParameterException) c).getCommandLine() != null) {
            line += "; see '" + ((CommandLine.ParameterException) c).getCommandLine().getCommandSpec().qualifiedName() + " --help'";
        }
        if (code == FAILURE && !verbose) {
            line += " (run with --verbose for the stack trace)";
        }
        err.println(line);
        if (verbose) {
            t.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** 2 for what the user can fix, 1 for the rest. */
    static int exitCode(Throwable t) {
        if (t instanceof CommandLine.ParameterException || t instanceof FileSystemException) {
            return USAGE;
        }
        if (t instanceof HotpathException h && USER_ERRORS.contains(h.category())) {
            return USAGE;
        }
        return FAILURE;
    }

    /** The text after {@code hotpath: }, on one line. */
    static String describe(Throwable t) {
        if (t instanceof CommandLine.ParameterException || t instanceof HotpathException) {
            return oneLine(t.getMessage());   // a HotpathException's message starts with its category
        }
        if (t instanceof FileSystemException f) {
            return "cannot use " + f.getFile() + (f.getReason() != null ? ": " + f.getReason() : "")
                    + " (" + t.getClass().getSimpleName() + ")";
        }
        return t.getClass().getSimpleName() + (t.getMessage() != null ? ": " + oneLine(t.getMessage()) : "");
    }

    /** {@code s} with its line breaks (and the blanks around them) as single spaces. */
    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** A HotpathException's message without the leading {@code CATEGORY: }. */
    static String withoutCategory(HotpathException e) {
        String m = e.getMessage();
        String prefix = e.category() + ": ";
        return oneLine(m.startsWith(prefix) ? m.substring(prefix.length()) : m);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
