package io.hotpath.nativebindings;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A native resource with one owner: {@link #close()} frees it exactly once however often it is
 * called, and any use after that is an {@link IllegalStateException} naming the resource, never
 * a call into freed native memory.
 */
public abstract class NativeHandle implements AutoCloseable {
    private final AtomicBoolean closed = new AtomicBoolean();
    private final String what;

    protected NativeHandle(String what) {
        this.what = what;
    }

    /** Throws {@link IllegalStateException} when this handle has been closed. */
    protected final void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(what + " is closed");
        }
    }

    public final boolean isClosed() {
        return closed.get();
    }

    /** Frees the native resource the first time; later calls do nothing. */
    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    /** Frees the native resource; called once. */
    protected abstract void release();

    @Override
    public String toString() {
        return what + (isClosed() ? " (closed)" : "");
    }
}
