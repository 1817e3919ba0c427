package io.hotpath.optimizer;

import com.google.protobuf.ByteString;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts a float32 model to float16: weights and activations in FP16, with the model's inputs and
 * outputs kept float32 by default ({@link Options#keepIoFloat32}), and a block list of operators
 * kept in float32 ({@link #DEFAULT_BLOCKED}, extendable). A {@code Cast} goes on every edge that
 * crosses between the two precisions. Float32 initializers outside the float16 range are clamped
 * to ±65504 and named in {@link Result#clamped()}. The converted model must load in ONNX Runtime:
 * an operator its CPU provider has no float16 kernel for is added to the block list and the
 * conversion redone ({@link Result#autoBlocked()} names them), so the result always runs there.
 */
public final class Fp16Converter {
    private static final System.Logger LOG = System.getLogger("io.hotpath.optimizer");
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
    static final float FP16_MAX = 65504f;

    /**
     * Operators kept in float32 unless the user says otherwise: reductions, powers, roots,
     * exponentials and logarithms (the numerically sensitive parts of normalization and
     * activations: a float16 sum of squares overflows at 256), random and shape-generating
     * operators whose float inputs are not activations, control flow (subgraphs are not
     * converted), and the quantization operators of an already quantized model (their float
     * scales must stay float32 before opset 19, and halving them gains nothing).
     */
    public static final Set<String> DEFAULT_BLOCKED = Set.of(
            "Pow", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp", "Sqrt", "Reciprocal", "Exp", "Log",
            "Softplus", "LayerNormalization", "SimplifiedLayerNormalization",
            "Resize", "Upsample", "Range", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "EyeLike",
            "NonMaxSuppression", "TopK", "RoiAlign", "Loop", "If", "Scan",
            "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear");

    /** Conversion options. */
    public record Options(boolean keepIoFloat32, Set<String> blocked) {
        public Options {
            blocked = Set.copyOf(blocked);
        }

        /** Inputs and outputs stay float32; the default block list. */
        public static Options defaults() {
            return new Options(true, DEFAULT_BLOCKED);
        }

        /** The default block list plus {@code more} operator types. */
        public Options blockAlso(Set<String> more) {
            Set<String> all = new TreeSet<>(blocked);
            all.addAll(more);
            return new Options(keepIoFloat32, all);
        }
    }

    /** The converted model and what the conversion did. */
    public record Result(ModelProto model, int convertedInitializers, int casts, List<String> clamped, Set<String> autoBlocked,
            Set<String> blockedNodeTypes) {
    }

    /**
     * ONNX Runtime's refusals that name the operator: no float16 kernel on this provider, or a
     * type constraint of the operator (at the model's opset) that float16 does not meet.
     */
    private static final Pattern NO_KERNEL = Pattern.compile("Could not find an implementation for (\\w+)\\(|Type 'tensor\\(float16\\)' of "
            + "(?:input|output) parameter \\([^)]*\\) of operator \\((\\w+)\\)");

    private Fp16Converter() {
    }

    /** Converts {@code model} (not modified) with {@code options}. */
    public static Result convert(OnnxModel model, Options options) {
        Map<String, Integer> types = TensorTypes.of(model);
        Set<String> auto = new TreeSet<>();
        Options current = options;
        for (int attempt = 0; attempt < 16; attempt++) {
            Result r = convertOnce(model, current, types);
            try {
                TensorTypes.checkLoads(r.model(), "float16 conversion");
                return new Result(r.model(), r.convertedInitializers(), r.casts(), r.clamped(), auto, r.blockedNodeTypes());
            } catch (HotpathException e) {
                Matcher m = NO_KERNEL.matcher(String.valueOf(e.getMessage()));
                String op = m.find() ? (m.group(1) != null ? m.group(1) : m.group(2)) : null;
                if (op == null || current.blocked().contains(op)) {
                    throw e;
                }
                LOG.log(System.Logger.Level.INFO, "ONNX Runtime refuses float16 for " + op + " (no kernel on this provider, or a type constraint at this opset); keeping it in float32");
                auto.add(op);
                current = current.blockAlso(Set.of(op));
            }
        }
        throw new HotpathException(Category.INTERNAL, "float16 conversion did not converge after blocking " + auto);
    }

    private static Result convertOnce(OnnxModel model, Options o, Map<String, Integer> types) {
        GraphProto g = model.graph();
        Set<String> inputNames = new LinkedHashSet<>();
        g.getInputList().forEach(v -> inputNames.add(v.getName()));
        Set<String> outputNames = new LinkedHashSet<>();
        g.getOutputList().forEach(v -> outputNames.add(v.getName()));
        Map<String, TensorProto> inits = model.initializers();

        // Which float32 tensors become float16: outputs of converted nodes, initializers converted nodes read,
        // and (when the I/O is not kept) the graph's float inputs.
        Set<String> half = new LinkedHashSet<>();
        List<NodeProto> nodes = model.topologicalOrder();
        Set<String> blockedTypes = new TreeSet<>();
        boolean[] blocked = new boolean[nodes.size()];
        // a subgraph (If, Loop, Scan) reads outer tensors by name, not through node inputs, so no Cast can go
        // between: those tensors stay float32, and so do the nodes that produce them
        Set<String> outer = new LinkedHashSet<>();
        nodes.forEach(n -> subgraphReads(n, outer));
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            blocked[i] = isBlocked(n, o) || n.getOutputList().stream().anyMatch(outer::contains);
            if (blocked[i]) {
                blockedTypes.add(n.getOpType());
            }
        }
        if (!o.keepIoFloat32()) {
            for (String in : inputNames) {
                if (isFloat(types, in) && !inits.containsKey(in) && !outer.contains(in)) {
                    half.add(in);
                }
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (blocked[i]) {
                continue;
            }
            for (String in : nodes.get(i).getInputList()) {
                if (inits.containsKey(in) && isFloat(types, in) && !outer.contains(in)) {
                    half.add(in);
                }
            }
            for (String out : nodes.get(i).getOutputList()) {
                if (!out.isEmpty() && isFloat(types, out)) {
                    half.add(out);
                }
            }
        }

        List<NodeProto> newNodes = new ArrayList<>();
        Map<String, String> toHalf = new HashMap<>();    // float32 tensor -> its float16 cast
        Map<String, String> toFloat = new HashMap<>();   // float16 tensor -> its float32 cast
        int[] casts = {0};
        // a graph output produced in float16 but kept float32: the producer writes <name>__fp16, a Cast writes <name>
        Map<String, String> renamedOutputs = new HashMap<>();
        if (o.keepIoFloat32()) {
            for (String out : outputNames) {
                if (half.contains(out)) {
                    renamedOutputs.put(out, out + "__fp16");
                }
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            NodeProto.Builder b = n.toBuilder();
            for (int k = 0; k < n.getInputCount(); k++) {
                String in = n.getInput(k);
                if (in.isEmpty() || !isFloat(types, in)) {
                    continue;
                }
                String src = renamedOutputs.getOrDefault(in, in);
                boolean isHalf = half.contains(in);
                if (!blocked[i] && !isHalf) {
                    b.setInput(k, toHalf.computeIfAbsent(src, t -> cast(newNodes, t, t + "__to_fp16", FLOAT16, casts)));
                } else if (blocked[i] && isHalf) {
                    b.setInput(k, toFloat.computeIfAbsent(src, t -> cast(newNodes, t, t + "__to_fp32", FLOAT, casts)));
                } else {
                    b.setInput(k, src);
                }
            }
            for (int k = 0; k < n.getOutputCount(); k++) {
                String r = renamedOutputs.get(n.getOutput(k));
                if (r != null) {
                    b.setOutput(k, r);
                }
            }
            if (!blocked[i]) {
                retypeAttributes(b);
            }
            newNodes.add(b.build());
        }
        for (var e : renamedOutputs.entrySet()) {
            newNodes.add(NodeProto.newBuilder().setOpType("Cast").setName(e.getKey() + "__cast_out").addInput(e.getValue())
                    .addOutput(e.getKey()).addAttribute(intAttr("to", FLOAT)).build());
            casts[0]++;
        }

        GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(newNodes).clearValueInfo();
        List<String> clamped = new ArrayList<>();
        int converted = 0;
        for (int i = 0; i < gb.getInitializerCount(); i++) {
            TensorProto t = gb.getInitializer(i);
            if (half.contains(t.getName()) && t.getDataType() == FLOAT) {
                gb.setInitializer(i, toFloat16(t, clamped));
                converted++;
            }
        }
        if (!o.keepIoFloat32()) {
            for (int i = 0; i < gb.getInputCount(); i++) {
                if (half.contains(gb.getInput(i).getName())) {
                    gb.setInput(i, retype(gb.getInput(i)));
                }
            }
            for (int i = 0; i < gb.getOutputCount(); i++) {
                if (half.contains(gb.getOutput(i).getName())) {
                    gb.setOutput(i, retype(gb.getOutput(i)));
                }
            }
        }
        if (!clamped.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "float16 conversion clamped initializers outside ±65504: " + clamped);
        }
        ModelProto out = model.proto().toBuilder().setGraph(gb).build();
        return new Result(out, converted, casts[0], clamped, Set.of(), blockedTypes);
    }

    /** The tensors {@code n}'s subgraphs read from outside themselves (at any depth), added to {@code out}. */
    static void subgraphReads(NodeProto n, Set<String> out) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.hasG()) {
                outerReads(a.getG(), out);
            }
            a.getGraphsList().forEach(g -> outerReads(g, out));
        }
    }

    private static void outerReads(GraphProto g, Set<String> out) {
        Set<String> local = new java.util.HashSet<>();
        g.getInputList().forEach(v -> local.add(v.getName()));
        g.getInitializerList().forEach(t -> local.add(t.getName()));
        g.getNodeList().forEach(n -> local.addAll(n.getOutputList()));
        Set<String> reads = new LinkedHashSet<>();
        for (NodeProto n : g.getNodeList()) {
            reads.addAll(n.getInputList());
            subgraphReads(n, reads);
        }
        g.getOutputList().forEach(v -> reads.add(v.getName()));
        for (String r : reads) {
            if (!r.isEmpty() && !local.contains(r)) {
                out.add(r);
            }
        }
    }

    private static boolean isBlocked(NodeProto n, Options o) {
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
            return true;    // custom and contrib operators keep their declared types
        }
        if (o.blocked().contains(n.getOpType())) {
            return true;
        }
        if (n.getOpType().equals("Constant")) {
            for (AttributeProto a : n.getAttributeList()) {
                if (!a.getName().equals("value")) {
                    return true;   // value_float(s) and friends: leave them as they are
                }
            }
        }
        return false;
    }

    private static boolean isFloat(Map<String, Integer> types, String name) {
        Integer t = types.get(name);
        return t != null && t == FLOAT;
    }

    private static String cast(List<NodeProto> out, String from, String to, int type, int[] casts) {
        out.add(NodeProto.newBuilder().setOpType("Cast").setName(to + "__cast").addInput(from).addOutput(to).addAttribute(intAttr("to", type)).build());
        casts[0]++;
        return to;
    }

    private static AttributeProto intAttr(String name, int v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    /** Float32 tensors carried in attributes (Constant, ConstantOfShape) and Cast targets become float16. */
    private static void retypeAttributes(NodeProto.Builder b) {
        for (int i = 0; i < b.getAttributeCount(); i++) {
            AttributeProto a = b.getAttribute(i);
            if (b.getOpType().equals("Cast") && a.getName().equals("to") && a.getI() == FLOAT) {
                b.setAttribute(i, a.toBuilder().setI(FLOAT16));
            } else if (a.hasT() && a.getT().getDataType() == FLOAT) {
                b.setAttribute(i, a.toBuilder().setT(toFloat16(a.getT(), new ArrayList<>())));
            }
        }
    }

    private static ValueInfoProto retype(ValueInfoProto v) {
        var b = v.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().setElemType(FLOAT16);
        return b.build();
    }

    /** A float32 tensor as float16 (raw data), values outside ±65504 clamped and the tensor named in {@code clamped}. */
    static TensorProto toFloat16(TensorProto t, List<String> clamped) {
        float[] v = floats(t);
        ByteBuffer out = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        boolean clampedAny = false;
        for (float f : v) {
            float c = f;
            if (f > FP16_MAX) {
                c = FP16_MAX;
                clampedAny = true;
            } else if (f < -FP16_MAX) {
                c = -FP16_MAX;
                clampedAny = true;
            }
            out.putShort(Float.floatToFloat16(c));
        }
        if (clampedAny) {
            clamped.add(t.getName());
        }
        return t.toBuilder().clearFloatData().clearRawData().setDataType(FLOAT16).setRawData(ByteString.copyFrom(out.array())).build();
    }

    /** The values of a float32 tensor, from raw data or the float_data field. */
    static float[] floats(TensorProto t) {
        if (t.hasRawData()) {
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[b.remaining() / 4];
            b.asFloatBuffer().get(v);
            return v;
        }
        float[] v = new float[t.getFloatDataCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.getFloatData(i);
        }
        return v;
    }
}
