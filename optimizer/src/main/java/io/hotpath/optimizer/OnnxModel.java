package io.hotpath.optimizer;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
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
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
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
 * model (and refuses a location whose real path, symbolic links followed, leaves the model's
 * directory, and offsets or lengths outside the file); {@link #save} can write large
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
     * INVALID_MODEL, an external-data location outside the model's directory (by its real path:
     * symbolic links are followed before the check) is INVALID_ARGUMENT, an external-data offset
     * or length that is not a byte count within the data file is INVALID_MODEL, and a tensor
     * larger than a Java array can hold is UNSUPPORTED.
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

    /** The most bytes one tensor's external data may have here: the largest Java array (ByteString holds one). */
    static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

    private static ModelProto inlineExternalData(ModelProto m, Path dir) {
        boolean any = false;
        for (TensorProto t : m.getGraph().getInitializerList()) {
            any |= t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
        }
        if (!any) {
            return m;
        }
        Path realDir = realPath(dir, "the model's directory " + dir);
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
                continue;
            }
            String name = printable(t.getName());
            Map<String, String> ext = new HashMap<>();
            for (StringStringEntryProto e : t.getExternalDataList()) {
                ext.put(e.getKey(), e.getValue());
            }
            String location = ext.get("location");
            if (location == null || location.isEmpty()) {
                throw new HotpathException(Category.INVALID_MODEL, "initializer '" + name + "' is external but names no location");
            }
            Path data = safeResolve(dir, realDir, location, name);
            long offset = ext.containsKey("offset") ? byteCount(ext, "offset", name, location) : 0;
            long length = ext.containsKey("length") ? byteCount(ext, "length", name, location) : -1;
            g.setInitializer(i, t.toBuilder().clearExternalData().clearDataLocation()
                    .setRawData(read(data, offset, length, name, location)).build());
        }
        return m.toBuilder().setGraph(g).build();
    }

    /**
     * The real path of {@code location} resolved against {@code dir} (whose real path is
     * {@code realDir}). INVALID_ARGUMENT when it is absolute, climbs out of {@code dir}, or leads
     * out of it through a symbolic link (of the file or of a directory on the way); NOT_FOUND when
     * it does not exist; INVALID_MODEL when it is not a regular file.
     */
    static Path safeResolve(Path dir, Path realDir, String location, String tensor) {
        Path rel;
        try {
            rel = Path.of(location);
        } catch (InvalidPathException e) {
            throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': external data location '"
                    + printable(location) + "' is not a valid path: " + printable(e.getReason()), e);
        }
        Path resolved = dir.resolve(rel).normalize();
        if (rel.isAbsolute() || !resolved.startsWith(dir.normalize())) {
            throw HotpathException.invalidArgument("initializer '" + tensor + "': external data location '" + printable(location)
                    + "' leaves the model's directory " + dir + "; refused");
        }
        Path real = realPath(resolved, "external data file " + resolved + " of initializer '" + tensor + "'");
        if (!real.startsWith(realDir)) {
            throw HotpathException.invalidArgument("initializer '" + tensor + "': external data location '" + printable(location)
                    + "' leaves the model's directory " + dir + " through a symbolic link; refused");
        }
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': external data location '"
                    + printable(location) + "' is not a regular file");
        }
        return real;
    }

    /** {@code p} with every symbolic link resolved; NOT_FOUND when it does not exist. */
    private static Path realPath(Path p, String what) {
        try {
            return p.toRealPath();
        } catch (NoSuchFileException e) {
            throw new HotpathException(Category.NOT_FOUND, what + " not found", e);
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_MODEL, "cannot resolve " + what + ": " + printable(e.getMessage()), e);
        }
    }

    /** The external-data entry {@code key} as a byte count: INVALID_MODEL unless it is a whole number from 0 to 2^63-1. */
    private static long byteCount(Map<String, String> ext, String key, String tensor, String location) {
        String text = ext.get(key);
        long v;
        try {
            v = Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': external data " + key + " '" + printable(text)
                    + "' (in '" + printable(location) + "') is not a byte count (a whole number from 0 to " + Long.MAX_VALUE + ")");
        }
        if (v < 0) {
            throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': external data " + key + " " + v
                    + " (in '" + printable(location) + "') is negative");
        }
        return v;
    }

    /**
     * {@code length} bytes (-1: to the end) of {@code file} from {@code offset}, both already >= 0
     * (or -1). The file is opened without following a link, so one swapped in after the check
     * is not read.
     */
    private static ByteString read(Path file, long offset, long length, String tensor, String location) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = ch.size();
            String where = "initializer '" + tensor + "': " + file + " (location '" + printable(location) + "') has " + size + " bytes";
            if (offset > size) {
                throw new HotpathException(Category.INVALID_MODEL, where + ", the model's offset " + offset + " is past its end (truncated?)");
            }
            long n = length < 0 ? size - offset : length;
            if (n > size - offset) {
                throw new HotpathException(Category.INVALID_MODEL, where + ", the model asks for " + n + " at offset " + offset + " (truncated?)");
            }
            if (n > MAX_TENSOR_BYTES) {
                throw new HotpathException(Category.UNSUPPORTED, "initializer '" + tensor + "': external data of " + n
                        + " bytes is more than one tensor can hold here (at most " + MAX_TENSOR_BYTES + " bytes)");
            }
            byte[] bytes;
            try {
                bytes = new byte[(int) n];
            } catch (OutOfMemoryError e) {
                throw new HotpathException(Category.UNSUPPORTED, "initializer '" + tensor + "': " + n
                        + " bytes of external data do not fit in this JVM's heap (-Xmx)", e);
            }
            var buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    throw new HotpathException(Category.INVALID_MODEL, "initializer '" + tensor + "': " + file + " ended at byte "
                            + (offset + buf.position()) + " while " + n + " bytes at offset " + offset + " were read (truncated?)");
                }
            }
            return UnsafeByteOperations.unsafeWrap(bytes);     // the array is never written again
        } catch (NoSuchFileException e) {
            throw new HotpathException(Category.NOT_FOUND, "external data file " + file + " of initializer '" + tensor + "' not found", e);
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_MODEL, "cannot read " + file + ": " + printable(e.getMessage()), e);
        }
    }

    /** {@code s} on one line and at most 200 characters, for a message (names and locations come from the model file). */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), 201));
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 200 ? b + "..." : b.toString();
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
