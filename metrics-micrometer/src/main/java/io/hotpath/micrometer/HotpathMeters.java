package io.hotpath.micrometer;

import io.hotpath.service.InferenceService;
import io.hotpath.service.ServiceMeters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;

/**
 * Registers an {@link InferenceService}'s series in a Micrometer registry: function counters and
 * gauges that read the service when the registry is scraped (nothing runs on the request path).
 * The names are {@link ServiceMeters}'s with dots ({@code hotpath.cache.hits}); Micrometer's
 * Prometheus naming renders them exactly as {@code hotpath serve}'s {@code /metrics} does
 * ({@code hotpath_cache_hits_total}), each tagged {@code model}.
 *
 * <pre>{@code
 * try (InferenceService svc = Hotpath.service(model).build()) {
 *     List<Meter> meters = HotpathMeters.bind(svc, "scorer", registry);   // registry: the application's own
 *     ...
 *     HotpathMeters.unbind(meters, registry);                             // before svc.close()
 * }
 * }</pre>
 */
public final class HotpathMeters {
    private HotpathMeters() {
    }

    /** Registers {@code svc}'s series tagged {@code model=name} (plus {@code extraTags}); returns them, for {@link #unbind}. */
    public static List<Meter> bind(InferenceService svc, String model, MeterRegistry registry, Tag... extraTags) {
        Tags tags = Tags.of("model", model).and(extraTags);
        List<Meter> registered = new ArrayList<>();
        for (ServiceMeters.Meter m : ServiceMeters.of(svc)) {
            registered.add(m.kind() == ServiceMeters.Kind.COUNTER
                    ? FunctionCounter.builder(m.micrometerName(), svc, m.value()).description(m.help()).tags(tags).register(registry)
                    : Gauge.builder(m.micrometerName(), svc, m.value()).description(m.help()).tags(tags).register(registry));
        }
        return registered;
    }

    /** Removes meters {@link #bind} registered (call it before closing the service: a closed service's cache is gone). */
    public static void unbind(List<Meter> meters, MeterRegistry registry) {
        for (Meter m : meters) {
            registry.remove(m);
        }
    }
}
