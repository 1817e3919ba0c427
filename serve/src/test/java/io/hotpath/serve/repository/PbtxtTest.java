package io.hotpath.serve.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotpath.core.HotpathException;
import io.hotpath.serve.repository.Pbtxt.Kind;
import io.hotpath.serve.repository.Pbtxt.Message;
import io.hotpath.serve.repository.Pbtxt.Scalar;
import io.hotpath.serve.repository.Pbtxt.Value;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class PbtxtTest {
    private static Message parse(String text) {
        return Pbtxt.parse("config.pbtxt", text);
    }

    private static Scalar scalar(Value v) {
        return assertInstanceOf(Scalar.class, v);
    }

    private static Message message(Value v) {
        return assertInstanceOf(Message.class, v);
    }

    private static String error(String text) {
        HotpathException e = assertThrows(HotpathException.class, () -> parse(text));
        assertEquals(HotpathException.Category.INVALID_ARGUMENT, e.category());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void scalarsKeepTheirKindTextAndPosition() {
        Message m = parse("name: \"resnet\"\nmax_batch_size: 8\n  kind: KIND_GPU\nratio: -1.5e3\nneg: -4\nhex: 0x1F\noct: 017\nfrac: .5\nninf: -inf\n");
        Scalar name = scalar(m.values("name").get(0));
        assertEquals(Kind.STRING, name.kind());
        assertEquals("resnet", name.text());
        assertEquals("config.pbtxt:1:7", name.position().toString());
        assertEquals(new Pbtxt.Position("config.pbtxt", 2, 1), m.fields().get("max_batch_size").position());
        assertEquals(Kind.INTEGER, scalar(m.values("max_batch_size").get(0)).kind());
        Scalar kind = scalar(m.values("kind").get(0));
        assertEquals(Kind.IDENTIFIER, kind.kind());
        assertEquals("KIND_GPU", kind.text());
        assertEquals(3, kind.position().line());
        assertEquals(9, kind.position().column());
        assertEquals(new Scalar(Kind.FLOAT, "-1.5e3", new Pbtxt.Position("config.pbtxt", 4, 8)), m.values("ratio").get(0));
        assertEquals("-4", scalar(m.values("neg").get(0)).text());
        assertEquals(Kind.INTEGER, scalar(m.values("neg").get(0)).kind());
        assertEquals("0x1F", scalar(m.values("hex").get(0)).text());
        assertEquals(Kind.INTEGER, scalar(m.values("oct").get(0)).kind());
        assertEquals(Kind.FLOAT, scalar(m.values("frac").get(0)).kind());
        assertEquals("-inf", scalar(m.values("ninf").get(0)).text());
        assertEquals(Kind.FLOAT, scalar(m.values("ninf").get(0)).kind());
        assertEquals(List.of("name", "max_batch_size", "kind", "ratio", "neg", "hex", "oct", "frac", "ninf"), List.copyOf(m.fields().keySet()));
    }

    @Test
    void nestedMessagesInEveryForm() {
        Message m = parse("a { x: 1 }\nb: { x: 2 }\nc < x: 3 >\nd: < x: 4 >\n");
        for (String f : List.of("a", "b", "c", "d")) {
            Message inner = message(m.values(f).get(0));
            assertEquals(1, inner.values("x").size(), f);
        }
        assertEquals("2", scalar(message(m.values("b").get(0)).values("x").get(0)).text());
        assertEquals("config.pbtxt:2:4", m.values("b").get(0).position().toString());
    }

    @Test
    void repeatedFieldsAsEntriesAndLists() {
        Message m = parse("dims: [ -1, 3, 224 ]\ndims: 5\ngpus: []\ninput [ { name: \"a\" }, { name: \"b\" } ]\ninput { name: \"c\" }\n"
                + "output: [ { name: \"o\" } ]\n");
        assertEquals(List.of("-1", "3", "224", "5"), m.values("dims").stream().map(v -> scalar(v).text()).toList());
        assertTrue(m.has("gpus"));
        assertEquals(0, m.values("gpus").size(), "an empty list is the field, present, with no values");
        assertEquals(List.of("a", "b", "c"), m.values("input").stream().map(v -> scalar(message(v).values("name").get(0)).text()).toList());
        assertEquals(1, m.values("output").size());
        assertEquals(0, m.values("absent").size());
    }

    @Test
    void separatorsCommentsAndMapEntries() {
        Message m = parse("# a comment line\nname: \"m\", max_batch_size: 4; # trailing comment\n"
                + "parameters { key: \"k\" value: { string_value: \"v\" } }\n"
                + "parameters: { key: \"k2\", value: { string_value: \"v2\" }; }\n");
        assertEquals("m", scalar(m.values("name").get(0)).text());
        assertEquals("4", scalar(m.values("max_batch_size").get(0)).text());
        List<Value> params = m.values("parameters");
        assertEquals(2, params.size());
        Message second = message(params.get(1));
        assertEquals("k2", scalar(second.values("key").get(0)).text());
        assertEquals("v2", scalar(message(second.values("value").get(0)).values("string_value").get(0)).text());
    }

    @Test
    void stringEscapesAndJoining() {
        Message m = parse("a: \"tab\\tq\\\"b\\\\\"\nb: 'single \\'q\\''\nc: \"\\101\\x42\\u00e9\\U0001F600\"\nd: \"one\" 'two'\n"
                + "e: \"\\303\\251\"\nf: \"caf\u00e9\"\n");
        assertEquals("tab\tq\"b\\", scalar(m.values("a").get(0)).text());
        assertEquals("single 'q'", scalar(m.values("b").get(0)).text());
        assertEquals("AB\u00e9\uD83D\uDE00", scalar(m.values("c").get(0)).text());
        assertEquals("onetwo", scalar(m.values("d").get(0)).text());
        assertEquals("\u00e9", scalar(m.values("e").get(0)).text(), "octal escapes are UTF-8 bytes");
        assertEquals("caf\u00e9", scalar(m.values("f").get(0)).text());
    }

    @Test
    void utf8BytesAndByteOrderMark() {
        byte[] bytes = "\uFEFFname: \"\u00fcber\"".getBytes(StandardCharsets.UTF_8);
        Message m = Pbtxt.parse("x.pbtxt", bytes);
        assertEquals("\u00fcber", scalar(m.values("name").get(0)).text());
        assertEquals("x.pbtxt:1:1", m.fields().get("name").position().toString());
    }

    @Test
    void syntaxErrorsNameLineAndColumn() {
        assertTrue(error("name \"x\"").startsWith("INVALID_ARGUMENT: config.pbtxt:1:6: expected ':' or '{' after field name 'name'"), error("name \"x\""));
        assertTrue(error("a: 1\nb: \"open\n").contains("config.pbtxt:2:4: string not closed on its line"));
        assertTrue(error("a {\n  b: 1\n").contains("config.pbtxt:3:1: end of file inside the message opened at 1:3 (missing '}')"));
        assertTrue(error("dims: [1, 2\n").contains("end of file inside the list of 'dims'"));
        assertTrue(error("dims: [1 2]").contains("config.pbtxt:1:10: expected ',' or ']' in the list of 'dims', found a number"));
        assertTrue(error("a: }").contains("config.pbtxt:1:4: expected a value for 'a', found '}'"));
        assertTrue(error("}").contains("config.pbtxt:1:1: expected a field name, found '}'"));
        assertTrue(error("a: 12ab").contains("malformed number \"12ab\""));
        assertTrue(error("a: 09").contains("a leading 0 makes it octal"));
        assertTrue(error("a: 1e").contains("malformed number"));
        assertTrue(error("a: -b").contains("only a number, inf or nan can be negative"));
        assertTrue(error("a: \"\\q\"").contains("config.pbtxt:1:5: unknown escape"));
        assertTrue(error("a: \"\\x\"").contains("escape needs at least 1 hex digit"));
        assertTrue(error("a: \"\\uD800\"").contains("surrogate"));
        assertTrue(error("a: \"\\777\"").contains("above \\377"));
        assertTrue(error("a < x: 1 }").contains("config.pbtxt:1:10: expected a field name, found '}'"));
        assertTrue(error("a: [1,]").contains("expected a value for 'a', found ']'"));
        assertTrue(error("a: \u0001").contains("character U+0001"));
    }

    @Test
    void nestingIsBoundedAt32Levels() {
        String ok = "a { ".repeat(Pbtxt.MAX_DEPTH) + "x: 1" + " }".repeat(Pbtxt.MAX_DEPTH);
        Message m = parse(ok);
        for (int i = 0; i < Pbtxt.MAX_DEPTH; i++) {
            m = message(m.values("a").get(0));
        }
        assertEquals("1", scalar(m.values("x").get(0)).text());
        String deep = "a { ".repeat(Pbtxt.MAX_DEPTH + 1) + " }".repeat(Pbtxt.MAX_DEPTH + 1);
        assertTrue(error(deep).contains("config.pbtxt:1:131: messages nested deeper than 32 levels"), error(deep));
        String deepList = "a: [ { ".repeat(Pbtxt.MAX_DEPTH + 1);
        assertTrue(error(deepList).contains("nested deeper than 32"));
        // far deeper than any stack would allow unbounded: still the one error, no StackOverflowError
        assertTrue(error("a{".repeat(100_000)).contains("nested deeper than 32"));
    }

    @Test
    void sizeIsBoundedAtOneMebibyte(@TempDir Path dir) throws Exception {
        byte[] atLimit = ("a: 1" + " ".repeat(Pbtxt.MAX_BYTES - 4)).getBytes(StandardCharsets.US_ASCII);
        assertEquals(Pbtxt.MAX_BYTES, atLimit.length);
        assertEquals(1, Pbtxt.parse("big", atLimit).values("a").size());
        byte[] over = new byte[Pbtxt.MAX_BYTES + 1];
        java.util.Arrays.fill(over, (byte) ' ');
        HotpathException e = assertThrows(HotpathException.class, () -> Pbtxt.parse("big.pbtxt", over));
        assertEquals("INVALID_ARGUMENT: big.pbtxt: 1048577 bytes, over the limit of 1048576 bytes (1 MiB) for a text-format config", e.getMessage());
        Path file = dir.resolve("config.pbtxt");
        Files.write(file, over);
        HotpathException fromFile = assertThrows(HotpathException.class, () -> Pbtxt.parse(file));
        assertTrue(fromFile.getMessage().contains("larger than the limit of 1048576 bytes"), fromFile.getMessage());
        HotpathException missing = assertThrows(HotpathException.class, () -> Pbtxt.parse(dir.resolve("none.pbtxt")));
        assertEquals(HotpathException.Category.NOT_FOUND, missing.category());
    }

    /** A regular expression with nested quantifiers would backtrack quadratically on this and never finish. */
    @Test
    @Timeout(60)
    void aHugeNumberLiteralIsRefusedWithoutBacktracking() {
        String digits = "1".repeat(Pbtxt.MAX_BYTES - 10) + "x";
        assertTrue(error("a: " + digits).contains("malformed number \"1111"));
        String huge = "1".repeat(Pbtxt.MAX_BYTES - 10);
        assertEquals(huge, scalar(parse("a: " + huge).values("a").get(0)).text());
    }
}
