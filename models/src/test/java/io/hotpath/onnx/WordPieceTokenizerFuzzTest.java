package io.hotpath.onnx;

import io.hotpath.models.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * MiniLM's {@link WordPieceTokenizer} on arbitrary text and maximum lengths. Input layout (so that
 * seeds can be written by hand): byte 0 selects how the rest is decoded (bit 0: UTF-16BE, which
 * reaches lone surrogates, else UTF-8) and how bytes 1-4 (a big-endian int) become maxLength (bit
 * 1: as they are, any int; else 2 + that int mod 600); bit 2 also checks {@link WordPieceTokenizer#tokens};
 * the text follows.
 *
 * <p>Checked: maxLength below 2 is an IllegalArgumentException (documented), nothing else throws;
 * the ids are [CLS] ... [SEP], at most maxLength of them, each a vocabulary id; at most a few per
 * code point of the text; encoding is deterministic and a shorter maxLength gives a prefix.
 * Without JAZZER_FUZZ this replays {@code WordPieceTokenizerFuzzTestInputs/} (docs/fuzzing.md).
 */
class WordPieceTokenizerFuzzTest {
    private static final WordPieceTokenizer TOKENIZER = ModelCatalog.minilmTokenizer();
    private static final int CLS = TOKENIZER.encode("", 2)[0];
    private static final int SEP = TOKENIZER.encode("", 2)[1];

    @FuzzTest(maxDuration = "2m")
    void encodeStaysInTheVocabularyAndWithinMaxLength(byte[] input) {
        if (input.length < 5) {
            return;
        }
        int mode = input[0];
        int raw = ByteBuffer.wrap(input, 1, 4).getInt();
        int maxLength = (mode & 2) != 0 ? raw : 2 + Math.floorMod(raw, 600);
        byte[] textBytes = Arrays.copyOfRange(input, 5, input.length);
        String text = new String(textBytes, (mode & 1) != 0 ? StandardCharsets.UTF_16BE : StandardCharsets.UTF_8);

        if (maxLength < 2) {
            assertThrows(IllegalArgumentException.class, () -> TOKENIZER.encode(text, maxLength));
            return;
        }
        int[] ids = TOKENIZER.encode(text, maxLength);
        assertTrue(ids.length >= 2 && ids.length <= maxLength, "length " + ids.length + " for maxLength " + maxLength);
        assertEquals(CLS, ids[0], "first id is [CLS]");
        assertEquals(SEP, ids[ids.length - 1], "last id is [SEP]");
        int vocab = TOKENIZER.vocabSize();
        for (int id : ids) {
            assertTrue(id >= 0 && id < vocab, "id " + id + " outside the vocabulary of " + vocab);
        }
        // every piece covers at least one code point of the normalized text; normalization (lower
        // case, NFD) makes at most a few code points of one
        long codePoints = text.codePoints().count();
        assertTrue(ids.length <= 2 + 4 * codePoints, ids.length + " ids for " + codePoints + " code points");
        assertArrayEquals(ids, TOKENIZER.encode(text, maxLength), "deterministic");

        int[] all = maxLength == Integer.MAX_VALUE ? ids : TOKENIZER.encode(text, Integer.MAX_VALUE);
        assertTrue(all.length >= ids.length);
        assertArrayEquals(Arrays.copyOf(all, ids.length - 1), Arrays.copyOf(ids, ids.length - 1),
                "a shorter maxLength truncates the same pieces");
        if ((mode & 4) != 0 && all.length <= 600) {     // tokens() inverts the whole vocabulary: only now and then
            List<String> tokens = TOKENIZER.tokens(text);
            assertEquals(all.length, tokens.size());
            assertFalse(tokens.contains(null), "every id has a token: " + tokens);
        }
    }
}
