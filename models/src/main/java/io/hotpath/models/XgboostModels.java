package io.hotpath.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Tree ensembles that XGBoost trained on real data, as ONNX, with the rows they were asked about
 * and XGBoost's own answers: test and benchmark models that nobody here shaped by hand.
 *
 * <ul>
 *   <li>{@code xgb-diabetes}: regression ({@code reg:squarederror}), 500 trees of depth up to 8,
 *       over the 10 measurements of scikit-learn's diabetes data (442 patients);</li>
 *   <li>{@code xgb-cancer}: binary classification ({@code binary:logistic}), 300 trees of depth up
 *       to 6, over the 30 measurements of the Wisconsin breast-cancer data (569 tumours);</li>
 *   <li>{@code xgb-digits}: ten classes ({@code multi:softprob}), 400 trees of depth up to 6, over
 *       the 64 pixels of scikit-learn's 8x8 digits (1,797 images).</li>
 * </ul>
 *
 * Five per cent of the values are missing (NaN) in training and in the rows, so the trees' default
 * directions are taken. Made by {@code models/tools/xgboost_models.py} (XGBoost 1.7.4, scikit-learn
 * 1.2.1, its own converter to {@code ai.onnx.ml} tree ensembles: {@code BRANCH_LT} with
 * missing-value directions); the files are in this module's resources, so nothing needs Python.
 */
public final class XgboostModels {
    /** The models, smallest answer first. */
    public static final List<String> NAMES = List.of("xgb-diabetes", "xgb-cancer", "xgb-digits");

    private static final String DIR = "io/hotpath/models/xgboost/";

    private XgboostModels() {
    }

    /**
     * One trained model.
     *
     * @param name          its name
     * @param model         the ONNX file (materialised in {@link ModelCatalog#cacheDir()})
     * @param objective     XGBoost's objective: {@code reg:squarederror}, {@code binary:logistic} or {@code multi:softprob}
     * @param trees         how many trees
     * @param rows          how many rows {@link #inputs()} holds
     * @param features      values per row
     * @param answersPerRow XGBoost's answers per row: 1 (a prediction, or class 1's probability) or the class count
     * @param inputs        the rows, row-major, NaN where missing
     * @param expected      XGBoost's answers for them, row-major
     */
    public record Trained(String name, Path model, String objective, int trees, int rows, int features, int answersPerRow,
                          float[] inputs, float[] expected) {
    }

    /** Loads {@code name} (one of {@link #NAMES}). */
    public static Trained load(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("no XGBoost model " + name + "; there are " + NAMES);
        }
        Properties p = new Properties();
        try (InputStream in = open(name + ".properties")) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int rows = Integer.parseInt(p.getProperty("rows"));
        int features = Integer.parseInt(p.getProperty("features"));
        int answers = Integer.parseInt(p.getProperty("answers"));
        Path model = ModelCatalog.generated(name + ".onnx", bytes(name + ".onnx"));
        return new Trained(name, model, p.getProperty("objective"), Integer.parseInt(p.getProperty("trees")), rows, features, answers,
                floats(name + ".rows", (long) rows * features), floats(name + ".expected", (long) rows * answers));
    }

    private static float[] floats(String file, long count) {
        byte[] b = bytes(file);
        if (b.length != count * Float.BYTES) {
            throw new IllegalStateException(DIR + file + " holds " + b.length + " bytes, expected " + count * Float.BYTES);
        }
        float[] f = new float[(int) count];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static byte[] bytes(String file) {
        try (InputStream in = open(file)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream open(String file) {
        InputStream in = XgboostModels.class.getClassLoader().getResourceAsStream(DIR + file);
        if (in == null) {
            throw new IllegalStateException("resource " + DIR + file + " is not on the class path (hotpath-models' jar carries it)");
        }
        return in;
    }
}
