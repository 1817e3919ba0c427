package io.hotpath.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.HotpathException;
import io.hotpath.embed.Hotpath;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.EngineChoice;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.service.SharedCacheTier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shared tier against a real {@code redis-server} per test (its own free port): answers
 * shared between two services, collisions, foreign and damaged values, and Redis down at start,
 * killed, paused and slowed under load. Every answer is compared with the engine's own, bit for
 * bit: the services run the built-in {@code mlp} in direct mode (one row per run, so the engine's
 * answer for an input does not depend on what else is in its batch), except where the async
 * (batched) path is the subject.
 */
class SharedCacheTierTest {
    static final int FEATURES = 64;
    static Path mlp;
    RedisServer redis;
    final List<InferenceService> services = new ArrayList<>();
    final CapturedLog log = new CapturedLog();

    @BeforeAll
    static void model() {
        Assumptions.assumeTrue(RedisServer.installed(), "redis-server is not installed (.ci/run installs Debian's redis-server)");
        mlp = ModelCatalog.resolve("mlp");
    }

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start();
        Logger.getLogger(SharedCacheTier.class.getName()).addHandler(log);
    }

    @AfterEach
    void stop() {
        Logger.getLogger(SharedCacheTier.class.getName()).removeHandler(log);
        services.forEach(InferenceService::close);
        redis.close();
    }

    InferenceService service(String uri, boolean direct, Consumer<io.hotpath.service.CacheOptions> more) {
        var b = Hotpath.service(mlp).engine(EngineChoice.CPU).cache(c -> {
            c.budgetBytes(4L << 20).redis(uri, Duration.ofMinutes(5), Duration.ofMillis(50))
                    .redisBreaker(3, Duration.ofMillis(50), Duration.ofMillis(400));
            more.accept(c);
        });
        if (direct) {
            b.direct();
        } else {
            b.batching(c -> c.maxBatchSize(8).maxQueueDelayMicros(200));
        }
        InferenceService s = b.build();
        services.add(s);
        return s;
    }

    InferenceService service(boolean direct) {
        return service(redis.uri(), direct, c -> { });
    }

    /**
     * A lookup budget no stall of a loaded two-core CI machine reaches (a GC, a JIT burst, 64
     * lookups at once): for the tests that assert where each answer came from. With the 50 ms of
     * {@link #service} one slow lookup was abandoned under CI load and its request, rightly, ran on
     * the engine, failing "request 2 was in Redis". The budget itself is tested under faults below.
     */
    Consumer<io.hotpath.service.CacheOptions> patient() {
        String uri = redis.uri();
        return c -> c.redis(uri, Duration.ofMinutes(5), Duration.ofSeconds(5));
    }

    InferenceService patientService(boolean direct) {
        return service(redis.uri(), direct, patient());
    }

    /** The engine's own answers, from a service with no cache at all. */
    float[] reference(float[][] inputs) {
        InferenceService plain = Hotpath.service(mlp).engine(EngineChoice.CPU).direct().build();
        services.add(plain);
        Request r = plain.newRequest();
        float[] out = new float[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            out[i] = run(plain, r, inputs[i]);
        }
        return out;
    }

    static float[][] inputs(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] x = new float[n][FEATURES];
        for (float[] row : x) {
            for (int j = 0; j < FEATURES; j++) {
                row[j] = (float) rnd.nextGaussian();
            }
        }
        return x;
    }

    static void write(Request r, float[] x) {
        for (int j = 0; j < x.length; j++) {
            r.input(0).putFloat(j, x[j]);
        }
    }

    static float run(InferenceService s, Request r, float[] x) {
        write(r, x);
        int status = s.infer(r);
        assertEquals(BatchStatus.OK, status, "status " + BatchStatus.name(status));
        return r.output(0).getFloat(0);
    }

    static void awaitTrue(String what, java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Waits until every write {@code s} sent has been answered, and checks that none was dropped or failed. */
    static void awaitWritten(InferenceService s) throws InterruptedException {
        awaitTrue("the writes reached Redis", () -> s.sharedCache().writesInFlight() == 0);
        assertEquals(0, s.sharedCache().writesDropped() + s.sharedCache().writeErrors(), "writes dropped or failed");
    }

    /** Sends fresh inputs (an L1 hit never reaches the shared tier) until its breaker has closed. */
    static void awaitConnected(InferenceService s) throws InterruptedException {
        Request probe = s.newRequest();
        SplittableRandom seeds = new SplittableRandom();
        awaitTrue("the shared tier is connected", () -> {
            run(s, probe, inputs(1, seeds.nextLong())[0]);
            return !s.sharedCache().breakerOpen();
        });
    }

    @Test
    void anAnswerComputedByOneServiceIsServedByTheOtherBitForBit() throws Exception {
        float[][] x = inputs(300, 1);
        InferenceService a = patientService(true);
        InferenceService b = patientService(false);
        awaitConnected(a);
        awaitConnected(b);
        Request ra = a.newRequest();
        float[] computed = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            computed[i] = run(a, ra, x[i]);
        }
        awaitWritten(a);
        assertTrue(redis.keys("hotpath:1:*").size() >= x.length, "one entry per input");

        long engineRows0 = b.metrics().submitted();
        Request rb = b.newRequest();
        for (int i = 0; i < x.length; i++) {
            float got = run(b, rb, x[i]);
            assertEquals(Float.floatToRawIntBits(computed[i]), Float.floatToRawIntBits(got), "input " + i + ": B's answer is A's engine answer");
            assertTrue(rb.fromSharedCache(), "input " + i + " answered by the shared tier");
        }
        long engineRuns = b.metrics().submitted() - engineRows0;
        assertTrue(engineRuns <= x.length / 100, "B's engine ran " + engineRuns + " of " + x.length + " requests");
        assertTrue(b.sharedCache().hits() >= x.length, "hits " + b.sharedCache().hits());
        // an L2 hit fills L1: the second time round B answers from its own memory
        long hits = b.sharedCache().hits();
        for (int i = 0; i < 20; i++) {
            assertEquals(Float.floatToRawIntBits(computed[i]), Float.floatToRawIntBits(run(b, rb, x[i])));
            assertTrue(rb.fromCache() && !rb.fromSharedCache(), "input " + i + " from L1 now");
        }
        assertEquals(hits, b.sharedCache().hits());
        assertTrue(b.sharedCache().latencyMicros().getTotalCount() >= x.length, "lookup times recorded");
    }

    @Test
    void theAsyncPathAnswersHitsAndMissesExactlyOnce() throws Exception {
        float[][] x = inputs(64, 2);
        float[] want = reference(x);
        InferenceService a = patientService(true);
        awaitConnected(a);
        Request ra = a.newRequest();
        for (int i = 0; i < 32; i++) {          // the first half is in Redis, the second is not
            run(a, ra, x[i]);
        }
        awaitWritten(a);

        InferenceService b = patientService(false);
        awaitConnected(b);
        AtomicIntegerArray answers = new AtomicIntegerArray(x.length);
        float[] got = new float[x.length];
        boolean[] shared = new boolean[x.length];
        CountDownLatch done = new CountDownLatch(x.length);
        List<Request> reqs = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            Request r = b.newRequest().attach(i);
            write(r, x[i]);
            reqs.add(r);
        }
        for (Request r : reqs) {
            int s = b.inferAsync(r, (req, status) -> {
                int i = (Integer) req.attachment();
                if (status == BatchStatus.OK) {
                    got[i] = req.output(0).getFloat(0);
                    shared[i] = req.fromSharedCache();
                }
                answers.incrementAndGet(i);
                done.countDown();
            });
            assertTrue(s == BatchStatus.PENDING || s == BatchStatus.OK, "accepted: " + BatchStatus.name(s));
        }
        assertTrue(done.await(20, TimeUnit.SECONDS), "every request answered");
        for (Request r : reqs) {
            assertEquals(BatchStatus.OK, b.await(r), "await agrees with the callback");
        }
        Thread.sleep(200);      // a second answer would arrive now
        for (int i = 0; i < x.length; i++) {
            assertEquals(1, answers.get(i), "request " + i + " answered exactly once");
            assertEquals(want[i], got[i], 1e-5f, "request " + i);
            if (i < 32) {
                assertTrue(shared[i], "request " + i + " was in Redis");
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "a shared answer is the engine's, bit for bit");
            } else {
                assertFalse(shared[i], "request " + i + " was not in Redis");
            }
        }
    }

    @Test
    void aHashCollisionNeverReturnsAnotherInputsAnswer() throws Exception {
        float[][] x = inputs(40, 3);
        float[] want = reference(x);
        Consumer<io.hotpath.service.CacheOptions> oneKey = patient().andThen(c -> c.redisKeyHasher((model, key, off, len) -> 42L));
        InferenceService a = service(redis.uri(), true, oneKey);
        InferenceService b = service(redis.uri(), true, oneKey);
        awaitConnected(a);
        awaitConnected(b);
        Request ra = a.newRequest();
        Request rb = b.newRequest();
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(run(a, ra, x[i])));
        }
        awaitWritten(a);
        assertEquals(1, redis.keys("hotpath:1:*").size(), "every input (and every probe) named by one key");
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(run(b, rb, x[i])), "input " + i);
        }
        assertTrue(b.sharedCache().corrupt() >= x.length - 2, "another input's entry is counted, never served: " + b.sharedCache().corrupt());
        assertTrue(b.sharedCache().hits() <= 2, "at most the inputs whose own entry was the one there: " + b.sharedCache().hits());
    }

    @Test
    void garbageOrAWrongSizeIsAMissAndCounted() throws Exception {
        float[][] x = inputs(20, 4);
        float[] want = reference(x);
        InferenceService a = patientService(true);
        awaitConnected(a);
        Request ra = a.newRequest();
        for (float[] row : x) {
            run(a, ra, row);
        }
        awaitWritten(a);
        List<String> keys = redis.keys("hotpath:1:*");
        for (int k = 0; k < keys.size(); k++) {
            byte[] key = keys.get(k).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            byte[] value = redis.commandBytes("GET".getBytes(), key);
            byte[] bad = switch (k % 3) {
                case 0 -> "not a hotpath value".getBytes();
                case 1 -> java.util.Arrays.copyOf(value, value.length - 1);          // one byte short
                default -> {
                    byte[] v = value.clone();
                    v[v.length - 1] ^= 1;                                            // a right-size value...
                    v[40] ^= 1;                                                       // ...whose key bytes are another input's
                    yield v;
                }
            };
            redis.commandBytes("SET".getBytes(), key, bad);
        }
        InferenceService b = patientService(true);
        awaitConnected(b);
        long corrupt0 = b.sharedCache().corrupt();
        Request rb = b.newRequest();
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(run(b, rb, x[i])), "input " + i);
            assertFalse(rb.fromCache());
        }
        assertEquals(x.length, b.sharedCache().corrupt() - corrupt0);
        assertFalse(b.sharedCache().breakerOpen(), "a bad value is a miss, not a failing Redis");
    }

    @Test
    void downAtStartTheServiceAnswersFromTheEngineAndConnectsWhenRedisComesUp() throws Exception {
        int port = RedisServer.freePort();
        redis.close();
        float[][] x = inputs(30, 5);
        float[] want = reference(x);
        InferenceService s = service("redis://127.0.0.1:" + port, true, c -> { });
        Request r = s.newRequest();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(run(s, r, x[i])));
            }
        }
        assertTrue(s.sharedCache().breakerOpen());
        assertEquals(0, s.sharedCache().hits() + s.sharedCache().misses());
        awaitTrue("one warning logged", () -> log.count("unavailable at start") == 1);

        redis = RedisServer.startOn(port);
        awaitConnected(s);
        assertTrue(log.count("connected") + log.count("answering again") >= 1, log.toString());
        assertEquals(1, log.warnings(), "one warning for the whole outage: " + log);
        float[][] fresh = inputs(10, 6);
        for (float[] row : fresh) {
            run(s, r, row);
        }
        awaitTrue("writes resumed", () -> s.sharedCache().writes() >= fresh.length);
    }

    /** Runs {@code threads} callers over a repeated workload until {@code stop}; every answer is checked. */
    final class Load {
        final float[][] x = inputs(64, 7);
        final float[] want = reference(x);
        final ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        final java.util.concurrent.atomic.AtomicLong answered = new java.util.concurrent.atomic.AtomicLong();
        volatile boolean stop;
        final List<Thread> threads = new ArrayList<>();

        Load(InferenceService s, int n) {
            for (int t = 0; t < n; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    Request r = s.newRequest();
                    SplittableRandom rnd = new SplittableRandom(id);
                    while (!stop) {
                        int i = rnd.nextInt(x.length);
                        write(r, x[i]);
                        int st = s.infer(r);
                        if (st != BatchStatus.OK) {
                            wrong.add("input " + i + ": " + BatchStatus.name(st));
                        } else if (Float.floatToRawIntBits(r.output(0).getFloat(0)) != Float.floatToRawIntBits(want[i])) {
                            wrong.add("input " + i + ": " + r.output(0).getFloat(0) + " != " + want[i]);
                        }
                        answered.incrementAndGet();
                    }
                }, "load-" + t);
                threads.add(th);
                th.start();
            }
        }

        void runFor(long millis) throws InterruptedException {
            long a0 = answered.get();
            Thread.sleep(millis);
            assertTrue(answered.get() > a0, "requests keep being answered");
        }

        void finish() throws InterruptedException {
            stop = true;
            for (Thread t : threads) {
                t.join(10_000);
            }
            assertTrue(wrong.isEmpty(), wrong.size() + " wrong or failed answers, first: " + wrong.peek());
        }
    }

    /** Local cache small enough that the workload keeps reaching the shared tier. */
    InferenceService loadService() {
        InferenceService s = Hotpath.service(mlp).engine(EngineChoice.CPU).direct().cache(c -> c.budgetBytes(4L << 20)
                .ttlNanos(1)                          // L1 entries expire at once: every request asks Redis
                // 150 ms: a fault (pause, sleep: 600-800 ms) still opens the breaker within it, while a stall of the
                // loaded CI machine outside the fault does not open it a second time (20 ms did, in principle)
                .redis(redis.uri(), Duration.ofMinutes(5), Duration.ofMillis(150))
                .redisBreaker(3, Duration.ofMillis(50), Duration.ofMillis(400))).build();
        services.add(s);
        return s;
    }

    @Test
    void killedMidRunNoRequestFailsAndTheTierResumesWhenRedisIsBack() throws Exception {
        InferenceService s = loadService();
        awaitConnected(s);
        Load load = new Load(s, 2);
        load.runFor(300);
        awaitTrue("hits before the fault", () -> s.sharedCache().hits() > 0);
        redis.kill();
        load.runFor(500);
        assertTrue(s.sharedCache().breakerOpen(), "the breaker opened");
        redis.restart();
        awaitTrue("the tier resumed", () -> !s.sharedCache().breakerOpen());
        long hits = s.sharedCache().hits();
        awaitTrue("hits after the fault", () -> s.sharedCache().hits() > hits + 10);
        load.finish();
        assertEquals(1, log.count("failing"), "one warning for the outage: " + log);
        assertEquals(1, log.count("answering again"), log.toString());
    }

    @Test
    void pausedNoRequestFailsLookupsAreAbandonedAtTheBudgetAndTheTierResumes() throws Exception {
        InferenceService s = loadService();
        awaitConnected(s);
        Load load = new Load(s, 2);
        load.runFor(300);
        redis.pause();
        try {
            load.runFor(600);
            assertTrue(s.sharedCache().abandoned() > 0, "lookups abandoned at the budget");
            assertTrue(s.sharedCache().breakerOpen(), "the breaker opened");
        } finally {
            redis.resume();
        }
        awaitTrue("the tier resumed", () -> !s.sharedCache().breakerOpen());
        long hits = s.sharedCache().hits();
        awaitTrue("hits after the fault", () -> s.sharedCache().hits() > hits + 10);
        load.finish();
        assertEquals(1, log.count("failing"), "one warning for the outage: " + log);
    }

    @Test
    void slowedByDebugSleepNoRequestFailsAndTheTierResumes() throws Exception {
        InferenceService s = loadService();
        awaitConnected(s);
        Load load = new Load(s, 2);
        load.runFor(300);
        Thread sleeper = redis.debugSleep(0.8);
        load.runFor(600);
        sleeper.join();
        assertTrue(s.sharedCache().abandoned() > 0, "lookups abandoned at the budget");
        awaitTrue("the tier resumed", () -> !s.sharedCache().breakerOpen());
        long hits = s.sharedCache().hits();
        awaitTrue("hits after the fault", () -> s.sharedCache().hits() > hits + 10);
        load.finish();
        assertTrue(s.sharedCache().breakerOpenings() >= 1);
    }

    @Test
    void closeWhileLookupsWaitOnAPausedRedisAnswersEachRequestOnce() throws Exception {
        InferenceService b = service(redis.uri(), false, c -> c.redis(redis.uri(), Duration.ofMinutes(5), Duration.ofMillis(500)));
        awaitConnected(b);
        float[][] x = inputs(16, 8);
        AtomicIntegerArray answers = new AtomicIntegerArray(x.length);
        CountDownLatch done = new CountDownLatch(x.length);
        redis.pause();
        try {
            for (int i = 0; i < x.length; i++) {
                Request r = b.newRequest().attach(i);
                write(r, x[i]);
                int s = b.inferAsync(r, (req, status) -> {
                    answers.incrementAndGet((Integer) req.attachment());
                    done.countDown();
                });
                assertEquals(BatchStatus.PENDING, s);
            }
            b.close();
            assertTrue(done.await(10, TimeUnit.SECONDS), "every accepted request answered");
        } finally {
            redis.resume();
        }
        Thread.sleep(200);
        for (int i = 0; i < x.length; i++) {
            assertEquals(1, answers.get(i), "request " + i);
        }
    }

    @Test
    void configurationErrorsAreOneClearLine() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(HotpathException.class,
                () -> service("memcached://127.0.0.1:11211", true, c -> { }));
        assertTrue(e.getMessage().contains("memcached://"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(HotpathException.class,
                () -> service("redis://user:s3cret@", true, c -> { }));
        assertFalse(e.getMessage().contains("s3cret"), "the password is never in a message: " + e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(HotpathException.class,
                () -> Hotpath.service(mlp).cache(c -> c.redis(redis.uri(), Duration.ofMinutes(1), Duration.ZERO)).build());
        assertTrue(e.getMessage().contains("budget"), e.getMessage());
    }

    @Test
    void theDescriptionCarriesNoCredentials() throws Exception {
        redis.command("CONFIG", "SET", "requirepass", "s3cret");
        InferenceService s = service("redis://:s3cret@127.0.0.1:" + redis.port(), true, c -> { });
        awaitConnected(s);
        assertEquals("redis://127.0.0.1:" + redis.port(), s.sharedCache().describe());
        assertFalse(log.toString().contains("s3cret"));
        Request r = s.newRequest();
        run(s, r, inputs(1, 9)[0]);
        awaitTrue("a write with the password", () -> s.sharedCache().writes() >= 1);
    }

    /** The shared tier's log lines, to check that an outage is said once, not once per request. */
    static final class CapturedLog extends Handler {
        final ConcurrentLinkedQueue<LogRecord> records = new ConcurrentLinkedQueue<>();

        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        long count(String text) {
            return records.stream().filter(r -> r.getMessage().contains(text)).count();
        }

        long warnings() {
            return records.stream().filter(r -> r.getLevel() == java.util.logging.Level.WARNING).count();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return records.stream().map(LogRecord::getMessage).toList().toString();
        }
    }
}
