package io.hotpath.cli;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The inputs {@code hotpath bench} feeds a model: {@code --input NAME=VALUE} (every element the
 * constant), {@code --input NAME=@FILE.npy} (values and shape from a NumPy file),
 * {@code --shape NAME=d0,d1,...}, and for every other input a default chosen from its name and
 * type: masks ones, token-type/segment/position ids zeros, recurrent state ({@code state},
 * {@code h0}, {@code c0}, {@code hidden}) zeros, an integer scalar sample rate ({@code sr},
 * {@code sample_rate}) 16000, other integer inputs ids below the vocabulary, floats uniform in
 * [-1, 1) (see {@link RandomInputs}).
 *
 * <p>Built in two steps: {@link #parse} reads the options and the files (before the engine is
 * opened, so the engine can be sized for their shapes: {@link #largestDimension}); {@link #bind}
 * checks them against the model's inputs. Every failure is a one-line usage error through {@link Checks}.
 */
final class BenchInputs {
    /** Sample rate fed to an integer scalar input named like one. */
    static final long SAMPLE_RATE = 16000;

    private record Given(String option, String value, Double number, Long integer, NpyFile npy) {
    }

    private final Map<String, Given> given;
    private final Map<String, long[]> shapes;
    private List<TensorSpec> inputs = List.of();
    /** Sizes of named dynamic dimensions fixed by a given shape, applied to the other inputs' dimensions of that name. */
    private final Map<String, Long> named = new HashMap<>();

    private BenchInputs(Map<String, Given> given, Map<String, long[]> shapes) {
        this.given = given;
        this.shapes = shapes;
    }

    /** No options given: every input gets its default. */
    static BenchInputs defaults() {
        return new BenchInputs(Map.of(), Map.of());
    }

    /** Whether any --input or --shape was given. */
    boolean any() {
        return !given.isEmpty() || !shapes.isEmpty();
    }

    /** Reads the --input and --shape values (null when absent) and the .npy files they name. */
    static BenchInputs parse(Checks c, List<String> inputOptions, List<String> shapeOptions) {
        Map<String, Given> given = new LinkedHashMap<>();
        for (String o : inputOptions == null ? List.<String>of() : inputOptions) {
            String[] nv = nameValue(c, "--input", o, "NAME=VALUE or NAME=@FILE.npy");
            if (given.containsKey(nv[0])) {
                throw c.fail("--input " + o + ": input '" + nv[0] + "' given twice");
            }
            String v = nv[1];
            if (v.startsWith("@")) {
                NpyFile npy;
                try {
                    npy = NpyFile.read(Path.of(v.substring(1)));
                } catch (IllegalArgumentException e) {   // InvalidPathException too
                    throw c.fail("--input " + o + ": " + e.getMessage());
                }
                long[] fs = npy.shape();
                for (int d = 1; d < fs.length; d++) {
                    if (fs[d] > Checks.MAX_SEQ) {
                        throw c.fail("--input " + o + ": the file's dimension " + d + " is " + fs[d] + "; dimensions after the batch are at most "
                                + Checks.MAX_SEQ);
                    }
                }
                given.put(nv[0], new Given("--input " + o, v, null, null, npy));
            } else {
                Double d = null;
                Long l = null;
                try {
                    d = Double.parseDouble(v.trim());
                } catch (NumberFormatException e) {
                    // not a number: an integer or a bool, or checked against the type in bind
                }
                try {
                    l = Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    // not an integer
                }
                given.put(nv[0], new Given("--input " + o, v, d, l, null));
            }
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String o : shapeOptions == null ? List.<String>of() : shapeOptions) {
            String[] nv = nameValue(c, "--shape", o, "NAME=d0,d1,... (NAME= for a scalar)");
            if (shapes.containsKey(nv[0])) {
                throw c.fail("--shape " + o + ": input '" + nv[0] + "' given twice");
            }
            long[] dims;
            try {
                dims = nv[1].isBlank() ? new long[0] : Arrays.stream(nv[1].split(",", -1)).mapToLong(s -> Long.parseLong(s.trim())).toArray();
            } catch (NumberFormatException e) {
                throw c.fail("--shape " + o + ": dimensions must be integers separated by commas");
            }
            for (int d = 0; d < dims.length; d++) {
                if (dims[d] < 1 || dims[d] > Checks.MAX_SEQ) {
                    throw c.fail("--shape " + o + ": dimension " + d + " is " + dims[d] + "; must be between 1 and " + Checks.MAX_SEQ);
                }
            }
            shapes.put(nv[0], dims);
        }
        return new BenchInputs(given, shapes);
    }

    private static String[] nameValue(Checks c, String option, String o, String form) {
        int eq = o.indexOf('=');
        if (eq <= 0) {
            throw c.fail(option + " '" + o + "': expected " + form);
        }
        return new String[] {o.substring(0, eq), o.substring(eq + 1)};
    }

    /** The largest dimension after the batch among the given shapes and files (0 when none): the engine's buffers must hold it. */
    long largestDimension() {
        long max = 0;
        for (long[] s : shapes.values()) {
            for (int d = 1; d < s.length; d++) {
                max = Math.max(max, s[d]);
            }
        }
        for (Given g : given.values()) {
            if (g.npy != null) {
                long[] s = g.npy.shape();
                for (int d = 1; d < s.length; d++) {
                    max = Math.max(max, s[d]);
                }
            }
        }
        return max;
    }

    /** The largest dimension 0 among the given .npy files (0 when none): the rows they hold. */
    long fileRows() {
        long max = 0;
        for (Given g : given.values()) {
            if (g.npy != null && g.npy.shape().length > 0) {
                max = Math.max(max, g.npy.shape()[0]);
            }
        }
        return max;
    }

    /**
     * Checks every given name, value and shape against the model's {@code inputs} for runs of
     * each of {@code batches} rows: known names, values that parse for the element type, files
     * whose type converts and whose shape fits the declared one (rank, fixed dimensions, and a
     * dynamic dimension 0 equal to the batch). {@code batches} null: the batcher path, where a
     * file must hold one row (it is every request's).
     */
    BenchInputs bind(Checks c, List<TensorSpec> modelInputs, int[] batches) {
        this.inputs = modelInputs;
        List<String> names = modelInputs.stream().map(TensorSpec::name).toList();
        Map<String, TensorSpec> byName = new LinkedHashMap<>();
        modelInputs.forEach(t -> byName.put(t.name(), t));
        for (String n : concat(given.keySet(), shapes.keySet())) {
            if (!byName.containsKey(n)) {
                throw c.fail((given.containsKey(n) ? given.get(n).option : "--shape " + n + "=...") + ": the model has no input '" + n
                        + "'; its inputs: " + String.join(", ", names));
            }
        }
        for (var e : given.entrySet()) {
            TensorSpec t = byName.get(e.getKey());
            Given g = e.getValue();
            if (g.npy == null) {
                constantCheck(c, t, g);
            } else {
                typeCheck(c, t, g);
                long[] fileShape = g.npy.shape();
                String why = "--input " + t.name() + "=" + g.value + ": the file's shape " + Shape.format(fileShape, fileShape.length);
                fits(c, t, fileShape, why, batches);
                long[] s = shapes.get(t.name());
                if (s != null && !Arrays.equals(s, fileShape)) {
                    throw c.fail(why + " differs from --shape " + t.name() + "=" + Shape.format(s, s.length).replaceAll("[\\[\\]]", ""));
                }
            }
        }
        for (var e : shapes.entrySet()) {
            TensorSpec t = byName.get(e.getKey());
            long[] s = e.getValue();
            fits(c, t, s, "--shape " + t.name() + ": shape " + Shape.format(s, s.length), batches);
        }
        named.clear();
        for (TensorSpec t : modelInputs) {
            long[] s = explicitShape(t.name());
            if (s != null) {
                for (int d = 1; d < s.length; d++) {
                    String dn = t.shape().dimName(d);
                    if (t.shape().isDynamic(d) && dn != null && !dn.isEmpty()) {
                        named.putIfAbsent(dn, s[d]);
                    }
                }
            }
        }
        return this;
    }

    private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** The shape given for input {@code name} (by --shape or its file), else null. */
    private long[] explicitShape(String name) {
        Given g = given.get(name);
        if (g != null && g.npy != null) {
            return g.npy.shape();
        }
        return shapes.get(name);
    }

    private static void fits(Checks c, TensorSpec t, long[] s, String what, int[] batches) {
        Shape declared = t.shape();
        String tail = " does not fit input '" + t.name() + "' declared " + declared;
        if (s.length != declared.rank()) {
            throw c.fail(what + tail + " (rank " + s.length + ", expected " + declared.rank() + ")");
        }
        for (int d = 0; d < s.length; d++) {
            if (!declared.isDynamic(d) && declared.dim(d) != s[d]) {
                throw c.fail(what + tail + " (dimension " + d + " is " + s[d] + ", expected " + declared.dim(d) + ")");
            }
        }
        if (s.length > 0 && declared.isDynamic(0) && batches == null && s[0] != 1) {
            throw c.fail(what + " has " + s[0] + " rows in dimension 0; the batcher path sends one row per request: give a file with one row");
        }
        if (s.length > 0 && declared.isDynamic(0) && batches != null) {
            for (int b : batches) {
                if (s[0] != b) {
                    throw c.fail(what + " has " + s[0] + " in dimension 0 (the batch), the run's batch is " + b
                            + " (--batch); they must agree");
                }
            }
        }
    }

    private static void constantCheck(Checks c, TensorSpec t, Given g) {
        String what = g.option + ": '" + g.value + "' is not ";
        switch (t.dtype()) {
            case STRING -> {
                // any text
            }
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> {
                if (g.number == null) {
                    throw c.fail(what + "a number (input '" + t.name() + "' is " + t.dtype() + ")");
                }
            }
            case BOOL -> {
                if (bool(g.value) == null) {
                    throw c.fail(what + "true, false, 0 or 1 (input '" + t.name() + "' is bool)");
                }
            }
            default -> {
                long[] r = range(t.dtype());
                if (g.integer == null || g.integer < r[0] || g.integer > r[1]) {
                    throw c.fail(what + "an integer between " + r[0] + " and " + r[1] + " (input '" + t.name() + "' is " + t.dtype() + ")");
                }
            }
        }
    }

    private static Boolean bool(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> null;
        };
    }

    private static long[] range(DType t) {
        return switch (t) {
            case INT64 -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
            case INT32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
            case INT16 -> new long[] {Short.MIN_VALUE, Short.MAX_VALUE};
            case INT8 -> new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE};
            case UINT64 -> new long[] {0, Long.MAX_VALUE};      // a constant is a long; a <u8 file goes up to 2^64-1
            case UINT32 -> new long[] {0, 0xFFFF_FFFFL};
            case UINT16 -> new long[] {0, 0xFFFF};
            case UINT8 -> new long[] {0, 255};
            default -> new long[] {0, 1};
        };
    }

    /** A file's element type against the input's: floats into float inputs (any float or integer file), integers into integer inputs (in range), booleans into bool inputs (or 0/1 integers). */
    private static void typeCheck(Checks c, TensorSpec t, Given g) {
        NpyFile f = g.npy;
        String what = "--input " + t.name() + "=" + g.value + ": descr '" + f.descr() + "' cannot feed input '" + t.name() + "' (" + t.dtype() + ")";
        switch (t.dtype()) {
            case STRING -> throw c.fail("--input " + t.name() + "=" + g.value + ": input '" + t.name() + "' is a string tensor; "
                    + "give it a constant text (--input " + t.name() + "=TEXT), not a .npy file");
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> {
                // any numeric file converts
            }
            case BOOL -> {
                if (f.isFloat()) {
                    throw c.fail(what + "; give a |b1 file");
                }
                for (long i = 0; i < f.count(); i++) {
                    long v = f.getLong(i);
                    if (v != 0 && v != 1) {
                        throw c.fail(what + ": element " + i + " is " + v + ", not 0 or 1");
                    }
                }
            }
            default -> {
                if (f.isFloat()) {
                    throw c.fail(what + "; give an integer file (<i8, <i4, <i2, |i1, <u8, <u4, <u2, |u1)");
                }
                long[] r = range(t.dtype());
                for (long i = 0; i < f.count(); i++) {
                    long v = f.getLong(i);
                    if (f.isAboveLongMax(i)) {
                        if (t.dtype() != DType.UINT64) {
                            throw c.fail(what + ": element " + i + " is " + Long.toUnsignedString(v) + ", outside " + r[0] + ".." + r[1]);
                        }
                    } else if (v < r[0] || v > r[1]) {
                        throw c.fail(what + ": element " + i + " is " + v + ", outside " + r[0] + ".." + r[1]);
                    }
                }
            }
        }
    }

    /**
     * The batcher path: each file's shape must be a request's, one row with its dynamic dimension
     * 1 = {@code length} (see {@link io.hotpath.service.Request#length(int)}).
     */
    void requestShapes(Checks c, int length) {
        for (TensorSpec t : inputs) {
            Given g = given.get(t.name());
            if (g == null || g.npy == null) {
                continue;
            }
            Shape declared = t.shape();
            long[] req = declared.toArray();
            if (req.length > 0) {
                req[0] = 1;
            }
            if (req.length > 1 && declared.isDynamic(1)) {
                req[1] = length;
            }
            long[] f = g.npy.shape();
            if (!Arrays.equals(req, f)) {
                throw c.fail("--input " + t.name() + "=" + g.value + ": the file's shape " + Shape.format(f, f.length) + " is not a request's "
                        + Shape.format(req, req.length) + " (the batcher path: one row, the dynamic dimension --seq)");
            }
        }
    }

    /** One line per input saying what it is fed, for the run's header. */
    List<String> describe(long vocab) {
        List<String> lines = new ArrayList<>();
        int w = inputs.stream().mapToInt(t -> t.name().length()).max().orElse(0);
        for (TensorSpec t : inputs) {
            String name = String.format(Locale.ROOT, "%-" + w + "s", t.name());
            Given g = given.get(t.name());
            String what;
            if (g != null && g.npy != null) {
                long[] s = g.npy.shape();
                what = "from " + g.npy.file() + " (" + g.npy.descr() + " " + Shape.format(s, s.length) + ")";
            } else if (g != null) {
                what = "constant " + g.value.trim() + " (--input)";
            } else {
                what = switch (kindOf(t)) {
                    case ONES -> (t.dtype() == DType.BOOL ? "true" : "ones") + " (" + (t.name().toLowerCase(Locale.ROOT).contains("mask")
                            ? "name suggests a mask" : "bool") + "; --input " + t.name() + "=... to override)";
                    case ZEROS_IDS -> "zeros (name suggests token types or positions; --input " + t.name() + "=... to override)";
                    case ZEROS_STATE -> "zeros (name suggests recurrent state; --input " + t.name() + "=... to override)";
                    case FED_BACK_STATE -> "recurrent state: zeros, then each run's output (see state below)";
                    case SAMPLE_RATE -> SAMPLE_RATE + " (name suggests a sample rate; --input " + t.name() + "=... to override)";
                    case IDS -> "random ids below " + vocab + " (--vocab; --input " + t.name() + "=... to override)";
                    case RANDOM -> "random " + (t.dtype() == DType.STRING ? "words" : isFloat(t.dtype()) ? "in [-1,1)" : "in [0,100)")
                            + " (--input " + t.name() + "=... to override)";
                };
            }
            long[] s = shapes.get(t.name());
            if (s != null && (g == null || g.npy == null)) {
                what += ", shape " + Shape.format(s, s.length) + " (--shape)";
            }
            lines.add("  input   " + name + ": " + what);
        }
        return lines;
    }

    private enum Kind { ONES, ZEROS_IDS, ZEROS_STATE, FED_BACK_STATE, SAMPLE_RATE, IDS, RANDOM }

    /** Inputs a StateLoop feeds from the model's own outputs: zeros at the start. */
    private final java.util.Set<String> stateInputs = new java.util.HashSet<>();

    /** Marks {@code names} as recurrent state fed back from outputs (zeros at the start). */
    void stateInputs(java.util.Collection<String> names) {
        stateInputs.clear();
        stateInputs.addAll(names);
    }

    private Kind kindOf(TensorSpec t) {
        return stateInputs.contains(t.name()) ? Kind.FED_BACK_STATE : defaultKind(t);
    }

    private static boolean isFloat(DType t) {
        return t.isFloatingPoint();
    }

    private static Kind defaultKind(TensorSpec t) {
        String n = t.name().toLowerCase(Locale.ROOT);
        if (t.dtype() == DType.STRING) {
            return Kind.RANDOM;
        }
        boolean integer = t.dtype() == DType.INT64 || t.dtype() == DType.INT32;
        if (n.contains("mask") || t.dtype() == DType.BOOL) {
            return Kind.ONES;
        }
        if (integer && (n.contains("type") || n.contains("segment") || n.contains("position"))) {
            return Kind.ZEROS_IDS;
        }
        if (n.contains("state") || n.contains("h0") || n.contains("c0") || n.contains("hidden")) {
            return Kind.ZEROS_STATE;
        }
        if (t.shape().rank() == 0 && !isFloat(t.dtype()) && t.dtype() != DType.BOOL && (n.contains("sr") || n.contains("sample_rate"))) {
            return Kind.SAMPLE_RATE;
        }
        if (integer) {
            return Kind.IDS;
        }
        return Kind.RANDOM;
    }

    /**
     * Shapes and fills every input of {@code batch} for runs of {@code rows} rows: a given shape
     * or file's shape, else dynamic dimension 0 = rows, a dynamic dimension named like one a given
     * shape fixed = that size, other dynamic dimensions = seq. Random values come from {@code seed}.
     */
    void fill(Batch batch, int rows, int seq, long vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        // a dynamic dimension named like another input's batch dimension (Silero's h [2,batch,64]) is the batch too
        java.util.Map<String, Long> sizes = new java.util.HashMap<>();
        for (int i = 0; i < batch.inputCount(); i++) {
            Shape s = batch.input(i).spec().shape();
            if (s.rank() > 0 && s.isDynamic(0) && s.dimName(0) != null) {
                sizes.put(s.dimName(0), (long) rows);
            }
        }
        sizes.putAll(named);
        for (int i = 0; i < batch.inputCount(); i++) {
            Tensor t = batch.input(i);
            Shape s = t.spec().shape();
            long[] dims = explicitShape(t.name());
            if (dims == null) {
                dims = new long[s.rank()];
                for (int d = 0; d < dims.length; d++) {
                    dims[d] = !s.isDynamic(d) ? s.dim(d) : d == 0 ? rows : sizes.getOrDefault(s.dimName(d) == null ? "" : s.dimName(d), (long) seq);
                }
                if (s.rank() > 0 && !s.isDynamic(0) && rows != s.dim(0) && !batchElsewhere(s, sizes)) {
                    throw HotpathException.invalidArgument("input '" + t.name() + "' has a fixed batch of " + s.dim(0) + "; --batch " + rows + " cannot apply");
                }
            }
            t.reshape(dims);
            fill(t, r, vocab);
        }
    }

    /** Whether a later dimension of {@code s} is named like another input's batch dimension (so dimension 0 is not the batch). */
    private boolean batchElsewhere(Shape s, java.util.Map<String, Long> sizes) {
        for (int d = 1; d < s.rank(); d++) {
            if (s.isDynamic(d) && s.dimName(d) != null && sizes.containsKey(s.dimName(d)) && !named.containsKey(s.dimName(d))) {
                return true;
            }
        }
        return false;
    }

    /** Fills {@code t} in its current shape: its given constant or file, else its default. */
    void fill(Tensor t, SplittableRandom r, long vocab) {
        Given g = given.get(t.name());
        long n = t.elementCount();
        if (g != null && g.npy != null) {
            NpyFile f = g.npy;
            boolean halfBits = t.dtype() == DType.FLOAT16 && f.descr().equals("<f2");
            for (long k = 0; k < n; k++) {
                if (halfBits) {
                    t.putShort(k, f.getHalfBits(k));
                } else if (t.dtype().isFloatingPoint()) {
                    t.putAsDouble(k, f.getDouble(k));
                } else {
                    t.putAsLong(k, f.getLong(k));      // in range: typeCheck checked every element
                }
            }
            return;
        }
        if (g != null && t.dtype() == DType.STRING) {
            t.clearStrings();
            for (long k = 0; k < n; k++) {
                t.putString(k, g.value);
            }
            return;
        }
        if (g != null) {
            constant(t, n, switch (t.dtype()) {
                case FLOAT32, FLOAT64, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> g.number;
                case BOOL -> bool(g.value) ? 1L : 0L;
                default -> g.integer;
            });
            return;
        }
        switch (kindOf(t.spec())) {
            case ONES -> constant(t, n, 1L);
            case ZEROS_IDS, ZEROS_STATE, FED_BACK_STATE -> constant(t, n, 0L);
            case SAMPLE_RATE -> constant(t, n, SAMPLE_RATE);
            case IDS, RANDOM -> RandomInputs.fill(t, r, vocab);
        }
    }

    private static void constant(Tensor t, long n, Number v) {
        boolean floating = t.dtype().isFloatingPoint();
        for (long k = 0; k < n; k++) {
            if (floating) {
                t.putAsDouble(k, v.doubleValue());
            } else {
                t.putAsLong(k, v.longValue());
            }
        }
    }
}
