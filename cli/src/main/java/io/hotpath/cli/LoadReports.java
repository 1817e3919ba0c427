package io.hotpath.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/** The load generator's file outputs: one CSV row per step, and an HdrHistogram log with one tagged interval per step. */
final class LoadReports {
    private LoadReports() {
    }

    /** Writes the steps' scalar JSON fields as CSV (columns: the union of keys, in first-seen order; maps are skipped). */
    static void writeCsv(Path file, List<LoadStepResult> results) throws IOException {
        List<Map<String, Object>> steps = results.stream().map(BenchJson::fields).toList();
        Set<String> cols = new LinkedHashSet<>();
        for (Map<String, Object> s : steps) {
            for (var e : s.entrySet()) {
                if (!(e.getValue() instanceof Map)) {
                    cols.add(e.getKey());
                }
            }
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.join(",", cols));
        for (Map<String, Object> s : steps) {
            List<String> row = new ArrayList<>();
            for (String c : cols) {
                Object v = s.get(c);
                String t = v == null ? "" : v.toString();
                row.add(t.contains(",") || t.contains("\"") ? "\"" + t.replace("\"", "\"\"") + "\"" : t);
            }
            lines.add(String.join(",", row));
        }
        createParent(file);
        Files.write(file, lines);
    }

    /** Writes each step's histogram (nanoseconds) as one interval of an HdrHistogram log, tagged with the step. */
    static void writeHdrLog(Path file, List<Histogram> histograms, List<String> tags) throws IOException {
        createParent(file);
        try (PrintStream out = new PrintStream(Files.newOutputStream(file))) {
            HistogramLogWriter w = new HistogramLogWriter(out);
            long now = System.currentTimeMillis();
            w.outputLogFormatVersion();
            w.outputStartTime(now);
            w.setBaseTime(now);
            w.outputLegend();
            for (int i = 0; i < histograms.size(); i++) {
                Histogram h = histograms.get(i).copy();
                h.setTag(tags.get(i).replace(',', ';').replace(' ', '_'));
                h.setStartTimeStamp(now + i * 1000L);
                h.setEndTimeStamp(now + i * 1000L + 999);
                w.outputIntervalHistogram(h);
            }
        }
    }

    private static void createParent(Path file) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
    }
}
