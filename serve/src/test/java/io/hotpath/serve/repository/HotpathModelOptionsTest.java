package io.hotpath.serve.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.embed.Budget;
import io.hotpath.embed.Precision;
import io.hotpath.serve.repository.HotpathModelOptions.EngineKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HotpathModelOptionsTest {
    private static final String SRC = "m/hotpath.properties";

    @TempDir
    Path dir;

    private HotpathModelOptions parse(String text) {
        return HotpathModelOptions.parse(SRC, text, dir);
    }

    private String error(String text) {
        HotpathException e = assertThrows(HotpathException.class, () -> parse(text));
        assertEquals(HotpathException.Category.INVALID_ARGUMENT, e.category());
        assertFalse(e.getMessage().contains("\n"));
        return e.getMessage();
    }

    @Test
    void defaultsWhenTheFileIsAbsentOrEmpty() {
        assertSame(HotpathModelOptions.DEFAULTS, HotpathModelOptions.load(dir, SRC));
        HotpathModelOptions empty = parse("# nothing set\n");
        for (HotpathModelOptions o : List.of(HotpathModelOptions.DEFAULTS, empty)) {
            assertEquals(EngineKind.BEST, o.engine());
            assertEquals(Precision.FP32, o.precision());
            assertFalse(o.precisionGiven());
            assertNull(o.calibration());
            assertEquals(64L << 20, o.cacheBytes());
            assertEquals(OptionalInt.empty(), o.threads());
            assertEquals(OptionalInt.empty(), o.maxBatch());
            assertEquals(OptionalLong.empty(), o.maxQueueDelayMicros());
            assertEquals(OptionalInt.empty(), o.queueCapacity());
            assertEquals(OptionalLong.empty(), o.requestTimeoutMs());
            assertEquals(Budget.defaults(), o.budget());
            assertEquals(List.of(), o.warnings());
        }
        assertFalse(HotpathModelOptions.DEFAULTS.fromFile());
        assertTrue(empty.fromFile());
    }

    @Test
    void everyKeyParsed() throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Files.write(dir.resolve("data/calib.npy"), new byte[] {1});
        HotpathModelOptions o = parse("""
                engine = TensorRT
                precision: int8
                accuracy.cosine=0.995
                accuracy.max_abs_error=0.05
                calibration=data/calib.npy
                cache.bytes=256m
                threads=4
                batching.max_batch=64
                batching.max_queue_delay_us=500
                queue.capacity=1000
                request.timeout_ms=250
                """);
        assertEquals(EngineKind.TENSORRT, o.engine());
        assertEquals("tensorrt", o.engine().kind());
        assertEquals(Precision.INT8, o.precision());
        assertTrue(o.precisionGiven());
        assertEquals(OptionalDouble.of(0.995), o.accuracyCosine());
        assertEquals(Budget.cosineAtLeast(0.995).maxAbsErrorAtMost(0.05), o.budget());
        assertEquals(dir.resolve("data/calib.npy"), o.calibration(), "relative to the model folder");
        assertEquals(256L << 20, o.cacheBytes());
        assertEquals(OptionalInt.of(4), o.threads());
        assertEquals(OptionalInt.of(64), o.maxBatch());
        assertEquals(OptionalLong.of(500), o.maxQueueDelayMicros());
        assertEquals(OptionalInt.of(1000), o.queueCapacity());
        assertEquals(OptionalLong.of(250), o.requestTimeoutMs());
        assertEquals(List.of(), o.warnings());
    }

    @Test
    void sharedCacheKeys() {
        HotpathModelOptions o = parse("cache.redis=redis://cache:6379\ncache.redis.ttl_s=60\ncache.redis.budget_us=1500");
        assertEquals("redis://cache:6379", o.cacheRedis());
        assertEquals(60, o.cacheRedisTtlSeconds().getAsLong());
        assertEquals(1500, o.cacheRedisBudgetMicros().getAsLong());
        assertEquals("off", parse("cache.redis=off").cacheRedis());
        assertEquals("rediss://u:p@cache:6380/2", parse("cache.redis=rediss://u:p@cache:6380/2").cacheRedis());
        assertEquals(null, parse("threads=1").cacheRedis());
        assertTrue(error("cache.redis=localhost:6379").contains("cache.redis: expected redis://host:port"));
        String withPassword = error("cache.redis=http://user:s3cret@cache:6379");
        assertFalse(withPassword.contains("s3cret"), "a value with credentials is never echoed: " + withPassword);
        assertTrue(error("cache.redis.ttl_s=0").contains("cache.redis.ttl_s=0: out of range"));
        assertTrue(error("cache.redis.budget_us=60000001").contains("cache.redis.budget_us=60000001: out of range"));
    }

    @Test
    void byteCountsWithUnits() {
        assertEquals(65536, parse("cache.bytes=65536").cacheBytes());
        assertEquals(64L << 10, parse("cache.bytes=64k").cacheBytes());
        assertEquals(64L << 20, parse("cache.bytes=64MiB").cacheBytes());
        assertEquals(2L << 30, parse("cache.bytes=2 GB").cacheBytes());
        assertEquals(0, parse("cache.bytes=0").cacheBytes());
        assertTrue(error("cache.bytes=64t").contains("cache.bytes=64t: use a byte count such as 67108864, 64m or 1g"));
        assertTrue(error("cache.bytes=").contains("cache.bytes=: use a byte count"));
        assertTrue(error("cache.bytes=99999999999999999g").contains("too large"));
        assertTrue(error("cache.bytes=12345678901234567890123").contains("use a byte count"));
    }

    @Test
    void unknownKeysAreWarnings() {
        HotpathModelOptions o = parse("engine=cpu\nprecison=int8\nbatching.max_delay=3\n");
        assertEquals(EngineKind.CPU, o.engine());
        assertEquals(2, o.warnings().size());
        assertTrue(o.warnings().get(0).startsWith("m/hotpath.properties: unknown key 'batching.max_delay', ignored (keys: engine, precision, "),
                o.warnings().get(0));
        assertTrue(o.warnings().get(1).startsWith("m/hotpath.properties: unknown key 'precison', ignored"), o.warnings().get(1));
    }

    @Test
    void badValuesAreErrorsNamingFileKeyAndValue() throws Exception {
        assertEquals("INVALID_ARGUMENT: m/hotpath.properties: engine=gpu: use best, cpu, jvm, tensorrt", error("engine=gpu"));
        assertEquals("INVALID_ARGUMENT: m/hotpath.properties: precision=int4: use fp32, fp16, int8 or fastest", error("precision=int4"));
        assertEquals("INVALID_ARGUMENT: m/hotpath.properties: precision=fp16 needs calibration=<file.npy> (sample inputs, relative to the model folder)",
                error("precision=fp16"));
        assertTrue(error("precision=fastest").contains("precision=fastest needs calibration="));
        assertTrue(error("calibration=missing.npy").startsWith("INVALID_ARGUMENT: m/hotpath.properties: calibration=missing.npy: no such file ("));
        assertEquals("INVALID_ARGUMENT: m/hotpath.properties: accuracy.cosine=1.5: out of range; use a cosine similarity in [-1, 1]",
                error("accuracy.cosine=1.5"));
        assertTrue(error("accuracy.cosine=high").contains("accuracy.cosine=high: not a number"));
        assertTrue(error("accuracy.max_abs_error=0").contains("accuracy.max_abs_error=0: out of range; use a number > 0"));
        assertTrue(error("accuracy.max_abs_error=NaN").contains("out of range"));
        assertEquals("INVALID_ARGUMENT: m/hotpath.properties: threads=2000: out of range; use 0 (the engine's default) to 1024", error("threads=2000"));
        assertTrue(error("threads=four").contains("threads=four: not an integer"));
        assertTrue(error("batching.max_batch=0").contains("batching.max_batch=0: out of range; use 1 to 65536"));
        assertTrue(error("batching.max_queue_delay_us=-5").contains("batching.max_queue_delay_us=-5: out of range"));
        assertTrue(error("queue.capacity=0").contains("queue.capacity=0: out of range"));
        assertTrue(error("request.timeout_ms=1.5").contains("request.timeout_ms=1.5: not an integer"));
        assertTrue(error("engine=\\u00zz").contains("not a properties file"), "a malformed \\u escape");
        Files.write(dir.resolve("c.npy"), new byte[] {1});
        assertEquals(Precision.FP16, parse("precision=FP16\ncalibration=c.npy").precision());
    }

    @Test
    void loadReadsTheModelFoldersFile() throws Exception {
        Files.writeString(dir.resolve("hotpath.properties"), "engine=jvm\nthreads=2\n");
        HotpathModelOptions o = HotpathModelOptions.load(dir, SRC);
        assertEquals(EngineKind.JVM, o.engine());
        assertEquals(OptionalInt.of(2), o.threads());
        Files.delete(dir.resolve("hotpath.properties"));
        Files.createDirectory(dir.resolve("hotpath.properties"));
        HotpathException e = assertThrows(HotpathException.class, () -> HotpathModelOptions.load(dir, SRC));
        assertEquals("INVALID_ARGUMENT: m/hotpath.properties: not a regular file", e.getMessage());
    }
}
