package io.hotpath.onnx;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One text tokenized by a {@link WordPieceTokenizer}: the pre-processing stage of a text model's
 * request; its duration is the tokenizing. {@code -Dhotpath.jfr=false} turns it off with the others.
 */
@Name("hotpath.Tokenize")
@Label("Tokenize")
@Category({"Hotpath", "Request stages"})
@Description("A text split into WordPiece token ids (the pre-processing of a text model's request)")
@StackTrace(false)
final class TokenizeEvent extends jdk.jfr.Event {
    /** Read once, as the service's events read it. */
    static final boolean ON = !"false".equalsIgnoreCase(System.getProperty("hotpath.jfr"));

    @Label("Characters")
    int chars;

    @Label("Tokens")
    int tokens;
}
