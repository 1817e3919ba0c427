package io.hotpath.service;

/**
 * Opens a {@link SharedStore} for a URI scheme; found with {@link java.util.ServiceLoader}
 * (a {@code META-INF/services/io.hotpath.service.SharedStoreProvider} entry).
 */
public interface SharedStoreProvider {

    /** Whether this provider handles {@code uri} (for example the schemes {@code redis} and {@code rediss}). */
    boolean accepts(java.net.URI uri);

    /**
     * A store for {@code uri}, not yet connected (the tier calls {@link SharedStore#connect}), whose
     * commands fail after {@code commandTimeout} at the latest. Throws a {@link io.hotpath.core.HotpathException}
     * INVALID_ARGUMENT for a malformed URI, with the URI's password left out of the message.
     */
    SharedStore open(java.net.URI uri, java.time.Duration commandTimeout);
}
