package io.hotpath.models;

import java.util.List;

/**
 * English sentences for checking an optimized MiniLM against the original, written for Hotpath and
 * disjoint from {@link CalibrationSentences} (other subjects, other predicates): sixteen subjects
 * crossed with sixteen predicates, 256 sentences.
 */
public final class ValidationSentences {
    private static final List<String> SUBJECTS = List.of(
            "The settlement system", "A young violinist", "The harbour pilot", "Our fraud model",
            "The night bus", "A tired software tester", "The central bank governor", "My grandmother's garden",
            "The order gateway", "A local football club", "The satellite operator", "The quant team",
            "A hungry fox", "The customs office", "Every market maker", "The village library");
    private static final List<String> PREDICATES = List.of(
            "rejected the batch because one record was malformed.",
            "practised scales for an hour before dinner.",
            "guided the container ship through thick fog.",
            "flagged an unusual payment made at midnight.",
            "skipped two stops after the road was closed.",
            "found the same bug in three different releases.",
            "hinted that rates would stay high through the winter.",
            "produced more tomatoes than anyone could eat.",
            "throttled clients that sent too many messages.",
            "won the regional cup after a penalty shootout.",
            "moved the spacecraft into a higher orbit.",
            "rewrote the pricing code to avoid allocations.",
            "dug under the fence to reach the chickens.",
            "held the shipment until the papers were signed.",
            "widened its quotes when volatility jumped.",
            "started lending laptops to students.");

    private ValidationSentences() {
    }

    /** All 256 sentences, in a fixed order that mixes subjects and predicates. */
    public static List<String> all() {
        return CalibrationSentences.grid(SUBJECTS, PREDICATES, 7);
    }
}
