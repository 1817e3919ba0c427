package io.hotpath.cli;

import java.util.Locale;

/**
 * {@code hotpath profile --html}: a self-contained page (inline CSS and SVG, no script) with the
 * stage waterfall ({@code #stage-waterfall}: each band's stages laid end to end, the typical and
 * the tail request each on its own scale), the stage table, the verdict and the flame graph of
 * JFR's samples ({@code #flame-graph}).
 */
final class ProfileHtml {
    private static final String[] COLORS = {"#8c564b", "#17becf", "#7f7f7f", "#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#bcbd22", "#e377c2"};

    private ProfileHtml() {
    }

    static String render(String title, String system, StageProfile.Summary s, String verdict, JfrSamples.Read samples) {
        StringBuilder h = new StringBuilder(131_072);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(ReportHtml.esc(title)).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}")
                .append("h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;font-size:13px}")
                .append("td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}")
                .append("svg{background:#fafafa;border:1px solid #ddd}.note{color:#555;font-size:13px}")
                .append("</style></head><body>\n");
        h.append("<h1>").append(ReportHtml.esc(title)).append("</h1>\n<p class=\"note\">").append(ReportHtml.esc(system)).append("</p>\n");
        h.append("<h2>Where a request's time goes</h2>\n<p><b>").append(ReportHtml.esc(verdict)).append("</b></p>\n");
        h.append(waterfall(s));
        h.append("<table id=\"stages\"><tr><th>stage</th><th>p50 band, us</th><th>share</th><th>p99 band, us</th><th>share</th><th>what it is</th></tr>\n");
        for (StageProfile.Stage st : StageProfile.Stage.values()) {
            double a = s.typical().stageMeanNanos()[st.ordinal()];
            double b = s.tail().stageMeanNanos()[st.ordinal()];
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.1f</td><td>%.1f%%</td><td>%.1f</td><td>%.1f%%</td><td style=\"text-align:left\">%s</td></tr>%n",
                    ReportHtml.esc(st.label), a / 1e3, 100 * s.typical().share(st), b / 1e3, 100 * s.tail().share(st), ReportHtml.esc(st.meaning)));
        }
        h.append("</table>\n");
        h.append("<h2>Flame graph (JFR execution and native-method samples)</h2>\n<p class=\"note\">")
                .append(samples.javaSamples()).append(" samples in Java, ").append(samples.nativeSamples())
                .append(" in native calls; hover a frame for its share.</p>\n");
        h.append(FlameGraphSvg.render("flame-graph", samples.stacks()));
        h.append("</body></html>\n");
        return h.toString();
    }

    /** Two rows, the typical and the tail request, each stage a bar starting where the previous ended. */
    static String waterfall(StageProfile.Summary s) {
        int width = 1060;
        int left = 150;
        int right = 20;
        int rowH = 34;
        StringBuilder h = new StringBuilder();
        h.append("<svg id=\"stage-waterfall\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"")
                .append(2 * rowH + 60).append("\" font-family=\"sans-serif\" font-size=\"11\">\n");
        StageProfile.Band[] bands = {s.typical(), s.tail()};
        for (int i = 0; i < bands.length; i++) {
            StageProfile.Band b = bands[i];
            double total = Math.max(1, b.stagesSumNanos());
            double scale = (width - left - right) / total;
            int y = 10 + i * rowH;
            h.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\">%s</text>", y + 16, ReportHtml.esc(b.name())));
            h.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\" fill=\"#555\">%.1f us</text>%n", y + 29, b.endToEndMeanNanos() / 1e3));
            double x = left;
            for (StageProfile.Stage st : StageProfile.Stage.values()) {
                double w = b.stageMeanNanos()[st.ordinal()] * scale;
                if (w <= 0) {
                    continue;
                }
                h.append(String.format(Locale.ROOT, "<g><title>%s: %.1f us (%.1f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"24\" fill=\"%s\"/>",
                        ReportHtml.esc(st.label), b.stageMeanNanos()[st.ordinal()] / 1e3, 100 * b.share(st), x, y + 4, w, COLORS[st.ordinal() % COLORS.length]));
                if (w > 60) {
                    h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#fff\">%s</text>", x + 3, y + 20, ReportHtml.esc(st.label)));
                }
                h.append("</g>\n");
                x += w;
            }
        }
        int ly = 10 + 2 * rowH + 14;
        int lx = 4;
        for (StageProfile.Stage st : StageProfile.Stage.values()) {
            h.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
                    lx, ly, COLORS[st.ordinal() % COLORS.length], lx + 13, ly + 9, ReportHtml.esc(st.label)));
            lx += 13 + 6 * st.label.length() + 12;
        }
        h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#555\">each row on its own scale: the mean of the requests in the band</text>%n", left, ly + 28));
        h.append("</svg>\n");
        return h.toString();
    }
}
