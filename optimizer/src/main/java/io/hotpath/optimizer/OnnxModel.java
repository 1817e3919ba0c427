package io.hotpath.optimizer;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import io.hotpath.onnx.proto.Onnx.GraphProto;
import io.hotpath.onnx.proto.Onnx.ModelProto;
import io.hotpath.onnx.proto.Onnx.NodeProto;
import io.hotpath.onnx.proto.Onnx.StringStringEntryProto;
import io.hotpath.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model in memory, as the optimizer's passes read and edit it: the {@code ModelProto}
 * with every initializer's bytes inline. {@link #load} resolves external data files beside the
 * model (and refuses a location that leaves the model's directory); {@link #save} can write large
 * initializers back out as external data. Passes edit through {@link #edit()} and
 * {@link #replace(ModelProto)}; {@link #topologicalOrder()} sorts nodes so that each comes after
 * the producers of its inputs.
 */
public final class OnnxModel {
    private ModelProto proto;

    private OnnxModel(ModelProto proto) {
        this.proto = proto;
    }

    /** Wraps a model built in memory (for example by {@code OnnxBuilder}). */
    public static OnnxModel of(ModelProto proto) {
        return new OnnxModel(proto);
    }

    /**
     * Reads {@code file}; a missing file is NOT_FOUND, bytes that are not an ONNX model are
     * INVALID_MODEL, an external-data location outside the model's directory is INVALID_ARGUMENT.
     */
    public static OnnxModel load(Path file) {
        ModelProto m;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream cin = CodedInputStream.newInstance(in);
            cin.setSizeLimit(Integer.MAX_VALUE);
            m = ModelProto.parseFrom(cin);
        } catch (NoSuchFileException e) {
            throw new HotpathException(Category.NOT_FOUND, "model file not found: " + file, e);
        } catch (InvalidProtocolBufferException e) {
            throw new HotpathException(Category.INVALID_MODEL, file + " is not a readable ONNX model: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_MODEL, "cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!m.hasGraph() || m.getGraph().getNodeCount() == 0) {
            throw new HotpathException(Category.INVALID_MODEL, file + " has no graph (is it an ONNX model?)");
        }
        return new OnnxModel(inlineExternalData(m, file.toAbsolutePath().getParent()));
    }

    private static ModelProto inlineExternalData(ModelProto m, Path dir) {
        boolean any = false;
        for (TensorProto t : m.getGraph().getInitializerList()) {
            any |= t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
        }
        if (!any) {
            return m;
        }
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
                continue;
            }
            Map<String, String> ext = new HashMap<>();
            for (StringStringEntryProto e : t.getExternalDataList()) {
                ext.put(e.getKey(), e.getValue());
            }
            String location = ext.get("location");
            if (location == null || location.isEmpty()) {
                throw new HotpathException(Category.INVALID_MODEL, "initializer '" + t.getName() + "' is external but names no location");
            }
            Path data = safeResolve(dir, location, t.getName());
            long offset = Long.parseLong(ext.getOrDefault("offset", "0"));
            long length;
            try {
                length = ext.containsKey("length") ? Long.parseLong(ext.get("length")) : Files.size(data) - offset;
            } catch (IOException e) {
                throw new HotpathException(Category.NOT_FOUND, "external data file " + data + " of initializer '" + t.getName()
                        + "' cannot be read: " + e.getMessage(), e);
            }
            g.setInitializer(i, t.toBuilder().clearExternalData().clearDataLocation().setRawData(read(data, offset, length, t.getName())).build());
        }
        return m.toBuilder().setGraph(g).build();
    }

    /** {@code location} resolved against {@code dir}; INVALID_ARGUMENT when it is absolute or climbs out of {@code dir}. */
    static Path safeResolve(Path dir, String location, String tensor) {
        Path rel = Path.of(location);
        Path resolved = dir.resolve(rel).normalize();
        if (rel.isAbsolute() || !resolved.startsWith(dir.normalize())) {
            throw HotpathException.invalidArgument("initializer '" + tensor + "': external data location '" + location
                    + "' leaves the model's directory " + dir + "; refused");
        }
        return resolved;
    }

    private static ByteString read(Path file, long offset, long length, String tensor) {
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': external length " + length + " is not supported");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset + length > ch.size()) {
                throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': " + file + " has " + ch.size()
                        + " bytes, the model asks for " + length + " at offset " + offset + " (truncated?)");
            }
            var buf = java.nio.ByteBuffer.allocate((int) length);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    break;
                }
            }
            buf.flip();
            return ByteString.copyFrom(buf);
        } catch (NoSuchFileException e) {
            throw new HotpathException(Category.NOT_FOUND, "external data file " + file + " of initializer '" + tensor + "' not found", e);
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_MODEL, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public ModelProto proto() {
        return proto;
    }

    public GraphProto graph() {
        return proto.getGraph();
    }

    /** A builder over the current model; pass the result to {@link #replace}. */
    public ModelProto.Builder edit() {
        return proto.toBuilder();
    }

    public void replace(ModelProto edited) {
        this.proto = edited;
    }

    /** The opset version of the default ONNX domain. */
    public long opset() {
        return proto.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(o -> o.getVersion()).findFirst().orElse(0);
    }

    /** Initializers by name. */
    public Map<String, TensorProto> initializers() {
        Map<String, TensorProto> m = new LinkedHashMap<>();
        for (TensorProto t : graph().getInitializerList()) {
            m.put(t.getName(), t);
        }
        return m;
    }

    /**
     * The nodes ordered so that every node comes after the nodes producing its inputs (Kahn's
     * algorithm, stable: ties keep the file's order). A cycle is INVALID_MODEL.
     */
    public List<NodeProto> topologicalOrder() {
        List<NodeProto> nodes = graph().getNodeList();
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String o : nodes.get(i).getOutputList()) {
                if (!o.isEmpty()) {
                    producer.put(o, i);
                }
            }
        }
        int[] pending = new int[nodes.size()];
        List<List<Integer>> consumers = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            consumers.add(new ArrayList<>());
        }
        for (int i = 0; i < nodes.size(); i++) {
            Set<Integer> deps = new HashSet<>();
            for (String in : nodes.get(i).getInputList()) {
                Integer p = producer.get(in);
                if (p != null && p != i && deps.add(p)) {
                    consumers.get(p).add(i);
                }
            }
            pending[i] = deps.size();
        }
        java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        List<NodeProto> out = new ArrayList<>(nodes.size());
        while (!ready.isEmpty()) {
            int i = ready.poll();
            out.add(nodes.get(i));
            for (int c : consumers.get(i)) {
                if (--pending[c] == 0) {
                    ready.add(c);
                }
            }
        }
        if (out.size() != nodes.size()) {
            throw new HotpathException(Category.INVALID_MODEL, "the graph has a cycle: " + (nodes.size() - out.size())
                    + " nodes never become ready");
        }
        return out;
    }

    /** Rewrites the graph's node list in topological order. */
    public void sortTopologically() {
        List<NodeProto> sorted = topologicalOrder();
        replace(proto.toBuilder().setGraph(graph().toBuilder().clearNode().addAllNode(sorted)).build());
    }

    /** Writes the model with every initializer inline (models up to 2 GiB). */
    public void save(Path file) {
        write(file, proto);
    }

    /**
     * Writes the model with initializers of at least {@code threshold} bytes in one external data
     * file {@code <model file name>.data} beside it (offsets aligned to 4 KiB).
     */
    public void saveWithExternalData(Path file, long threshold) {
        Path dataFile = file.resolveSibling(file.getFileName() + ".data");
        GraphProto.Builder g = graph().toBuilder();
        try (OutputStream data = Files.newOutputStream(dataFile)) {
            long offset = 0;
            for (int i = 0; i < g.getInitializerCount(); i++) {
                TensorProto t = g.getInitializer(i);
                if (!t.hasRawData() || t.getRawData().size() < threshold) {
                    continue;
                }
                long aligned = (offset + 4095) & ~4095L;
                data.write(new byte[(int) (aligned - offset)]);
                t.getRawData().writeTo(data);
                long length = t.getRawData().size();
                g.setInitializer(i, t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", dataFile.getFileName().toString()))
                        .addExternalData(entry("offset", Long.toString(aligned)))
                        .addExternalData(entry("length", Long.toString(length))).build());
                offset = aligned + length;
            }
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_ARGUMENT, "cannot write " + dataFile + ": " + e.getMessage(), e);
        }
        write(file, proto.toBuilder().setGraph(g).build());
    }

    private static StringStringEntryProto entry(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    private static void write(Path file, ModelProto m) {
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            try (OutputStream out = Files.newOutputStream(file)) {
                m.writeTo(out);
            }
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_ARGUMENT, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
