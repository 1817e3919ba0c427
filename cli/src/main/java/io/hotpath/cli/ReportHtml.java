package io.hotpath.cli;

import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML report: inline CSS and SVG only (no script, no network, no fonts to
 * fetch). Four parts, each with a stable id a test can look for: the latency-versus-throughput
 * curves ({@code #latency-throughput}), a percentile spectrum ({@code #percentile-spectrum}),
 * speedup bars per optimization ({@code #speedups}) and the optimizer's accuracy table
 * ({@code #accuracy}).
 */
final class ReportHtml {
    /** One curve: points of (x, y). */
    record Series(String name, double[] x, double[] y) {
    }

    /** One bar: a label and a factor against the baseline. */
    record Bar(String label, double factor, String note) {
    }

    /** Everything the report shows. */
    record Content(String title, String system, List<Series> latencyThroughput, List<Series> spectrum, List<Bar> speedups,
            List<String> accuracyHeader, List<List<String>> accuracyRows, List<String> notes) {
    }

    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

    private ReportHtml() {
    }

    static String render(Content c) {
        StringBuilder h = new StringBuilder(32_768);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(c.title())).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}")
                .append("h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;font-size:13px}")
                .append("td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}")
                .append("svg{background:#fafafa;border:1px solid #ddd}.note{color:#555;font-size:13px}")
                .append("</style></head><body>\n");
        h.append("<h1>").append(esc(c.title())).append("</h1>\n<p class=\"note\">").append(esc(c.system())).append("</p>\n");
        h.append("<h2>Latency versus throughput</h2>\n");
        h.append(lineChart("latency-throughput", c.latencyThroughput(), "throughput (requests/s)", "p99 latency (ms)", false));
        h.append("<h2>Percentile spectrum</h2>\n");
        h.append(lineChart("percentile-spectrum", c.spectrum(), "percentile (log scale: 90 = 1, 99 = 2, 99.9 = 3 nines)", "latency (ms)", true));
        h.append("<h2>What each optimization buys (measured here)</h2>\n");
        h.append(bars("speedups", c.speedups()));
        h.append("<h2>Accuracy of the optimized variants</h2>\n<table id=\"accuracy\"><tr>");
        for (String col : c.accuracyHeader()) {
            h.append("<th>").append(esc(col)).append("</th>");
        }
        h.append("</tr>\n");
        for (List<String> row : c.accuracyRows()) {
            h.append("<tr>");
            for (String cell : row) {
                h.append("<td>").append(esc(cell)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        for (String n : c.notes()) {
            h.append("<p class=\"note\">").append(esc(n)).append("</p>\n");
        }
        h.append("</body></html>\n");
        return h.toString();
    }

    private static String lineChart(String id, List<Series> series, String xLabel, String yLabel, boolean nines) {
        int w = 900;
        int hgt = 380;
        int left = 70;
        int bottom = 50;
        int top = 20;
        int right = 180;
        double xMax = 0;
        double yMax = 0;
        double xMin = Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                double x = nines ? ninesOf(s.x()[i]) : s.x()[i];
                xMax = Math.max(xMax, x);
                xMin = Math.min(xMin, x);
                yMax = Math.max(yMax, s.y()[i]);
            }
        }
        if (series.isEmpty() || xMax <= 0) {
            xMax = 1;
            xMin = 0;
        }
        xMin = nines ? 0 : 0;
        yMax = yMax <= 0 ? 1 : yMax * 1.1;
        double sx = (w - left - right) / (xMax - xMin);
        double sy = (hgt - top - bottom) / yMax;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">%n", id, w, hgt));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>", left, hgt - bottom, w - right, hgt - bottom));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", left, top, left, hgt - bottom));
        for (int t = 0; t <= 4; t++) {
            double xv = xMin + (xMax - xMin) * t / 4;
            double yv = yMax * t / 4;
            double px = left + (xv - xMin) * sx;
            double py = hgt - bottom - yv * sy;
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>", px, hgt - bottom + 16,
                    nines ? fmt(100 - 100 / Math.pow(10, xv)) : fmt(xv)));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left - 6, py + 4, fmt(yv)));
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>%n", left, py, w - right, py));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>", left + (w - left - right) / 2,
                hgt - 10, esc(xLabel)));
        s.append(String.format(Locale.ROOT, "<text x=\"14\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">%s</text>%n",
                top + (hgt - top - bottom) / 2, top + (hgt - top - bottom) / 2, esc(yLabel)));
        for (int k = 0; k < series.size(); k++) {
            Series se = series.get(k);
            String color = COLORS[k % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < se.x().length; i++) {
                double x = nines ? ninesOf(se.x()[i]) : se.x()[i];
                double px = left + (x - xMin) * sx;
                double py = hgt - bottom - se.y()[i] * sy;
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                if (!nines) {
                    s.append(String.format(Locale.ROOT, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px, py, color));
                }
            }
            s.append(String.format(Locale.ROOT, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n", color,
                    pts.toString().trim()));
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>%n",
                    w - right + 12, top + 18 * k, color, w - right + 30, top + 18 * k + 11, esc(se.name())));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    /** Percentile p (in percent) as "number of nines": 90 -> 1, 99 -> 2, 99.9 -> 3. */
    static double ninesOf(double p) {
        return p >= 100 ? 6 : -Math.log10(1 - p / 100);
    }

    private static String bars(String id, List<Bar> bars) {
        int w = 900;
        int rowH = 34;
        int left = 260;
        int hgt = 30 + rowH * bars.size();
        double max = 1;
        for (Bar b : bars) {
            max = Math.max(max, b.factor());
        }
        double scale = (w - left - 160) / max;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">%n", id, w, hgt));
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int y = 15 + i * rowH;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\">%s</text>", left - 8, y + 17, esc(b.label())));
            s.append(String.format(Locale.ROOT, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"22\" fill=\"%s\"/>", left, y + 2,
                    Math.max(1, b.factor() * scale), COLORS[i % COLORS.length]));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"13\">%.2fx %s</text>%n", left + Math.max(1, b.factor() * scale) + 6,
                    y + 17, b.factor(), esc(b.note())));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static String fmt(double v) {
        if (v == 0) {
            return "0";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
