package io.hotpath.cli;

import io.hotpath.core.HotpathException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code hotpath} command. */
@Command(name = "hotpath", mixinStandardHelpOptions = true, version = "hotpath 0.1.0",
        description = "Hotpath: a GC-free inference runtime for the JVM.",
        subcommands = {DemoCommand.class, BenchCommand.class, OptimizeCommand.class, AdviseCommand.class, InfoCommand.class, SoakCommand.class})
public final class HotpathCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the command line and returns its exit code; a HotpathException prints one clear line. */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new HotpathCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof HotpathException h) {
                cmd.getErr().println("hotpath: " + h.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
