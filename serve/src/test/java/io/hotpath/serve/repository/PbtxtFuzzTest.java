package io.hotpath.serve.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hotpath.core.HotpathException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Any bytes give a tree (and a config) or the one-line INVALID_ARGUMENT naming the source: never
 * another exception. Random bytes, token soup, every truncation and single-byte mutations of a
 * real config, through both the parser and the config mapping. Seeds are fixed: a failure
 * reproduces.
 */
class PbtxtFuzzTest {
    private static final Pattern ONE_LINE_ERROR = Pattern.compile("INVALID_ARGUMENT: fuzz(:\\d+:\\d+)?: [^\\n\\r]+");
    private static final String[] TOKENS = {
        "{", "}", "[", "]", "<", ">", ":", ",", ";", " ", "\n", "#c\n", "-", ".", "'", "\"", "\\", "\"s\"", "'\\x4'", "\"\\u12\"",
        "0", "1", "-1", "0x1F", "017", "09", "1.5", "1e", "1e5", "inf", "-nan", "true", "t", "99999999999999999999999",
        "name", "platform", "max_batch_size", "input", "output", "dims", "data_type", "TYPE_FP32", "TYPE_X", "reshape", "shape",
        "dynamic_batching", "preferred_batch_size", "max_queue_delay_microseconds", "default_queue_policy", "timeout_action", "DELAY",
        "instance_group", "kind", "KIND_GPU", "count", "gpus", "optimization", "execution_accelerators", "gpu_execution_accelerator",
        "parameters", "key", "value", "string_value", "precision_mode", "version_policy", "latest", "all", "specific", "versions",
        "num_versions", "response_cache", "enable", "model_warmup", "priority_levels", "default_priority_level", "optional",
        "\"onnxruntime_onnx\"", "\"tensorrt\"", "\"FP16\"", "\u00e9", "\uFFFD", "\u0000"
    };

    private int parsed;
    private int refused;

    private void check(byte[] input) {
        try {
            assertNotNull(Pbtxt.parse("fuzz", input));
            parsed++;
        } catch (HotpathException e) {
            refused++;
            assertOneLine(e, input);
            return;
        } catch (RuntimeException | Error e) {
            fail("Pbtxt.parse threw " + e + " for " + show(input), e);
        }
        try {
            assertNotNull(TritonModelConfig.parse("fuzz", input).toJson());
        } catch (HotpathException e) {
            assertOneLine(e, input);
        } catch (RuntimeException | Error e) {
            fail("TritonModelConfig.parse threw " + e + " for " + show(input), e);
        }
    }

    private static void assertOneLine(HotpathException e, byte[] input) {
        assertEquals(HotpathException.Category.INVALID_ARGUMENT, e.category(), show(input));
        assertTrue(ONE_LINE_ERROR.matcher(e.getMessage()).matches(), "not one line naming the source: " + e.getMessage() + " for " + show(input));
    }

    private static String show(byte[] input) {
        return Pbtxt.quote(new String(input, StandardCharsets.UTF_8));
    }

    @Test
    void randomBytes() {
        Random r = new Random(42);
        for (int i = 0; i < 3000; i++) {
            byte[] b = new byte[r.nextInt(120)];
            r.nextBytes(b);
            check(b);
        }
        assertEquals(3000, parsed + refused);
        assertTrue(refused > 2000, "random bytes are mostly refused: " + refused);
    }

    @Test
    void tokenSoup() {
        Random r = new Random(7);
        for (int i = 0; i < 5000; i++) {
            StringBuilder s = new StringBuilder();
            int n = r.nextInt(40);
            for (int k = 0; k < n; k++) {
                s.append(TOKENS[r.nextInt(TOKENS.length)]).append(r.nextInt(3) == 0 ? " " : "");
            }
            check(s.toString().getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(parsed > 100, "some soups parse: " + parsed);
        assertTrue(refused > 100, "some soups are refused: " + refused);
    }

    @Test
    void everyTruncationOfARealConfig() {
        byte[] full = ConfigFixtures.CLASSIFIER.getBytes(StandardCharsets.UTF_8);
        for (int len = 0; len <= full.length; len++) {
            check(java.util.Arrays.copyOf(full, len));
        }
        assertEquals(full.length + 1, parsed + refused);
        assertTrue(parsed > 10 && refused > 100, "parsed " + parsed + ", refused " + refused);
    }

    @Test
    void singleByteMutationsOfARealConfig() {
        byte[] full = ConfigFixtures.CLASSIFIER.getBytes(StandardCharsets.UTF_8);
        byte[] alphabet = "{}[]<>:,;\"'\\#-.0123456789xeE \n\tazAZ_".getBytes(StandardCharsets.US_ASCII);
        Random r = new Random(2024);
        for (int i = 0; i < 3000; i++) {
            byte[] b = full.clone();
            int at = r.nextInt(b.length);
            b[at] = r.nextInt(4) == 0 ? (byte) r.nextInt(256) : alphabet[r.nextInt(alphabet.length)];
            check(b);
        }
        assertTrue(parsed > 100 && refused > 100, "parsed " + parsed + ", refused " + refused);
    }
}
