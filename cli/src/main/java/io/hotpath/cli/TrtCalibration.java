package io.hotpath.cli;

import io.hotpath.core.DType;
import io.hotpath.engine.tensorrt.CalibrationData;
import io.hotpath.nativebindings.trt.TrtBuilder;
import io.hotpath.nativebindings.trt.TrtPlan;
import io.hotpath.models.CalibrationSentences;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.WordPieceTokenizer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Calibration data for {@code hotpath bench --engine tensorrt --precision int8}: MiniLM-style
 * models (inputs input_ids, attention_mask, token_type_ids) get the 256 built-in calibration
 * sentences, tokenized and padded to {@code --seq}; other models get 256 random rows drawn like the
 * benchmark's inputs. Models with Q/DQ nodes need none.
 */
final class TrtCalibration {
    static final int SAMPLES = 256;

    private TrtCalibration() {
    }

    static CalibrationData forModel(String alias, Path file, int seq, long vocab, long seed) {
        TrtBuilder.ParsedModel parsed = TrtBuilder.inspect(file);
        if (parsed.explicitQuantization()) {
            return null;
        }
        List<String> names = parsed.inputs().stream().map(TrtBuilder.ParsedInput::name).toList();
        List<long[]> rows = new ArrayList<>();
        List<DType> types = new ArrayList<>();
        for (TrtBuilder.ParsedInput in : parsed.inputs()) {
            long[] d = in.dims();
            long[] row = new long[Math.max(0, d.length - 1)];
            for (int k = 1; k < d.length; k++) {
                row[k - 1] = d[k] < 0 ? seq : d[k];
            }
            rows.add(row);
            types.add(TrtPlan.dtype(in.trtType(), in.name()));
        }
        CalibrationData data = new CalibrationData(names, rows);
        if (names.contains("input_ids") && names.contains("attention_mask")) {
            WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
            for (String sentence : CalibrationSentences.all()) {
                int[] ids = tok.encode(sentence, seq);
                Map<String, byte[]> sample = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    String n = names.get(i);
                    boolean int32 = types.get(i) == DType.INT32;
                    MemorySegment s = MemorySegment.ofArray(new byte[seq * (int32 ? 4 : 8)]);
                    for (int c = 0; c < ids.length; c++) {
                        long v = n.equals("input_ids") ? ids[c] : n.equals("attention_mask") ? 1 : 0;
                        if (int32) {
                            s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, c, (int) v);
                        } else {
                            s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, c, v);
                        }
                    }
                    sample.put(n, s.toArray(ValueLayout.JAVA_BYTE));
                }
                data.add(sample);
            }
            return data;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int k = 0; k < SAMPLES; k++) {
            Map<String, byte[]> sample = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                long n = 1;
                for (long d : rows.get(i)) {
                    n *= d;
                }
                DType t = types.get(i);
                MemorySegment s = MemorySegment.ofArray(new byte[(int) (n * t.byteSize())]);
                for (long e = 0; e < n; e++) {
                    switch (t) {
                        case FLOAT32 -> s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e, (float) r.nextDouble(-1, 1));
                        case INT64 -> s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, e, r.nextLong(vocab));
                        case INT32 -> s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, e, (int) r.nextLong(vocab));
                        default -> throw new io.hotpath.core.HotpathException(io.hotpath.core.HotpathException.Category.UNSUPPORTED,
                                "random calibration rows for input '" + names.get(i) + "' of type " + t + " are not supported");
                    }
                }
                sample.put(names.get(i), s.toArray(ValueLayout.JAVA_BYTE));
            }
            data.add(sample);
        }
        return data;
    }
}
