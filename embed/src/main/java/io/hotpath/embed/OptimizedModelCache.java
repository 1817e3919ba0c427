package io.hotpath.embed;

import io.hotpath.core.HotpathException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The optimizer's choices kept on disk, keyed by content: the SHA-256 of the model's bytes and of
 * everything that changes the choice (precision, budget, calibration and validation data, the
 * CPU's INT8 scheme, the engine kind, the format version). The second start with the same inputs
 * finds the chosen variant here and runs no optimizer.
 *
 * <pre>
 * DIR/
 *   3f9a...e1/                 one entry per key (the first 32 hex digits of the SHA-256)
 *     choice.properties        format, precision, variant, accuracy, reason, created, cpu
 *     model.onnx               the chosen variant (absent when the choice is the original model)
 * </pre>
 *
 * An entry is written in a temporary folder beside it and moved into place in one step, so a
 * reader never sees half an entry and two processes preparing the same model both end with one
 * whole entry. An entry that cannot be read is treated as absent and rewritten.
 */
final class OptimizedModelCache {
    static final String FORMAT = "1";
    static final String CHOICE = "choice.properties";
    static final String MODEL = "model.onnx";

    private final Path dir;

    OptimizedModelCache(Path dir) {
        this.dir = dir;
    }

    /** {@code $XDG_CACHE_HOME/hotpath/optimized}, else {@code ~/.cache/hotpath/optimized}. */
    static Path defaultDirectory() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("hotpath").resolve("optimized");
    }

    Path directory() {
        return dir;
    }

    /** A cached choice: the properties and the model file the engine should open (null: the original). */
    record Entry(Properties choice, Path model) {
    }

    /** The entry for {@code key}, or null when there is none or it cannot be read. */
    Entry find(String key) {
        Path e = dir.resolve(key);
        Path props = e.resolve(CHOICE);
        if (!Files.isRegularFile(props)) {
            return null;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(props)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException ex) {
            return null;
        }
        if (!FORMAT.equals(p.getProperty("format")) || p.getProperty("variant") == null || p.getProperty("precision") == null) {
            return null;
        }
        boolean original = Boolean.parseBoolean(p.getProperty("original"));
        Path model = e.resolve(MODEL);
        if (!original && !Files.isRegularFile(model)) {
            return null;
        }
        return new Entry(p, original ? null : model);
    }

    /**
     * Stores {@code choice} and, unless null, a copy of {@code variantFile} under {@code key}, in
     * one move. Returns the stored entry (another process's, if it stored the same key first).
     */
    Entry store(String key, Properties choice, Path variantFile) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempDirectory(dir, key + ".tmp-");
            try {
                choice.setProperty("format", FORMAT);
                choice.setProperty("original", Boolean.toString(variantFile == null));
                if (variantFile != null) {
                    Files.copy(variantFile, tmp.resolve(MODEL));
                }
                try (OutputStream out = Files.newOutputStream(tmp.resolve(CHOICE))) {
                    choice.store(out, "Hotpath optimized-model cache entry");
                }
                Path target = dir.resolve(key);
                if (Files.exists(target) && find(key) == null) {
                    deleteTree(target);         // unreadable: replace it
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                    // another process stored it first: theirs is as good as ours
                } catch (AtomicMoveNotSupportedException ex) {
                    throw new HotpathException(HotpathException.Category.INVALID_ARGUMENT, "the optimized-model cache " + dir
                            + " is on a file system without atomic renames; choose another with optimizedModelCache(dir)");
                } catch (java.nio.file.FileSystemException raced) {
                    if (!Files.isDirectory(target)) {
                        throw raced;
                    }
                    // the same race reported as rename(2)'s ENOTEMPTY, which Java does not map to DirectoryNotEmptyException
                }
            } finally {
                if (Files.exists(tmp)) {
                    deleteTree(tmp);
                }
            }
        } catch (IOException e) {
            throw new HotpathException(HotpathException.Category.INVALID_ARGUMENT, "cannot write the optimized-model cache " + dir + ": " + e, e);
        }
        Entry stored = find(key);
        if (stored == null) {
            throw new HotpathException(HotpathException.Category.INTERNAL, "the optimized-model cache entry " + dir.resolve(key)
                    + " was written but cannot be read back");
        }
        return stored;
    }

    /** Removes the entry of {@code key}, if any: one that must be made again. */
    void evict(String key) {
        deleteTree(dir.resolve(key));
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A SHA-256 over the parts of a key, each length-prefixed so no two sequences of parts collide. */
    static final class KeyDigest {
        private final MessageDigest md;

        KeyDigest() {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }

        KeyDigest text(String s) {
            return bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        KeyDigest bytes(byte[] b) {
            longValue(b.length);
            md.update(b);
            return this;
        }

        KeyDigest longValue(long v) {
            for (int i = 0; i < 8; i++) {
                md.update((byte) (v >>> (8 * i)));
            }
            return this;
        }

        KeyDigest file(Path f) {
            try (InputStream in = Files.newInputStream(f)) {
                longValue(Files.size(f));
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new HotpathException(HotpathException.Category.NOT_FOUND, "cannot read the model " + f + ": " + e.getMessage(), e);
            }
            return this;
        }

        /** The first 32 hex digits (128 bits) of the digest. */
        String key() {
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        }
    }
}
