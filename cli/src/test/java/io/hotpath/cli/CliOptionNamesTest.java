package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** One meaning per option name: soak's caller threads are --callers (--threads is ONNX Runtime's intra-op threads elsewhere). */
class CliOptionNamesTest {
    @Test
    void soakTakesCallersAndStillReadsTheOldSpellingWithALine() {
        CliRun.Result now = CliRun.run("soak", "--requests", "3000", "--callers", "2", "--sample-every-s", "0.5", "--rss-bound-mb", "4096");
        assertEquals(0, now.code(), now.err());
        assertTrue(now.out().contains("3000 requests, 2 callers"), now.out());
        CliRun.Result old = CliRun.run("soak", "--requests", "3000", "--threads", "2", "--sample-every-s", "0.5", "--rss-bound-mb", "4096");
        assertEquals(0, old.code(), old.err());
        assertTrue(old.err().contains("soak --threads is deprecated; use --callers"), old.err());
        assertTrue(old.out().contains("2 callers"), old.out());
        CliRun.Result both = CliRun.run("soak", "--threads", "2", "--callers", "2");
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().strip().startsWith("hotpath: ") && both.err().contains("give --callers only"), both.err());
    }

    @Test
    void modelMeansTheSameInBenchOptimizeAndAdvise() {
        for (String command : new String[] {"bench", "optimize", "advise"}) {
            CliRun.Result r = CliRun.run(command, "--help");
            assertTrue(r.out().contains("--model=FILE|ALIAS") && r.out().contains("An ONNX file or a built-in alias: minilm"), command + ":\n" + r.out());
        }
    }
}
