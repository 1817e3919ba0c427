package io.hotpath.optimizer;

import com.google.protobuf.ByteString;
import io.hotpath.core.HotpathException;
import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Static INT8 quantization in Q/DQ format. For every quantizable node (by default MatMul, Gemm and
 * Conv whose weight is an initializer): its activation input goes through QuantizeLinear and
 * DequantizeLinear with a scale from the calibration statistics, and its weight is stored as int8
 * (symmetric; per output channel by default) behind a DequantizeLinear. Outputs stay float, so
 * ONNX Runtime fuses each quantized node into an integer kernel and TensorRT builds it as a
 * strongly typed INT8 layer. Activation-by-activation products (attention scores) stay float32.
 */
public final class QdqQuantizer {
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT8 = TensorProto.DataType.INT8_VALUE;
    static final int UINT8 = TensorProto.DataType.UINT8_VALUE;

    /** The operator types quantized by default. */
    public static final Set<String> DEFAULT_OP_TYPES = Set.of("MatMul", "Gemm", "Conv");

    /**
     * Quantization options.
     *
     * @param method                how an activation's range is chosen from its statistics
     * @param percentile            for PERCENTILE, the share of |x| kept, in percent (99.99)
     * @param perChannelWeights     one weight scale per output channel (true) or one per tensor
     * @param symmetricActivations  int8 activations with zero point 0 (true) or uint8 with a zero point (false, the x86 default)
     * @param opTypes               operator types to quantize
     * @param exclude               node names or regular expressions over node names left in float32
     * @param activationProducts    also quantize MatMuls of two activations
     * @param scheme                the weight range: 8-bit where the CPU has VNNI/AMX, 7-bit (reduce range) on AVX2-only CPUs
     */
    public record Options(CalibrationStats.Method method, double percentile, boolean perChannelWeights, boolean symmetricActivations,
            Set<String> opTypes, List<String> exclude, boolean activationProducts, CpuFeatures.Int8Scheme scheme) {
        /** With the INT8 scheme of this CPU ({@link CpuFeatures#int8Scheme()}). */
        public Options(CalibrationStats.Method method, double percentile, boolean perChannelWeights, boolean symmetricActivations,
                Set<String> opTypes, List<String> exclude, boolean activationProducts) {
            this(method, percentile, perChannelWeights, symmetricActivations, opTypes, exclude, activationProducts,
                    CpuFeatures.detect().int8Scheme());
        }

        /** Without quantizing activation-by-activation MatMuls. */
        public Options(CalibrationStats.Method method, double percentile, boolean perChannelWeights, boolean symmetricActivations,
                Set<String> opTypes, List<String> exclude) {
            this(method, percentile, perChannelWeights, symmetricActivations, opTypes, exclude, false);
        }

        public Options {
            if (percentile <= 0 || percentile > 100) {
                throw HotpathException.invalidArgument("percentile must be in (0, 100], was " + percentile);
            }
            opTypes = Set.copyOf(opTypes);
            exclude = List.copyOf(exclude);
            java.util.Objects.requireNonNull(scheme, "scheme");
        }

        public static Options defaults(CalibrationStats.Method method) {
            return new Options(method, 99.99, true, false, DEFAULT_OP_TYPES, List.of(), false);
        }

        /** The same options, also quantizing MatMuls of two activations (attention scores and their weighted sum). */
        public Options withActivationProducts(boolean on) {
            return new Options(method, percentile, perChannelWeights, symmetricActivations, opTypes, exclude, on, scheme);
        }

        /** The same options with weights stored per {@code s} (overriding this CPU's choice). */
        public Options withScheme(CpuFeatures.Int8Scheme s) {
            return new Options(method, percentile, perChannelWeights, symmetricActivations, opTypes, exclude, activationProducts, s);
        }

        boolean excluded(String nodeName) {
            for (String e : exclude) {
                if (e.equals(nodeName) || Pattern.matches(e, nodeName)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A node of a quantizable kind left in float32, and why. */
    public record KeptFloat(String node, String opType, String reason) {
        @Override
        public String toString() {
            return node + " (" + opType + "): " + reason;
        }
    }

    /** The quantized model, what was quantized, and the nodes of quantizable kinds that stayed float32 with the reason. */
    public record Result(ModelProto model, List<String> quantizedNodes, Set<String> activations, List<KeptFloat> keptFloat) {
    }

    /** Why {@code n} (of a kind this quantizer handles) is not quantized, or null when nothing stops it. */
    private static String whyFloat(NodeProto n, Map<String, TensorProto> inits, CalibrationStats stats, Options o) {
        boolean attention = n.getDomain().equals("com.microsoft") && n.getOpType().equals("Attention");
        if (!attention && (!n.getDomain().isEmpty() || !o.opTypes().contains(n.getOpType()))) {
            return null;        // not a kind this quantizer handles: not reported
        }
        if (attention && !o.opTypes().contains("MatMul")) {
            return null;
        }
        if (o.excluded(n.getName())) {
            return "excluded by the options";
        }
        if (n.getInputCount() < 2 || inits.containsKey(n.getInput(0))) {
            return "its first input is a constant";
        }
        TensorProto w = inits.get(n.getInput(1));
        if (w == null) {
            return n.getOpType().equals("MatMul") ? "both operands are activations (withActivationProducts quantizes those)"
                    : "its weight is computed, not an initializer";
        }
        if (w.getDataType() != FLOAT) {
            return "its weight is not float32 (element type " + w.getDataType() + ")";
        }
        if (attention) {
            if (o.symmetricActivations()) {
                return "ONNX Runtime's QAttention takes uint8 activations only (int8 symmetric activations were asked for)";
            }
            if (!fusedAttention(n, inits, o)) {
                return "scaled otherwise than 1/sqrt(head size), which QAttention cannot express";
            }
        } else if (!quantizable(n, inits, o)) {
            return "weight of rank " + w.getDimsCount() + " is not a " + (n.getOpType().equals("Conv") ? "convolution kernel" : "matrix");
        }
        if (!stats.tensors().containsKey(n.getInput(0))) {
            return "no calibration statistics for its input '" + n.getInput(0) + "'";
        }
        return null;
    }

    private QdqQuantizer() {
    }

    /** The activation tensors {@code model}'s quantizable nodes read: what calibration must observe. */
    public static Set<String> activationsToCalibrate(OnnxModel model, Options o) {
        Set<String> out = new LinkedHashSet<>();
        Map<String, TensorProto> inits = model.initializers();
        for (NodeProto n : model.graph().getNodeList()) {
            if (quantizable(n, inits, o) || fusedAttention(n, inits, o)) {
                out.add(n.getInput(0));
            } else if (activationProduct(n, inits, o)) {
                out.add(n.getInput(0));
                out.add(n.getInput(1));
            }
        }
        return out;
    }

    private static boolean quantizable(NodeProto n, Map<String, TensorProto> inits, Options o) {
        if (!n.getDomain().isEmpty() || !o.opTypes().contains(n.getOpType()) || o.excluded(n.getName()) || n.getInputCount() < 2) {
            return false;
        }
        TensorProto w = inits.get(n.getInput(1));
        return !inits.containsKey(n.getInput(0)) && w != null && w.getDataType() == FLOAT
                && (n.getOpType().equals("Conv") ? w.getDimsCount() >= 3 : w.getDimsCount() == 2);
    }

    /**
     * A {@code com.microsoft.Attention} (from {@link AttentionFusion}) with a float initializer
     * weight: it becomes {@code QAttention} (uint8 input, int8 weights), which ONNX Runtime's CPU
     * provider runs with asymmetric uint8 activations only.
     */
    private static boolean fusedAttention(NodeProto n, Map<String, TensorProto> inits, Options o) {
        if (!n.getDomain().equals("com.microsoft") || !n.getOpType().equals("Attention") || !o.opTypes().contains("MatMul")
                || o.excluded(n.getName()) || o.symmetricActivations() || n.getInputCount() < 3) {
            return false;
        }
        TensorProto w = inits.get(n.getInput(1));
        if (w == null || w.getDataType() != FLOAT || w.getDimsCount() != 2 || inits.containsKey(n.getInput(0))) {
            return false;
        }
        // QAttention has no scale attribute: only blocks scaled by the usual 1/sqrt(head size) convert
        long heads = 0;
        double scale = Double.NaN;
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("num_heads")) {
                heads = a.getI();
            } else if (a.getName().equals("scale")) {
                scale = a.getF();
            }
        }
        if (heads <= 0 || w.getDims(1) % (3 * heads) != 0) {
            return false;
        }
        double usual = 1 / Math.sqrt(w.getDims(1) / 3.0 / heads);
        return Double.isNaN(scale) || Math.abs(scale - usual) <= 1e-6 * usual;
    }

    private static boolean activationProduct(NodeProto n, Map<String, TensorProto> inits, Options o) {
        return o.activationProducts() && n.getDomain().isEmpty() && n.getOpType().equals("MatMul") && !o.excluded(n.getName())
                && n.getInputCount() == 2 && !inits.containsKey(n.getInput(0)) && !inits.containsKey(n.getInput(1));
    }

    /** Inserts Q/DQ pairs using {@code stats} (from {@link Calibrator#collect} over {@link #activationsToCalibrate}). */
    public static Result quantize(OnnxModel model, CalibrationStats stats, Options o) {
        if (model.opset() < 13) {
            throw HotpathException.invalidArgument("Q/DQ with per-channel weights needs opset 13 or later; the model has opset " + model.opset());
        }
        Map<String, TensorProto> inits = model.initializers();
        GraphProto g = model.graph();
        List<NodeProto> before = new ArrayList<>();
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> newInits = new ArrayList<>();
        Map<String, String> dqActivation = new HashMap<>();
        Map<String, String> quantizedActivation = new HashMap<>();
        Map<String, String> dqWeight = new HashMap<>();
        Set<String> removeInits = new LinkedHashSet<>();
        List<String> quantized = new ArrayList<>();
        List<KeptFloat> kept = new ArrayList<>();
        for (NodeProto n : model.topologicalOrder()) {
            if (activationProduct(n, inits, o) && stats.tensors().containsKey(n.getInput(0)) && stats.tensors().containsKey(n.getInput(1))) {
                NodeProto.Builder b = n.toBuilder();
                for (int k = 0; k < 2; k++) {
                    b.setInput(k, activation(n.getInput(k), stats, o, dqActivation, quantizedActivation, nodes, newInits));
                }
                nodes.add(b.build());
                quantized.add(n.getName());
                continue;
            }
            if (fusedAttention(n, inits, o) && stats.tensors().containsKey(n.getInput(0))) {
                nodes.add(qAttention(n, inits.get(n.getInput(1)), stats, o, dqActivation, quantizedActivation, nodes, newInits));
                removeInits.add(n.getInput(1));
                quantized.add(n.getName());
                continue;
            }
            if (!quantizable(n, inits, o) || !stats.tensors().containsKey(n.getInput(0))) {
                String why = whyFloat(n, inits, stats, o);
                if (why != null) {
                    kept.add(new KeptFloat(n.getName(), n.getOpType(), why));
                }
                nodes.add(n);
                continue;
            }
            String x = n.getInput(0);
            String xdq = activation(x, stats, o, dqActivation, quantizedActivation, nodes, newInits);
            String w = n.getInput(1);
            String wdq = dqWeight.get(w);
            if (wdq == null) {
                TensorProto wt = inits.get(w);
                int axis = weightAxis(n);
                wdq = w + "_DequantizeLinear_Output";
                quantizeWeight(wt, axis, o.perChannelWeights(), o.scheme().weightMax(), newInits);
                NodeProto.Builder dq = NodeProto.newBuilder().setOpType("DequantizeLinear").setName(w + "_DequantizeLinear")
                        .addInput(w + "_quantized").addInput(w + "_scale").addInput(w + "_zero_point").addOutput(wdq);
                if (o.perChannelWeights()) {
                    dq.addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(axis));
                }
                before.add(dq.build());
                dqWeight.put(w, wdq);
                removeInits.add(w);
            }
            nodes.add(n.toBuilder().setInput(0, xdq).setInput(1, wdq).build());
            quantized.add(n.getName());
        }
        // a weight still read by a node that was not quantized keeps its float initializer
        for (NodeProto n : nodes) {
            for (String in : n.getInputList()) {
                removeInits.remove(in);
            }
        }
        GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(before).addAllNode(nodes).clearInitializer().clearValueInfo();
        for (TensorProto t : g.getInitializerList()) {
            if (!removeInits.contains(t.getName())) {
                gb.addInitializer(t);
            }
        }
        gb.addAllInitializer(newInits);
        ModelProto.Builder mb = model.proto().toBuilder().setGraph(gb);
        ModelProto out = mb.build();
        OnnxModel sorted = OnnxModel.of(out);
        sorted.sortTopologically();
        TensorTypes.checkLoads(sorted.proto(), "INT8 Q/DQ quantization");
        return new Result(sorted.proto(), quantized, quantizedActivation.keySet(), kept);
    }

    /** The dequantized name of activation {@code x}, adding its shared QuantizeLinear/DequantizeLinear pair the first time. */
    private static String activation(String x, CalibrationStats stats, Options o, Map<String, String> dqActivation,
            Map<String, String> quantizedActivation, List<NodeProto> nodes, List<TensorProto> newInits) {
        String xdq = dqActivation.get(x);
        if (xdq != null) {
            return xdq;
        }
        String xq = quantized(x, stats, o, quantizedActivation, nodes, newInits);
        xdq = x + "_DequantizeLinear_Output";
        nodes.add(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(x + "_DequantizeLinear")
                .addInput(xq).addInput(x + "_scale").addInput(x + "_zero_point").addOutput(xdq).build());
        dqActivation.put(x, xdq);
        return xdq;
    }

    /** The quantized (integer) name of activation {@code x}, adding its shared QuantizeLinear the first time. */
    private static String quantized(String x, CalibrationStats stats, Options o, Map<String, String> quantizedActivation,
            List<NodeProto> nodes, List<TensorProto> newInits) {
        String xq = quantizedActivation.get(x);
        if (xq != null) {
            return xq;
        }
        xq = x + "_QuantizeLinear_Output";
        double thr = stats.threshold(x, o.method(), o.percentile());
        CalibrationStats.Tensor t = stats.tensors().get(x);
        float scale;
        int zp;
        if (o.symmetricActivations()) {
            scale = (float) Math.max(thr / 127.0, 1e-12);
            zp = 0;
        } else {
            // the observed range (always holding 0) clipped to the method's threshold on each side: a tensor that is
            // never negative (a ReLU output) gets zero point 0, which lets ONNX Runtime fold the ReLU into the quantization
            double lo = Math.max(-thr, Math.min(0, t.min()));
            double hi = Math.min(thr, Math.max(0, t.max()));
            scale = (float) Math.max((hi - lo) / 255.0, 1e-12);
            zp = (int) Math.max(0, Math.min(255, Math.round(-lo / scale)));
        }
        String s = x + "_scale";
        String z = x + "_zero_point";
        newInits.add(scalarFloat(s, scale));
        newInits.add(o.symmetricActivations() ? scalarInt8(z, (byte) zp) : scalarUint8(z, zp));
        nodes.add(NodeProto.newBuilder().setOpType("QuantizeLinear").setName(x + "_QuantizeLinear").addInput(x).addInput(s).addInput(z)
                .addOutput(xq).build());
        quantizedActivation.put(x, xq);
        return xq;
    }

    /**
     * Attention(X, W, b, mask) -> QAttention(Q(X), int8 W, b, X scale, W scales, mask, X zero point, W zero points):
     * the packed QKV projection runs as one integer GEMM (per-column weight scales unless per-tensor is asked for).
     */
    private static NodeProto qAttention(NodeProto n, TensorProto w, CalibrationStats stats, Options o, Map<String, String> dqActivation,
            Map<String, String> quantizedActivation, List<NodeProto> nodes, List<TensorProto> newInits) {
        String x = n.getInput(0);
        String xq = quantized(x, stats, o, quantizedActivation, nodes, newInits);
        quantizeWeight(w, 1, o.perChannelWeights(), o.scheme().weightMax(), newInits);
        NodeProto.Builder b = NodeProto.newBuilder().setOpType("QAttention").setDomain("com.microsoft").setName(n.getName() + "_quant")
                .addInput(xq).addInput(w.getName() + "_quantized").addInput(n.getInput(2)).addInput(x + "_scale").addInput(w.getName() + "_scale")
                .addInput(n.getInputCount() > 3 ? n.getInput(3) : "").addInput(x + "_zero_point").addInput(w.getName() + "_zero_point")
                .addAllOutput(n.getOutputList());
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("num_heads") || a.getName().equals("unidirectional")) {
                b.addAttribute(a);
            }
        }
        return b.build();
    }

    /** The weight axis that indexes output channels: MatMul [K,N] -> 1; Gemm -> 0 when transB else 1; Conv [M,C,...] -> 0. */
    static int weightAxis(NodeProto n) {
        if (n.getOpType().equals("Conv")) {
            return 0;
        }
        if (n.getOpType().equals("Gemm")) {
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getName().equals("transB") && a.getI() == 1) {
                    return 0;
                }
            }
        }
        return 1;
    }

    /** Symmetric int8 weights over [-qmax, qmax]: per channel along {@code axis} (or one scale), zero points 0. */
    static void quantizeWeight(TensorProto w, int axis, boolean perChannel, int qmax, List<TensorProto> out) {
        float[] v = Fp16Converter.floats(w);
        long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
        int channels = perChannel ? (int) dims[axis] : 1;
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        float[] amax = new float[channels];
        for (int i = 0; i < v.length; i++) {
            int c = perChannel ? (int) ((i / inner) % dims[axis]) : 0;
            amax[c] = Math.max(amax[c], Math.abs(v[i]));
        }
        float[] scale = new float[channels];
        for (int c = 0; c < channels; c++) {
            scale[c] = amax[c] == 0 ? 1f : amax[c] / qmax;
        }
        byte[] q = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            int c = perChannel ? (int) ((i / inner) % dims[axis]) : 0;
            q[i] = (byte) Math.max(-qmax, Math.min(qmax, Math.round(v[i] / scale[c])));
        }
        out.add(TensorProto.newBuilder().setName(w.getName() + "_quantized").setDataType(INT8).addAllDims(w.getDimsList())
                .setRawData(ByteString.copyFrom(q)).build());
        ByteBuffer s = ByteBuffer.allocate(channels * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : scale) {
            s.putFloat(f);
        }
        TensorProto.Builder sb = TensorProto.newBuilder().setName(w.getName() + "_scale").setDataType(FLOAT).setRawData(ByteString.copyFrom(s.array()));
        TensorProto.Builder zb = TensorProto.newBuilder().setName(w.getName() + "_zero_point").setDataType(INT8)
                .setRawData(ByteString.copyFrom(new byte[channels]));
        if (perChannel) {
            sb.addDims(channels);
            zb.addDims(channels);
        }
        out.add(sb.build());
        out.add(zb.build());
    }

    private static TensorProto scalarFloat(String name, float v) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v);
        return TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(b.array())).build();
    }

    private static TensorProto scalarInt8(String name, byte v) {
        return TensorProto.newBuilder().setName(name).setDataType(INT8).setRawData(ByteString.copyFrom(new byte[] {v})).build();
    }

    private static TensorProto scalarUint8(String name, int v) {
        return TensorProto.newBuilder().setName(name).setDataType(UINT8).setRawData(ByteString.copyFrom(new byte[] {(byte) v})).build();
    }
}
