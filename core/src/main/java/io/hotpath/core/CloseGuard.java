package io.hotpath.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets a component close while other threads may be using it, without freeing memory under them.
 * Every use is bracketed by {@link #tryEnter()} / {@link #exit()}; {@link #close(long)} refuses new
 * entries at once, then waits (bounded) until the threads inside have left. Only when it reports
 * {@link #DRAINED} may the owner free what those threads could touch (native handles, memory
 * that native code reads); after {@link #TIMED_OUT} it must leave them allocated (a leak, not a
 * crash) and say so.
 *
 * <p>One word holds a closed bit and the count of threads inside: entering is one atomic add,
 * so the guard costs a few nanoseconds per use and allocates nothing.
 */
public final class CloseGuard {
    /** {@link #close(long)}: nobody was inside (or everybody left in time): free the resources. */
    public static final int DRAINED = 0;
    /** {@link #close(long)}: threads were still inside when the bound ran out: do not free. */
    public static final int TIMED_OUT = 1;
    /** {@link #close(long)}: another call closed it first (it frees, not this one). */
    public static final int ALREADY_CLOSED = 2;

    private static final int CLOSED = 1 << 30;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CloseGuard.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")     // through STATE
    private volatile int state;

    /** Enters unless closed; a true return must be paired with {@link #exit()} (in a finally). */
    public boolean tryEnter() {
        int s = (int) STATE.getAndAdd(this, 1);
        if ((s & CLOSED) != 0) {
            STATE.getAndAdd(this, -1);
            return false;
        }
        return true;
    }

    /** Leaves after a successful {@link #tryEnter()}. */
    public void exit() {
        STATE.getAndAdd(this, -1);
    }

    public boolean isClosed() {
        return (state & CLOSED) != 0;
    }

    /**
     * Threads inside now; after close, a refused {@link #tryEnter()} may count itself here for an
     * instant before it undoes its add (it never runs the guarded code).
     */
    public int inside() {
        return state & (CLOSED - 1);
    }

    /**
     * Refuses new entries and waits up to {@code timeoutNanos} for the threads inside to leave:
     * {@link #DRAINED}, {@link #TIMED_OUT} or {@link #ALREADY_CLOSED}. An interrupt does not cut
     * the wait short (what is inside may still be using the memory); the interrupt status is kept.
     */
    public int close(long timeoutNanos) {
        if (!refuse()) {
            return ALREADY_CLOSED;
        }
        return awaitDrained(timeoutNanos) ? DRAINED : TIMED_OUT;
    }

    /**
     * The first half of {@link #close(long)}: refuses new entries; true for the call that closed
     * it. An owner that must do something between refusing and waiting (answer what the threads
     * inside are waiting for) calls this, then {@link #awaitDrained(long)}.
     */
    public boolean refuse() {
        int s = (int) STATE.getAndBitwiseOr(this, CLOSED);
        return (s & CLOSED) == 0;
    }

    /** Waits up to {@code timeoutNanos} until nobody is inside; true when nobody is. Keeps the interrupt status. */
    public boolean awaitDrained(long timeoutNanos) {
        long end = System.nanoTime() + Math.max(0, timeoutNanos);
        boolean interrupted = false;
        try {
            for (int spins = 0; inside() != 0; spins++) {
                if (System.nanoTime() - end >= 0) {
                    return false;
                }
                if (spins < 100) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 50_000L);
                    if (Thread.interrupted()) {
                        interrupted = true;    // parkNanos would return at once from now on: clear, remember, restore
                    }
                }
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
