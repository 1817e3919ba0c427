package io.hotpath.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads ONNX Runtime's profile (a Chrome trace: one event per operator run, {@code cat} "Node",
 * name {@code <node>_kernel_time}, {@code dur} in microseconds, {@code args.op_name}) and sums the
 * kernel time per operator type: where a model's time goes.
 */
final class OrtProfileSummary {
    /** One operator type's share. */
    record Row(String opType, long nodes, long runs, long micros) {
    }

    private final List<Row> rows;
    private final long totalMicros;
    private final long sessionRuns;

    private OrtProfileSummary(List<Row> rows, long totalMicros, long sessionRuns) {
        this.rows = rows;
        this.totalMicros = totalMicros;
        this.sessionRuns = sessionRuns;
    }

    static OrtProfileSummary read(Path file) throws IOException {
        JsonNode events = new ObjectMapper().readTree(file.toFile());
        Map<String, long[]> byOp = new LinkedHashMap<>();
        Map<String, java.util.Set<String>> nodes = new LinkedHashMap<>();
        long total = 0;
        long runs = 0;
        for (JsonNode e : events) {
            String cat = e.path("cat").asText();
            String name = e.path("name").asText();
            if ("Session".equals(cat) && "model_run".equals(name)) {
                runs++;
            }
            if (!"Node".equals(cat) || !name.endsWith("_kernel_time")) {
                continue;
            }
            String op = e.path("args").path("op_name").asText("?");
            long dur = e.path("dur").asLong();
            long[] a = byOp.computeIfAbsent(op, k -> new long[2]);
            a[0]++;
            a[1] += dur;
            nodes.computeIfAbsent(op, k -> new java.util.HashSet<>()).add(name);
            total += dur;
        }
        List<Row> rows = new ArrayList<>();
        byOp.forEach((op, a) -> rows.add(new Row(op, nodes.get(op).size(), a[0], a[1])));
        rows.sort((x, y) -> Long.compare(y.micros(), x.micros()));
        return new OrtProfileSummary(rows, total, runs);
    }

    /** The newest file whose name starts with the prefix's file name, beside it. */
    static Path newest(Path prefix) throws IOException {
        Path dir = prefix.toAbsolutePath().getParent();
        String stem = prefix.getFileName().toString();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(stem + "_") && p.toString().endsWith(".json"))
                    .max(java.util.Comparator.comparingLong(p -> p.toFile().lastModified()))
                    .orElseThrow(() -> new IOException("ONNX Runtime wrote no profile beginning " + prefix + "_"));
        }
    }

    List<Row> rows() {
        return rows;
    }

    long totalMicros() {
        return totalMicros;
    }

    void print(PrintStream out, Path file, int top) {
        out.printf("ONNX Runtime profile %s: %d runs, %.1f ms of operator time (%.1f us per run)%n", file, sessionRuns,
                totalMicros / 1e3, sessionRuns == 0 ? 0.0 : (double) totalMicros / sessionRuns);
        out.printf("  %-28s %6s %8s %10s %6s%n", "operator", "nodes", "runs", "ms", "share");
        for (int i = 0; i < Math.min(top, rows.size()); i++) {
            Row r = rows.get(i);
            out.printf("  %-28s %6d %8d %10.1f %5.1f%%%n", r.opType(), r.nodes(), r.runs(), r.micros() / 1e3,
                    totalMicros == 0 ? 0.0 : 100.0 * r.micros() / totalMicros);
        }
    }
}
