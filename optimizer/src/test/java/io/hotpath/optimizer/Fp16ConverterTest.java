package io.hotpath.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.Batch;
import io.hotpath.core.DType;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.onnx.OnnxBuilder;
import io.hotpath.models.SampleSentences;
import io.hotpath.onnx.WordPieceTokenizer;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Fp16ConverterTest {
    @TempDir
    Path tmp;

    private Path write(ModelProto m, String name) {
        Path f = tmp.resolve(name);
        OnnxModel.of(m).save(f);
        return f;
    }

    private static float[] runMlp(Path model, float[] x, int rows) {
        try (OrtCpuEngine e = OrtCpuEngine.open(model, CpuEngineOptions.builder().maxBatchSize(rows).build())) {
            Batch b = e.newBatch();
            Tensor in = b.input(0).reshape(rows, 64);
            for (int i = 0; i < x.length; i++) {
                in.putFloat(i, x[i]);
            }
            e.run(b);
            float[] out = new float[rows];
            for (int r = 0; r < rows; r++) {
                out[r] = b.output(0).getFloat(r);
            }
            return out;
        }
    }

    @Test
    void mlpInFloat16KeepsFloat32IoAndItsAnswers() {
        Path fp32 = ModelCatalog.resolve("mlp");
        Fp16Converter.Result r = Fp16Converter.convert(OnnxModel.load(fp32), Fp16Converter.Options.defaults());
        assertTrue(r.convertedInitializers() >= 6, "weights and biases converted: " + r.convertedInitializers());
        assertEquals(OnnxBuilder.FLOAT, r.model().getGraph().getInput(0).getType().getTensorType().getElemType(), "input stays float32");
        assertEquals(OnnxBuilder.FLOAT, r.model().getGraph().getOutput(0).getType().getTensorType().getElemType(), "output stays float32");
        Path fp16 = write(r.model(), "mlp-fp16.onnx");
        int rows = 8;
        float[] x = new float[rows * 64];
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] a = runMlp(fp32, x, rows);
        float[] b = runMlp(fp16, x, rows);
        double max = 0;
        for (int i = 0; i < rows; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        System.out.printf("mlp fp16: max abs diff of the sigmoid score %.2e, %d casts, auto-blocked %s%n", max, r.casts(), r.autoBlocked());
        assertTrue(max < 5e-3, "max abs diff " + max);
    }

    @Test
    void withoutKeptIoTheInputsAndOutputsBecomeFloat16() {
        Fp16Converter.Result r = Fp16Converter.convert(OnnxModel.load(ModelCatalog.resolve("mlp")),
                new Fp16Converter.Options(false, Fp16Converter.DEFAULT_BLOCKED));
        assertEquals(OnnxBuilder.FLOAT16, r.model().getGraph().getInput(0).getType().getTensorType().getElemType());
        assertEquals(OnnxBuilder.FLOAT16, r.model().getGraph().getOutput(0).getType().getTensorType().getElemType());
        try (OrtCpuEngine e = OrtCpuEngine.open(write(r.model(), "mlp-fp16-io.onnx"))) {
            assertEquals(DType.FLOAT16, e.inputs().get(0).dtype());
        }
    }

    @Test
    void initializersBeyondTheFloat16RangeAreClampedAndNamed() {
        ModelProto m = new OnnxBuilder("big", 17)
                .input("x", OnnxBuilder.FLOAT, "batch", 2)
                .initializer("huge", new float[] {1e6f, -2e5f}, 2)
                .initializer("small", new float[] {1f, 2f}, 2)
                .node("Mul", "x,huge", "y")
                .node("Add", "y,small", "z")
                .output("z", OnnxBuilder.FLOAT, "batch", 2)
                .build();
        Fp16Converter.Result r = Fp16Converter.convert(OnnxModel.of(m), Fp16Converter.Options.defaults());
        assertEquals(List.of("huge"), r.clamped());
        float[] v = new float[2];
        var raw = r.model().getGraph().getInitializer(0).getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        v[0] = Float.float16ToFloat(raw.getShort());
        v[1] = Float.float16ToFloat(raw.getShort());
        assertEquals(65504f, v[0]);
        assertEquals(-65504f, v[1]);
    }

    @Test
    void minilmInFloat16AgreesWithFloat32() {
        Path fp32 = ModelCatalog.resolve("minilm");
        Fp16Converter.Result r = Fp16Converter.convert(OnnxModel.load(fp32), Fp16Converter.Options.defaults());
        Path fp16 = write(r.model(), "minilm-fp16.onnx");
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        List<String> sentences = SampleSentences.WORKLOAD;
        int seq = 32;
        double sum = 0;
        double min = 1;
        float[][] ref = embed(fp32, tok, sentences, seq);
        float[][] got = embed(fp16, tok, sentences, seq);
        for (int s = 0; s < sentences.size(); s++) {
            double c = cosine(ref[s], got[s]);
            sum += c;
            min = Math.min(min, c);
        }
        double mean = sum / sentences.size();
        System.out.printf("minilm fp16: mean pooled cosine %.6f (min %.6f) over %d sentences; %d initializers converted, %d casts, "
                + "kept float32: %s, auto-blocked (no float16 kernel in ONNX Runtime CPU): %s%n", mean, min, sentences.size(),
                r.convertedInitializers(), r.casts(), r.blockedNodeTypes(), r.autoBlocked());
        assertTrue(mean >= 0.999, "mean cosine " + mean);
    }

    @Test
    void anAlreadyQuantizedModelKeepsItsQuantizationInFloat32AndStillAgrees() {
        // minilm-q (ONNX Runtime's dynamic quantization): DequantizeLinear's float scale must stay float32 at opset < 19
        Path q = ModelCatalog.resolve("minilm-q");
        Fp16Converter.Result r = Fp16Converter.convert(OnnxModel.load(q), Fp16Converter.Options.defaults());
        assertTrue(r.blockedNodeTypes().contains("DequantizeLinear"), "kept float32: " + r.blockedNodeTypes());
        Path fp16 = write(r.model(), "minilm-q-fp16.onnx");
        WordPieceTokenizer tok = ModelCatalog.minilmTokenizer();
        List<String> sentences = SampleSentences.WORKLOAD.subList(0, 8);
        float[][] ref = embed(q, tok, sentences, 32);
        float[][] got = embed(fp16, tok, sentences, 32);
        for (int s = 0; s < sentences.size(); s++) {
            assertTrue(cosine(ref[s], got[s]) >= 0.99, "sentence " + s + ": cosine " + cosine(ref[s], got[s]));
        }
        // without the block list entry, ONNX Runtime's type error names the operator and the conversion blocks it by itself
        java.util.Set<String> blocked = new java.util.HashSet<>(Fp16Converter.DEFAULT_BLOCKED);
        blocked.remove("DequantizeLinear");
        Fp16Converter.Result auto = Fp16Converter.convert(OnnxModel.load(q), new Fp16Converter.Options(true, blocked));
        assertTrue(auto.autoBlocked().contains("DequantizeLinear"), "auto-blocked: " + auto.autoBlocked());
    }

    @Test
    void aTensorASubgraphReadsFromOutsideStaysFloat32WithItsProducer() {
        // y = x * w is read by If's then-branch by name (no node input, so no Cast can go between); out = If(...) + b
        ModelProto base = new OnnxBuilder("if", 17)
                .input("x", OnnxBuilder.FLOAT, "batch", 4)
                .initializer("w", new float[] {1, 2, 3, 4}, 4)
                .initializer("b", new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 4)
                .rawInitializer("cond", 9, new byte[] {1})
                .node("Mul", "x,w", "y")
                .output("y", OnnxBuilder.FLOAT, "batch", 4)    // renamed to 'out' below, once the If and Add produce it
                .build();
        var floatType = io.hotpath.onnx.proto.Onnx.TypeProto.newBuilder()
                .setTensorType(io.hotpath.onnx.proto.Onnx.TypeProto.Tensor.newBuilder().setElemType(OnnxBuilder.FLOAT)).build();
        java.util.function.BiFunction<String, String, io.hotpath.onnx.proto.Onnx.GraphProto> branch = (read, name) ->
                io.hotpath.onnx.proto.Onnx.GraphProto.newBuilder().setName(name)
                        .addNode(io.hotpath.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("Identity").addInput(read).addOutput(name + "_out"))
                        .addOutput(io.hotpath.onnx.proto.Onnx.ValueInfoProto.newBuilder().setName(name + "_out").setType(floatType)).build();
        var attr = io.hotpath.onnx.proto.Onnx.AttributeProto.AttributeType.GRAPH;
        ModelProto m = base.toBuilder().setGraph(base.getGraph().toBuilder()
                .setOutput(0, base.getGraph().getOutput(0).toBuilder().setName("out"))
                .addNode(io.hotpath.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("If").setName("if").addInput("cond").addOutput("z")
                        .addAttribute(io.hotpath.onnx.proto.Onnx.AttributeProto.newBuilder().setName("then_branch").setType(attr)
                                .setG(branch.apply("y", "then")))
                        .addAttribute(io.hotpath.onnx.proto.Onnx.AttributeProto.newBuilder().setName("else_branch").setType(attr)
                                .setG(branch.apply("x", "else"))))
                .addNode(io.hotpath.onnx.proto.Onnx.NodeProto.newBuilder().setOpType("Add").setName("add").addInput("z").addInput("b").addOutput("out")))
                .build();
        Fp16Converter.Result r = Fp16Converter.convert(OnnxModel.of(m), Fp16Converter.Options.defaults());   // loads in ONNX Runtime, or throws
        assertTrue(r.blockedNodeTypes().contains("Mul"), "y's producer kept float32: " + r.blockedNodeTypes());
        assertTrue(r.casts() > 0, "the Add after the If still runs in float16");
        float[] x = {1, 1, 1, 1, -2, 0.25f, 3, 8};
        try (OrtCpuEngine e = OrtCpuEngine.open(write(r.model(), "if-fp16.onnx"), CpuEngineOptions.builder().maxBatchSize(2).build())) {
            Batch b = e.newBatch();
            Tensor in = b.input(0).reshape(2, 4);
            for (int i = 0; i < x.length; i++) {
                in.putFloat(i, x[i]);
            }
            e.run(b);
            float[] w = {1, 2, 3, 4};
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i] * w[i % 4] + 0.5f, b.output(0).getFloat(i), 1e-2, "element " + i);
            }
        }
    }

    /** Mean-pooled embeddings of each sentence (each run alone, padded to {@code seq}, mask-weighted). */
    private static float[][] embed(Path model, WordPieceTokenizer tok, List<String> sentences, int seq) {
        float[][] out = new float[sentences.size()][384];
        try (OrtCpuEngine e = OrtCpuEngine.open(model, CpuEngineOptions.builder().maxBatchSize(1).defaultMaxDimension(seq).build())) {
            Batch b = e.newBatch();
            for (int s = 0; s < sentences.size(); s++) {
                int[] ids = tok.encode(sentences.get(s), seq);
                Tensor in = b.input("input_ids").reshape(1, ids.length);
                Tensor mask = b.input("attention_mask").reshape(1, ids.length);
                Tensor types = b.input("token_type_ids").reshape(1, ids.length);
                for (int i = 0; i < ids.length; i++) {
                    in.putLong(i, ids[i]);
                    mask.putLong(i, 1);
                    types.putLong(i, 0);
                }
                e.run(b);
                Tensor h = b.output(0);
                for (int t = 0; t < ids.length; t++) {
                    for (int d = 0; d < 384; d++) {
                        out[s][d] += h.getAsFloat((long) t * 384 + d) / ids.length;
                    }
                }
            }
        }
        return out;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
