package io.hotpath.redis;

import io.hotpath.service.SharedStore;
import io.hotpath.service.SharedStoreProvider;
import java.net.URI;
import java.time.Duration;

/** Opens a {@link RedisSharedStore} for {@code redis://} and {@code rediss://} (TLS) URIs. */
public final class RedisStoreProvider implements SharedStoreProvider {

    @Override
    public boolean accepts(URI uri) {
        String s = uri.getScheme();
        return "redis".equalsIgnoreCase(s) || "rediss".equalsIgnoreCase(s);
    }

    @Override
    public SharedStore open(URI uri, Duration commandTimeout) {
        return new RedisSharedStore(uri, commandTimeout);
    }
}
