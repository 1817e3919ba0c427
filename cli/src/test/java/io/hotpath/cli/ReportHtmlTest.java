package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTML report in headless Chromium (Debian's chromium; .ci/run installs it): the charts are in the DOM and the page is not blank. */
class ReportHtmlTest {
    @TempDir
    Path tmp;

    static ReportHtml.Content sample() {
        return new ReportHtml.Content("Hotpath report test", "2 cores",
                List.of(new ReportHtml.Series("FP32", new double[] {60, 70, 75}, new double[] {18, 40, 110}),
                        new ReportHtml.Series("INT8", new double[] {140, 150, 160}, new double[] {8, 30, 55})),
                List.of(new ReportHtml.Series("INT8", new double[] {0, 50, 90, 99, 99.9}, new double[] {40, 45, 50, 52, 53})),
                List.of(new ReportHtml.Bar("baseline", 1, ""), new ReportHtml.Bar("+ INT8", 2.4, ""), new ReportHtml.Bar("+ cache <50%>", 4.6, "hits")),
                List.of("variant", "cosine mean"), List.of(List.of("int8-minmax", "0.992754"), List.of("fp32", "1.000000")), List.of("a note & more"));
    }

    @Test
    void theReportIsSelfContainedAndEscapesText() {
        String html = ReportHtml.render(sample());
        for (String id : List.of("latency-throughput", "percentile-spectrum", "speedups", "accuracy")) {
            assertTrue(html.contains("id=\"" + id + "\""), id);
        }
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.matches("(?s).*(src|href)=\"https?:.*"), "nothing fetched from the network");
        assertTrue(html.contains("+ cache &lt;50%&gt;") && html.contains("a note &amp; more"), "text is escaped");
        assertEquals(3.0, ReportHtml.ninesOf(99.9), 1e-9);
    }

    @Test
    void chromiumRendersTheChartsOnANonBlankPage() throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        assumeTrue(Files.isExecutable(chromium), "skipped: Debian's chromium is not installed (.ci/run installs it)");
        Path html = tmp.resolve("report.html");
        Files.writeString(html, ReportHtml.render(sample()));
        List<String> common = List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + tmp.resolve("profile"));
        List<String> dump = new ArrayList<>(common);
        dump.add("--dump-dom");
        dump.add(html.toUri().toString());
        String dom = run(dump);
        assertTrue(dom.contains("<svg id=\"latency-throughput\""), "latency curve rendered into the DOM");
        assertTrue(dom.contains("<svg id=\"percentile-spectrum\""), "percentile spectrum");
        assertTrue(dom.contains("<svg id=\"speedups\"") && dom.split("class=\"bar\"", -1).length - 1 == 3, "three speedup bars");
        assertTrue(dom.split("class=\"series\"", -1).length - 1 == 3, "three polylines");
        assertTrue(dom.contains("<table id=\"accuracy\"") && dom.contains("int8-minmax"), "accuracy table");
        Path png = tmp.resolve("shot.png");
        List<String> shot = new ArrayList<>(common);
        shot.add("--window-size=1100,1500");
        shot.add("--screenshot=" + png);
        shot.add(html.toUri().toString());
        run(shot);
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img != null && img.getWidth() == 1100, "a 1100-pixel-wide screenshot");
        Set<Integer> colours = new HashSet<>();
        long dark = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                if (((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff) < 300) {
                    dark++;
                }
            }
        }
        assertTrue(colours.size() > 20, "the page is not blank: " + colours.size() + " colours");
        assertTrue(dark > 500, "text and chart lines are drawn: " + dark + " dark pixels sampled");
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium finished");
        assertEquals(0, p.exitValue(), "chromium exit code");
        return new String(out, StandardCharsets.UTF_8);
    }
}
