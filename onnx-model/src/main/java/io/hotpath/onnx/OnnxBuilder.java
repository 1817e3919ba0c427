package io.hotpath.onnx;

import io.hotpath.onnx.proto.Onnx.AttributeProto;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.OperatorSetIdProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import io.hotpath.onnx.proto.Onnx.TensorShapeProto;
import io.hotpath.onnx.proto.Onnx.TypeProto;
import io.hotpath.onnx.proto.Onnx.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Writes ONNX models from Java. Nodes are added in order (so they are topologically sorted when
 * each node's inputs were added before it); names are checked as they are added, and
 * {@link #build()} checks that every node input and graph output is defined.
 *
 * <pre>{@code
 * ModelProto m = new OnnxBuilder("tiny", 17)
 *     .input("x", OnnxBuilder.FLOAT, "batch", 4)
 *     .initializer("w", new float[] {...}, 4, 2)
 *     .node("MatMul", "x,w", "y")
 *     .output("y", OnnxBuilder.FLOAT, "batch", 2)
 *     .build();
 * }</pre>
 *
 * Dimensions are given as {@code Object}s: a {@code Number} is a fixed size, a {@code String}
 * a named dynamic dimension, and {@code null} an unnamed dynamic one.
 */
public final class OnnxBuilder {
    /** ONNX element type codes used by the builder's callers. */
    public static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    public static final int INT64 = TensorProto.DataType.INT64_VALUE;
    public static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
    public static final int INT8 = TensorProto.DataType.INT8_VALUE;
    public static final int UINT8 = TensorProto.DataType.UINT8_VALUE;
    public static final int INT32 = TensorProto.DataType.INT32_VALUE;
    public static final int DOUBLE = TensorProto.DataType.DOUBLE_VALUE;
    public static final int BFLOAT16 = TensorProto.DataType.BFLOAT16_VALUE;
    public static final int INT16 = TensorProto.DataType.INT16_VALUE;
    public static final int UINT16 = TensorProto.DataType.UINT16_VALUE;
    public static final int UINT32 = TensorProto.DataType.UINT32_VALUE;
    public static final int UINT64 = TensorProto.DataType.UINT64_VALUE;
    public static final int BOOL = TensorProto.DataType.BOOL_VALUE;
    public static final int STRING = TensorProto.DataType.STRING_VALUE;
    public static final int COMPLEX64 = TensorProto.DataType.COMPLEX64_VALUE;
    public static final int FLOAT8E4M3FN = TensorProto.DataType.FLOAT8E4M3FN_VALUE;
    public static final int FLOAT8E5M2 = TensorProto.DataType.FLOAT8E5M2_VALUE;
    public static final int INT4 = TensorProto.DataType.INT4_VALUE;

    /** The IR version written; ONNX Runtime 1.24 reads up to 11. */
    public static final long IR_VERSION = 9;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final long opset;
    private final java.util.Map<String, Long> domainOpsets = new java.util.LinkedHashMap<>();
    private final Set<String> defined = new HashSet<>();
    private int nodeCount;

    public OnnxBuilder(String graphName, long opset) {
        graph.setName(graphName);
        this.opset = opset;
    }

    /** A graph input with element type {@code elemType} and the given dimensions. */
    public OnnxBuilder input(String name, int elemType, Object... dims) {
        define(name);
        graph.addInput(valueInfo(name, elemType, dims));
        return this;
    }

    /** A graph output; it must be produced by a node or be an input or initializer. */
    public OnnxBuilder output(String name, int elemType, Object... dims) {
        graph.addOutput(valueInfo(name, elemType, dims));
        return this;
    }

    /** A float32 initializer (weights), stored as little-endian raw data. */
    public OnnxBuilder initializer(String name, float[] data, long... dims) {
        checkCount(name, data.length, dims);
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return rawInitializer(name, FLOAT, b.array(), dims);
    }

    /** An int64 initializer (shapes, axes, indices). */
    public OnnxBuilder initializer(String name, long[] data, long... dims) {
        checkCount(name, data.length, dims);
        ByteBuffer b = ByteBuffer.allocate(data.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        return rawInitializer(name, INT64, b.array(), dims);
    }

    /** An initializer of any element type from its little-endian bytes. */
    public OnnxBuilder rawInitializer(String name, int elemType, byte[] littleEndian, long... dims) {
        define(name);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType)
                .setRawData(ByteString.copyFrom(littleEndian));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return this;
    }

    private static void checkCount(String name, int count, long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        if (n != count) {
            throw new IllegalArgumentException("initializer '" + name + "': " + count + " values for dims "
                    + java.util.Arrays.toString(dims) + " (" + n + " expected)");
        }
    }

    /**
     * A node of the default domain. {@code inputs} and {@code outputs} are comma-separated names
     * (an empty entry is an omitted optional input); {@code attributes} are name/value pairs whose
     * values are Long/Integer (INT), Float/Double (FLOAT), String (STRING), long[] (INTS),
     * float[] (FLOATS), String[] (STRINGS) or a {@link TensorProto} (TENSOR; see {@link #tensor}).
     */
    public OnnxBuilder node(String opType, String inputs, String outputs, Object... attributes) {
        return nodeInDomain("", opType, inputs, outputs, attributes);
    }

    /**
     * A node of operator set {@code domain} (for example {@code "ai.onnx.ml"}); otherwise as
     * {@link #node}. The model must also import that domain ({@link #opsetImport}).
     */
    public OnnxBuilder nodeInDomain(String domain, String opType, String inputs, String outputs, Object... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(opType + "_" + nodeCount++);
        if (!domain.isEmpty()) {
            n.setDomain(domain);
        }
        for (String in : split(inputs)) {
            if (!in.isEmpty() && !defined.contains(in)) {
                throw new IllegalArgumentException("node " + n.getName() + " reads '" + in + "', which nothing defines yet");
            }
            n.addInput(in);
        }
        for (String out : split(outputs)) {
            define(out);
            n.addOutput(out);
        }
        if (attributes.length % 2 != 0) {
            throw new IllegalArgumentException("attributes come in name/value pairs");
        }
        for (int i = 0; i < attributes.length; i += 2) {
            n.addAttribute(attribute((String) attributes[i], attributes[i + 1]));
        }
        graph.addNode(n);
        return this;
    }

    /**
     * Imports operator set {@code version} of {@code domain} besides the default domain's (given
     * to the constructor); nodes of that domain are added with {@link #nodeInDomain}.
     */
    public OnnxBuilder opsetImport(String domain, long version) {
        if (domain.isEmpty() || domain.equals("ai.onnx")) {
            throw new IllegalArgumentException("the default domain's opset is the constructor's (" + opset + ")");
        }
        domainOpsets.put(domain, version);
        return this;
    }

    private static String[] split(String names) {
        return names.isEmpty() ? new String[0] : names.split(",", -1);
    }

    private void define(String name) {
        if (!defined.add(name)) {
            throw new IllegalArgumentException("'" + name + "' is defined twice");
        }
    }

    private static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        switch (v) {
            case Integer i -> a.setType(AttributeProto.AttributeType.INT).setI(i);
            case Long l -> a.setType(AttributeProto.AttributeType.INT).setI(l);
            case Float f -> a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
            case Double d -> a.setType(AttributeProto.AttributeType.FLOAT).setF(d.floatValue());
            case String s -> a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
            case long[] ls -> {
                a.setType(AttributeProto.AttributeType.INTS);
                for (long l : ls) {
                    a.addInts(l);
                }
            }
            case float[] fs -> {
                a.setType(AttributeProto.AttributeType.FLOATS);
                for (float f : fs) {
                    a.addFloats(f);
                }
            }
            case String[] ss -> {
                a.setType(AttributeProto.AttributeType.STRINGS);
                for (String s : ss) {
                    a.addStrings(ByteString.copyFromUtf8(s));
                }
            }
            case TensorProto t -> a.setType(AttributeProto.AttributeType.TENSOR).setT(t);
            default -> throw new IllegalArgumentException("attribute '" + name + "': unsupported value type " + v.getClass());
        }
        return a.build();
    }

    /** A tensor of element type {@code elemType} from its little-endian bytes: for TENSOR attributes. */
    public static TensorProto tensor(int elemType, byte[] littleEndian, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setDataType(elemType).setRawData(ByteString.copyFrom(littleEndian));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    /** A float32 tensor of shape {@code [values.length]}: for TENSOR attributes. */
    public static TensorProto tensor(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return tensor(FLOAT, b.array(), values.length);
    }

    static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Number n) {
                dim.setDimValue(n.longValue());
            } else if (d instanceof String s) {
                dim.setDimParam(s);
            } else if (d != null) {
                throw new IllegalArgumentException("dimension of '" + name + "' must be a number, a name or null: " + d);
            }
            shape.addDim(dim);
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
                .build();
    }

    /** The model, after checking that every graph output is defined. */
    public ModelProto build() {
        for (ValueInfoProto out : graph.getOutputList()) {
            if (!defined.contains(out.getName())) {
                throw new IllegalArgumentException("graph output '" + out.getName() + "' is never produced");
            }
        }
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("hotpath")
                .setProducerVersion("0.1")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset));
        domainOpsets.forEach((d, v) -> m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(d).setVersion(v)));
        return m.setGraph(graph).build();
    }

    /** Builds and writes the model to {@code file}. */
    public Path write(Path file) {
        return write(build(), file);
    }

    /** Writes a model to {@code file}, creating parent directories. */
    public static Path write(ModelProto model, Path file) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.write(file, model.toByteArray());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("writing model " + file, e);
        }
    }
}
