package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;

/**
 * A directory of built plans. Each plan file is {@code <id>.plan}:
 *
 * <pre>
 *   0  8  magic "HPTRTPLN"
 *   8  4  format version (1), big-endian int
 *  12  8  payload length in bytes, big-endian long
 *  20 32  SHA-256 of the payload
 *  52  n  the serialized TensorRT engine
 * </pre>
 *
 * A file with another magic, a short or long payload or a checksum mismatch is corrupt: it is
 * reported as a warning, deleted, and the engine is rebuilt. Beside each plan: {@code <id>.key}
 * (the key's canonical text) and {@code <id>.layers.json} (the engine inspector's layer report).
 * The timing cache is {@code timing-<gpu>-trt<version>.cache}, shared by all plans for one GPU
 * kind and TensorRT version. Writes go to a temporary file first and are moved into place, so a
 * crash mid-write leaves no half plan under the final name.
 */
public final class PlanCache {
    private static final System.Logger LOG = System.getLogger("io.hotpath.tensorrt");
    static final byte[] MAGIC = "HPTRTPLN".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER = 8 + 4 + 8 + 32;

    private final Path dir;

    public PlanCache(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw HotpathException.invalidArgument("cannot create the plan cache directory " + dir + ": " + e.getMessage());
        }
    }

    /** The default directory: {@code $HOTPATH_CACHE/tensorrt} or {@code ~/.cache/hotpath/tensorrt}. */
    public static Path defaultDirectory() {
        String env = System.getenv("HOTPATH_CACHE");
        Path base = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "hotpath");
        return base.resolve("tensorrt");
    }

    public Path directory() {
        return dir;
    }

    public Path planFile(PlanCacheKey key) {
        return dir.resolve(key.id() + ".plan");
    }

    public Path layersFile(PlanCacheKey key) {
        return dir.resolve(key.id() + ".layers.json");
    }

    /** The cached plan for {@code key}; empty when absent or corrupt (a corrupt file is deleted with a warning). */
    public Optional<byte[]> load(PlanCacheKey key) {
        Path f = planFile(key);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        byte[] all;
        try {
            all = Files.readAllBytes(f);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read cached plan " + f + " (" + e.getMessage() + "); rebuilding");
            return Optional.empty();
        }
        String problem = check(all);
        if (problem != null) {
            LOG.log(System.Logger.Level.WARNING, "cached plan " + f + " is corrupt (" + problem + "); deleting it and rebuilding");
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // the rebuild overwrites it anyway
            }
            return Optional.empty();
        }
        return Optional.of(Arrays.copyOfRange(all, HEADER, all.length));
    }

    /** Why {@code file} is not a valid plan file, or null when it is. */
    static String check(byte[] file) {
        if (file.length < HEADER) {
            return "only " + file.length + " bytes, shorter than the " + HEADER + "-byte header";
        }
        if (!Arrays.equals(file, 0, 8, MAGIC, 0, 8)) {
            return "not a Hotpath plan file (bad magic)";
        }
        ByteBuffer b = ByteBuffer.wrap(file);
        int version = b.getInt(8);
        if (version != VERSION) {
            return "format version " + version + ", expected " + VERSION;
        }
        long length = b.getLong(12);
        if (length != file.length - HEADER) {
            return "payload of " + (file.length - HEADER) + " bytes, header says " + length + " (truncated or appended)";
        }
        byte[] sum = sha(file, HEADER, file.length - HEADER);
        if (!Arrays.equals(sum, 0, 32, file, 20, 52)) {
            return "checksum mismatch";
        }
        return null;
    }

    /** Stores a plan, its key text and its layer report. */
    public void store(PlanCacheKey key, byte[] plan, String layersJson) {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        header.put(MAGIC).putInt(VERSION).putLong(plan.length).put(sha(plan, 0, plan.length));
        try {
            Path tmp = Files.createTempFile(dir, key.id(), ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                out.write(header.array());
                out.write(plan);
            }
            move(tmp, planFile(key));
            writeText(dir.resolve(key.id() + ".key"), key.canonical());
            if (layersJson != null) {
                writeText(layersFile(key), layersJson);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot save the plan to " + dir + " (" + e.getMessage() + "); it will be rebuilt next time");
        }
    }

    /**
     * What parsing a model told us (input names, dims, TensorRT types, whether it has Q/DQ nodes),
     * saved per model content hash so that opening a cached plan does not parse the model again.
     * One line per input: {@code name<TAB>trtType<TAB>d0,d1,...}; a first line {@code qdq=true|false}.
     */
    public java.util.Optional<io.hotpath.nativebindings.trt.TrtBuilder.ParsedModel> loadModelInfo(String modelSha256) {
        Path f = dir.resolve("model-" + modelSha256 + ".inputs");
        if (!Files.isRegularFile(f)) {
            return java.util.Optional.empty();
        }
        try {
            java.util.List<String> lines = Files.readAllLines(f);
            if (lines.isEmpty() || !lines.get(0).startsWith("qdq=")) {
                return java.util.Optional.empty();
            }
            boolean qdq = Boolean.parseBoolean(lines.get(0).substring(4));
            java.util.List<io.hotpath.nativebindings.trt.TrtBuilder.ParsedInput> inputs = new java.util.ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                String[] p = line.split("\t");
                long[] dims = p.length < 3 || p[2].isEmpty() ? new long[0]
                        : java.util.Arrays.stream(p[2].split(",")).mapToLong(Long::parseLong).toArray();
                inputs.add(new io.hotpath.nativebindings.trt.TrtBuilder.ParsedInput(p[0], dims, Integer.parseInt(p[1])));
            }
            return java.util.Optional.of(new io.hotpath.nativebindings.trt.TrtBuilder.ParsedModel(inputs, qdq));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable model info " + f + " (" + e.getMessage() + "); parsing the model");
            return java.util.Optional.empty();
        }
    }

    public void storeModelInfo(String modelSha256, io.hotpath.nativebindings.trt.TrtBuilder.ParsedModel info) {
        StringBuilder sb = new StringBuilder("qdq=").append(info.explicitQuantization()).append('\n');
        for (var in : info.inputs()) {
            sb.append(in.name()).append('\t').append(in.trtType()).append('\t');
            for (int i = 0; i < in.dims().length; i++) {
                sb.append(i == 0 ? "" : ",").append(in.dims()[i]);
            }
            sb.append('\n');
        }
        try {
            writeText(dir.resolve("model-" + modelSha256 + ".inputs"), sb.toString());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot save model info: " + e.getMessage());
        }
    }

    /** The saved timing cache for this GPU kind and TensorRT version, or null. */
    public byte[] loadTimingCache(String gpu, String trtVersion) {
        Path f = timingFile(gpu, trtVersion);
        try {
            return Files.isRegularFile(f) ? Files.readAllBytes(f) : null;
        } catch (IOException e) {
            return null;
        }
    }

    public void storeTimingCache(String gpu, String trtVersion, byte[] cache) {
        if (cache == null || cache.length == 0) {
            return;
        }
        try {
            Path tmp = Files.createTempFile(dir, "timing", ".tmp");
            Files.write(tmp, cache);
            move(tmp, timingFile(gpu, trtVersion));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot save the timing cache: " + e.getMessage());
        }
    }

    Path timingFile(String gpu, String trtVersion) {
        return dir.resolve("timing-" + gpu.replaceAll("[^A-Za-z0-9._-]+", "_") + "-trt" + trtVersion + ".cache");
    }

    private void writeText(Path target, String text) throws IOException {
        Path tmp = Files.createTempFile(dir, "text", ".tmp");
        Files.writeString(tmp, text);
        move(tmp, target);
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static byte[] sha(byte[] b, int off, int len) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(b, off, len);
            return sha.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new HotpathException(Category.INTERNAL, "SHA-256 missing from this JDK", e);
        }
    }
}
