package io.hotpath.serve.repository;

import io.hotpath.core.HotpathException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A parser for protobuf text format as Triton's {@code config.pbtxt} uses it, into a small
 * schema-free tree: a {@link Message} is an ordered map from field name to the {@link Field}'s
 * values, each a {@link Scalar} token with its {@link Kind} or a nested {@link Message}, each with
 * the {@link Position} it came from. The schema (which fields exist, their types) is the reader's
 * business ({@link TritonModelConfig}).
 *
 * <p>Accepted: {@code name: value}; {@code name { ... }}, {@code name: { ... }} and the
 * {@code < ... >} form; repeated fields as repeated entries or {@code name: [a, b]} lists,
 * lists of messages included ({@code input [ { ... }, { ... } ]}, the colon optional before a
 * list); strings in double or single quotes with C escapes (octal, {@code \x}, backslash-u and
 * backslash-U), adjacent strings joined; decimal, hex and octal integers, floats, {@code -} before
 * a number or {@code inf}/{@code nan}; enum identifiers; {@code #} comments; an optional
 * {@code ,} or {@code ;} after each field. A map entry is an ordinary message with {@code key}
 * and {@code value} fields.
 *
 * <p>Limits: {@link #MAX_BYTES} of input and {@link #MAX_DEPTH} levels of nested messages. Any
 * input gives either a tree or one {@link HotpathException} (INVALID_ARGUMENT) whose one-line
 * message starts with {@code source:line:column:} and says what was wrong; never another exception.
 */
public final class Pbtxt {
    /** The largest input accepted: 1 MiB (a Triton config is a few KiB). */
    public static final int MAX_BYTES = 1 << 20;
    /** The deepest nesting of messages accepted below the top level. */
    public static final int MAX_DEPTH = 32;

    private Pbtxt() {
    }

    /** Where a token starts: the source's name (a file name), 1-based line and column (in chars). */
    public record Position(String source, int line, int column) {
        public Position {
            Objects.requireNonNull(source, "source");
        }

        /** {@code config.pbtxt:12:3}. */
        @Override
        public String toString() {
            return source + ":" + line + ":" + column;
        }
    }

    /** What a scalar token is. */
    public enum Kind {
        /** A bare word: an enum value, {@code true}/{@code false}, {@code inf}. */
        IDENTIFIER,
        /** A quoted string; {@link Scalar#text()} is its decoded content. */
        STRING,
        /** A decimal, hex ({@code 0x1F}) or octal ({@code 017}) integer, possibly negative. */
        INTEGER,
        /** A floating-point literal, possibly negative, or {@code -inf}/{@code -nan}. */
        FLOAT
    }

    /** A field's value: a {@link Scalar} or a {@link Message}. */
    public sealed interface Value permits Scalar, Message {
        /** Where the value starts. */
        Position position();
    }

    /**
     * A scalar token. {@link #text()} is the decoded string for {@link Kind#STRING}, else the
     * literal as written, with a leading {@code -} when negative.
     */
    public record Scalar(Kind kind, String text, Position position) implements Value {
        public Scalar {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(position, "position");
        }

        @Override
        public String toString() {
            return kind == Kind.STRING ? quote(text) : text;
        }
    }

    /** A field of a message: its name, where it first appears, and every value given, in order. */
    public record Field(String name, Position position, List<Value> values) {
        public Field {
            values = List.copyOf(values);
        }
    }

    /** A message: its fields in the order they first appear. Immutable. */
    public record Message(Position position, Map<String, Field> fields) implements Value {
        public Message {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        /** The values of a field, in order; empty when the field is absent. */
        public List<Value> values(String name) {
            Field f = fields.get(name);
            return f == null ? List.of() : f.values();
        }

        /** Whether the field appears. */
        public boolean has(String name) {
            return fields.containsKey(name);
        }
    }

    /** Parses a file, refusing one larger than {@link #MAX_BYTES} before reading it whole; the source name is the path as given. */
    public static Message parse(Path file) {
        return parse(file.toString(), readBounded(file, file.toString()));
    }

    /** Parses UTF-8 bytes; {@code source} names them in positions and messages. */
    public static Message parse(String source, byte[] bytes) {
        Objects.requireNonNull(source, "source");
        if (bytes.length > MAX_BYTES) {
            throw HotpathException.invalidArgument(source + ": " + bytes.length + " bytes, over the limit of " + MAX_BYTES
                    + " bytes (1 MiB) for a text-format config");
        }
        return new Parser(source, new String(bytes, StandardCharsets.UTF_8)).parseTop();
    }

    /** Parses text; {@code source} names it in positions and messages. */
    public static Message parse(String source, String text) {
        Objects.requireNonNull(source, "source");
        if (text.length() > MAX_BYTES) {
            throw HotpathException.invalidArgument(source + ": " + text.length() + " characters, over the limit of " + MAX_BYTES
                    + " (1 MiB) for a text-format config");
        }
        return new Parser(source, text).parseTop();
    }

    /**
     * The bytes of a file of at most {@link #MAX_BYTES}, read without trusting its reported size
     * (a file that grows while read is still refused); a missing or unreadable file is NOT_FOUND or
     * INVALID_ARGUMENT naming it.
     */
    static byte[] readBounded(Path file, String label) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw HotpathException.invalidArgument(label + ": larger than the limit of " + MAX_BYTES + " bytes (1 MiB)");
            }
            return bytes;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new HotpathException(HotpathException.Category.NOT_FOUND, label + ": no such file");
        } catch (IOException e) {
            throw HotpathException.invalidArgument(label + ": cannot read: " + oneLine(String.valueOf(e.getMessage())));
        }
    }

    /** A string quoted and escaped as text format writes it, cut to 40 characters, for messages. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        int n = Math.min(s.length(), 40);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append(s.length() > n ? "...\"" : "\"").toString();
    }

    static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }

    /** Recursive descent over the text; the depth bound keeps the recursion shallow. */
    private static final class Parser {
        private final String source;
        private final String text;
        private int pos;
        private int line = 1;
        private int lineStart;

        Parser(String source, String text) {
            this.source = source;
            // a UTF-8 byte-order mark is not text
            this.text = text;
            this.pos = text.startsWith("\uFEFF") ? 1 : 0;
            this.lineStart = pos;
        }

        Message parseTop() {
            Position start = here();
            Map<String, FieldBuilder> fields = new LinkedHashMap<>();
            skipSpace();
            while (pos < text.length()) {
                parseField(fields, 0);
                skipSpace();
            }
            return build(start, fields);
        }

        /** One field and its value(s), then an optional separator. */
        private void parseField(Map<String, FieldBuilder> fields, int depth) {
            Position at = here();
            char c = text.charAt(pos);
            if (!isIdentStart(c)) {
                throw error(at, "expected a field name, found " + describeHere());
            }
            String name = identifier();
            FieldBuilder field = fields.computeIfAbsent(name, n -> new FieldBuilder(n, at));
            skipSpace();
            boolean colon = false;
            if (peek() == ':') {
                pos++;
                colon = true;
                skipSpace();
            }
            char next = peek();
            if (next == '{' || next == '<') {
                field.values.add(parseMessage(depth + 1));
            } else if (next == '[') {
                parseList(field, name, depth);
            } else if (colon) {
                field.values.add(parseScalar(name));
            } else {
                throw error(here(), "expected ':' or '{' after field name '" + name + "', found " + describeHere());
            }
            skipSpace();
            if (peek() == ',' || peek() == ';') {
                pos++;
            }
        }

        private Message parseMessage(int depth) {
            Position start = here();
            if (depth > MAX_DEPTH) {
                throw error(start, "messages nested deeper than " + MAX_DEPTH + " levels");
            }
            char open = text.charAt(pos++);
            char close = open == '{' ? '}' : '>';
            Map<String, FieldBuilder> fields = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (pos >= text.length()) {
                    throw error(here(), "end of file inside the message opened at " + start.line() + ":" + start.column()
                            + " (missing '" + close + "')");
                }
                if (text.charAt(pos) == close) {
                    pos++;
                    return build(start, fields);
                }
                parseField(fields, depth);
            }
        }

        private void parseList(FieldBuilder field, String name, int depth) {
            Position start = here();
            pos++; // '['
            skipSpace();
            if (peek() == ']') {
                pos++;
                return;
            }
            while (true) {
                skipSpace();
                char c = peek();
                if (c == '{' || c == '<') {
                    field.values.add(parseMessage(depth + 1));
                } else {
                    field.values.add(parseScalar(name));
                }
                skipSpace();
                c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == ']') {
                    pos++;
                    return;
                } else if (pos >= text.length()) {
                    throw error(here(), "end of file inside the list of '" + name + "' opened at " + start.line() + ":"
                            + start.column() + " (missing ']')");
                } else {
                    throw error(here(), "expected ',' or ']' in the list of '" + name + "', found " + describeHere());
                }
            }
        }

        private Scalar parseScalar(String name) {
            Position at = here();
            if (pos >= text.length()) {
                throw error(at, "expected a value for '" + name + "', found end of file");
            }
            char c = text.charAt(pos);
            if (c == '"' || c == '\'') {
                return new Scalar(Kind.STRING, strings(), at);
            }
            if (c == '-') {
                pos++;
                skipSpace();
                Position after = here();
                char d = peek();
                if (isDigit(d) || (d == '.' && isDigit(peekAt(1)))) {
                    Scalar s = number(after);
                    return new Scalar(s.kind(), "-" + s.text(), at);
                }
                if (isIdentStart(d)) {
                    String word = identifier();
                    String lower = word.toLowerCase(java.util.Locale.ROOT);
                    if (lower.equals("inf") || lower.equals("infinity") || lower.equals("nan")) {
                        return new Scalar(Kind.FLOAT, "-" + word, at);
                    }
                    throw error(after, "'-' before '" + word + "': only a number, inf or nan can be negative");
                }
                throw error(after, "expected a number after '-', found " + describeHere());
            }
            if (isDigit(c) || (c == '.' && isDigit(peekAt(1)))) {
                return number(at);
            }
            if (isIdentStart(c)) {
                return new Scalar(Kind.IDENTIFIER, identifier(), at);
            }
            throw error(at, "expected a value for '" + name + "', found " + describeHere());
        }

        private Scalar number(Position at) {
            int start = pos;
            boolean hex = text.startsWith("0x", pos) || text.startsWith("0X", pos);
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (isIdentPart(c) || c == '.') {
                    pos++;
                } else if ((c == '+' || c == '-') && !hex && pos > start && (text.charAt(pos - 1) == 'e' || text.charAt(pos - 1) == 'E')) {
                    pos++;
                } else {
                    break;
                }
            }
            String lit = text.substring(start, pos);
            Kind kind = classify(lit);
            if (kind == null) {
                throw error(at, "malformed number " + quote(lit));
            }
            if (kind == Kind.INTEGER && lit.length() > 1 && lit.charAt(0) == '0' && !hex) {
                for (int i = 1; i < lit.length(); i++) {
                    if (lit.charAt(i) > '7') {
                        throw error(at, "malformed number '" + lit + "' (a leading 0 makes it octal)");
                    }
                }
            }
            return new Scalar(kind, lit, at);
        }

        /**
         * INTEGER for {@code 0x1F} or {@code 123}, FLOAT for {@code 1.5}, {@code .5e-3},
         * {@code 2.0f}, null for anything else. One pass, no regular expression: a 1 MiB literal
         * must not cost quadratic backtracking.
         */
        static Kind classify(String lit) {
            int n = lit.length();
            if (n > 2 && lit.charAt(0) == '0' && (lit.charAt(1) == 'x' || lit.charAt(1) == 'X')) {
                for (int i = 2; i < n; i++) {
                    if (Character.digit(lit.charAt(i), 16) < 0 || lit.charAt(i) > 'f') {
                        return null;
                    }
                }
                return Kind.INTEGER;
            }
            int i = 0;
            int intDigits = 0;
            while (i < n && isDigit(lit.charAt(i))) {
                i++;
                intDigits++;
            }
            if (i == n) {
                return intDigits > 0 ? Kind.INTEGER : null;
            }
            int fracDigits = 0;
            if (lit.charAt(i) == '.') {
                i++;
                while (i < n && isDigit(lit.charAt(i))) {
                    i++;
                    fracDigits++;
                }
            }
            if (intDigits + fracDigits == 0) {
                return null;
            }
            if (i < n && (lit.charAt(i) == 'e' || lit.charAt(i) == 'E')) {
                i++;
                if (i < n && (lit.charAt(i) == '+' || lit.charAt(i) == '-')) {
                    i++;
                }
                int expDigits = 0;
                while (i < n && isDigit(lit.charAt(i))) {
                    i++;
                    expDigits++;
                }
                if (expDigits == 0) {
                    return null;
                }
            }
            if (i < n && (lit.charAt(i) == 'f' || lit.charAt(i) == 'F')) {
                i++;
            }
            return i == n ? Kind.FLOAT : null;
        }

        /** One or more adjacent quoted strings, decoded and joined. */
        private String strings() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            do {
                string(out);
                skipSpace();
            } while (peek() == '"' || peek() == '\'');
            return out.toString(StandardCharsets.UTF_8);
        }

        private void string(ByteArrayOutputStream out) {
            Position start = here();
            char quote = text.charAt(pos++);
            while (true) {
                if (pos >= text.length() || text.charAt(pos) == '\n') {
                    throw error(start, "string not closed on its line");
                }
                char c = text.charAt(pos);
                if (c == quote) {
                    pos++;
                    return;
                }
                if (c != '\\') {
                    int cp = text.codePointAt(pos);
                    pos += Character.charCount(cp);
                    out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                    continue;
                }
                Position esc = here();
                pos++;
                if (pos >= text.length()) {
                    throw error(start, "string not closed on its line");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n' -> out.write('\n');
                    case 't' -> out.write('\t');
                    case 'r' -> out.write('\r');
                    case 'a' -> out.write(7);
                    case 'b' -> out.write('\b');
                    case 'f' -> out.write('\f');
                    case 'v' -> out.write(11);
                    case '\\', '\'', '"', '?' -> out.write(e);
                    case 'x', 'X' -> out.write(hexDigits(esc, 1, 2, 0xff));
                    case 'u' -> codePoint(out, esc, 4);
                    case 'U' -> codePoint(out, esc, 8);
                    default -> {
                        if (e >= '0' && e <= '7') {
                            int v = e - '0';
                            for (int i = 0; i < 2 && pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '7'; i++) {
                                v = v * 8 + (text.charAt(pos++) - '0');
                            }
                            if (v > 0xff) {
                                throw error(esc, "octal escape \\" + Integer.toOctalString(v) + " is above \\377");
                            }
                            out.write(v);
                        } else {
                            throw error(esc, "unknown escape " + quote("\\" + e) + " in a string");
                        }
                    }
                }
            }
        }

        private void codePoint(ByteArrayOutputStream out, Position esc, int digits) {
            int cp = hexDigits(esc, digits, digits, Character.MAX_CODE_POINT);
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                throw error(esc, "escape names a surrogate U+" + Integer.toHexString(cp).toUpperCase(java.util.Locale.ROOT)
                        + ", not a character");
            }
            out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        }

        private int hexDigits(Position esc, int min, int max, int limit) {
            long v = 0;
            int n = 0;
            while (n < max && pos < text.length() && Character.digit(text.charAt(pos), 16) >= 0 && text.charAt(pos) < 128) {
                v = v * 16 + Character.digit(text.charAt(pos++), 16);
                n++;
            }
            if (n < min) {
                throw error(esc, "escape needs " + (min == max ? min : "at least " + min) + " hex digit" + (min == 1 ? "" : "s"));
            }
            if (v > limit) {
                throw error(esc, "escape value 0x" + Long.toHexString(v) + " is above 0x" + Integer.toHexString(limit));
            }
            return (int) v;
        }

        private String identifier() {
            int start = pos;
            while (pos < text.length() && isIdentPart(text.charAt(pos))) {
                pos++;
            }
            return text.substring(start, pos);
        }

        /** Skips whitespace and comments, tracking lines. */
        private void skipSpace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == '\n') {
                    pos++;
                    line++;
                    lineStart = pos;
                } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == 11) {
                    pos++;
                } else if (c == '#') {
                    while (pos < text.length() && text.charAt(pos) != '\n') {
                        pos++;
                    }
                } else {
                    return;
                }
            }
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private char peekAt(int ahead) {
            return pos + ahead < text.length() ? text.charAt(pos + ahead) : '\0';
        }

        private Position here() {
            return new Position(source, line, pos - lineStart + 1);
        }

        private String describeHere() {
            if (pos >= text.length()) {
                return "end of file";
            }
            char c = text.charAt(pos);
            if (c == '"' || c == '\'') {
                return "a string";
            }
            if (isIdentStart(c)) {
                int end = pos;
                while (end < text.length() && end - pos < 40 && isIdentPart(text.charAt(end))) {
                    end++;
                }
                return "'" + text.substring(pos, end) + "'";
            }
            if (isDigit(c)) {
                return "a number";
            }
            if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) || c == '\uFFFD') {
                return String.format("character U+%04X", (int) c);
            }
            return "'" + c + "'";
        }

        private HotpathException error(Position at, String what) {
            return HotpathException.invalidArgument(at + ": " + oneLine(what));
        }

        private Message build(Position start, Map<String, FieldBuilder> fields) {
            Map<String, Field> out = new LinkedHashMap<>();
            for (FieldBuilder f : fields.values()) {
                out.put(f.name, new Field(f.name, f.position, f.values));
            }
            return new Message(start, out);
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private static boolean isIdentStart(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        }

        private static boolean isIdentPart(char c) {
            return isIdentStart(c) || isDigit(c);
        }
    }

    private static final class FieldBuilder {
        final String name;
        final Position position;
        final List<Value> values = new ArrayList<>();

        FieldBuilder(String name, Position position) {
            this.name = name;
            this.position = position;
        }
    }
}
