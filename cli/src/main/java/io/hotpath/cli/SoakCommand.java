package io.hotpath.cli;

import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.Batch;
import io.hotpath.core.HotpathException;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import io.hotpath.core.Tensor;
import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A long run through the whole serving path (cache -> batcher -> ONNX Runtime) with everything
 * that goes wrong in production mixed in: random deadlines (some already late), asynchronous and
 * blocking callers, periodic cache invalidation. It checks that every request is answered exactly
 * once with the engine's own answer, and samples resident memory (and native memory tracking when
 * the JVM runs with {@code -XX:NativeMemoryTracking=summary}) to show it stays flat.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "Soak test: millions of requests through InferenceService on a small model with the cache, random deadlines and "
                + "periodic invalidation; checks every answer and that memory stays flat. Exit 1 when a check fails.")
final class SoakCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", defaultValue = "mlp", paramLabel = "FILE|ALIAS",
            description = "A model with one float32 input of fixed row width (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--requests", defaultValue = "10000000", description = "Requests in all (default ${DEFAULT-VALUE}).")
    long requests;

    @Option(names = "--callers", defaultValue = "4", description = "Caller threads (default ${DEFAULT-VALUE}).")
    int threads;

    /** The old spelling of --callers: in bench and demo, --threads means ONNX Runtime's intra-op threads. */
    @Option(names = "--threads", hidden = true)
    Integer deprecatedThreads;

    @Option(names = "--cache-mb", defaultValue = "4", description = "Prediction cache budget in MiB (default ${DEFAULT-VALUE}).")
    int cacheMb;

    @Option(names = "--distinct", defaultValue = "65536", description = "Distinct inputs the requests draw from (repeats hit the cache; default ${DEFAULT-VALUE}).")
    int distinct;

    @Option(names = "--invalidate-every", defaultValue = "200000", description = "Invalidate the model's cache entries every N requests (default ${DEFAULT-VALUE}).")
    long invalidateEvery;

    @Option(names = "--sample-every-s", defaultValue = "5", description = "Seconds between memory samples (default ${DEFAULT-VALUE}).")
    double sampleEverySeconds;

    @Option(names = "--rss-bound-mb", defaultValue = "64",
            description = "Largest allowed RSS growth from the first sample after 10% of the requests (warmed up) to the highest later one (default ${DEFAULT-VALUE}).")
    long rssBoundMb;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        if (deprecatedThreads != null) {
            var parsed = spec.commandLine().getParseResult();
            if (parsed != null && parsed.hasMatchedOption("--callers")) {
                throw check.fail("give --callers only (--threads is its deprecated spelling)");
            }
            spec.commandLine().getErr().println("hotpath: soak --threads is deprecated; use --callers (--threads means ONNX Runtime's "
                    + "intra-op threads in bench and demo)");
            threads = deprecatedThreads;
        }
        check.range("--requests", requests, 1, 1_000_000_000_000L, null);
        check.range("--callers", threads, 1, Checks.MAX_CONCURRENCY);
        check.range("--cache-mb", cacheMb, 1, Checks.memoryLimitBytes() >> 20, Checks.memoryLimitWhy());
        check.range("--distinct", distinct, 1, 1_000_000);
        check.range("--invalidate-every", invalidateEvery, 1, Long.MAX_VALUE, null);
        check.positive("--sample-every-s", sampleEverySeconds, 3600);
        check.range("--rss-bound-mb", rssBoundMb, 1, Long.MAX_VALUE, null);
        PrintStream out = System.out;
        Path file = ModelCatalog.resolve(model);
        OrtCpuEngine engine = OrtCpuEngine.open(file, CpuEngineOptions.builder().maxBatchSize(16).intraOpThreads(1).build());
        if (engine.inputs().size() != 1 || engine.inputs().get(0).shape().rank() != 2 || engine.inputs().get(0).shape().isDynamic(1)) {
            engine.close();
            throw new HotpathException(HotpathException.Category.UNSUPPORTED, "soak needs a model with one [batch, width] float32 input; "
                    + model + " has " + engine.inputs());
        }
        int width = (int) engine.inputs().get(0).shape().dim(1);
        float[][] rows = new float[distinct][width];
        SplittableRandom rnd = new SplittableRandom(42);
        for (float[] row : rows) {
            for (int i = 0; i < width; i++) {
                row[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        float[][] expected = reference(file, rows);
        out.println("hotpath soak: " + requests + " requests, " + threads + " callers, model " + model + ", cache " + cacheMb + " MiB, "
                + distinct + " distinct inputs, invalidation every " + invalidateEvery + ", on " + SystemInfo.detect().summary());

        AtomicLong issued = new AtomicLong();
        AtomicLong ok = new AtomicLong();
        AtomicLong fromCache = new AtomicLong();
        AtomicLong timedOut = new AtomicLong();
        AtomicLong rejected = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        AtomicLong asyncAccepted = new AtomicLong();
        AtomicLong asyncAnswered = new AtomicLong();
        AtomicLong invalidations = new AtomicLong();
        AtomicReference<Throwable> crash = new AtomicReference<>();
        List<long[]> samples = new ArrayList<>();
        long t0 = System.nanoTime();
        try (InferenceService svc = InferenceService.builder(engine).batching(b -> b.maxBatchSize(16).maxQueueDelayMicros(100))
                .cache(c -> c.budgetBytes((long) cacheMb << 20)).build()) {
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                Thread th = new Thread(() -> {
                    try {
                        caller(svc, seed, rows, expected, issued, ok, fromCache, timedOut, rejected, failed, wrong, asyncAccepted, asyncAnswered,
                                invalidations);
                    } catch (Throwable x) {
                        crash.compareAndSet(null, x);
                        issued.set(Long.MAX_VALUE / 2);     // stop the others
                    }
                }, "soak-" + t);
                th.start();
                callers.add(th);
            }
            long nextSample = System.nanoTime();
            out.printf("  %8s %14s %12s %12s %s%n", "s", "requests", "RSS MiB", "heap MiB", "NMT committed MiB");
            while (callers.stream().anyMatch(Thread::isAlive)) {
                if (System.nanoTime() - nextSample >= 0) {
                    long[] s = sample(t0, Math.min(issued.get(), requests));
                    samples.add(s);
                    out.printf(Locale.ROOT, "  %8.1f %14d %12d %12d %s%n", s[0] / 1e3, s[1], s[2] >> 20, s[3] >> 20,
                            s[4] < 0 ? "(run with -XX:NativeMemoryTracking=summary)" : Long.toString(s[4] >> 20));
                    nextSample += (long) (sampleEverySeconds * 1e9);
                }
                Thread.sleep(50);
            }
            samples.add(sample(t0, Math.min(issued.get(), requests)));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long done = ok.get() + timedOut.get() + rejected.get() + failed.get();
        // the baseline is the first sample after a tenth of the requests: the heap, the JIT, the
        // cache and the allocator's pools are warm by then
        long growth = 0;
        long nmtGrowth = 0;
        long[] base = null;
        for (long[] s : samples) {
            if (base == null && s[1] >= requests / 10) {
                base = s;
            } else if (base != null) {
                growth = Math.max(growth, s[2] - base[2]);
                nmtGrowth = base[4] < 0 ? -1 : Math.max(nmtGrowth, s[4] - base[4]);
            }
        }
        out.printf(Locale.ROOT, "%n  %d requests in %.1f s (%.0f/s): OK %d (%d from the cache), TIMEOUT %d, REJECTED %d, FAILED %d; %d invalidations%n",
                done, seconds, done / seconds, ok.get(), fromCache.get(), timedOut.get(), rejected.get(), failed.get(), invalidations.get());
        out.printf(Locale.ROOT, "  async: %d accepted, %d answered by their callback; wrong answers: %d%n", asyncAccepted.get(), asyncAnswered.get(),
                wrong.get());
        out.printf(Locale.ROOT, "  RSS grew at most %d MiB after warm-up (bound %d MiB); NMT committed grew at most %s%n", growth >> 20, rssBoundMb,
                nmtGrowth < 0 ? "(not tracked: run with -XX:NativeMemoryTracking=summary)" : (nmtGrowth >> 20) + " MiB");
        boolean pass = crash.get() == null && wrong.get() == 0 && failed.get() == 0 && asyncAccepted.get() == asyncAnswered.get()
                && done == requests && base != null && growth <= rssBoundMb << 20;
        if (crash.get() != null) {
            out.println("  a caller thread died: " + crash.get());
        }
        out.println(pass ? "  soak passed" : "  soak FAILED");
        return pass ? 0 : 1;
    }

    private void caller(InferenceService svc, int seed, float[][] rows, float[][] expected, AtomicLong issued, AtomicLong ok, AtomicLong fromCache,
            AtomicLong timedOut, AtomicLong rejected, AtomicLong failed, AtomicLong wrong, AtomicLong asyncAccepted, AtomicLong asyncAnswered,
            AtomicLong invalidations) {
        SplittableRandom r = new SplittableRandom(1000 + seed);
        Request req = svc.newRequest();
        Tensor in = req.input(0);
        int width = rows[0].length;
        int[] current = new int[1];
        while (true) {
            long n = issued.getAndIncrement();
            if (n >= requests) {
                return;
            }
            if (n > 0 && n % invalidateEvery == 0) {
                svc.cache().invalidate(svc.engine().modelIdentity());
                invalidations.incrementAndGet();
            }
            int row = r.nextInt(rows.length);
            current[0] = row;
            for (int i = 0; i < width; i++) {
                in.putFloat(i, rows[row][i]);
            }
            int d = r.nextInt(20);
            req.deadlineNanos(d == 0 ? System.nanoTime() - 1 : d == 1 ? System.nanoTime() + r.nextLong(1, 300_000) : 0);
            int s;
            if (r.nextBoolean()) {
                s = svc.infer(req);
            } else {
                s = svc.inferAsync(req, (q, status) -> asyncAnswered.incrementAndGet());
                if (s == BatchStatus.PENDING) {
                    asyncAccepted.incrementAndGet();
                    s = svc.await(req);
                } else if (s == BatchStatus.OK) {
                    asyncAccepted.incrementAndGet();    // a cache hit: the callback ran at once
                }
            }
            switch (s) {
                case BatchStatus.OK -> {
                    ok.incrementAndGet();
                    if (req.fromCache()) {
                        fromCache.incrementAndGet();
                    }
                    Tensor y = req.output(0);
                    for (int k = 0; k < expected[row].length; k++) {
                        if (Math.abs(y.getAsFloat(k) - expected[row][k]) > 1e-5f) {
                            wrong.incrementAndGet();
                            break;
                        }
                    }
                }
                case BatchStatus.TIMEOUT -> timedOut.incrementAndGet();
                case BatchStatus.REJECTED -> rejected.incrementAndGet();
                default -> failed.incrementAndGet();
            }
        }
    }

    /** Each row's answer from the engine directly, at batch 1: what every served answer must equal. */
    private static float[][] reference(Path file, float[][] rows) {
        try (OrtCpuEngine e = OrtCpuEngine.open(file, CpuEngineOptions.builder().maxBatchSize(1).intraOpThreads(1).build())) {
            Batch b = e.newBatch();
            Tensor in = b.input(0).reshape(1, rows[0].length);
            float[][] out = new float[rows.length][];
            for (int r = 0; r < rows.length; r++) {
                for (int i = 0; i < rows[r].length; i++) {
                    in.putFloat(i, rows[r][i]);
                }
                e.run(b);
                Tensor y = b.output(0);
                out[r] = new float[(int) y.elementCount()];
                for (int k = 0; k < out[r].length; k++) {
                    out[r][k] = y.getAsFloat(k);
                }
            }
            return out;
        }
    }

    /** {elapsed ms, requests, RSS, committed heap, NMT committed (or -1)}. */
    private static long[] sample(long t0, long requests) throws Exception {
        long rss = -1;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
        return new long[] {(System.nanoTime() - t0) / 1_000_000, requests, rss, heap, nmtCommitted()};
    }

    /** The JVM's native memory tracking total (committed bytes), or -1 when tracking is off. */
    private static long nmtCommitted() {
        try {
            var server = ManagementFactory.getPlatformMBeanServer();
            var name = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
            String text = (String) server.invoke(name, "vmNativeMemory", new Object[] {new String[] {"summary"}},
                    new String[] {String[].class.getName()});
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB").matcher(text);
            return m.find() ? Long.parseLong(m.group(2)) * 1024 : -1;
        } catch (Exception e) {
            return -1;
        }
    }
}
