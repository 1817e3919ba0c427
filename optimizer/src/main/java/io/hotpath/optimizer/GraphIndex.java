package io.hotpath.optimizer;

import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.OperatorSetIdProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who produces and who reads each tensor of a graph, constant lookup, and the rewrite that
 * fusion passes share: replace matched nodes, drop what is left unread, check the result is
 * whole and loads.
 */
final class GraphIndex {
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final String MS_DOMAIN = "com.microsoft";

    final OnnxModel model;
    final Map<String, NodeProto> producer = new HashMap<>();
    final Map<String, List<NodeProto>> consumers = new HashMap<>();
    final Map<String, TensorProto> inits;
    final Set<String> graphInputs = new HashSet<>();

    GraphIndex(OnnxModel model) {
        this.model = model;
        this.inits = model.initializers();
        for (NodeProto n : model.graph().getNodeList()) {
            for (String o : n.getOutputList()) {
                producer.put(o, n);
            }
            for (String i : n.getInputList()) {
                consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }
        for (ValueInfoProto v : model.graph().getInputList()) {
            graphInputs.add(v.getName());
        }
    }

    /** Matches one pattern from an anchor node: the replacement node, with the matched nodes added to {@code nodes}; or null. */
    @FunctionalInterface
    interface Matcher {
        NodeProto match(NodeProto anchor, Set<NodeProto> nodes, String name);
    }

    /** What {@link #fuseEach} made: the model (unchanged when nothing matched), the new nodes' names, the anchors that did not match. */
    record Fusion(ModelProto model, List<String> made, int unmatched) {
    }

    /**
     * Tries {@code matcher} from every standard node of {@code anchorOpType}; matches that do not
     * overlap an earlier one replace their nodes (named {@code prefix_i}). When a removed tensor is
     * still read elsewhere the model is returned unchanged and every anchor counts as unmatched.
     */
    Fusion fuseEach(String anchorOpType, Matcher matcher, String prefix, String pass) {
        Set<NodeProto> removed = new HashSet<>();
        List<NodeProto> added = new ArrayList<>();
        List<String> made = new ArrayList<>();
        int unmatched = 0;
        for (NodeProto n : model.graph().getNodeList()) {
            if (!n.getOpType().equals(anchorOpType) || !n.getDomain().isEmpty()) {
                continue;
            }
            Set<NodeProto> nodes = new HashSet<>();
            NodeProto m = matcher.match(n, nodes, prefix + "_" + made.size());
            if (m == null || nodes.stream().anyMatch(removed::contains)) {
                unmatched++;
                continue;
            }
            removed.addAll(nodes);
            added.add(m);
            made.add(m.getName());
        }
        if (made.isEmpty()) {
            return new Fusion(model.proto(), List.of(), unmatched);
        }
        ModelProto out = rewrite(removed, added, List.of(), pass);
        return out == null ? new Fusion(model.proto(), List.of(), unmatched + made.size()) : new Fusion(out, made, unmatched);
    }

    /** Consumers of {@code tensor} other than Shape nodes (those only size reshapes that a fusion removes). */
    int consumersOf(String tensor) {
        int n = 0;
        for (NodeProto c : consumers.getOrDefault(tensor, List.of())) {
            if (!c.getOpType().equals("Shape")) {
                n++;
            }
        }
        return n;
    }

    /** The producer of {@code tensor} when it is a standard {@code opType} and {@code tensor} has one (non-Shape) consumer. */
    NodeProto single(String tensor, String opType, Set<NodeProto> nodes) {
        NodeProto p = producer.get(tensor);
        if (p == null || !p.getOpType().equals(opType) || !p.getDomain().isEmpty() || consumersOf(tensor) != 1) {
            return null;
        }
        nodes.add(p);
        return p;
    }

    NodeProto onlyConsumer(String tensor, String opType) {
        if (consumersOf(tensor) != 1) {
            return null;
        }
        for (NodeProto c : consumers.getOrDefault(tensor, List.of())) {
            if (c.getOpType().equals(opType)) {
                return c;
            }
        }
        return null;
    }

    /** An initializer, or the value of a Constant node. */
    TensorProto constant(String name) {
        TensorProto t = inits.get(name);
        if (t != null) {
            return t;
        }
        NodeProto p = producer.get(name);
        if (p != null && p.getOpType().equals("Constant")) {
            for (AttributeProto a : p.getAttributeList()) {
                if (a.getName().equals("value") && a.hasT()) {
                    return a.getT();
                }
            }
        }
        return null;
    }

    Float scalar(String name) {
        TensorProto t = constant(name);
        if (t == null || t.getDataType() != FLOAT) {
            return null;
        }
        float[] v = Fp16Converter.floats(t);
        return v.length == 1 ? v[0] : null;
    }

    long[] longs(String name) {
        TensorProto t = constant(name);
        if (t == null || t.getDataType() != TensorProto.DataType.INT64_VALUE) {
            return null;
        }
        if (t.hasRawData()) {
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            long[] v = new long[b.remaining() / 8];
            b.asLongBuffer().get(v);
            return v;
        }
        return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
    }

    /** A float initializer vector (rank 1), or null. */
    TensorProto vector(String name) {
        TensorProto t = inits.get(name);
        return t != null && t.getDataType() == FLOAT && t.getDimsCount() == 1 ? t : null;
    }

    /** The operand of a two-input node that is not {@code known}. */
    static String other(NodeProto binary, String known) {
        return binary.getInput(0).equals(known) ? binary.getInput(1) : binary.getInput(0);
    }

    static long[] ints(NodeProto n, String attribute) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(attribute)) {
                return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
            }
        }
        return null;
    }

    /**
     * The model with {@code removed} nodes replaced by {@code added} ones and {@code newInits},
     * unread nodes and initializers dropped, the com.microsoft opset imported when used, sorted
     * and checked to load; or null when a removed node's output is still read (the caller keeps
     * the model as it was).
     */
    ModelProto rewrite(Set<NodeProto> removed, List<NodeProto> added, List<TensorProto> newInits, String pass) {
        GraphProto g = model.graph();
        List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto n : g.getNodeList()) {
            if (!removed.contains(n)) {
                nodes.add(n);
            }
        }
        nodes.addAll(added);
        List<NodeProto> live = removeDead(nodes, g);
        Set<String> available = new HashSet<>(graphInputs);
        available.addAll(inits.keySet());
        newInits.forEach(t -> available.add(t.getName()));
        live.forEach(n -> available.addAll(n.getOutputList()));
        for (NodeProto n : live) {
            for (String in : n.getInputList()) {
                if (!in.isEmpty() && !available.contains(in)) {
                    return null;
                }
            }
        }
        GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(live).clearValueInfo();
        gb.addAllInitializer(newInits);
        Set<String> read = new HashSet<>();
        for (NodeProto n : live) {
            read.addAll(n.getInputList());
        }
        List<TensorProto> keep = new ArrayList<>();
        for (TensorProto t : gb.getInitializerList()) {
            if (read.contains(t.getName())) {
                keep.add(t);
            }
        }
        gb.clearInitializer().addAllInitializer(keep);
        ModelProto.Builder mb = model.proto().toBuilder().setGraph(gb);
        boolean usesMs = live.stream().anyMatch(n -> n.getDomain().equals(MS_DOMAIN));
        if (usesMs && mb.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals(MS_DOMAIN))) {
            mb.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1));
        }
        OnnxModel out = OnnxModel.of(mb.build());
        out.sortTopologically();
        TensorTypes.checkLoads(out.proto(), pass);
        return out.proto();
    }

    /** Drops nodes none of whose outputs is read by another node or is a graph output, until none is left to drop. */
    static List<NodeProto> removeDead(List<NodeProto> nodes, GraphProto g) {
        Set<String> outputs = new HashSet<>();
        for (ValueInfoProto v : g.getOutputList()) {
            outputs.add(v.getName());
        }
        List<NodeProto> live = new ArrayList<>(nodes);
        boolean changed = true;
        while (changed) {
            Set<String> read = new HashSet<>(outputs);
            for (NodeProto n : live) {
                read.addAll(n.getInputList());
            }
            changed = live.removeIf(n -> n.getOutputList().stream().noneMatch(read::contains));
        }
        return live;
    }
}
