package io.hotpath.embed;

import io.hotpath.core.HotpathException;
import io.hotpath.optimizer.Calibrator;
import io.hotpath.optimizer.Optimizer;
import java.util.ArrayList;
import java.util.List;

/** Splitting the application's data into disjoint calibration and validation sets, and fingerprinting it for the cache key. */
final class DataSplit {
    private DataSplit() {
    }

    /** Every {@code every}-th item to validation, the rest to calibration; at least {@code min} items. */
    static Optimizer.Data[] holdOut(Optimizer.Data data, int every, int min) {
        return switch (data) {
            case Optimizer.Rows r -> {
                List<List<float[]>> s = split(r.rows(), every, min);
                yield new Optimizer.Data[] {new Optimizer.Rows(s.get(0)), new Optimizer.Rows(s.get(1))};
            }
            case Optimizer.Text t -> {
                List<List<String>> s = split(t.sentences(), every, min);
                yield new Optimizer.Data[] {new Optimizer.Text(t.tokenizer(), s.get(0)), new Optimizer.Text(t.tokenizer(), s.get(1))};
            }
            case Optimizer.Samples m -> {
                List<List<List<Calibrator.Feed>>> s = split(m.samples(), every, min);
                yield new Optimizer.Data[] {new Optimizer.Samples(s.get(0)), new Optimizer.Samples(s.get(1))};
            }
        };
    }

    private static <T> List<List<T>> split(List<T> items, int every, int min) {
        if (items.size() < min) {
            throw HotpathException.invalidArgument("the calibration data has " + items.size() + " item(s); give at least " + min
                    + " (every " + every + "th is held out to validate accuracy), or a separate validation set with validation(data)");
        }
        List<T> cal = new ArrayList<>();
        List<T> val = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            (i % every == every - 1 ? val : cal).add(items.get(i));
        }
        return List.of(cal, val);
    }

    /** Adds the data's content to the key: what it is, each item's values, in order. */
    static void fingerprint(OptimizedModelCache.KeyDigest d, Optimizer.Data data) {
        switch (data) {
            case Optimizer.Rows r -> {
                d.text("rows").longValue(r.rows().size());
                for (float[] row : r.rows()) {
                    d.longValue(row.length);
                    for (float f : row) {
                        d.longValue(Float.floatToRawIntBits(f));
                    }
                }
            }
            case Optimizer.Text t -> {
                d.text("text").longValue(t.tokenizer().vocabSize()).longValue(t.tokenizer().padId());
                for (int id : t.tokenizer().encode("Hotpath fingerprints the tokenizer by a sample's token ids.", 32)) {
                    d.longValue(id);
                }
                d.longValue(t.sentences().size());
                for (String s : t.sentences()) {
                    d.text(s);
                }
            }
            case Optimizer.Samples m -> {
                d.text("samples").longValue(m.samples().size());
                for (List<Calibrator.Feed> sample : m.samples()) {
                    d.longValue(sample.size());
                    for (Calibrator.Feed f : sample) {
                        d.text(f.name()).longValue(f.elementType()).longValue(f.dims().length);
                        for (long x : f.dims()) {
                            d.longValue(x);
                        }
                        d.bytes(f.bytes());
                    }
                }
            }
        }
    }
}
