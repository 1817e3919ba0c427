package io.hotpath.serve;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.hotpath.serve.proto.ModelConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A model's config tree ({@link ServedModel#config()}: maps, lists, strings, numbers, booleans
 * under protobuf-JSON field names) as Triton's {@link ModelConfig} message, the way protobuf's
 * JSON parser would read the same JSON (protobuf-java-util is not a dependency): fields by their
 * proto name or lowerCamel JSON name, enums by name or number, 64-bit integers as numbers or
 * decimal strings. Fields outside the subset in {@code model_config.proto} are left out.
 */
final class GrpcModelConfig {
    private GrpcModelConfig() {
    }

    /** The message for {@code config}; an IllegalArgumentException names a value of the wrong kind. */
    static ModelConfig of(Map<String, Object> config) {
        ModelConfig.Builder b = ModelConfig.newBuilder();
        if (config != null) {
            merge(b, config, "");
        }
        return b.build();
    }

    private static void merge(Message.Builder b, Map<?, ?> map, String path) {
        var type = b.getDescriptorForType();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            FieldDescriptor f = type.findFieldByName(key);
            if (f == null) {
                for (FieldDescriptor c : type.getFields()) {
                    if (c.getJsonName().equals(key)) {
                        f = c;
                        break;
                    }
                }
            }
            Object v = e.getValue();
            if (f == null || v == null || f.isMapField()) {
                continue;
            }
            String at = path.isEmpty() ? key : path + "." + key;
            if (f.isRepeated()) {
                for (Object item : list(v, at)) {
                    b.addRepeatedField(f, value(b, f, item, at));
                }
            } else {
                b.setField(f, value(b, f, v, at));
            }
        }
    }

    private static List<?> list(Object v, String at) {
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        if (v instanceof long[] a) {
            return java.util.Arrays.stream(a).boxed().toList();
        }
        if (v instanceof int[] a) {
            return java.util.Arrays.stream(a).boxed().toList();
        }
        throw new IllegalArgumentException("config field '" + at + "' is a list in ModelConfig, not " + v);
    }

    private static Object value(Message.Builder parent, FieldDescriptor f, Object v, String at) {
        return switch (f.getJavaType()) {
            case MESSAGE -> {
                if (!(v instanceof Map<?, ?> m)) {
                    throw new IllegalArgumentException("config field '" + at + "' is a message in ModelConfig, not " + v);
                }
                Message.Builder sub = parent.newBuilderForField(f);
                merge(sub, m, at);
                yield sub.build();
            }
            case ENUM -> {
                EnumValueDescriptor d = v instanceof Number n ? f.getEnumType().findValueByNumber(n.intValue())
                        : f.getEnumType().findValueByName(String.valueOf(v));
                if (d == null) {
                    throw new IllegalArgumentException("config field '" + at + "': '" + v + "' is not a " + f.getEnumType().getName());
                }
                yield d;
            }
            case INT -> Math.toIntExact(integer(v, at));
            case LONG -> integer(v, at);
            case BOOLEAN -> {
                if (v instanceof Boolean bool) {
                    yield bool;
                }
                if ("true".equals(v) || "false".equals(v)) {
                    yield Boolean.parseBoolean((String) v);
                }
                throw new IllegalArgumentException("config field '" + at + "' is a boolean in ModelConfig, not " + v);
            }
            case FLOAT -> (float) number(v, at);
            case DOUBLE -> number(v, at);
            case STRING -> String.valueOf(v);
            case BYTE_STRING -> throw new IllegalArgumentException("config field '" + at + "': bytes are not read from a config tree");
        };
    }

    private static long integer(Object v, String at) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return n.longValue();
        }
        if (v instanceof String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw new IllegalArgumentException("config field '" + at + "' is an integer in ModelConfig, not " + v);
    }

    private static double number(Object v, String at) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw new IllegalArgumentException("config field '" + at + "' is a number in ModelConfig, not " + v);
    }
}
