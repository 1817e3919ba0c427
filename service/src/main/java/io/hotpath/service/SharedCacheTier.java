package io.hotpath.service;

import io.hotpath.cache.KeyHasher;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The shared second tier of an {@link InferenceService}'s prediction cache (L2, behind the
 * off-heap L1): looks answers up in a {@link SharedStore} within a latency budget, writes engine
 * answers to it fire-and-forget, and keeps a circuit breaker so a store that is down, paused or
 * slow costs requests at most the budget, and costs nothing while the breaker is open.
 *
 * <p>Lookups: at most {@code maxLookupsInFlight} at a time (more skip L2, counted); each is
 * decided exactly once, by its reply or by its budget, whichever comes first; a late reply is
 * dropped. Writes: at most {@code maxWritesInFlight}; more are dropped and counted. Breaker:
 * {@code failures} failed lookups in a row (an error, no answer within the budget, not connected)
 * open it; while open, L2 is skipped; after the back-off a probe runs in the background (a GET with
 * a budget of its own, or a reconnection and its warm-up), so no request waits for it; a good probe
 * closes the breaker, a bad one doubles the back-off up to its maximum. Each opening and each
 * recovery is logged once, never once per request.
 *
 * <p>Metrics are plain counters and an HdrHistogram of answered lookup times, read by
 * {@code hotpath bench} and by {@code hotpath serve}'s {@code /metrics}.
 */
public final class SharedCacheTier implements AutoCloseable {
    /** Breaker states. */
    static final int CLOSED = 0;
    static final int OPEN = 1;
    static final int PROBING = 2;

    /** Lookup decision states: waiting for a reply or the budget; one side is deciding; decided. */
    private static final int WAITING = 0;
    private static final int DECIDING = 1;
    private static final int DECIDED = 2;

    private static final long SEED_1 = 0x6A09E667F3BCC908L;
    private static final long SEED_2 = 0xBB67AE8584CAA73BL;

    /** What runs when a lookup started with {@link #lookupAsync} is decided. */
    @FunctionalInterface
    interface Continuation {
        void resume(Request r, boolean hit);
    }

    private static final System.Logger LOG = System.getLogger(SharedCacheTier.class.getName());

    private final SharedStore store;
    private final long modelId;
    private final long layout;
    private final byte[] keyPrefix;
    private final KeyHasher hash1;
    private final KeyHasher hash2;
    private final long ttlMillis;
    private final long budgetNanos;
    private final int maxLookups;
    private final int maxWrites;
    private final int breakerFailures;
    private final long minBackoffNanos;
    private final long maxBackoffNanos;
    private final org.agrona.ErrorHandler errorHandler;
    private final ScheduledThreadPoolExecutor timer;

    private final AtomicInteger lookupsInFlight = new AtomicInteger();
    private final AtomicInteger writesInFlight = new AtomicInteger();
    /** Lookups started and not yet decided: close waits for them, so none is left unanswered. */
    private final AtomicInteger undecided = new AtomicInteger();
    private final AtomicInteger failuresInRow = new AtomicInteger();
    private volatile int state;
    private volatile long openUntilNanos;
    private volatile long backoffNanos;
    private volatile long openedAtNanos = System.nanoTime();
    private volatile boolean everConnected;
    private volatile boolean closed;

    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder abandoned = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder corrupt = new LongAdder();
    final LongAdder skippedOpen = new LongAdder();
    final LongAdder skippedBusy = new LongAdder();
    final LongAdder writes = new LongAdder();
    final LongAdder writesDropped = new LongAdder();
    final LongAdder writesSkipped = new LongAdder();
    final LongAdder writeErrors = new LongAdder();
    final LongAdder breakerOpenings = new LongAdder();
    private final Recorder latency = new Recorder(1, 60_000_000L, 3);
    private Histogram latencyInterval;
    private final Histogram latencyTotal = new Histogram(1, 60_000_000L, 3);
    /** What each lookup cost its request: from the lookup's start until the request went on (a hit, a miss, or the budget). */
    private final Recorder waits = new Recorder(1, 60_000_000L, 3);
    private Histogram waitsInterval;
    private final Histogram waitsTotal = new Histogram(1, 60_000_000L, 3);

    SharedCacheTier(SharedStore store, CacheOptions o, long modelId, String precision, long layout, org.agrona.ErrorHandler errorHandler) {
        this.store = store;
        this.modelId = modelId;
        this.layout = layout;
        this.keyPrefix = SharedRecordDescriptor.keyPrefix(modelId, precision);
        this.hash1 = o.sharedHasher != null ? o.sharedHasher : KeyHasher.xxh3(SEED_1);
        this.hash2 = o.sharedHasher != null ? o.sharedHasher : KeyHasher.xxh3(SEED_2);
        this.ttlMillis = Math.max(1, o.redisTtl.toMillis());
        this.budgetNanos = o.lookupBudgetNanos;
        this.maxLookups = o.maxLookupsInFlight;
        this.maxWrites = o.maxWritesInFlight;
        this.breakerFailures = o.breakerFailures;
        this.minBackoffNanos = o.breakerBackoff.toNanos();
        this.maxBackoffNanos = o.breakerMaxBackoff.toNanos();
        this.backoffNanos = minBackoffNanos;
        this.errorHandler = errorHandler;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "hotpath-cache-budget");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        // not connected yet: the first connection (its warm-up) closes the breaker; until then requests skip the tier
        this.state = PROBING;
        store.connect(this::connected);
    }

    /** Where the store points, without credentials. */
    public String describe() {
        return store.describe();
    }

    /** The lookup budget in nanoseconds. */
    public long budgetNanos() {
        return budgetNanos;
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    /** Lookups the store did not answer within the budget (the request went to the engine). */
    public long abandoned() {
        return abandoned.sum();
    }

    /** Lookups that failed (an error reply, not connected). */
    public long errors() {
        return errors.sum();
    }

    /** Values that were malformed, of the wrong size, or another input's (a hash collision): treated as misses. */
    public long corrupt() {
        return corrupt.sum();
    }

    /** Requests that skipped L2 while the breaker was open. */
    public long skippedOpen() {
        return skippedOpen.sum();
    }

    /** Requests that skipped L2 because {@code maxLookupsInFlight} lookups were in flight. */
    public long skippedBusy() {
        return skippedBusy.sum();
    }

    public long writes() {
        return writes.sum();
    }

    /** Writes dropped because {@code maxWritesInFlight} were in flight. */
    public long writesDropped() {
        return writesDropped.sum();
    }

    /** Writes not sent because the store was not connected or the tier closed, or because the entry was larger than 256 MiB. */
    public long writesSkipped() {
        return writesSkipped.sum();
    }

    /** Writes sent and not yet answered. */
    public int writesInFlight() {
        return writesInFlight.get();
    }

    /** Lookups sent and not yet answered (some may have been abandoned at the budget already). */
    public int lookupsInFlight() {
        return lookupsInFlight.get();
    }

    public long writeErrors() {
        return writeErrors.sum();
    }

    /** How many times the breaker opened. */
    public long breakerOpenings() {
        return breakerOpenings.sum();
    }

    /** Whether the breaker is open (L2 skipped) now. */
    public boolean breakerOpen() {
        return state != CLOSED;
    }

    /** A copy of every answered lookup's time (µs) since the service started. */
    public Histogram latencyMicros() {
        synchronized (latencyTotal) {
            latencyInterval = latencyInterval == null ? latency.getIntervalHistogram() : latency.getIntervalHistogram(latencyInterval);
            latencyTotal.add(latencyInterval);
            return latencyTotal.copy();
        }
    }

    /**
     * A copy of what every decided lookup cost its request (µs) since the service started: the time
     * from the lookup's start until the request went on, answered or sent to the engine. The budget
     * bounds it, plus however late this thread or the timer's was scheduled.
     */
    public Histogram waitMicros() {
        synchronized (waitsTotal) {
            waitsInterval = waitsInterval == null ? waits.getIntervalHistogram() : waits.getIntervalHistogram(waitsInterval);
            waitsTotal.add(waitsInterval);
            return waitsTotal.copy();
        }
    }

    private void recordWait(long startNanos) {
        waits.recordValue(Math.max(1, Math.min(60_000_000L, (System.nanoTime() - startNanos) / 1000)));
    }

    /**
     * Starts looking {@code r} up (its L1 key already built); {@code then} runs exactly once, on the
     * store's I/O thread or the budget timer's, when it is decided. False when L2 is skipped
     * (breaker open, too many lookups in flight, not connected): {@code then} never runs.
     */
    boolean lookupAsync(Request r, int answerBytes, Continuation then) {
        Lookup l = start(r, answerBytes, then);
        if (l == null) {
            return false;
        }
        ScheduledFuture<?> f;
        try {
            f = timer.schedule(l, budgetNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            l.run();            // the tier closed under this lookup: decide it now (the service answers SHUTDOWN past its guard)
            return true;
        }
        l.timeout = f;
        if (l.state == DECIDED) {
            f.cancel(false);
        }
        return true;
    }

    /** Looks {@code r} up on this thread, waiting at most the budget; true on a hit ({@code r}'s answer written). */
    boolean lookupSync(Request r, int answerBytes) {
        Lookup l = start(r, answerBytes, null);
        if (l == null) {
            return false;
        }
        long deadline = l.startNanos + budgetNanos;
        l.waiter = Thread.currentThread();
        while (l.state != DECIDED) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                l.run();                    // decide it as abandoned, unless the reply is deciding now
                while (l.state != DECIDED) {
                    Thread.onSpinWait();    // the reply thread is copying the answer: a few microseconds
                }
                break;
            }
            LockSupport.parkNanos(this, left);
        }
        l.waiter = null;
        recordWait(l.startNanos);
        return l.hit;
    }

    private Lookup start(Request r, int answerBytes, Continuation then) {
        if (closed || !admit()) {
            skippedOpen.increment();
            return null;
        }
        if (lookupsInFlight.incrementAndGet() > maxLookups) {
            lookupsInFlight.decrementAndGet();
            skippedBusy.increment();
            return null;
        }
        r.sharedKey = keyOf(r);
        Lookup l = new Lookup(r, answerBytes, then);
        undecided.incrementAndGet();
        boolean sent;
        try {
            sent = store.get(r.sharedKey, l);
        } catch (RuntimeException e) {
            sent = false;
        }
        if (!sent) {
            lookupsInFlight.decrementAndGet();
            undecided.decrementAndGet();
            errors.increment();
            open("not connected");
            return null;
        }
        return l;
    }

    /**
     * Whether a lookup may go to the store now: only while the breaker is closed. While it is open,
     * the first request after the back-off starts a probe in the background and skips the tier, as
     * every request does until the probe has succeeded: no request waits for a probe.
     */
    private boolean admit() {
        int s = state;
        if (s == CLOSED) {
            return true;
        }
        if (s == OPEN && System.nanoTime() - openUntilNanos >= 0 && STATE.compareAndSet(this, OPEN, PROBING)) {
            probe();
        }
        return false;
    }

    /**
     * One probe (the state is PROBING, so no other runs): connect when the connection was lost (the
     * warm-up then closes the breaker), else a GET that must answer within the probe budget,
     * max(10 x the lookup budget, 20 ms). Success closes the breaker; failure doubles the back-off.
     */
    private void probe() {
        if (closed) {
            return;
        }
        if (!store.connected()) {
            store.connect(this::connected);
            return;
        }
        java.util.concurrent.atomic.AtomicBoolean decided = new java.util.concurrent.atomic.AtomicBoolean();
        long probeBudget = Math.max(10 * budgetNanos, 20_000_000L);
        ScheduledFuture<?> timeout;
        try {
            timeout = timer.schedule(() -> {
                if (decided.compareAndSet(false, true)) {
                    reopen();
                }
            }, probeBudget, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            return;
        }
        boolean sent;
        try {
            sent = store.get(WARM_UP_KEY, (value, error) -> {
                if (decided.compareAndSet(false, true)) {
                    timeout.cancel(false);
                    if (error == null) {
                        resumed();
                    } else {
                        reopen();
                    }
                }
            });
        } catch (RuntimeException e) {
            sent = false;
        }
        if (!sent && decided.compareAndSet(false, true)) {
            timeout.cancel(false);
            reopen();
        }
    }

    /** A probe or a connection attempt failed: open again, for twice as long (up to the maximum). */
    private void reopen() {
        backoffNanos = Math.min(maxBackoffNanos, backoffNanos * 2);
        openUntilNanos = System.nanoTime() + backoffNanos;
        state = OPEN;
    }

    /** The store answers again (a probe, or a new connection's warm-up): close the breaker, say so once. */
    private void resumed() {
        if (closed || state == CLOSED) {
            return;
        }
        long down = System.nanoTime() - openedAtNanos;
        failuresInRow.set(0);
        backoffNanos = minBackoffNanos;
        boolean first = breakerOpenings.sum() == 0;
        state = CLOSED;
        LOG.log(System.Logger.Level.INFO, "shared cache " + store.describe() + (first ? " connected"
                : " answering again after " + millis(down) + " ms; lookups resumed"));
    }

    /** The store's connection attempt ended (null: connected). */
    private void connected(Throwable failure) {
        if (failure == null) {
            everConnected = true;
            warmUp(WARM_UP_COMMANDS);                   // then the breaker closes
            return;
        }
        if (!everConnected && breakerOpenings.sum() == 0) {
            breakerOpenings.increment();
            LOG.log(System.Logger.Level.WARNING, "shared cache " + store.describe() + " unavailable at start (" + reason(failure)
                    + "); requests go to the engine until it answers, tried again every " + millis(backoffNanos) + " ms or more");
        }
        reopen();
    }

    /** Commands sent on a new connection before any request's lookup: a cold client's first replies take milliseconds. */
    static final int WARM_UP_COMMANDS = 200;
    private static final byte[] WARM_UP_KEY = "hotpath:1:warm-up".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Sends {@code left} GETs of a key no entry uses, one after another, then closes the breaker (they
     * all answered: the store works): the client's code is compiled and its buffers sized before a
     * request's budget depends on it. A failed one opens the breaker again.
     */
    private void warmUp(int left) {
        if (closed) {
            return;
        }
        if (left == 0) {
            resumed();
            return;
        }
        boolean sent;
        try {
            sent = store.get(WARM_UP_KEY, (value, error) -> {
                if (error != null) {
                    reopen();
                } else {
                    warmUp(left - 1);
                }
            });
        } catch (RuntimeException e) {
            sent = false;
        }
        if (!sent) {
            reopen();
        }
    }

    /** A request's lookup was answered: the failures in a row start again. */
    private void succeeded() {
        failuresInRow.set(0);
    }

    /** A request's lookup failed: the breaker opens at the configured count in a row (failures while it is open are stragglers). */
    private void failed(String why) {
        if (state == CLOSED && failuresInRow.incrementAndGet() >= breakerFailures) {
            open(why);
        }
    }

    /** Opens the breaker (once per outage: only the caller that moves it from CLOSED logs). */
    private void open(String why) {
        if (STATE.compareAndSet(this, CLOSED, OPEN)) {
            openedAtNanos = System.nanoTime();
            openUntilNanos = openedAtNanos + backoffNanos;
            breakerOpenings.increment();
            LOG.log(System.Logger.Level.WARNING, "shared cache " + store.describe() + " failing (" + why + "): requests go to the engine;"
                    + " probing again in " + millis(backoffNanos) + " ms, backing off to " + millis(maxBackoffNanos) + " ms");
        }
    }

    private static String reason(Throwable t) {
        String m = t.getMessage();
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) {
                m = t.getMessage();
            }
        }
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }

    private byte[] keyOf(Request r) {
        long h1 = hash1.hash(modelId, r.key, 0, r.keyLength);
        long h2 = hash2.hash(~modelId, r.key, 0, r.keyLength);
        return SharedRecordDescriptor.key(keyPrefix, r.length(), h1, h2);
    }

    /** Writes {@code r}'s answer ({@code answerBytes} of its output) to the store, fire and forget. */
    void store(Request r, int answerBytes) {
        // writes go on while the breaker is open for a slow store (they cost no request any time, and
        // at most maxWritesInFlight wait on it), so other instances still find this one's answers
        if (closed || !store.connected()) {
            writesSkipped.increment();
            return;
        }
        if (writesInFlight.incrementAndGet() > maxWrites) {
            writesInFlight.decrementAndGet();
            writesDropped.increment();
            return;
        }
        byte[] key = r.sharedKey != null ? r.sharedKey : keyOf(r);
        byte[] value = SharedRecordDescriptor.encode(layout, r.length(), r.key, r.keyLength, r.handle.output(), answerBytes);
        boolean sent = false;
        if (value != null) {
            try {
                sent = store.set(key, value, ttlMillis, writeReply);
            } catch (RuntimeException e) {
                sent = false;
            }
        }
        if (!sent) {
            writesInFlight.decrementAndGet();
            writesSkipped.increment();
        }
    }

    private final SharedStore.Reply writeReply = (value, error) -> {
        writesInFlight.decrementAndGet();
        if (error != null) {
            writeErrors.increment();
        } else {
            writes.increment();
        }
    };

    /**
     * Stops lookups and writes, waits (at most {@code timeoutNanos}) until every started lookup is
     * decided, so each request gets its one answer, then closes the store and the timer.
     */
    void close(long timeoutNanos) {
        closed = true;
        long end = System.nanoTime() + Math.min(timeoutNanos, budgetNanos + 1_000_000_000L);
        while (undecided.get() > 0 && System.nanoTime() - end < 0) {
            LockSupport.parkNanos(100_000);
        }
        store.close();
        timer.shutdown();
    }

    @Override
    public void close() {
        close(30_000_000_000L);
    }

    /** One lookup: decided once, by its reply ({@link #done}) or by its budget ({@link #run}). */
    private final class Lookup implements SharedStore.Reply, Runnable {
        final Request r;
        final int answerBytes;
        final Continuation then;
        final long startNanos = System.nanoTime();
        volatile int state = WAITING;
        volatile Thread waiter;
        volatile ScheduledFuture<?> timeout;
        boolean hit;

        Lookup(Request r, int answerBytes, Continuation then) {
            this.r = r;
            this.answerBytes = answerBytes;
            this.then = then;
        }

        @Override
        public void done(java.nio.ByteBuffer value, Throwable error) {
            lookupsInFlight.decrementAndGet();
            if (!LOOKUP_STATE.compareAndSet(this, WAITING, DECIDING)) {
                return;                     // decided at the budget already: the late reply is dropped
            }
            ScheduledFuture<?> t = timeout;
            if (t != null) {
                t.cancel(false);
            }
            try {
                if (error != null) {
                    errors.increment();
                    failed(reason(error));
                } else {
                    latency.recordValue(Math.max(1, Math.min(60_000_000L, (System.nanoTime() - startNanos) / 1000)));
                    succeeded();
                    if (value == null) {
                        misses.increment();
                    } else if (SharedRecordDescriptor.decode(value, layout, r.length(), r.key, r.keyLength, r.handle.output(), answerBytes)) {
                        hit = true;
                        hits.increment();
                    } else {
                        corrupt.increment();
                    }
                }
            } catch (Throwable t2) {
                errorHandler.onError(t2);
            } finally {
                decide();
            }
        }

        /** The budget passed without a reply. */
        @Override
        public void run() {
            if (!LOOKUP_STATE.compareAndSet(this, WAITING, DECIDING)) {
                return;
            }
            try {
                abandoned.increment();
                failed("no answer within " + (budgetNanos >= 10_000_000 ? budgetNanos / 1_000_000 + " ms" : budgetNanos / 1000 + " µs"));
            } catch (Throwable t) {
                errorHandler.onError(t);
            } finally {
                decide();
            }
        }

        private void decide() {
            state = DECIDED;
            undecided.decrementAndGet();
            if (then != null) {
                recordWait(startNanos);
                try {
                    then.resume(r, hit);
                } catch (Throwable t) {
                    errorHandler.onError(t);
                }
            } else {
                Thread w = waiter;
                if (w != null) {
                    LockSupport.unpark(w);
                }
            }
        }
    }

    private static final VarHandle STATE;
    private static final VarHandle LOOKUP_STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(SharedCacheTier.class, "state", int.class);
            LOOKUP_STATE = MethodHandles.lookup().findVarHandle(Lookup.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
