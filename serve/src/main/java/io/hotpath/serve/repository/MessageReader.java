package io.hotpath.serve.repository;

import io.hotpath.core.HotpathException;
import io.hotpath.serve.repository.Pbtxt.Field;
import io.hotpath.serve.repository.Pbtxt.Kind;
import io.hotpath.serve.repository.Pbtxt.Message;
import io.hotpath.serve.repository.Pbtxt.Position;
import io.hotpath.serve.repository.Pbtxt.Scalar;
import io.hotpath.serve.repository.Pbtxt.Value;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed reads of one {@link Message} against a schema the caller states field by field: each
 * read checks the kind and range and fails with {@code source:line:col}; {@link #finish()} reports
 * every field nobody asked for as an unknown-field warning. Fields the schema knows but Hotpath
 * does not act on are read with {@link #notActedOn} and become warnings saying what Hotpath does.
 */
final class MessageReader {
    private final Message message;
    private final String path;
    private final List<String> warnings;
    private final Set<String> read = new HashSet<>();

    MessageReader(Message message, String path, List<String> warnings) {
        this.message = message;
        this.path = path;
        this.warnings = warnings;
    }

    /** The message's dotted path in the schema ({@code model_config.dynamic_batching}), for messages. */
    String path() {
        return path;
    }

    Position position() {
        return message.position();
    }

    boolean has(String name) {
        read.add(name);
        return message.has(name);
    }

    /** Where the field first appears, or the message's own position when absent. */
    Position where(String name) {
        Field f = message.fields().get(name);
        return f == null ? message.position() : f.position();
    }

    /** Where the field's {@code index}-th value is, or where the field (or the message) is when there is no such value. */
    Position valueAt(String name, int index) {
        List<Value> vs = message.values(name);
        return index < vs.size() ? vs.get(index).position() : where(name);
    }

    Position valueAt(String name) {
        return valueAt(name, 0);
    }

    /** Where the last entry of the map field {@code mapField} with this key is (the one whose value counts). */
    Position entryAt(String mapField, String key) {
        Position at = where(mapField);
        for (Value v : message.values(mapField)) {
            if (v instanceof Message m && m.values("key").size() == 1 && m.values("key").get(0) instanceof Scalar s
                    && s.kind() == Kind.STRING && s.text().equals(key)) {
                at = m.position();
            }
        }
        return at;
    }

    // ---- singular fields ----------------------------------------------------------------

    String string(String name, String absent) {
        Scalar s = single(name);
        return s == null ? absent : stringOf(s, name);
    }

    long int64(String name, long absent, long min, long max) {
        Scalar s = single(name);
        return s == null ? absent : integerOf(s, name, min, max);
    }

    int int32(String name, int absent, int min, int max) {
        return (int) int64(name, absent, min, max);
    }

    boolean bool(String name, boolean absent) {
        Scalar s = single(name);
        return s == null ? absent : boolOf(s, name);
    }

    /** An enum field: the identifier (or proto number) mapped to one of {@code names}, whose index is the proto number. */
    <E extends Enum<E>> E enumValue(String name, Class<E> type, E absent) {
        Scalar s = single(name);
        return s == null ? absent : enumOf(s, name, type);
    }

    /** A singular message field, or null when absent. */
    MessageReader message(String name) {
        List<Value> vs = values(name);
        if (vs.isEmpty()) {
            return null;
        }
        if (vs.size() > 1) {
            throw error(vs.get(1).position(), "field '" + name + "' of " + path + " given more than once (first at "
                    + lineCol(vs.get(0).position()) + ")");
        }
        return child(vs.get(0), name, path + "." + name);
    }

    // ---- repeated fields ----------------------------------------------------------------

    List<Long> int64s(String name, long min, long max) {
        List<Long> out = new ArrayList<>();
        for (Value v : values(name)) {
            out.add(integerOf(scalar(v, name), name, min, max));
        }
        return List.copyOf(out);
    }

    List<Integer> int32s(String name, int min, int max) {
        List<Integer> out = new ArrayList<>();
        for (Value v : values(name)) {
            out.add((int) integerOf(scalar(v, name), name, min, max));
        }
        return List.copyOf(out);
    }

    List<MessageReader> messages(String name) {
        List<MessageReader> out = new ArrayList<>();
        List<Value> vs = values(name);
        for (int i = 0; i < vs.size(); i++) {
            out.add(child(vs.get(i), name, path + "." + name + "[" + i + "]"));
        }
        return out;
    }

    /**
     * A protobuf map field written as repeated {@code { key: "k" value: ... }} entries; the value
     * read by {@code valueReader} from each entry. A key given twice keeps the last value, as
     * protobuf does, with a warning.
     */
    <V> Map<String, V> map(String name, ValueReader<V> valueReader) {
        Map<String, V> out = new LinkedHashMap<>();
        for (MessageReader entry : messages(name)) {
            String key = entry.string("key", "");
            V value = valueReader.read(entry, "value");
            entry.finish();
            if (out.containsKey(key)) {
                warnings.add(entry.position() + ": key " + Pbtxt.quote(key) + " of " + path + "." + name
                        + " given more than once; the last value is used");
            }
            out.put(key, value);
        }
        return out;
    }

    /** Reads one value out of a map entry. */
    @FunctionalInterface
    interface ValueReader<V> {
        V read(MessageReader entry, String field);
    }

    /**
     * A field of the schema that Hotpath reads past: when present, a warning naming it and saying
     * {@code instead} (what Hotpath does). Its content is not checked.
     */
    void notActedOn(String name, String instead) {
        read.add(name);
        Field f = message.fields().get(name);
        if (f != null) {
            warn(f.position(), "'" + name + "' in " + path + " read but not acted on: " + instead);
        }
    }

    void warn(Position at, String what) {
        warnings.add(at + ": " + Pbtxt.oneLine(what));
    }

    /** Every field not read is a warning. */
    void finish() {
        for (Field f : message.fields().values()) {
            if (!read.contains(f.name())) {
                warnings.add(f.position() + ": unknown field '" + f.name() + "' in " + path + ", ignored");
            }
        }
    }

    HotpathException error(Position at, String what) {
        return HotpathException.invalidArgument(at + ": " + Pbtxt.oneLine(what));
    }

    // ---- conversions ----------------------------------------------------------------------

    private List<Value> values(String name) {
        read.add(name);
        return message.values(name);
    }

    private Scalar single(String name) {
        List<Value> vs = values(name);
        if (vs.isEmpty()) {
            return null;
        }
        if (vs.size() > 1) {
            throw error(vs.get(1).position(), "field '" + name + "' of " + path + " takes one value but is given "
                    + vs.size() + " (first at " + lineCol(vs.get(0).position()) + ")");
        }
        return scalar(vs.get(0), name);
    }

    private Scalar scalar(Value v, String name) {
        if (v instanceof Scalar s) {
            return s;
        }
        throw error(v.position(), "'" + name + "' in " + path + " takes a value, not a message { ... }");
    }

    private MessageReader child(Value v, String name, String childPath) {
        if (v instanceof Message m) {
            return new MessageReader(m, childPath, warnings);
        }
        throw error(v.position(), "'" + name + "' in " + path + " takes a message { ... }, not the value " + v);
    }

    String stringOf(Scalar s, String name) {
        if (s.kind() != Kind.STRING) {
            throw error(s.position(), "'" + name + "' in " + path + " takes a quoted string, not " + s);
        }
        return s.text();
    }

    long integerOf(Scalar s, String name, long min, long max) {
        if (s.kind() != Kind.INTEGER) {
            throw error(s.position(), "'" + name + "' in " + path + " takes an integer, not " + describe(s));
        }
        BigInteger v = parseInteger(s.text());
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw error(s.position(), "'" + name + "' in " + path + " is " + s.text() + ", outside [" + min + ", " + max + "]");
        }
        return v.longValue();
    }

    boolean boolOf(Scalar s, String name) {
        if (s.kind() == Kind.IDENTIFIER) {
            switch (s.text()) {
                case "true", "True", "t" -> {
                    return true;
                }
                case "false", "False", "f" -> {
                    return false;
                }
                default -> {
                }
            }
        } else if (s.kind() == Kind.INTEGER && (s.text().equals("0") || s.text().equals("1"))) {
            return s.text().equals("1");
        }
        throw error(s.position(), "'" + name + "' in " + path + " takes true or false, not " + describe(s));
    }

    <E extends Enum<E>> E enumOf(Scalar s, String name, Class<E> type) {
        E[] all = type.getEnumConstants();
        if (s.kind() == Kind.IDENTIFIER) {
            for (E e : all) {
                if (e.name().equals(s.text())) {
                    return e;
                }
            }
        } else if (s.kind() == Kind.INTEGER) {
            BigInteger v = parseInteger(s.text());
            for (E e : all) {
                if (e instanceof ProtoEnum p && BigInteger.valueOf(p.number()).equals(v)) {
                    return e;
                }
            }
        }
        StringBuilder names = new StringBuilder();
        for (E e : all) {
            names.append(names.isEmpty() ? "" : ", ").append(e.name());
        }
        throw error(s.position(), "'" + name + "' in " + path + " is " + describe(s) + ", not one of " + names);
    }

    /** An enum whose constants carry their proto numbers, so that {@code kind: 2} reads as well as {@code kind: KIND_CPU}. */
    interface ProtoEnum {
        int number();
    }

    /** The literal's value; one longer than any 64-bit literal reads as 2^70 (or its negative), out of every range. */
    private static BigInteger parseInteger(String text) {
        if (text.length() > 30) {
            return text.startsWith("-") ? BigInteger.ONE.shiftLeft(70).negate() : BigInteger.ONE.shiftLeft(70);
        }
        boolean negative = text.startsWith("-");
        String digits = negative ? text.substring(1) : text;
        BigInteger v;
        if (digits.startsWith("0x") || digits.startsWith("0X")) {
            v = new BigInteger(digits.substring(2), 16);
        } else if (digits.length() > 1 && digits.startsWith("0")) {
            v = new BigInteger(digits.substring(1), 8);
        } else {
            v = new BigInteger(digits);
        }
        return negative ? v.negate() : v;
    }

    private static String describe(Scalar s) {
        return switch (s.kind()) {
            case STRING -> "the string " + Pbtxt.quote(s.text());
            case FLOAT -> "the number " + s.text();
            case INTEGER -> "the integer " + s.text();
            case IDENTIFIER -> "'" + s.text() + "'";
        };
    }

    private static String lineCol(Position p) {
        return p.line() + ":" + p.column();
    }
}
