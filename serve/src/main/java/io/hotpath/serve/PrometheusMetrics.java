package io.hotpath.serve;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import org.HdrHistogram.Histogram;

/**
 * {@code GET /metrics} in Prometheus' text format, with Triton's metric names and labels where
 * they mean the same thing ({@code nv_inference_*}, {@code nv_cache_*}: existing Triton
 * dashboards work unchanged), plus Hotpath's request-latency percentiles
 * ({@code hotpath_request_duration_us}, a summary over every request since the model loaded).
 */
final class PrometheusMetrics {
    private PrometheusMetrics() {
    }

    static void write(ModelRegistry registry, ServerInfo info, ByteBuf out) {
        StringBuilder b = new StringBuilder(4096);
        Collection<ServedModel> models = registry.all();
        ModelStats.Snapshot[] s = new ModelStats.Snapshot[models.size()];
        ServedModel[] m = models.toArray(new ServedModel[0]);
        for (int i = 0; i < m.length; i++) {
            s[i] = m[i].stats().snapshot();
        }
        family(b, "nv_inference_request_success", "counter", "Number of successful inference requests, all batch sizes");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_request_success", m[i], null, s[i].success());
        }
        family(b, "nv_inference_request_failure", "counter", "Number of failed inference requests, all batch sizes");
        for (int i = 0; i < m.length; i++) {
            long other = s[i].failure() - s[i].rejected() - s[i].timedOut() - s[i].bad();
            sample(b, "nv_inference_request_failure", m[i], "reason=\"REJECTED\"", s[i].rejected());
            sample(b, "nv_inference_request_failure", m[i], "reason=\"TIMEOUT\"", s[i].timedOut());
            sample(b, "nv_inference_request_failure", m[i], "reason=\"INVALID\"", s[i].bad());
            sample(b, "nv_inference_request_failure", m[i], "reason=\"BACKEND\"", Math.max(0, other));
        }
        family(b, "nv_inference_count", "counter", "Number of inferences performed (a batch of n counts n)");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_count", m[i], null, s[i].inferences());
        }
        family(b, "nv_inference_exec_count", "counter", "Number of model executions performed (batches)");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_exec_count", m[i], null, s[i].executions());
        }
        family(b, "nv_inference_request_duration_us", "counter", "Cumulative inference request duration in microseconds");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_request_duration_us", m[i], null, (s[i].successNanos() + s[i].failureNanos()) / 1000);
        }
        family(b, "nv_inference_queue_duration_us", "counter", "Cumulative inference queuing duration in microseconds");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_queue_duration_us", m[i], null, s[i].queueNanos() / 1000);
        }
        family(b, "nv_inference_compute_infer_duration_us", "counter", "Cumulative compute inference duration in microseconds");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_compute_infer_duration_us", m[i], null, s[i].computeNanos() / 1000);
        }
        family(b, "nv_inference_pending_request_count", "gauge", "Instantaneous number of pending requests awaiting execution");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_inference_pending_request_count", m[i], null, s[i].pending());
        }
        family(b, "nv_cache_num_hits_per_model", "counter", "Number of response cache hits per model");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_cache_num_hits_per_model", m[i], null, s[i].cacheHits());
        }
        family(b, "nv_cache_num_misses_per_model", "counter", "Number of response cache misses per model");
        for (int i = 0; i < m.length; i++) {
            sample(b, "nv_cache_num_misses_per_model", m[i], null, s[i].cacheMisses());
        }
        sharedCache(b, m);
        family(b, "hotpath_request_duration_us", "summary", "Request duration percentiles since the model loaded, in microseconds");
        for (int i = 0; i < m.length; i++) {
            Histogram h = s[i].requestMicros();
            for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
                sample(b, "hotpath_request_duration_us", m[i], "quantile=\"" + q + "\"", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(q * 100));
            }
            sample(b, "hotpath_request_duration_us_sum", m[i], null, (long) (h.getMean() * h.getTotalCount()));
            sample(b, "hotpath_request_duration_us_count", m[i], null, h.getTotalCount());
        }
        family(b, "hotpath_server_ready", "gauge", "1 when the server is ready (models loaded, not draining)");
        b.append("hotpath_server_ready ").append(registry.ready() ? 1 : 0).append('\n');
        out.writeCharSequence(b, StandardCharsets.UTF_8);
    }

    /**
     * Each model's service series ({@link io.hotpath.service.ServiceMeters}: the batcher, the
     * off-heap cache, the shared tier), the same list the Micrometer binder registers, then the shared
     * tier's lookup-time summaries.
     */
    private static void sharedCache(StringBuilder b, ServedModel[] m) {
        java.util.Map<String, java.util.List<Object[]>> byName = new java.util.LinkedHashMap<>();
        java.util.Map<String, io.hotpath.service.ServiceMeters.Meter> meters = new java.util.LinkedHashMap<>();
        for (ServedModel model : m) {
            for (io.hotpath.service.ServiceMeters.Meter meter : io.hotpath.service.ServiceMeters.of(model.service())) {
                meters.putIfAbsent(meter.name(), meter);
                byName.computeIfAbsent(meter.name(), k -> new java.util.ArrayList<>()).add(new Object[] {model, meter});
            }
        }
        for (var e : meters.entrySet()) {
            io.hotpath.service.ServiceMeters.Meter meter = e.getValue();
            boolean counter = meter.kind() == io.hotpath.service.ServiceMeters.Kind.COUNTER;
            String name = counter ? meter.name() + "_total" : meter.name();
            family(b, name, counter ? "counter" : "gauge", meter.help());
            for (Object[] pair : byName.get(e.getKey())) {
                ServedModel model = (ServedModel) pair[0];
                sample(b, name, model, null, (long) ((io.hotpath.service.ServiceMeters.Meter) pair[1]).value().applyAsDouble(model.service()));
            }
        }
        io.hotpath.service.SharedCacheTier[] t = new io.hotpath.service.SharedCacheTier[m.length];
        boolean any = false;
        for (int i = 0; i < m.length; i++) {
            t[i] = m[i].service().sharedCache();
            any |= t[i] != null;
        }
        if (!any) {
            return;
        }
        family(b, "hotpath_cache_l2_lookup_us", "summary", "Answered shared cache lookup times since the model loaded, in microseconds");
        for (int i = 0; i < m.length; i++) {
            if (t[i] != null) {
                Histogram h = t[i].latencyMicros();
                for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
                    sample(b, "hotpath_cache_l2_lookup_us", m[i], "quantile=\"" + q + "\"", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(q * 100));
                }
                sample(b, "hotpath_cache_l2_lookup_us_count", m[i], null, h.getTotalCount());
            }
        }
        family(b, "hotpath_cache_l2_wait_us", "summary", "What each shared cache lookup cost its request (answered or abandoned at the budget), in microseconds");
        for (int i = 0; i < m.length; i++) {
            if (t[i] != null) {
                Histogram h = t[i].waitMicros();
                for (double q : new double[] {0.5, 0.99, 1.0}) {
                    sample(b, "hotpath_cache_l2_wait_us", m[i], "quantile=\"" + q + "\"", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(q * 100));
                }
                sample(b, "hotpath_cache_l2_wait_us_count", m[i], null, h.getTotalCount());
            }
        }
    }

    private static void family(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder b, String name, ServedModel m, String extra, long value) {
        b.append(name).append("{model=\"").append(escape(m.name())).append("\",version=\"").append(escape(m.version())).append('"');
        if (extra != null) {
            b.append(',').append(extra);
        }
        b.append("} ").append(value).append('\n');
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
