package io.hotpath.engine.tensorrt;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.WordPieceTokenizer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Reference inputs and ONNX Runtime CPU outputs for the GPU tests. On a machine with ONNX Runtime
 * they are computed directly; for a GPU machine without it, {@link #main} saves them to a
 * directory that travels with the test bundle and {@code -Dhotpath.gpu.references=DIR} points at.
 * The file holds each tensor as: name (UTF), dtype name (UTF), rank, dims, byte count, bytes.
 */
final class GpuReferences {
    static final List<String> SENTENCES = io.hotpath.models.SampleSentences.WORKLOAD;

    /** A tensor's dtype, dims and bytes. */
    record Data(DType dtype, long[] dims, byte[] bytes) {
        float getFloat(long i) {
            return MemorySegment.ofArray(bytes).get(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4);
        }

        long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /** Inputs and expected outputs of one case. */
    record Case(String model, Map<String, Data> inputs, Map<String, Data> outputs) {
    }

    private GpuReferences() {
    }

    static Case load(String name) {
        String dir = System.getProperty("hotpath.gpu.references");
        if (dir != null) {
            Path f = Path.of(dir, name + ".ref");
            if (Files.isRegularFile(f)) {
                try {
                    return read(f);
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read " + f, e);
                }
            }
        }
        return compute(name);
    }

    static Case compute(String name) {
        return switch (name) {
            case "mlp-b8" -> run("mlp", mlpInputs(8, 7));
            case "minilm-b8-s128" -> run("minilm", minilmInputs(SENTENCES, 128));
            default -> throw new IllegalArgumentException(name);
        };
    }

    static Map<String, Data> mlpInputs(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment s = MemorySegment.ofArray(new byte[rows * 64 * 4]);
        for (int i = 0; i < rows * 64; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) r.nextDouble(-1, 1));
        }
        return Map.of("features", new Data(DType.FLOAT32, new long[] {rows, 64}, s.toArray(ValueLayout.JAVA_BYTE)));
    }

    static Map<String, Data> minilmInputs(List<String> sentences, int seq) {
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        int rows = sentences.size();
        MemorySegment ids = MemorySegment.ofArray(new byte[rows * seq * 8]);
        MemorySegment mask = MemorySegment.ofArray(new byte[rows * seq * 8]);
        for (int r = 0; r < rows; r++) {
            int[] t = tok.encode(sentences.get(r), seq);
            for (int c = 0; c < t.length; c++) {
                ids.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, (long) r * seq + c, t[c]);
                mask.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, (long) r * seq + c, 1);
            }
        }
        Map<String, Data> m = new LinkedHashMap<>();
        long[] dims = {rows, seq};
        m.put("input_ids", new Data(DType.INT64, dims, ids.toArray(ValueLayout.JAVA_BYTE)));
        m.put("attention_mask", new Data(DType.INT64, dims, mask.toArray(ValueLayout.JAVA_BYTE)));
        m.put("token_type_ids", new Data(DType.INT64, dims, new byte[rows * seq * 8]));
        return m;
    }

    private static Case run(String model, Map<String, Data> inputs) {
        long rows = inputs.values().iterator().next().dims()[0];
        long seq = inputs.values().iterator().next().dims().length > 1 ? inputs.values().iterator().next().dims()[1] : 1;
        try (OrtCpuEngine e = OrtCpuEngine.open(ModelCatalog.resolve(model),
                CpuEngineOptions.builder().maxBatchSize((int) rows).defaultMaxDimension(seq).build())) {
            Batch b = e.newBatch();
            copyIn(b, inputs);
            e.run(b);
            Map<String, Data> out = new LinkedHashMap<>();
            for (int i = 0; i < b.outputCount(); i++) {
                Tensor t = b.output(i);
                out.put(t.name(), new Data(t.dtype(), t.shape(), t.data().asSlice(0, t.byteSize()).toArray(ValueLayout.JAVA_BYTE)));
            }
            return new Case(model, inputs, out);
        }
    }

    /** Reshapes the batch's inputs and copies the case's bytes into them. */
    static void copyIn(Batch b, Map<String, Data> inputs) {
        for (var e : inputs.entrySet()) {
            Tensor t = b.input(e.getKey()).reshape(e.getValue().dims());
            MemorySegment src = MemorySegment.ofArray(e.getValue().bytes());
            if (t.dtype() == e.getValue().dtype()) {
                MemorySegment.copy(src, 0, t.data(), 0, e.getValue().bytes().length);
            } else if (t.dtype() == DType.INT32 && e.getValue().dtype() == DType.INT64) {
                for (long i = 0; i < e.getValue().elements(); i++) {
                    t.putInt(i, (int) src.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i));
                }
            } else {
                throw new IllegalStateException("input " + e.getKey() + " is " + t.dtype() + ", reference is " + e.getValue().dtype());
            }
        }
    }

    static void write(Path f, Case c) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(f))) {
            out.writeUTF(c.model());
            for (Map<String, Data> m : List.of(c.inputs(), c.outputs())) {
                out.writeInt(m.size());
                for (var e : m.entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeUTF(e.getValue().dtype().name());
                    out.writeInt(e.getValue().dims().length);
                    for (long d : e.getValue().dims()) {
                        out.writeLong(d);
                    }
                    out.writeInt(e.getValue().bytes().length);
                    out.write(e.getValue().bytes());
                }
            }
        }
    }

    static Case read(Path f) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(f))) {
            String model = in.readUTF();
            List<Map<String, Data>> maps = new java.util.ArrayList<>();
            for (int k = 0; k < 2; k++) {
                Map<String, Data> m = new LinkedHashMap<>();
                int n = in.readInt();
                for (int i = 0; i < n; i++) {
                    String name = in.readUTF();
                    DType t = DType.valueOf(in.readUTF());
                    long[] dims = new long[in.readInt()];
                    for (int d = 0; d < dims.length; d++) {
                        dims[d] = in.readLong();
                    }
                    byte[] bytes = new byte[in.readInt()];
                    in.readFully(bytes);
                    m.put(name, new Data(t, dims, bytes));
                }
                maps.add(m);
            }
            return new Case(model, maps.get(0), maps.get(1));
        }
    }

    /** Saves every case to {@code args[0]}: run on a machine with ONNX Runtime before a GPU run. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (String name : List.of("mlp-b8", "minilm-b8-s128")) {
            write(dir.resolve(name + ".ref"), compute(name));
            System.out.println("wrote " + dir.resolve(name + ".ref"));
        }
    }
}
