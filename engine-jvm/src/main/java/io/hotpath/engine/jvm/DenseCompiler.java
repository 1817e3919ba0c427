package io.hotpath.engine.jvm;

import io.hotpath.core.DType;
import io.hotpath.core.HotpathException;
import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import io.hotpath.engine.jvm.DenseSteps.Act;
import io.hotpath.engine.jvm.DenseSteps.Op;
import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.OperatorSetIdProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import io.hotpath.onnx.proto.Onnx.TensorShapeProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a graph of dense layers into a {@link DenseProgram}. Every activation is a row of
 * floats of a known width; the graph reads float32 inputs {@code [batch, F]}. Folding, in graph
 * order: an Add or Mul of a constant, or a BatchNormalization, right after a dense layer folds
 * into its weights and bias; an activation folds into the step that made its input; both only
 * when nothing else reads the intermediate value. Anything else is refused, naming the node.
 */
final class DenseCompiler {
    /** A value of the graph: a constant, or a row of {@code width} floats in buffer {@code buf}. */
    private sealed interface Value permits Const, Act_ {
    }

    private record Const(float[] f, long[] l, long[] dims) implements Value {
    }

    private record Act_(int buf, int width) implements Value {
    }

    private final GraphProto g;
    private final long opset;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    /** The step that wrote each buffer, when it can still absorb a bias, a scale or an activation. */
    private final Map<Integer, DenseSteps.Step> producer = new HashMap<>();
    private final List<Integer> widths = new ArrayList<>();
    private final List<DenseSteps.Step> steps = new ArrayList<>();

    private DenseCompiler(ModelProto m) {
        this.g = m.getGraph();
        long v = 0;
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                v = o.getVersion();
            }
        }
        this.opset = v;
    }

    static Program compile(ModelProto m) {
        return new DenseCompiler(m).build();
    }

    static final java.util.Set<String> OPERATORS = java.util.Set.of("Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid",
            "Tanh", "Clip", "Softmax", "LayerNormalization", "BatchNormalization", "Concat", "Reshape", "Flatten", "Identity", "Dropout", "Constant");

    private Program build() {
        // the operators first: a model with one the engine lacks is refused by that node's name
        for (NodeProto n : g.getNodeList()) {
            if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                throw JvmCompiler.unsupported(n, "operators of domain " + n.getDomain() + " are not compiled");
            }
            if (!OPERATORS.contains(n.getOpType())) {
                throw JvmCompiler.unsupported(n, "operator not compiled by the JVM engine (it compiles " + String.join(", ", new java.util.TreeSet<>(OPERATORS)) + ")");
            }
        }
        for (TensorProto t : g.getInitializerList()) {
            values.put(t.getName(), constant(t));
        }
        for (NodeProto n : g.getNodeList()) {
            for (String in : n.getInputList()) {
                uses.merge(in, 1, Integer::sum);
            }
        }
        for (ValueInfoProto o : g.getOutputList()) {
            uses.merge(o.getName(), 1, Integer::sum);
        }
        List<TensorSpec> inSpecs = new ArrayList<>();
        List<Integer> inBufs = new ArrayList<>();
        for (ValueInfoProto in : g.getInputList()) {
            if (values.containsKey(in.getName())) {
                continue;       // an initializer listed as an input (IR < 4): a constant
            }
            int width = rowWidth(in, "input");
            int buf = newBuffer(width);
            values.put(in.getName(), new Act_(buf, width));
            inSpecs.add(spec(in.getName(), width));
            inBufs.add(buf);
        }
        if (inSpecs.isEmpty()) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "the model has no input the JVM engine could read");
        }
        for (NodeProto n : g.getNodeList()) {
            node(n);
        }
        List<TensorSpec> outSpecs = new ArrayList<>();
        int[] outBufs = new int[g.getOutputCount()];
        for (int i = 0; i < g.getOutputCount(); i++) {
            ValueInfoProto o = g.getOutput(i);
            if (!(values.get(o.getName()) instanceof Act_ a)) {
                throw new HotpathException(HotpathException.Category.UNSUPPORTED, "graph output '" + o.getName()
                        + "' is a constant or is never computed; the JVM engine serves computed rows only");
            }
            if (o.getType().hasTensorType() && o.getType().getTensorType().hasShape()) {
                TensorShapeProto s = o.getType().getTensorType().getShape();
                if (s.getDimCount() != 2 || (s.getDim(1).hasDimValue() && s.getDim(1).getDimValue() != a.width())) {
                    throw new HotpathException(HotpathException.Category.UNSUPPORTED, "graph output '" + o.getName() + "' is declared with shape "
                            + s.getDimList().stream().map(d -> d.hasDimValue() ? Long.toString(d.getDimValue()) : d.getDimParam()).toList()
                            + "; the JVM engine computes [batch, " + a.width() + "]");
                }
            }
            outSpecs.add(spec(o.getName(), a.width()));
            outBufs[i] = a.buf();
        }
        int[] w = widths.stream().mapToInt(Integer::intValue).toArray();
        return new DenseProgram(inSpecs, outSpecs, inBufs.stream().mapToInt(Integer::intValue).toArray(), outBufs, w,
                steps.toArray(new DenseSteps.Step[0]));
    }

    private static TensorSpec spec(String name, int width) {
        return new TensorSpec(name, DType.FLOAT32, Shape.of(new long[] {Shape.DYNAMIC, width}, new String[] {"batch", null}));
    }

    /** A graph input's row width: float32, rank 2, dimension 1 fixed. */
    private static int rowWidth(ValueInfoProto v, String kind) {
        if (!v.getType().hasTensorType()) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, kind + " '" + v.getName() + "' is not a tensor");
        }
        var t = v.getType().getTensorType();
        if (t.getElemType() != TensorProto.DataType.FLOAT_VALUE) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, kind + " '" + v.getName() + "' has element type "
                    + TensorProto.DataType.forNumber(t.getElemType()) + "; the JVM engine's dense layers read float32");
        }
        TensorShapeProto s = t.getShape();
        if (s.getDimCount() != 2 || !s.getDim(1).hasDimValue() || s.getDim(1).getDimValue() < 1 || s.getDim(1).getDimValue() > 1 << 20) {
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, kind + " '" + v.getName()
                    + "' must be [batch, F] with F fixed (1 to 1048576) for the JVM engine");
        }
        return (int) s.getDim(1).getDimValue();
    }

    private int newBuffer(int width) {
        widths.add(width);
        return widths.size() - 1;
    }

    private static Const constant(TensorProto t) {
        if (Initializers.isFloat(t)) {
            return new Const(Initializers.floats(t), null, Initializers.dims(t));
        }
        if (t.getDataType() == TensorProto.DataType.INT64_VALUE || t.getDataType() == TensorProto.DataType.INT32_VALUE) {
            return new Const(null, Initializers.longs(t), Initializers.dims(t));
        }
        return new Const(null, null, Initializers.dims(t));      // another type: refused where it is read
    }

    private void node(NodeProto n) {
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
            throw JvmCompiler.unsupported(n, "operators of domain " + n.getDomain() + " are not compiled");
        }
        switch (n.getOpType()) {
            case "Gemm" -> gemm(n);
            case "MatMul" -> matmul(n);
            case "Add" -> arithmetic(n, Op.ADD);
            case "Sub" -> arithmetic(n, Op.SUB);
            case "Mul" -> arithmetic(n, Op.MUL);
            case "Div" -> arithmetic(n, Op.DIV);
            case "Relu" -> activation(n, Act.RELU, 0, 0);
            case "LeakyRelu" -> activation(n, Act.LEAKY_RELU, floatAttr(n, "alpha", 0.01f), 0);
            case "Sigmoid" -> activation(n, Act.SIGMOID, 0, 0);
            case "Tanh" -> activation(n, Act.TANH, 0, 0);
            case "Clip" -> clip(n);
            case "Softmax" -> softmax(n);
            case "LayerNormalization" -> layerNorm(n);
            case "BatchNormalization" -> batchNorm(n);
            case "Concat" -> concat(n);
            case "Reshape" -> reshape(n);
            case "Flatten" -> flatten(n);
            case "Identity", "Dropout" -> alias(n, act(n, 0));
            case "Constant" -> constantNode(n);
            default -> throw JvmCompiler.unsupported(n, "operator not compiled by the JVM engine (it compiles Gemm, MatMul, Add, Sub, Mul, Div, "
                    + "Relu, LeakyRelu, Sigmoid, Tanh, Clip, Softmax, LayerNormalization, BatchNormalization, Concat, Reshape, Flatten, "
                    + "Identity, Dropout, Constant)");
        }
    }

    private Act_ act(NodeProto n, int i) {
        if (i >= n.getInputCount() || !(values.get(n.getInput(i)) instanceof Act_ a)) {
            throw JvmCompiler.unsupported(n, "input " + i + (i < n.getInputCount() ? " ('" + n.getInput(i) + "')" : "")
                    + " must be a computed row, not a constant or missing");
        }
        return a;
    }

    private Const constIn(NodeProto n, int i) {
        if (i >= n.getInputCount() || n.getInput(i).isEmpty()) {
            return null;
        }
        if (!(values.get(n.getInput(i)) instanceof Const c)) {
            throw JvmCompiler.unsupported(n, "input " + i + " ('" + n.getInput(i) + "') must be a constant (an initializer)");
        }
        return c;
    }

    private static float[] floats(NodeProto n, Const c, String what) {
        if (c.f() == null) {
            throw JvmCompiler.unsupported(n, what + " must be float32 or float64");
        }
        return c.f().clone();
    }

    private void alias(NodeProto n, Act_ a) {
        values.put(n.getOutput(0), a);
    }

    /** Whether {@code name}'s buffer may be changed in place by folding: only the next node reads it. */
    private boolean foldable(String name) {
        return uses.getOrDefault(name, 0) == 1;
    }

    private void emit(NodeProto n, DenseSteps.Step s, int out, int width) {
        steps.add(s);
        producer.put(out, s);
        values.put(n.getOutput(0), new Act_(out, width));
    }

    private void gemm(NodeProto n) {
        if (intAttr(n, "transA", 0) != 0) {
            throw JvmCompiler.unsupported(n, "transA=1 (the row input transposed) is not compiled");
        }
        Act_ a = act(n, 0);
        Const b = constIn(n, 1);
        if (b == null || b.dims().length != 2) {
            throw JvmCompiler.unsupported(n, "B must be a 2-D constant");
        }
        boolean transB = intAttr(n, "transB", 0) != 0;
        int k = (int) (transB ? b.dims()[1] : b.dims()[0]);
        int nOut = (int) (transB ? b.dims()[0] : b.dims()[1]);
        if (k != a.width()) {
            throw JvmCompiler.unsupported(n, "B is " + java.util.Arrays.toString(b.dims()) + (transB ? " (transposed)" : "") + " but the input row has "
                    + a.width() + " values");
        }
        float alpha = floatAttr(n, "alpha", 1f);
        float beta = floatAttr(n, "beta", 1f);
        float[] src = floats(n, b, "B");
        float[] w = new float[k * nOut];
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < nOut; j++) {
                w[kk * nOut + j] = alpha * (transB ? src[j * k + kk] : src[kk * nOut + j]);
            }
        }
        float[] bias = null;
        Const c = constIn(n, 2);
        if (c != null) {
            float[] cv = broadcastRow(n, floats(n, c, "C"), c.dims(), nOut);
            bias = new float[nOut];
            for (int j = 0; j < nOut; j++) {
                bias[j] = beta * cv[j];
            }
        }
        int out = newBuffer(nOut);
        emit(n, new DenseSteps.Dense(a.buf(), out, k, nOut, w, bias), out, nOut);
    }

    private void matmul(NodeProto n) {
        Act_ a = act(n, 0);
        Const b = constIn(n, 1);
        if (b == null || b.dims().length != 2 || b.dims()[0] != a.width()) {
            throw JvmCompiler.unsupported(n, "B must be a 2-D constant [" + a.width() + ", N]"
                    + (b == null ? "" : ", it is " + java.util.Arrays.toString(b.dims())));
        }
        int nOut = (int) b.dims()[1];
        int out = newBuffer(nOut);
        emit(n, new DenseSteps.Dense(a.buf(), out, a.width(), nOut, floats(n, b, "B"), null), out, nOut);
    }

    /** A constant that broadcasts along a row of {@code width}: dims [], [1], [W], [1, 1] or [1, W]; returned as length 1 or W. */
    private static float[] broadcastRow(NodeProto n, float[] v, long[] dims, int width) {
        long lead = 1;
        for (int i = 0; i < dims.length - 1; i++) {
            lead *= dims[i];
        }
        long last = dims.length == 0 ? 1 : dims[dims.length - 1];
        if (dims.length > 2 || lead != 1 || (last != 1 && last != width)) {
            throw JvmCompiler.unsupported(n, "constant of shape " + java.util.Arrays.toString(dims) + " does not broadcast along a row of "
                    + width + " (it must be a scalar, [" + width + "] or [1, " + width + "])");
        }
        return v;
    }

    private static float[] widen(float[] v, int width) {
        if (v.length == width) {
            return v;
        }
        float[] w = new float[width];
        java.util.Arrays.fill(w, v[0]);
        return w;
    }

    private void arithmetic(NodeProto n, Op op) {
        Value x = values.get(n.getInput(0));
        Value y = values.get(n.getInput(1));
        if (x instanceof Act_ a && y instanceof Act_ b) {
            if (a.width() != b.width()) {
                throw JvmCompiler.unsupported(n, "rows of " + a.width() + " and " + b.width() + " values");
            }
            int out = newBuffer(a.width());
            emit(n, new DenseSteps.BinaryOp(a.buf(), b.buf(), out, a.width(), op), out, a.width());
            return;
        }
        boolean constFirst = !(x instanceof Act_);
        Act_ a = act(n, constFirst ? 1 : 0);
        Const c = constIn(n, constFirst ? 0 : 1);
        float[] cv = broadcastRow(n, floats(n, c, "the constant operand"), c.dims(), a.width());
        String in = n.getInput(constFirst ? 1 : 0);
        if (producer.get(a.buf()) instanceof DenseSteps.Dense d && d.act == Act.NONE && foldable(in) && d.out == a.buf()) {
            if (op == Op.ADD || (op == Op.SUB && !constFirst)) {
                float[] add = widen(cv, a.width()).clone();
                if (op == Op.SUB) {
                    for (int j = 0; j < add.length; j++) {
                        add[j] = -add[j];
                    }
                }
                DenseSteps.Dense folded = withBias(d, add);
                replace(d, folded);
                values.put(n.getOutput(0), a);
                return;
            }
            if (op == Op.MUL) {
                d.scaleColumns(cv);
                values.put(n.getOutput(0), a);
                return;
            }
        }
        int out = newBuffer(a.width());
        emit(n, new DenseSteps.ConstOp(a.buf(), out, a.width(), op, cv, constFirst), out, a.width());
    }

    /** {@code d} with {@code add} added to its bias (a new step: the bias array may be shared with nothing else). */
    private static DenseSteps.Dense withBias(DenseSteps.Dense d, float[] add) {
        float[] bias = new float[d.n];
        for (int j = 0; j < d.n; j++) {
            bias[j] = (d.bias == null ? 0f : d.bias[j]) + add[j];
        }
        return new DenseSteps.Dense(d.in, d.out, d.k, d.n, packedKn(d), bias);
    }

    /** The weights of {@code d} as [K][N] whatever its layout. */
    private static float[] packedKn(DenseSteps.Dense d) {
        if (!d.narrow) {
            return d.w;
        }
        float[] w = new float[d.k * d.n];
        for (int kk = 0; kk < d.k; kk++) {
            for (int j = 0; j < d.n; j++) {
                w[kk * d.n + j] = d.w[j * d.k + kk];
            }
        }
        return w;
    }

    private void replace(DenseSteps.Step old, DenseSteps.Step now) {
        steps.set(steps.indexOf(old), now);
        producer.entrySet().removeIf(e -> e.getValue() == old);
        if (now instanceof DenseSteps.Dense d) {
            producer.put(d.out, d);
        }
    }

    private void activation(NodeProto n, Act kind, float p1, float p2) {
        Act_ a = act(n, 0);
        String in = n.getInput(0);
        DenseSteps.Step p = producer.get(a.buf());
        if (p instanceof DenseSteps.Fused f && f.act == Act.NONE && foldable(in)) {
            f.fuse(kind, p1, p2);
            producer.remove(a.buf());
            values.put(n.getOutput(0), a);
            return;
        }
        int out = newBuffer(a.width());
        steps.add(new DenseSteps.Activation(a.buf(), out, a.width(), kind, p1, p2));
        values.put(n.getOutput(0), new Act_(out, a.width()));
    }

    private void clip(NodeProto n) {
        float lo;
        float hi;
        if (opset >= 11) {
            Const mn = constIn(n, 1);
            Const mx = constIn(n, 2);
            lo = mn == null ? Float.NEGATIVE_INFINITY : scalar(n, mn, "min");
            hi = mx == null ? Float.POSITIVE_INFINITY : scalar(n, mx, "max");
        } else {
            lo = floatAttr(n, "min", -Float.MAX_VALUE);
            hi = floatAttr(n, "max", Float.MAX_VALUE);
        }
        activation(n, Act.CLIP, lo, hi);
    }

    private static float scalar(NodeProto n, Const c, String what) {
        float[] v = floats(n, c, what);
        if (v.length != 1) {
            throw JvmCompiler.unsupported(n, what + " must be a scalar");
        }
        return v[0];
    }

    private void softmax(NodeProto n) {
        Act_ a = act(n, 0);
        long axis = intAttr(n, "axis", opset >= 13 ? -1 : 1);
        if (axis != -1 && axis != 1) {
            throw JvmCompiler.unsupported(n, "axis " + axis + " (only the row, axis 1 or -1, is compiled)");
        }
        int out = newBuffer(a.width());
        emit(n, new DenseSteps.Softmax(a.buf(), out, a.width()), out, a.width());
        producer.remove(out);
    }

    private void layerNorm(NodeProto n) {
        Act_ a = act(n, 0);
        long axis = intAttr(n, "axis", -1);
        if (axis != -1 && axis != 1) {
            throw JvmCompiler.unsupported(n, "axis " + axis + " (only the row, axis 1 or -1, is compiled)");
        }
        if (n.getOutputCount() > 1 && n.getOutputList().stream().skip(1).anyMatch(s -> !s.isEmpty())) {
            throw JvmCompiler.unsupported(n, "the optional Mean and InvStdDev outputs are not computed");
        }
        Const sc = constIn(n, 1);
        Const bi = constIn(n, 2);
        float[] scale = broadcastRow(n, floats(n, sc, "Scale"), sc.dims(), a.width());
        float[] bias = bi == null ? null : broadcastRow(n, floats(n, bi, "B"), bi.dims(), a.width());
        int out = newBuffer(a.width());
        emit(n, new DenseSteps.LayerNorm(a.buf(), out, a.width(), scale, bias, floatAttr(n, "epsilon", 1e-5f)), out, a.width());
        producer.remove(out);
    }

    private void batchNorm(NodeProto n) {
        Act_ a = act(n, 0);
        if (n.getOutputCount() > 1 && n.getOutputList().stream().skip(1).anyMatch(s -> !s.isEmpty())) {
            throw JvmCompiler.unsupported(n, "training-mode outputs are not computed");
        }
        float[] scale = rowConstant(n, 1, "scale", a.width());
        float[] b = rowConstant(n, 2, "B", a.width());
        float[] mean = rowConstant(n, 3, "mean", a.width());
        float[] var = rowConstant(n, 4, "var", a.width());
        float eps = floatAttr(n, "epsilon", 1e-5f);
        float[] mul = new float[a.width()];
        float[] add = new float[a.width()];
        for (int j = 0; j < mul.length; j++) {
            mul[j] = (float) (scale[j] / Math.sqrt(var[j] + (double) eps));
            add[j] = b[j] - mean[j] * mul[j];
        }
        String in = n.getInput(0);
        if (producer.get(a.buf()) instanceof DenseSteps.Dense d && d.act == Act.NONE && foldable(in)) {
            d.scaleColumns(mul);
            replace(d, withBias(d, add));
            values.put(n.getOutput(0), a);
            return;
        }
        int mid = newBuffer(a.width());
        steps.add(new DenseSteps.ConstOp(a.buf(), mid, a.width(), Op.MUL, mul, false));
        int out = newBuffer(a.width());
        emit(n, new DenseSteps.ConstOp(mid, out, a.width(), Op.ADD, add, false), out, a.width());
    }

    /** Constant input {@code i} of {@code n}, required, broadcast along a row and widened to {@code width} values. */
    private float[] rowConstant(NodeProto n, int i, String what, int width) {
        Const c = constIn(n, i);
        if (c == null) {
            throw JvmCompiler.unsupported(n, what + " (input " + i + ") is missing");
        }
        return widen(broadcastRow(n, floats(n, c, what), c.dims(), width), width);
    }

    private void concat(NodeProto n) {
        long axis = intAttr(n, "axis", 1);
        if (axis != 1 && axis != -1) {
            throw JvmCompiler.unsupported(n, "axis " + axis + " (only the row, axis 1 or -1, is compiled)");
        }
        int[] ins = new int[n.getInputCount()];
        int[] ws = new int[ins.length];
        int width = 0;
        for (int i = 0; i < ins.length; i++) {
            Act_ a = act(n, i);
            ins[i] = a.buf();
            ws[i] = a.width();
            width += a.width();
        }
        int out = newBuffer(width);
        emit(n, new DenseSteps.Concat(ins, ws, out, width), out, width);
        producer.remove(out);
    }

    private void reshape(NodeProto n) {
        Act_ a = act(n, 0);
        Const s = constIn(n, 1);
        if (s == null || s.l() == null || s.l().length != 2) {
            throw JvmCompiler.unsupported(n, "the shape must be a 2-element int64 constant");
        }
        long d0 = s.l()[0];
        long d1 = s.l()[1];
        boolean rows = d0 == 0 || d0 == -1;
        boolean width = d1 == a.width() || (d1 == -1 && d0 == 0) || (d1 == 0 && d0 == -1);
        if (!rows || !width) {
            throw JvmCompiler.unsupported(n, "shape " + java.util.Arrays.toString(s.l()) + " changes the rows of [batch, " + a.width()
                    + "]; only reshapes that keep each row are compiled");
        }
        alias(n, a);
    }

    private void flatten(NodeProto n) {
        if (intAttr(n, "axis", 1) != 1) {
            throw JvmCompiler.unsupported(n, "axis " + intAttr(n, "axis", 1) + " (only axis 1, which keeps each row, is compiled)");
        }
        alias(n, act(n, 0));
    }

    private void constantNode(NodeProto n) {
        for (AttributeProto at : n.getAttributeList()) {
            if (at.getName().equals("value") && at.hasT()) {
                values.put(n.getOutput(0), constant(at.getT()));
                return;
            }
            if (at.getName().equals("value_float")) {
                values.put(n.getOutput(0), new Const(new float[] {at.getF()}, null, new long[0]));
                return;
            }
            if (at.getName().equals("value_floats")) {
                float[] f = new float[at.getFloatsCount()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = at.getFloats(i);
                }
                values.put(n.getOutput(0), new Const(f, null, new long[] {f.length}));
                return;
            }
            if (at.getName().equals("value_ints")) {
                long[] l = at.getIntsList().stream().mapToLong(Long::longValue).toArray();
                values.put(n.getOutput(0), new Const(null, l, new long[] {l.length}));
                return;
            }
            if (at.getName().equals("value_int")) {
                values.put(n.getOutput(0), new Const(null, new long[] {at.getI()}, new long[0]));
                return;
            }
        }
        throw JvmCompiler.unsupported(n, "a Constant without a tensor, float or int value");
    }

    static long intAttr(NodeProto n, String name, long dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return dflt;
    }

    static float floatAttr(NodeProto n, String name, float dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return dflt;
    }
}
