/**
 * The shared tier of Hotpath's prediction cache on Redis: {@link io.hotpath.redis.RedisStoreProvider}
 * opens a {@link io.hotpath.service.SharedStore} over Lettuce for {@code redis://} and
 * {@code rediss://} URIs; the service finds it with {@link java.util.ServiceLoader}, so an
 * application that uses no shared tier carries neither this module nor Lettuce.
 *
 * <p>May depend on: {@code hotpath-core}, {@code hotpath-service} (the {@code SharedStore} SPI),
 * Lettuce. Knows no model, no engine, no batcher: it moves keys and values.
 */
package io.hotpath.redis;
