package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.models.ModelCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizerTest {
    @TempDir
    Path tmp;

    private static List<float[]> rows(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] row = new float[64];
            for (int k = 0; k < 64; k++) {
                row[k] = (float) r.nextDouble(-1, 1);
            }
            out.add(row);
        }
        return out;
    }

    @Test
    void mlpVariantsAreBuiltValidatedTimedAndTheFastestPassingOneIsChosen() throws Exception {
        Optimizer.Config cfg = new Optimizer.Config(List.of("fp32", "fp16", "int8"), List.of(CalibrationStats.Method.values()), 1, 20,
                Optimizer.Budget.parse("cosine>=0.99,max_abs_err<=0.05"));
        Optimizer.Report r = Optimizer.run(ModelCatalog.resolve("mlp"), "mlp", new Optimizer.Rows(rows(128, 1)), new Optimizer.Rows(rows(64, 2)),
                List.of(), cfg, tmp);
        assertEquals(List.of("fp32-opt-none", "fp32", "fp16", "int8-minmax", "int8-percentile", "int8-entropy", "int8-dynamic"),
                r.variants().stream().map(Optimizer.Variant::name).toList());
        assertNotNull(r.chosen());
        assertTrue(r.chosen().passed());
        for (Optimizer.Variant v : r.variants()) {
            assertTrue(Files.isRegularFile(v.file()), v.name());
            assertTrue(v.p50UsBatch1() > 0 && v.throughputPerSecondBatch8() > 0, v.toString());
            if (!v.name().equals("int8-dynamic")) {
                assertTrue(v.batchInvariant(), v.name() + " depends on its batch: " + v.batchDependence());
            }
            assertEquals(v.passed(), v.accuracy().maxAbsErr() <= 0.05 && v.accuracy().within(0.99, 0.97) && v.batchInvariant(), v.name());
            if (v.name().equals("int8-minmax") || v.name().equals("int8-percentile")) {
                assertTrue(v.passed(), v.name() + " " + v.accuracy());
            }
            assertEquals(1.0, v.accuracy().top1Agreement(), "one-column scores: arg-max is trivially the same");
        }
        assertTrue(Files.isRegularFile(r.calibrationStats()));
        CalibrationStats.load(r.calibrationStats());
        Optimizer.Variant dyn = r.variants().get(6);
        assertTrue(dyn.accuracy().maxAbsErr() < 0.05, "dynamic int8: " + dyn.accuracy());
        // a second run reuses the saved statistics and gets the same static models
        Path again = tmp.resolve("again");
        Optimizer.Report r2 = Optimizer.run(ModelCatalog.resolve("mlp"), "mlp", new Optimizer.Rows(rows(1, 9)), new Optimizer.Rows(rows(64, 2)),
                List.of(), new Optimizer.Config(List.of("int8"), List.of(CalibrationStats.Method.MINMAX), 1, 5, cfg.budget(), r.calibrationStats(), true), again);
        assertEquals(Files.mismatch(r.variants().get(3).file(), r2.variants().get(0).file()), -1L, "same statistics, same int8 model");
    }

    @Test
    void cnnClassifierKeepsItsTopClassInInt8() {
        SplittableRandom r = new SplittableRandom(9);
        List<float[]> cal = new ArrayList<>();
        List<float[]> val = new ArrayList<>();
        for (int i = 0; i < 192; i++) {
            float[] img = new float[28 * 28];
            for (int k = 0; k < img.length; k++) {
                img[k] = (float) r.nextDouble(-1, 1);
            }
            (i < 64 ? cal : val).add(img);
        }
        Optimizer.Config cfg = new Optimizer.Config(List.of("int8"), List.of(CalibrationStats.Method.MINMAX, CalibrationStats.Method.PERCENTILE), 1, 5,
                Optimizer.Budget.parse("cosine>=0.99"));
        Optimizer.Report rep = Optimizer.run(ModelCatalog.resolve("cnn"), "cnn", new Optimizer.Rows(cal), new Optimizer.Rows(val), List.of(), cfg, tmp);
        // the INT8 scheme follows this CPU (7-bit weights without VNNI): the budget must hold on every x86 CPU
        assertEquals(CpuFeatures.detect().int8Scheme(), rep.int8Scheme());
        System.out.println("cnn on " + rep.cpu() + ", INT8 scheme " + rep.int8Scheme().label());
        for (Optimizer.Variant v : rep.variants()) {
            assertEquals(Optimizer.DEFAULT_ROUNDS, v.speed().rounds());
            assertTrue(v.speed().throughputMin() <= v.throughputPerSecondBatch8() && v.throughputPerSecondBatch8() <= v.speed().throughputMax());
            System.out.println("cnn " + v.name() + ": " + v.accuracy());
            assertTrue(v.accuracy().top1Agreement() >= 0.99, v.name() + " top-1 agreement " + v.accuracy().top1Agreement());
            assertTrue(v.passed(), v.name());
        }
    }

    @Test
    void choiceIsTheFastestWithinTheBudgetPreferringAccuracyWithinNoise() {
        Accuracy good = new Accuracy(0.01, 0.001, 0.999, 0.998, 1, 8);
        Accuracy ok = new Accuracy(0.05, 0.01, 0.995, 0.99, 1, 8);
        Accuracy bad = new Accuracy(0.5, 0.1, 0.9, 0.8, 1, 8);
        Path f = Path.of("x.onnx");
        var a = new Optimizer.Variant("a", "fp32", "none", f, good, 10, 100, true, 0, true, List.of());
        var b = new Optimizer.Variant("b", "int8", "minmax", f, ok, 5, 250, true, 0, true, List.of());
        var c = new Optimizer.Variant("c", "int8", "percentile", f, good, 5, 245, true, 0, true, List.of());
        var d = new Optimizer.Variant("d", "int8", "entropy", f, bad, 5, 400, true, 0, false, List.of());
        assertEquals("c", Optimizer.choose(List.of(a, b, c, d)).name(), "b and c tie within 3%: the more accurate wins; d failed");
        assertEquals("b", Optimizer.choose(List.of(a, b, d)).name());
        assertNull(Optimizer.choose(List.of(d)));
    }

    @Test
    void aVariantWhoseRoundsOverlapTheFastestOnesCountsAsEquallyFast() {
        Accuracy good = new Accuracy(0.01, 0.001, 0.999, 0.998, 1, 8);
        Accuracy ok = new Accuracy(0.05, 0.01, 0.995, 0.99, 1, 8);
        Path f = Path.of("x.onnx");
        // fast: median 300, rounds 270..330; accurate: median 280 (7% slower), best round 290 reaches fast's worst (270)
        var fast = new Optimizer.Variant("fast", "int8", "minmax", f, ok, 5, 300, true, 0, true, List.of(),
                new Optimizer.Speed(5, 5, 5, 5, 300, 270, 330));
        var accurate = new Optimizer.Variant("accurate", "int8", "percentile", f, good, 5, 280, true, 0, true, List.of(),
                new Optimizer.Speed(5, 5, 5, 5, 280, 250, 290));
        assertEquals("accurate", Optimizer.choose(List.of(fast, accurate)).name(), "within the spread: the more accurate wins");
        // the same medians with tight rounds: 280 is really slower than 300
        var fastTight = new Optimizer.Variant("fast", "int8", "minmax", f, ok, 5, 300, true, 0, true, List.of(),
                new Optimizer.Speed(5, 5, 5, 5, 300, 298, 303));
        var accurateTight = new Optimizer.Variant("accurate", "int8", "percentile", f, good, 5, 280, true, 0, true, List.of(),
                new Optimizer.Speed(5, 5, 5, 5, 280, 278, 283));
        assertEquals("fast", Optimizer.choose(List.of(fastTight, accurateTight)).name());
    }

    @Test
    void configurationRefusesNoRunsNoRoundsAndUnknownPrecisions() {
        Optimizer.Budget b = new Optimizer.Budget(0.99, 0.97);
        var methods = List.of(CalibrationStats.Method.MINMAX);
        HotpathException runs = assertThrows(HotpathException.class, () -> new Optimizer.Config(List.of("int8"), methods, 128, 0, b));
        assertTrue(runs.getMessage().contains("runs 0"), runs.getMessage());
        HotpathException p = assertThrows(HotpathException.class, () -> new Optimizer.Config(List.of("fp64"), methods, 128, 5, b));
        assertTrue(p.getMessage().contains("'fp64'"), p.getMessage());
        assertThrows(HotpathException.class, () -> Optimizer.Config.defaults().withRounds(0));
    }

    @Test
    void oneScorePerRowIsComparedOverTheColumnNotBySign() {
        // a wake-word score per sample: per row, any positive pair has cosine 1
        float[][] ref = {{0.01f}, {0.02f}, {0.9f}, {0.03f}};
        float[][] far = {{0.30f}, {0.25f}, {0.2f}, {0.35f}};
        Accuracy a = Accuracy.compare(ref, far);
        assertTrue(a.cosineMean() < 0.7 && a.cosineMin() == a.cosineMean(), a.toString());
        assertEquals(1.0, Accuracy.compare(ref, ref).cosineMin(), 1e-12);
        float[][] close = {{0.011f}, {0.019f}, {0.89f}, {0.031f}};
        assertTrue(Accuracy.compare(ref, close).cosineMean() > 0.9999, Accuracy.compare(ref, close).toString());
        // rows of several values keep their per-row cosine
        assertEquals(1.0, Accuracy.compare(new float[][] {{1, 2}, {3, 4}}, new float[][] {{2, 4}, {6, 8}}).cosineMin(), 1e-12);
    }

    @Test
    void budgetsParseOrSayWhatIsWrong() {
        Optimizer.Budget b = Optimizer.Budget.parse("cosine>=0.995,cosine_min>=0.98,max_abs_err<=0.1");
        assertEquals(0.995, b.cosineMean());
        assertEquals(0.98, b.cosineMin());
        assertEquals(0.1, b.maxAbsErr());
        assertEquals(0.97, Optimizer.Budget.parse("cosine>=0.99").cosineMin());
        assertThrows(HotpathException.class, () -> Optimizer.Budget.parse("cosine>0.99"));
        assertThrows(HotpathException.class, () -> Optimizer.Budget.parse("latency>=3"));
        assertThrows(HotpathException.class, () -> Optimizer.Budget.parse("cosine>=high"));
    }
}
