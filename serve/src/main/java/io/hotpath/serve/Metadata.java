package io.hotpath.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import io.hotpath.core.Shape;
import io.hotpath.core.TensorSpec;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** The protocol's JSON bodies for server metadata, model metadata and Triton's statistics extension. */
final class Metadata {
    private Metadata() {
    }

    static void server(JsonGenerator g, ServerInfo info) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", info.name());
        g.writeStringField("version", info.version());
        g.writeArrayFieldStart("extensions");
        for (String e : ServerInfo.EXTENSIONS) {
            g.writeString(e);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    static void model(JsonGenerator g, ServedModel m, List<String> versions) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", m.name());
        g.writeArrayFieldStart("versions");
        for (String v : versions) {
            g.writeString(v);
        }
        g.writeEndArray();
        g.writeStringField("platform", m.platform());
        tensors(g, "inputs", m.inputs());
        tensors(g, "outputs", m.outputs());
        g.writeEndObject();
    }

    /** The wire shape of a tensor: -1 for every dimension that varies (the batch, a sequence). */
    static long[] wireShape(TensorSpec t) {
        Shape s = t.shape();
        long[] d = new long[s.rank()];
        for (int i = 0; i < d.length; i++) {
            d[i] = s.isDynamic(i) ? -1 : s.dim(i);
        }
        return d;
    }

    private static void tensors(JsonGenerator g, String field, List<TensorSpec> ts) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec t : ts) {
            g.writeStartObject();
            g.writeStringField("name", t.name());
            g.writeStringField("datatype", WireType.name(t.dtype()));
            g.writeArrayFieldStart("shape");
            for (long d : wireShape(t)) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /** Triton's statistics extension: {@code {"model_stats": [...]}}, durations in nanoseconds. */
    static void stats(JsonGenerator g, Collection<ServedModel> models) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("model_stats");
        for (ServedModel m : models) {
            ModelStats.Snapshot s = m.stats().snapshot();
            g.writeStartObject();
            g.writeStringField("name", m.name());
            g.writeStringField("version", m.version());
            g.writeNumberField("last_inference", s.lastInferenceMillis());
            g.writeNumberField("inference_count", s.inferences());
            g.writeNumberField("execution_count", s.executions());
            g.writeObjectFieldStart("inference_stats");
            duration(g, "success", s.success(), s.successNanos());
            duration(g, "fail", s.failure(), s.failureNanos());
            duration(g, "queue", s.queued(), s.queueNanos());
            duration(g, "compute_input", 0, 0);
            duration(g, "compute_infer", s.executions(), s.computeNanos());
            duration(g, "compute_output", 0, 0);
            duration(g, "cache_hit", s.cacheHits(), 0);
            duration(g, "cache_miss", s.cacheMisses(), 0);
            g.writeEndObject();
            g.writeArrayFieldStart("batch_stats");
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void duration(JsonGenerator g, String name, long count, long ns) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("count", count);
        g.writeNumberField("ns", ns);
        g.writeEndObject();
    }

    /** A config tree (maps, lists, strings, numbers, booleans) as JSON. */
    @SuppressWarnings("unchecked")
    static void writeMap(JsonGenerator g, Object v) throws IOException {
        if (v instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                writeMap(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Collection<?> c) {
            g.writeStartArray();
            for (Object o : c) {
                writeMap(g, o);
            }
            g.writeEndArray();
        } else if (v instanceof long[] a) {
            g.writeStartArray();
            for (long x : a) {
                g.writeNumber(x);
            }
            g.writeEndArray();
        } else if (v instanceof Number n) {
            if (n instanceof Double || n instanceof Float) {
                g.writeNumber(n.doubleValue());
            } else {
                g.writeNumber(n.longValue());
            }
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v == null) {
            g.writeNull();
        } else {
            g.writeString(v.toString());
        }
    }
}
