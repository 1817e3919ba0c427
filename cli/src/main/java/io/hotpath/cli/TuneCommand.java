package io.hotpath.cli;

import io.hotpath.core.Engine;
import io.hotpath.core.HotpathException;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.nativebindings.ort.GraphOptimization;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code hotpath tune}: searches the batching configuration with the most throughput whose p99
 * meets the user's objective under the user's load ({@link Tuner}), and writes it as a model
 * folder {@code hotpath serve --model-repository} loads and as a snippet for the embedding API.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = {"Finds the batching configuration (max batch, max queue delay, intra-op threads, model variant) with the most throughput "
                + "whose p99 latency meets --slo-p99-ms, under a closed loop (--concurrency) or an open loop (--rate, latency from each "
                + "request's intended send time).",
                "It measures the engine's batch-cost curve first, prunes what cannot meet the objective, measures the rest with the load "
                        + "generator, then the best three and the default configuration again, interleaved. Inputs are bench's random ones at --seq."})
final class TuneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption modelOption;

    @Option(names = "--variant", paramLabel = "FILE|ALIAS", description = "Another variant of the model to try (an optimizer output: "
            + "the INT8 or FP16 model that passed your accuracy budget); same inputs and outputs. Repeatable.")
    List<String> variants;

    @Option(names = "--optimized", paramLabel = "DIR", description = "A hotpath optimize --out folder: every variant its report.json says "
            + "passed the accuracy budget is tried too (the precision dimension of the search).")
    Path optimized;

    @Option(names = "--engine", defaultValue = "cpu", description = "cpu (ONNX Runtime) or jvm (small models compiled for the JVM) (default ${DEFAULT-VALUE}).")
    String engineKind;

    @Option(names = "--slo-p99-ms", required = true, description = "The objective: p99 latency at most this, milliseconds.")
    double sloMs;

    @Option(names = "--concurrency", description = "Closed loop: this many callers, each sending its next request when the last is answered "
            + "(default 1 when --rate is not given).")
    Integer concurrency;

    @Option(names = "--rate", description = "Open loop: requests per second (Poisson arrivals); the answer must keep up with it.")
    Double rate;

    @Option(names = "--threads", split = ",", paramLabel = "N[,N...]", description = "CPU engine: intra-op thread counts to try "
            + "(default 1 and one per core).")
    int[] threads;

    @Option(names = "--seq", defaultValue = "128", description = "Length of every dynamic dimension after the batch (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--step-s", defaultValue = "3", description = "Seconds measured per candidate and round (default ${DEFAULT-VALUE}).")
    double stepS;

    @Option(names = "--budget-s", defaultValue = "540", description = "Most seconds the whole search may take (default ${DEFAULT-VALUE}).")
    double budgetS;

    @Option(names = "--out", paramLabel = "DIR", description = "Write the chosen configuration as a model folder for hotpath serve's "
            + "repository (DIR/config.pbtxt, DIR/hotpath.properties, DIR/1/model.onnx) and DIR/embedding.java (the builder call).")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the inputs (default ${DEFAULT-VALUE}).")
    long seed;

    private void validate(Checks c) {
        c.positive("--slo-p99-ms", sloMs, 3_600_000);
        if (concurrency != null && rate != null) {
            throw c.fail("give --rate (open loop) or --concurrency (closed loop), not both");
        }
        if (concurrency != null) {
            c.range("--concurrency", concurrency, 1, Checks.MAX_CONCURRENCY);
        }
        if (rate != null) {
            c.positive("--rate", rate, Checks.MAX_RATE);
        }
        engineKind = c.oneOf("--engine", engineKind, "cpu", "jvm");
        c.each("--threads", threads, 0, Checks.MAX_THREADS);
        if (threads != null && engineKind.equals("jvm")) {
            throw c.fail("--threads applies to --engine cpu");
        }
        c.range("--seq", seq, 1, Checks.MAX_SEQ);
        c.positive("--step-s", stepS, 600);
        if (rate != null && rate * stepS < 20) {
            throw c.fail("--rate " + rate + " with --step-s " + stepS + " sends " + Math.round(rate * stepS) + " requests per step: too few for a p99; "
                    + "give at least 20 (a longer --step-s)");
        }
        c.positive("--budget-s", budgetS, Checks.MAX_SECONDS);
        if (budgetS < 8 * (stepS + 1.5) + 10) {
            throw c.fail("--budget-s " + budgetS + " leaves no time to search: the final rounds alone take about "
                    + Math.round(8 * (stepS + 1.5)) + " s at --step-s " + stepS);
        }
        c.outputDir("--out", out);
    }

    @Override
    public Integer call() throws IOException {
        PrintStream o = System.out;
        Checks checks = new Checks(spec);
        validate(checks);
        Tuner.Load load = new Tuner.Load(concurrency != null ? concurrency : rate != null ? 0 : 1, rate != null ? rate : 0);
        boolean jvm = engineKind.equals("jvm");
        int cores = Runtime.getRuntime().availableProcessors();
        int[] threadCounts = jvm ? new int[] {0} : threads != null ? threads : cores > 1 ? new int[] {1, cores} : new int[] {1};
        List<String> names = new ArrayList<>();
        names.add(modelOption.model);
        if (variants != null) {
            names.addAll(variants);
        }
        List<Path> files = new ArrayList<>();
        for (String n : names) {
            files.add(ModelCatalog.resolve(n));
        }
        // what hotpath bench takes as --model for each (the optimizer's variants by file, labelled by their report names)
        List<String> modelArgs = new ArrayList<>(names);
        if (optimized != null) {
            for (OptimizedVariants.Variant v : OptimizedVariants.read(optimized)) {
                names.add(v.name());
                files.add(v.file());
                modelArgs.add(v.file().toString());
            }
        }
        List<Tuner.Setup> setups = new ArrayList<>();
        int defaultSetup = 0;
        Tuner tuner = null;
        try {
            for (int v = 0; v < files.size(); v++) {
                for (int t : threadCounts) {
                    Path f = files.get(v);
                    int tc = t;
                    // how this setup's engine opens, now and again when the search reopens it
                    java.util.function.Supplier<Engine> reopen = () -> openEngine(jvm, f, tc);
                    Engine e = checks.opening("--seq " + seq, reopen);
                    if (!setups.isEmpty() && !(e.inputs().equals(setups.get(0).engine().inputs()))) {
                        e.close();
                        throw checks.fail("--variant " + names.get(v) + " has inputs " + e.inputs() + "; " + names.get(0) + " has "
                                + setups.get(0).engine().inputs() + ": variants must take the same inputs");
                    }
                    if (v == 0 && (t == cores || (t == 0 && !jvm) || jvm)) {
                        defaultSetup = setups.size();
                    }
                    setups.add(new Tuner.Setup(names.get(v), jvm ? 0 : tc == 0 ? cores : tc, e, reopen));
                }
            }
            int searched = setups.size();
            if (!jvm && java.util.Arrays.stream(threadCounts).noneMatch(t -> t == cores || t == 0)) {
                // the default configuration runs one thread per core: add that setup for the comparison
                Path f = files.get(0);
                java.util.function.Supplier<Engine> reopen = () -> openEngine(false, f, cores);
                Engine e = reopen.get();
                defaultSetup = setups.size();
                setups.add(new Tuner.Setup(names.get(0), cores, e, reopen));
            }
            long vocab = BenchCommand.vocabulary(files.get(0), setups.get(0).engine());
            SystemInfo sys = SystemInfo.detect();
            o.println("hotpath tune: " + String.join(", ", names) + " for p99 <= " + fmt(sloMs) + " ms, " + load.describe());
            o.println("  system  " + sys.summary());
            o.println("  engine  " + setups.get(0).engine().describe());
            o.println("  inputs  random valid values at --seq " + seq + " (as hotpath bench makes them); " + stepS + " s per step");
            long t0 = System.nanoTime();
            tuner = new Tuner(setups, searched, defaultSetup, load, sloMs, seq, vocab, seed, stepS, (long) (budgetS * 1e9), o);
            Tuner.Outcome r;
            try {
                r = tuner.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HotpathException(HotpathException.Category.SHUTDOWN, "interrupted while tuning", e);
            }
            o.println();
            int unmeasured = r.candidates() - r.pruned() - r.tried().size();
            o.printf(Locale.ROOT, "  searched %d candidates (%d measured, %d pruned%s) in %.0f s%n", r.candidates(), r.tried().size(), r.pruned(),
                    unmeasured > 0 ? ", " + unmeasured + " left when the budget ran out" : unmeasured < 0 ? ", the nearest pruned one measured" : "",
                    (System.nanoTime() - t0) / 1e9);
            Tuner.Point d = r.defaults();
            String defaultLine = String.format(Locale.ROOT, "the batcher's defaults (max-batch %d, max-delay-us %d%s): p99 %.2f ms, %.0f requests/s, %s",
                    d.candidate().maxBatch(), d.candidate().delayMicros(), jvm ? "" : ", one thread per core", d.p99Micros() / 1000, d.throughput(),
                    d.meets(sloMs * 1000, load) ? "meets it" : "misses it");
            if (r.chosen() == null) {
                Tuner.Point c = r.closest();
                o.println("  result  no configuration meets p99 <= " + fmt(sloMs) + " ms; the closest is " + (c == null ? "none (nothing was answered)"
                        : tuner.describe(c.candidate()) + String.format(Locale.ROOT, " (p99 %.2f ms, %.0f requests/s)", c.p99Micros() / 1000, c.throughput())));
                if (r.metInFirstStep() > 0) {
                    o.println("          " + r.metInFirstStep() + " configuration(s) met it in their first step but none in the interleaved finals: "
                            + "at this objective the p99 is not stable on this machine (a longer --step-s, or a looser objective)");
                }
                o.println("          " + defaultLine);
                return 3;
            }
            Tuner.Point c = r.chosen();
            Tuner.Setup s = setups.get(c.candidate().setup());
            o.println("  result  " + tuner.describe(c.candidate()) + String.format(Locale.ROOT, ": p99 %.2f ms (objective %s ms), %.0f requests/s%s",
                    c.p99Micros() / 1000, fmt(sloMs), c.throughput(), load.open() ? String.format(Locale.ROOT, ", capacity about %.0f requests/s (engine busy %.0f%%)",
                            c.capacity(load), 100 * c.engineBusy()) : ""));
            o.println("          " + defaultLine + String.format(Locale.ROOT, "; the chosen one has %.2fx its %s", c.capacity(load) / d.capacity(load),
                    load.open() ? "capacity" : "throughput"));
            // about a second of warm-up as the search had (bench's open loop warms up for 10 x --warmup requests, the closed loop --warmup per caller)
            String bench = "hotpath bench --model " + modelArgs.get(names.indexOf(s.variant())) + (load.open() ? String.format(Locale.ROOT, " --rate %.0f --duration-s 10 --warmup %d", load.rate(),
                    Math.max(20, (long) (load.rate() / 10)))
                    : " --concurrency " + load.concurrency() + " --iterations " + Math.max(1000, (long) (c.throughput() * 10)) + " --warmup "
                    + Math.max(20, (long) (c.throughput() / load.concurrency())))
                    + " --max-batch " + c.candidate().maxBatch() + " --max-delay-us " + c.candidate().delayMicros()
                    + (jvm ? " --engine jvm" : " --threads " + s.threads()) + " --seq " + seq;
            o.println("  check   " + bench + "   (re-measures it in a run of its own)");
            if (out != null) {
                write(out, files.get(names.indexOf(s.variant())), new Tuner.Setup(s.variant(), s.threads(), tuner.engine(c.candidate().setup())),
                        c.candidate(), jvm);
                o.println("  wrote   " + out.resolve("config.pbtxt") + ", " + out.resolve(io.hotpath.serve.repository.HotpathModelOptions.FILE_NAME) + ", "
                        + out.resolve("1").resolve("model.onnx") + ", " + out.resolve("embedding.java") + " (serve: hotpath serve --model-repository "
                        + (out.toAbsolutePath().getParent() == null ? "." : out.toAbsolutePath().getParent()) + ")");
            }
            return 0;
        } finally {
            if (tuner != null) {
                tuner.closeReopened();
            }
            for (Tuner.Setup s : setups) {
                s.engine().close();
            }
        }
    }

    /** An engine for the search: batches up to 32 rows, dynamic dimensions up to --seq, ONNX Runtime with {@code threads} and no spinning. */
    private Engine openEngine(boolean jvm, Path file, int threads) {
        return jvm ? io.hotpath.engine.jvm.JvmEngine.open(file, io.hotpath.engine.jvm.JvmEngineOptions.builder().maxBatchSize(32).build())
                : OrtCpuEngine.open(file, CpuEngineOptions.builder().graphOptimization(GraphOptimization.ALL).intraOpThreads(threads).spinWait(false)
                        .maxBatchSize(32).defaultMaxDimension(seq).build());
    }

    /** {@code field [ { name: "x" data_type: TYPE_FP32 dims: [ -1, 384 ] }, ... ]} for the model's tensors. */
    private static String tensors(String field, java.util.List<io.hotpath.core.TensorSpec> specs, boolean batched) {
        StringBuilder b = new StringBuilder(field).append(" [\n");
        for (int k = 0; k < specs.size(); k++) {
            io.hotpath.core.TensorSpec t = specs.get(k);
            StringBuilder dims = new StringBuilder();
            for (int i = batched ? 1 : 0; i < t.shape().rank(); i++) {
                dims.append(dims.isEmpty() ? "" : ", ").append(t.shape().isDynamic(i) ? -1 : t.shape().dim(i));
            }
            b.append("  { name: \"").append(t.name()).append("\" data_type: ").append(io.hotpath.serve.WireType.configName(t.dtype()))
                    .append(" dims: [ ").append(dims.isEmpty() && !batched ? "" : dims).append(" ] }").append(k + 1 < specs.size() ? ",\n" : "\n");
        }
        return b.append("]\n").toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** The chosen configuration as a repository model folder and as the embedding API's builder call. */
    static void write(Path dir, Path model, Tuner.Setup s, Tuner.Candidate c, boolean jvm) throws IOException {
        Files.createDirectories(dir.resolve("1"));
        String name = dir.toAbsolutePath().normalize().getFileName().toString();
        Files.copy(model, dir.resolve("1").resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        // the server checks a config's tensors against the model's: every input listed, dims after the batch (-1 for a dynamic one)
        boolean batched = s.engine().inputs().stream().allMatch(t -> t.shape().rank() > 0 && t.shape().isDynamic(0));
        Files.writeString(dir.resolve("config.pbtxt"), "# written by hotpath tune\nname: \"" + name + "\"\nplatform: \"onnxruntime_onnx\"\n"
                + "max_batch_size: " + (batched ? c.maxBatch() : 0) + "\n"
                + tensors("input", s.engine().inputs(), batched) + tensors("output", s.engine().outputs(), batched)
                + (batched ? "dynamic_batching {\n  max_queue_delay_microseconds: " + c.delayMicros() + "\n}\n" : "")
                + (jvm ? "" : "parameters {\n  key: \"intra_op_thread_count\"\n  value { string_value: \"" + s.threads() + "\" }\n}\n"));
        Files.writeString(dir.resolve(io.hotpath.serve.repository.HotpathModelOptions.FILE_NAME), "# written by hotpath tune\nengine=" + (jvm ? "jvm" : "cpu")
                + "\n" + (jvm ? "" : "threads=" + s.threads() + "\n") + "batching.max_batch=" + c.maxBatch() + "\nbatching.max_queue_delay_us=" + c.delayMicros() + "\n");
        Files.writeString(dir.resolve("embedding.java"), "// written by hotpath tune: the same configuration through the embedding API\n"
                + "Engine engine = " + (jvm ? "JvmEngine.open(model, JvmEngineOptions.builder().maxBatchSize(" + c.maxBatch() + ").build());\n"
                : "OrtCpuEngine.open(model, CpuEngineOptions.builder().intraOpThreads(" + s.threads() + ").spinWait(false).maxBatchSize(" + c.maxBatch() + ").build());\n")
                + "InferenceService svc = InferenceService.builder(engine)\n        .batching(b -> b.maxBatchSize(" + c.maxBatch() + ").maxQueueDelayMicros("
                + c.delayMicros() + "))\n        .build();\n");
    }
}
