package io.hotpath.engine.tensorrt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCacheTest {
    @TempDir
    Path dir;

    private static PlanCacheKey key() {
        return new PlanCacheKey("ab".repeat(32), "fp16", "none", "[0] x min=[1] opt=[8] max=[8];", "workspace=1073741824 level=3",
                "NVIDIA H100 80GB HBM3", "sm_90", "10.15.1", "13.1");
    }

    @Test
    void everyFieldOfTheKeyChangesItsId() {
        PlanCacheKey k = key();
        assertEquals(k.id(), key().id());
        assertEquals(32, k.id().length());
        Set<String> ids = new HashSet<>();
        ids.add(k.id());
        ids.add(new PlanCacheKey("cd".repeat(32), k.precision(), k.calibration(), k.profiles(), k.builder(), k.gpuName(), k.computeCapability(), k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), "int8", k.calibration(), k.profiles(), k.builder(), k.gpuName(), k.computeCapability(), k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), "entropy", k.profiles(), k.builder(), k.gpuName(), k.computeCapability(), k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), k.calibration(), "[0] x min=[1] opt=[4] max=[8];", k.builder(), k.gpuName(), k.computeCapability(), k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), k.calibration(), k.profiles(), "workspace=1 level=5", k.gpuName(), k.computeCapability(), k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), k.calibration(), k.profiles(), k.builder(), "NVIDIA H200", k.computeCapability(), k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), k.calibration(), k.profiles(), k.builder(), k.gpuName(), "sm_89", k.tensorRtVersion(), k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), k.calibration(), k.profiles(), k.builder(), k.gpuName(), k.computeCapability(), "10.16.0", k.cudaVersion()).id());
        ids.add(new PlanCacheKey(k.modelSha256(), k.precision(), k.calibration(), k.profiles(), k.builder(), k.gpuName(), k.computeCapability(), k.tensorRtVersion(), "13.2").id());
        assertEquals(10, ids.size(), "each changed field must give a new id");
        assertTrue(k.canonical().contains("compute_capability=sm_90\n"));
    }

    @Test
    void modelHashIsTheFilesSha256() throws Exception {
        Path f = dir.resolve("m.onnx");
        Files.writeString(f, "abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", PlanCacheKey.sha256(f));
        HotpathException e = org.junit.jupiter.api.Assertions.assertThrows(HotpathException.class, () -> PlanCacheKey.sha256(dir.resolve("none.onnx")));
        assertEquals(HotpathException.Category.NOT_FOUND, e.category());
    }

    private static byte[] plan(int n) {
        byte[] b = new byte[n];
        new Random(3).nextBytes(b);
        return b;
    }

    @Test
    void storedPlansComeBackByteForByteWithTheirKeyAndLayerReport() throws Exception {
        PlanCache cache = new PlanCache(dir);
        assertTrue(cache.load(key()).isEmpty());
        byte[] p = plan(100_000);
        cache.store(key(), p, "{\"Layers\":[]}");
        assertArrayEquals(p, cache.load(key()).orElseThrow());
        assertEquals("{\"Layers\":[]}", Files.readString(cache.layersFile(key())));
        assertEquals(key().canonical(), Files.readString(dir.resolve(key().id() + ".key")));
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(f -> f.toString().endsWith(".tmp")), "no temporary file is left behind");
        }
    }

    @Test
    void aTruncatedPlanIsDetectedDeletedAndReportedAbsent() throws Exception {
        PlanCache cache = new PlanCache(dir);
        cache.store(key(), plan(10_000), null);
        Path f = cache.planFile(key());
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 1));
        assertTrue(PlanCache.check(Files.readAllBytes(f)).contains("truncated"));
        assertTrue(cache.load(key()).isEmpty());
        assertFalse(Files.exists(f), "the corrupt plan is deleted so the rebuild replaces it");
    }

    @Test
    void aFlippedByteOrForeignFileIsCorrupt() throws Exception {
        PlanCache cache = new PlanCache(dir);
        cache.store(key(), plan(10_000), null);
        Path f = cache.planFile(key());
        byte[] all = Files.readAllBytes(f);
        all[all.length / 2] ^= 1;
        assertEquals("checksum mismatch", PlanCache.check(all));
        Files.write(f, all);
        assertTrue(cache.load(key()).isEmpty());
        assertTrue(PlanCache.check("not a plan at all, just some text of more than fifty-two bytes".getBytes()).contains("bad magic"));
        assertTrue(PlanCache.check(new byte[10]).contains("shorter"));
        assertNull(PlanCache.check(Files.readAllBytes(writeValid(cache))));
    }

    private Path writeValid(PlanCache cache) {
        cache.store(key(), plan(64), null);
        return cache.planFile(key());
    }

    @Test
    void timingCacheRoundTripsPerGpuAndVersion() {
        PlanCache cache = new PlanCache(dir);
        assertNull(cache.loadTimingCache("NVIDIA H100 80GB HBM3", "10.15.1"));
        cache.storeTimingCache("NVIDIA H100 80GB HBM3", "10.15.1", new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, cache.loadTimingCache("NVIDIA H100 80GB HBM3", "10.15.1"));
        assertNull(cache.loadTimingCache("NVIDIA H200", "10.15.1"));
        assertNotEquals(cache.timingFile("a b", "1"), cache.timingFile("a_c", "1"));
    }

    @Test
    void modelInfoRoundTripsSoACachedOpenNeedNotParse() {
        PlanCache cache = new PlanCache(dir);
        String sha = "ab".repeat(32);
        assertTrue(cache.loadModelInfo(sha).isEmpty());
        var info = new io.hotpath.nativebindings.trt.TrtBuilder.ParsedModel(java.util.List.of(
                new io.hotpath.nativebindings.trt.TrtBuilder.ParsedInput("input_ids", new long[] {-1, -1}, 8),
                new io.hotpath.nativebindings.trt.TrtBuilder.ParsedInput("features", new long[] {-1, 64}, 0)), true);
        cache.storeModelInfo(sha, info);
        var back = cache.loadModelInfo(sha).orElseThrow();
        assertTrue(back.explicitQuantization());
        assertEquals(2, back.inputs().size());
        assertEquals("features", back.inputs().get(1).name());
        assertArrayEquals(new long[] {-1, 64}, back.inputs().get(1).dims());
        assertEquals(8, back.inputs().get(0).trtType());
    }
}
