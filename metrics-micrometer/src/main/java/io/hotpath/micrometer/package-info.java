/**
 * Hotpath's service series in a Micrometer {@code MeterRegistry}, for applications (Spring,
 * Quarkus, Helidon, ...) that embed Hotpath and already publish their metrics through one:
 * {@link io.hotpath.micrometer.HotpathMeters#bind}.
 *
 * <p>May depend on: {@code hotpath-service}, Micrometer. Registers the list
 * {@link io.hotpath.service.ServiceMeters} defines, so the names match {@code hotpath serve}'s
 * {@code /metrics}.
 */
package io.hotpath.micrometer;
