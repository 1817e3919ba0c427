package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.nativebindings.ort.GraphOptimization;
import io.hotpath.onnx.ModelCatalog;
import io.hotpath.onnx.SampleSentences;
import io.hotpath.onnx.WordPieceTokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hotpath demo}: MiniLM on this machine. First it shows the model works (paraphrases score
 * higher than unrelated sentences, on real English tokenized with the model's own tokenizer),
 * then it measures latency and throughput at batch 1 and 8 with graph optimization none and all.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Runs all-MiniLM-L6-v2 on real sentences, then measures it at batch 1 and 8 with graph optimization none and all.")
final class DemoCommand implements Callable<Integer> {
    /** Sentence pairs that mean the same thing. */
    static final List<String[]> PARAPHRASES = List.of(
            new String[] {"The central bank raised interest rates by a quarter point.",
                    "The policy rate was lifted by twenty-five basis points."},
            new String[] {"A cat is sleeping on the warm windowsill.",
                    "A kitten naps in the sun by the window."},
            new String[] {"The flight was delayed because of heavy snow.",
                    "Snowstorms held up the plane's departure."},
            new String[] {"He fixed the bug that crashed the server at night.",
                    "The programmer repaired the fault behind the nightly server crashes."});
    /** Sentence pairs about unrelated things. */
    static final List<String[]> UNRELATED = List.of(
            new String[] {"The central bank raised interest rates by a quarter point.",
                    "A kitten naps in the sun by the window."},
            new String[] {"A cat is sleeping on the warm windowsill.",
                    "The programmer repaired the fault behind the nightly server crashes."},
            new String[] {"The flight was delayed because of heavy snow.",
                    "The policy rate was lifted by twenty-five basis points."},
            new String[] {"He fixed the bug that crashed the server at night.",
                    "Snowstorms held up the plane's departure."});
    @Option(names = "--seq", defaultValue = "128", description = "Sequence length of the timed runs (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--seconds", defaultValue = "4", description = "Measured seconds per configuration (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default: the number of cores).")
    Integer threads;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        SystemInfo sys = SystemInfo.detect();
        Path model = ModelCatalog.resolve("minilm");
        out.println("Hotpath demo: all-MiniLM-L6-v2 (FP32, 6-layer BERT encoder, 384-dim) on ONNX Runtime "
                + OrtCpuEngine.runtimeVersion() + " CPU");
        out.println("  model   " + model);
        out.println("  system  " + sys.summary());
        out.println();

        boolean works = similarities(model, t, out);
        out.println();
        timings(model, t, out);
        return works ? 0 : 1;
    }

    private boolean similarities(Path model, int t, PrintStream out) {
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        out.println("1. Does the model work? Cosine similarity of mean-pooled sentence embeddings:");
        try (OrtCpuEngine engine = OrtCpuEngine.open(model, CpuEngineOptions.builder().intraOpThreads(t)
                .maxBatchSize(8).maxDimension("sequence_length", 128).build())) {
            Batch b = engine.newBatch();
            List<Double> para = score(engine, b, tok, PARAPHRASES, "paraphrase", out);
            List<Double> unrel = score(engine, b, tok, UNRELATED, "unrelated ", out);
            double minPara = para.stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double maxUnrel = unrel.stream().mapToDouble(Double::doubleValue).max().orElse(0);
            double meanPara = para.stream().mapToDouble(Double::doubleValue).average().orElse(0);
            double meanUnrel = unrel.stream().mapToDouble(Double::doubleValue).average().orElse(0);
            boolean ok = minPara > maxUnrel;
            out.printf("   mean paraphrase %.3f vs mean unrelated %.3f; every paraphrase pair above every unrelated pair: %s%n",
                    meanPara, meanUnrel, ok ? "yes" : "NO (the model or the tokenizer is wrong)");
            return ok;
        }
    }

    private static List<Double> score(OrtCpuEngine engine, Batch b, WordPieceTokenizer tok, List<String[]> pairs, String label, PrintStream out) {
        List<Double> scores = new ArrayList<>();
        for (String[] p : pairs) {
            float[][] e = Embeddings.embed(engine, b, tok, List.of(p[0], p[1]));
            double c = Embeddings.cosine(e[0], e[1]);
            scores.add(c);
            out.printf("   %s %.3f  \"%s\" ~ \"%s\"%n", label, c, p[0], p[1]);
        }
        return scores;
    }

    private void timings(Path model, int t, PrintStream out) {
        out.printf("2. Latency and throughput at sequence length %d (%d intra-op threads, %.0f s per row after warm-up):%n", seq, t, seconds);
        out.printf("   %-6s %-6s %10s %10s %10s %10s %14s%n", "opt", "batch", "p50 ms", "p90 ms", "p99 ms", "max ms", "sequences/s");
        double[][] thr = new double[2][2];
        double[][] p50 = new double[2][2];
        GraphOptimization[] levels = {GraphOptimization.NONE, GraphOptimization.ALL};
        int[] batches = {1, 8};
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        for (int li = 0; li < levels.length; li++) {
            try (OrtCpuEngine engine = OrtCpuEngine.open(model, CpuEngineOptions.builder().graphOptimization(levels[li])
                    .intraOpThreads(t).maxBatchSize(8).maxDimension("sequence_length", seq).build())) {
                Batch b = engine.newBatch();
                for (int bi = 0; bi < batches.length; bi++) {
                    Embeddings.fill(b, tok, SampleSentences.WORKLOAD.subList(0, batches[bi]), seq);
                    LatencyStats s = Measurement.timed(engine, b, batches[bi], 1.0, seconds, 10);
                    thr[li][bi] = s.itemsPerSecond();
                    p50[li][bi] = s.p50Us();
                    out.printf("   %-6s %-6d %10.2f %10.2f %10.2f %10.2f %14.1f   (%d runs)%n", levels[li].name().toLowerCase(java.util.Locale.ROOT),
                            batches[bi], s.p50Us() / 1e3, s.p90Us() / 1e3, s.p99Us() / 1e3, s.maxUs() / 1e3, s.itemsPerSecond(), s.count());
                }
            }
        }
        out.printf("   graph optimization all vs none: p50 %.2fx faster at batch 1, %.2fx at batch 8%n",
                p50[0][0] / p50[1][0], p50[0][1] / p50[1][1]);
        out.printf("   batching on CPU: batch 8 gives %.2fx the sequences/s of batch 1 (opt all)%n", thr[1][1] / thr[1][0]);
        out.println("   Figures from a shared 2-core VM drift about 15-20% between runs; compare rows of one run, not runs.");
    }
}
