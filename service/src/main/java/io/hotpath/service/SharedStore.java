package io.hotpath.service;

/**
 * A key-value store shared by several processes over the network: the second tier of the
 * prediction cache, behind the off-heap one ({@link CacheOptions#redis}). Implementations are found
 * at run time with {@link java.util.ServiceLoader} over {@link SharedStoreProvider}, so an
 * application without a shared tier carries no client library; {@code hotpath-cache-redis}
 * provides Redis.
 *
 * <p>Every method returns at once. A command that was sent gets exactly one {@link Reply}, on
 * the store's own I/O thread; a command that could not be sent (not connected) returns false and
 * gets none. The store does not reconnect by itself: {@link SharedCacheTier}'s circuit breaker
 * decides when to try again ({@link #connect()}), so a store that is down costs the service one
 * failed probe per back-off period, not one per request.
 */
public interface SharedStore extends AutoCloseable {

    /**
     * The answer to one command: the value (null for a missing key, and for a write), or the error.
     * {@code value} is valid only during the call (it may be a view of the store's receive buffer,
     * which is how a large answer reaches the request's memory with one copy and no garbage).
     */
    @FunctionalInterface
    interface Reply {
        void done(java.nio.ByteBuffer value, Throwable error);
    }

    /** Sends {@code GET key}; false when it could not be sent. */
    boolean get(byte[] key, Reply reply);

    /** Sends {@code SET key value PX ttlMillis}; false when it could not be sent. */
    boolean set(byte[] key, byte[] value, long ttlMillis, Reply reply);

    /** Whether commands can be sent now. */
    boolean connected();

    /**
     * Starts connecting when not connected (or connecting already); returns at once. The outcome
     * shows in {@link #connected()}; a failure is passed to {@code failed} once (on any thread).
     */
    void connect(java.util.function.Consumer<Throwable> failed);

    /** Where it points, without credentials (for logs and metrics). */
    String describe();

    /** Closes the connection; commands in flight get an error reply. Idempotent. */
    @Override
    void close();
}
