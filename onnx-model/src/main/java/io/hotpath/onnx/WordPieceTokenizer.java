package io.hotpath.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT WordPiece tokenizer read from a Hugging Face {@code tokenizer.json} (the format MiniLM
 * ships): BERT normalization (clean control characters, space out CJK characters, lower-case and
 * strip accents), split on whitespace and punctuation, greedy longest-match-first WordPiece with
 * the {@code ##} continuation prefix, then {@code [CLS] ... [SEP]}.
 *
 * <p>Thread-safe after construction. Tokenizing allocates; it is input preparation, not the
 * inference hot path.
 */
public final class WordPieceTokenizer {
    private final Map<String, Integer> vocab;
    private final boolean lowercase;
    private final boolean stripAccents;
    private final String prefix;
    private final int maxCharsPerWord;
    private final int unkId;
    private final int clsId;
    private final int sepId;
    private final int padId;

    private WordPieceTokenizer(Map<String, Integer> vocab, boolean lowercase, boolean stripAccents, String prefix,
                               int maxCharsPerWord, String unk) {
        this.vocab = vocab;
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
        this.prefix = prefix;
        this.maxCharsPerWord = maxCharsPerWord;
        this.unkId = id(unk);
        this.clsId = id("[CLS]");
        this.sepId = id("[SEP]");
        this.padId = vocab.getOrDefault("[PAD]", 0);
    }

    private int id(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("tokenizer vocabulary has no '" + token + "' token");
        }
        return id;
    }

    /** Reads a {@code tokenizer.json} whose model is WordPiece. */
    public static WordPieceTokenizer read(InputStream json) {
        try {
            JsonNode root = new ObjectMapper().readTree(json);
            JsonNode model = root.path("model");
            if (!"WordPiece".equals(model.path("type").asText())) {
                throw new IllegalArgumentException("tokenizer model is '" + model.path("type").asText() + "', not WordPiece");
            }
            Map<String, Integer> vocab = new HashMap<>();
            for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
                vocab.put(e.getKey(), e.getValue().asInt());
            }
            JsonNode norm = root.path("normalizer");
            boolean lower = norm.path("lowercase").asBoolean(true);
            // BERT's rule: strip_accents null means "follow lowercase".
            boolean strip = norm.path("strip_accents").isNull() || norm.path("strip_accents").isMissingNode()
                    ? lower : norm.path("strip_accents").asBoolean();
            return new WordPieceTokenizer(vocab, lower, strip, model.path("continuing_subword_prefix").asText("##"),
                    model.path("max_input_chars_per_word").asInt(100), model.path("unk_token").asText("[UNK]"));
        } catch (IOException e) {
            throw new UncheckedIOException("reading tokenizer.json", e);
        }
    }

    public int vocabSize() {
        return vocab.size();
    }

    public int padId() {
        return padId;
    }

    /** Token ids of {@code text}: {@code [CLS]}, the word pieces, {@code [SEP]}, truncated to {@code maxLength}. */
    public int[] encode(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must leave room for [CLS] and [SEP]: " + maxLength);
        }
        TokenizeEvent ev = null;
        if (TokenizeEvent.ON) {
            ev = new TokenizeEvent();
            if (ev.isEnabled()) {
                ev.begin();
            } else {
                ev = null;
            }
        }
        List<Integer> ids = new ArrayList<>();
        ids.add(clsId);
        for (String word : preTokenize(normalize(text))) {
            wordPiece(word, ids);
            if (ids.size() >= maxLength - 1) {
                break;
            }
        }
        int n = Math.min(ids.size(), maxLength - 1);
        int[] out = new int[n + 1];
        for (int i = 0; i < n; i++) {
            out[i] = ids.get(i);
        }
        out[n] = sepId;
        if (ev != null) {
            ev.end();
            if (ev.shouldCommit()) {
                ev.chars = text.length();
                ev.tokens = out.length;
                ev.commit();
            }
        }
        return out;
    }

    /** The word pieces of {@code text} as strings (for tests and diagnostics). */
    public List<String> tokens(String text) {
        Map<Integer, String> inverse = new HashMap<>();
        vocab.forEach((k, v) -> inverse.put(v, k));
        List<String> out = new ArrayList<>();
        for (int id : encode(text, Integer.MAX_VALUE)) {
            out.add(inverse.get(id));
        }
        return out;
    }

    private String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (isWhitespace(cp)) {
                sb.append(' ');
            } else if (isCjk(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        });
        String s = sb.toString();
        if (lowercase) {
            s = s.toLowerCase(java.util.Locale.ROOT);
        }
        if (stripAccents) {
            s = Normalizer.normalize(s, Normalizer.Form.NFD).replaceAll("\\p{Mn}", "");
        }
        return s;
    }

    private static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        text.codePoints().forEach(cp -> {
            if (isWhitespace(cp)) {
                flush(cur, words);
            } else if (isPunctuation(cp)) {
                flush(cur, words);
                words.add(new String(Character.toChars(cp)));
            } else {
                cur.appendCodePoint(cp);
            }
        });
        flush(cur, words);
        return words;
    }

    private static void flush(StringBuilder cur, List<String> words) {
        if (!cur.isEmpty()) {
            words.add(cur.toString());
            cur.setLength(0);
        }
    }

    private void wordPiece(String word, List<Integer> out) {
        if (word.codePointCount(0, word.length()) > maxCharsPerWord) {
            out.add(unkId);
            return;
        }
        int start = 0;
        int mark = out.size();
        while (start < word.length()) {
            int end = word.length();
            Integer found = null;
            while (start < end) {
                String piece = (start > 0 ? prefix : "") + word.substring(start, end);
                found = vocab.get(piece);
                if (found != null) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (found == null) {
                while (out.size() > mark) {
                    out.remove(out.size() - 1);
                }
                out.add(unkId);
                return;
            }
            out.add(found);
            start = end;
        }
    }

    private static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        int t = Character.getType(cp);
        return t == Character.CONTROL || t == Character.FORMAT;
    }

    private static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        int t = Character.getType(cp);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
