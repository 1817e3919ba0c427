package io.hotpath.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A flame graph as one self-contained SVG element (no script): the root at the bottom, each
 * frame as wide as the samples that passed through it, its callees stacked above it in name
 * order; hovering a frame shows its name and share (an SVG {@code <title>}).
 */
final class FlameGraphSvg {
    private static final int WIDTH = 1060;
    private static final int ROW = 16;
    private static final int MAX_DEPTH = 96;

    private static final class Node {
        final String name;
        long samples;
        final Map<String, Node> children = new LinkedHashMap<>();

        Node(String name) {
            this.name = name;
        }

        int depth() {
            int d = 0;
            for (Node c : children.values()) {
                d = Math.max(d, c.depth());
            }
            return d + 1;
        }
    }

    private FlameGraphSvg() {
    }

    /** The SVG for {@code stacks} (root first), with element id {@code id}. */
    static String render(String id, List<JfrSamples.Stack> stacks) {
        Node root = new Node("all");
        for (JfrSamples.Stack s : stacks) {
            root.samples += s.samples();
            Node n = root;
            int depth = 0;
            for (String f : s.frames()) {
                if (++depth > MAX_DEPTH) {
                    break;
                }
                n = n.children.computeIfAbsent(f, Node::new);
                n.samples += s.samples();
            }
        }
        int depth = Math.min(root.depth(), MAX_DEPTH + 1);
        int height = depth * ROW + 4;
        StringBuilder h = new StringBuilder(65_536);
        h.append("<svg id=\"").append(id).append("\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH)
                .append("\" height=\"").append(height).append("\" font-family=\"monospace\" font-size=\"11\">\n");
        if (root.samples == 0) {
            h.append("<text x=\"10\" y=\"14\">no samples</text>\n");
        } else {
            draw(h, root, 0, WIDTH, 0, height, root.samples);
        }
        h.append("</svg>\n");
        return h.toString();
    }

    private static void draw(StringBuilder h, Node n, double x, double w, int level, int height, long total) {
        if (w < 0.4) {
            return;
        }
        double y = height - (level + 1) * ROW;
        String label = n.name + String.format(Locale.ROOT, " (%d samples, %.1f%%)", n.samples, 100.0 * n.samples / total);
        h.append(String.format(Locale.ROOT, "<g><title>%s</title><rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"/>",
                ReportHtml.esc(label), x, y, w, ROW - 1, color(n.name)));
        int chars = (int) ((w - 4) / 6.6);
        if (chars >= 3) {
            String t = n.name.length() <= chars ? n.name : n.name.substring(0, Math.max(1, chars - 2)) + "..";
            h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.0f\">%s</text>", x + 2, y + ROW - 4, ReportHtml.esc(t)));
        }
        h.append("</g>\n");
        double at = x;
        for (Node c : n.children.values().stream().sorted((a, b) -> a.name.compareTo(b.name)).toList()) {
            double cw = w * c.samples / n.samples;
            draw(h, c, at, cw, level + 1, height, total);
            at += cw;
        }
    }

    /** Warm colours, Java frames from the name's hash; frames of native calls in blue-green; waiting frames grey. */
    private static String color(String name) {
        int hash = name.hashCode() & 0x7fffffff;
        if (name.endsWith("[waiting]")) {
            return "rgb(200,200,200)";
        }
        if (name.endsWith("[native]")) {
            return String.format(Locale.ROOT, "rgb(%d,%d,%d)", 80 + hash % 40, 160 + hash % 50, 170 + hash % 60);
        }
        return String.format(Locale.ROOT, "rgb(%d,%d,%d)", 220 + hash % 35, 90 + hash % 110, 40 + hash % 40);
    }
}
