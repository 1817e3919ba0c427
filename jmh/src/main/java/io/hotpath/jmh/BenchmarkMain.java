package io.hotpath.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * {@code java -jar benchmarks.jar [JMH options]}: JMH's own command line, plus Hotpath's JVM flags
 * (the parent POM's {@code hotpath.jvm.flags}, one definition for surefire, the launcher and
 * here) and the location of the peer jar appended to every fork.
 */
public final class BenchmarkMain {
    private BenchmarkMain() {
    }

    public static void main(String[] args) throws RunnerException, IOException, CommandLineOptionException {
        CommandLineOptions cmd = new CommandLineOptions(args);
        if (cmd.shouldHelp()) {
            cmd.showHelp();
            return;
        }
        if (cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers() || cmd.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        List<String> append = new ArrayList<>();
        List<String> hostArgs = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        if (!hostArgs.contains("--enable-native-access=ALL-UNNAMED")) {
            // forks inherit the host JVM's arguments: add the flags only when the host lacks them
            append.addAll(hotpathFlags());
        }
        append.add("-D" + OfficialOrt.JAR_PROPERTY + "=" + peerJar());
        if (cmd.getJvmArgsAppend().hasValue()) {
            append.addAll(cmd.getJvmArgsAppend().get());
        }
        ChainedOptionsBuilder opts = new OptionsBuilder().parent(cmd).jvmArgsAppend(append.toArray(new String[0]));
        new Runner(opts.build()).run();
    }

    static List<String> hotpathFlags() throws IOException {
        try (InputStream in = BenchmarkMain.class.getResourceAsStream("/hotpath-jvm.flags")) {
            if (in == null) {
                throw new IllegalStateException("hotpath-jvm.flags missing from the benchmarks jar");
            }
            return List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+"));
        }
    }

    /** target/peer/onnxruntime-official.jar, beside the benchmarks jar. */
    static Path peerJar() {
        try {
            Path self = Path.of(BenchmarkMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = self.getParent();
            return dir.resolve("peer").resolve("onnxruntime-official.jar").toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
