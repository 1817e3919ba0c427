package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Representative inputs for INT8 calibration: samples of one row each, every sample holding the
 * bytes of each named input (row-major, the input's dtype), all samples of one input the same
 * size. {@link #batches(int)} groups them into calibration batches: whole batches only (the
 * calibrator's batch size is fixed by the calibration profile), the remainder dropped, and at
 * least one full batch required.
 */
public final class CalibrationData {
    private final List<String> names;
    private final List<long[]> rowShapes;
    private final List<Map<String, byte[]>> samples = new ArrayList<>();

    /**
     * @param names     the inputs, in the model's order
     * @param rowShapes each input's shape without the batch dimension (for example {@code [128]} for token ids)
     */
    public CalibrationData(List<String> names, List<long[]> rowShapes) {
        if (names.isEmpty() || names.size() != rowShapes.size()) {
            throw HotpathException.invalidArgument("calibration data needs one row shape per input name");
        }
        this.names = List.copyOf(names);
        this.rowShapes = rowShapes.stream().map(long[]::clone).toList();
    }

    /** Adds one sample; each input's bytes must match the sizes of the first sample. */
    public CalibrationData add(Map<String, byte[]> sample) {
        for (String n : names) {
            byte[] b = sample.get(n);
            if (b == null) {
                throw HotpathException.invalidArgument("calibration sample " + samples.size() + " lacks input '" + n + "'");
            }
            if (!samples.isEmpty() && samples.get(0).get(n).length != b.length) {
                throw HotpathException.invalidArgument("calibration sample " + samples.size() + ": input '" + n + "' has " + b.length
                        + " bytes, the first sample had " + samples.get(0).get(n).length);
            }
        }
        Map<String, byte[]> copy = new LinkedHashMap<>();
        for (String n : names) {
            copy.put(n, sample.get(n).clone());
        }
        samples.add(copy);
        return this;
    }

    /** Adds a sample of int64 rows, one {@code long[]} per input (token ids, masks). */
    public CalibrationData addLongs(Map<String, long[]> sample) {
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        for (var e : sample.entrySet()) {
            MemorySegment s = MemorySegment.ofArray(new byte[e.getValue().length * 8]);
            for (int i = 0; i < e.getValue().length; i++) {
                s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, e.getValue()[i]);
            }
            bytes.put(e.getKey(), s.toArray(ValueLayout.JAVA_BYTE));
        }
        return add(bytes);
    }

    public int size() {
        return samples.size();
    }

    public List<String> names() {
        return names;
    }

    /** Row shape of input {@code i} (without the batch). */
    public long[] rowShape(int i) {
        return rowShapes.get(i).clone();
    }

    /** Bytes of one row of input {@code name}. */
    public int rowBytes(String name) {
        if (samples.isEmpty()) {
            throw HotpathException.invalidArgument("no calibration samples");
        }
        return samples.get(0).get(name).length;
    }

    /** How many whole batches of {@code batchSize} the samples make; INVALID_ARGUMENT when not even one. */
    public int batches(int batchSize) {
        if (batchSize < 1) {
            throw HotpathException.invalidArgument("calibration batch size must be >= 1, was " + batchSize);
        }
        int n = samples.size() / batchSize;
        if (n == 0) {
            throw HotpathException.invalidArgument(samples.size() + " calibration samples make no batch of " + batchSize
                    + "; give at least " + batchSize + " (a few hundred is typical)");
        }
        return n;
    }

    /** Copies batch {@code k}'s rows of {@code name} into {@code dst}, row after row. */
    public void fill(int k, int batchSize, String name, MemorySegment dst) {
        int rb = rowBytes(name);
        for (int r = 0; r < batchSize; r++) {
            byte[] row = samples.get(k * batchSize + r).get(name);
            MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_BYTE, (long) r * rb, rb);
        }
    }

    /** A short identity of the data for the plan-cache key: count, shapes and a hash of all bytes. */
    public String fingerprint() {
        try {
            var sha = java.security.MessageDigest.getInstance("SHA-256");
            for (var s : samples) {
                for (String n : names) {
                    sha.update(s.get(n));
                }
            }
            StringBuilder shapes = new StringBuilder();
            for (int i = 0; i < names.size(); i++) {
                shapes.append(names.get(i)).append(Arrays.toString(rowShapes.get(i)));
            }
            return samples.size() + " samples " + shapes + " sha256=" + java.util.HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
