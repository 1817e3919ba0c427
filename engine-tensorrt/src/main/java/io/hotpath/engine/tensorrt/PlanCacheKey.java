package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.core.HotpathException.Category;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What a built plan depends on. Two builds with equal keys produce interchangeable plans; any
 * change (model bytes, precision, calibration, profiles, builder settings, GPU, compute capability,
 * TensorRT or CUDA version) gives a different {@link #id()} and so a rebuild.
 */
public record PlanCacheKey(String modelSha256, String precision, String calibration, String profiles, String builder,
        String gpuName, String computeCapability, String tensorRtVersion, String cudaVersion) {

    /** The canonical text the id hashes, one {@code field=value} per line; saved beside the plan for people. */
    public String canonical() {
        return "model_sha256=" + modelSha256 + "\nprecision=" + precision + "\ncalibration=" + calibration + "\nprofiles=" + profiles
                + "\nbuilder=" + builder + "\ngpu=" + gpuName + "\ncompute_capability=" + computeCapability
                + "\ntensorrt=" + tensorRtVersion + "\ncuda=" + cudaVersion + "\n";
    }

    /** 32 hex digits of SHA-256 over {@link #canonical()}: the plan's file name. */
    public String id() {
        return sha256Hex(canonical().getBytes(StandardCharsets.UTF_8)).substring(0, 32);
    }

    /** The canonical text of a list of profiles. */
    public static String profilesText(List<ShapeProfiles.Profile> profiles) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < profiles.size(); i++) {
            sb.append('[').append(i).append("] ").append(profiles.get(i).canonical());
        }
        return sb.toString();
    }

    /** SHA-256 of a file's bytes, streamed, as hex. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new HotpathException(Category.NOT_FOUND, "model file not found: " + file, e);
        } catch (IOException e) {
            throw new HotpathException(Category.INVALID_MODEL, "cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new HotpathException(Category.INTERNAL, "SHA-256 missing from this JDK", e);
        }
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new HotpathException(Category.INTERNAL, "SHA-256 missing from this JDK", e);
        }
    }
}
