package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hotpath profile and hotpath tune as a user runs them, on the real mlp: what they print and write. */
class ProfileTuneCliTest {
    @Test
    void profilePrintsTheStagesAVerdictOperatorsAndFramesAndWritesThePageAndRecording(@TempDir Path dir) throws Exception {
        Path html = dir.resolve("profile.html");
        Path jfr = dir.resolve("profile.jfr");
        CliRun.Result r = CliRun.run("profile", "--model", "mlp", "--concurrency", "2", "--duration-s", "1", "--warmup-s", "0.3",
                "--html", html.toString(), "--jfr", jfr.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        for (String part : new String[] {"queue wait", "engine run", "hand-off", "coverage", "verdict", "FusedGemm", "samples", "the frame on top of the stack"}) {
            assertTrue(r.out().contains(part), part + " in:\n" + r.out());
        }
        String page = Files.readString(html);
        assertTrue(page.contains("id=\"stage-waterfall\"") && page.contains("id=\"flame-graph\"") && !page.contains("<script"), "self-contained page");
        assertTrue(Files.size(jfr) > 0);
        try (var rf = new jdk.jfr.consumer.RecordingFile(jfr)) {
            boolean batch = false;
            while (rf.hasMoreEvents() && !batch) {
                batch = rf.readEvent().getEventType().getName().equals("hotpath.Batch");
            }
            assertTrue(batch, "the kept recording holds Hotpath's events");
        }
    }

    @Test
    void tuneReadsTheVariantsThatPassedFromAnOptimizerReport(@TempDir Path dir) {
        Path out = dir.resolve("opt");
        CliRun.Result opt = CliRun.run("optimize", "--model", "mlp", "--precisions", "int8", "--methods", "minmax", "--rounds", "1", "--out", out.toString());
        assertEquals(0, opt.code(), opt.err() + opt.out());
        var variants = OptimizedVariants.read(out);
        assertTrue(variants.stream().anyMatch(v -> v.name().equals("int8-minmax") && v.precision().equals("int8")), variants.toString());
        assertTrue(variants.stream().allMatch(v -> Files.isRegularFile(v.file())));
        CliRun.Result none = CliRun.run("tune", "--model", "mlp", "--slo-p99-ms", "5", "--optimized", dir.toString());
        assertEquals(2, none.code(), none.err());
        // one line for the user (under the fuzzing agent, its class-loading log lines may share stderr: they are not ours)
        assertEquals(1, none.err().lines().filter(l -> l.startsWith("hotpath: ")).count(), none.err());
        assertTrue(none.err().lines().anyMatch(l -> l.startsWith("hotpath: ") && l.contains("no report.json")), none.err());
        assertTrue(!none.err().contains("\tat "), "no stack trace: " + none.err());
    }

    @Test
    void tuneSaysWhenNoConfigurationMeetsTheObjectiveAndExitsThree() {
        CliRun.Result r = CliRun.run("tune", "--model", "mlp", "--concurrency", "1", "--slo-p99-ms", "0.0001", "--step-s", "0.5", "--budget-s", "60",
                "--threads", "1");
        assertEquals(3, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("no configuration meets p99 <= 1.0E-4 ms; the closest is mlp threads="), r.out());
        assertTrue(r.out().contains("nearest mlp threads=1 max-batch=1"), "only the thread count asked for is searched: " + r.out());
        assertTrue(r.out().contains("the batcher's defaults (max-batch 8"), r.out());
    }
}
