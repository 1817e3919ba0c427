package io.hotpath.models;

import java.util.ArrayList;
import java.util.List;

/**
 * English sentences for calibrating MiniLM's INT8 activation ranges, written for Hotpath: sixteen
 * subjects crossed with sixteen predicates (256 distinct sentences, 6 to 20 tokens), varied in
 * topic (markets, systems, everyday life) so the activations cover more than one register. They
 * are disjoint from {@link SampleSentences#WORKLOAD}.
 */
public final class CalibrationSentences {
    private static final List<String> SUBJECTS = List.of(
            "The trading desk", "A small bakery", "Our matching engine", "The night shift nurse",
            "A retired physics teacher", "The city council", "My neighbour's dog", "The risk committee",
            "A freight train", "The weather service", "An open-source maintainer", "The hedge fund",
            "A marathon runner", "The museum curator", "Every pricing model", "The rural school");
    private static final List<String> PREDICATES = List.of(
            "measured its tail latency after the upgrade.",
            "closed early because of the storm.",
            "cut the spread on government bonds this morning.",
            "wrote a long report about the failed deployment.",
            "found an old map hidden behind the bookshelf.",
            "approved a budget for new bicycle lanes.",
            "barked at the delivery van for ten minutes.",
            "doubled the margin requirement for volatile stocks.",
            "arrived three hours late at the northern station.",
            "warned of heavy snow over the mountain passes.",
            "rejected the patch until the tests passed.",
            "sold its position before the announcement.",
            "trained through the winter for the spring race.",
            "restored a painting damaged by water.",
            "assumes that interest rates stay roughly constant.",
            "received new laptops from a local charity.");

    private CalibrationSentences() {
    }

    /** All 256 sentences, in a fixed order that mixes subjects and predicates. */
    public static List<String> all() {
        return grid(SUBJECTS, PREDICATES, 5);
    }

    /** Every subject with every predicate (16 x 16), the predicate rotated by {@code stride} per subject so neighbours differ. */
    static List<String> grid(List<String> subjects, List<String> predicates, int stride) {
        int n = subjects.size();
        List<String> out = new ArrayList<>(n * predicates.size());
        for (int i = 0; i < n * predicates.size(); i++) {
            int s = i % n;
            int p = (i / n + stride * s) % predicates.size();
            out.add(subjects.get(s) + " " + predicates.get(p));
        }
        return out;
    }
}
