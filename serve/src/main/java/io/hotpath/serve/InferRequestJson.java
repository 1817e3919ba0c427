package io.hotpath.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;

/**
 * The JSON part of an HTTP infer request (the Open Inference Protocol's request object, with
 * Triton's binary tensor data extension), parsed into reusable fields: one instance per
 * connection, reset for each request parsed. Numbers in {@code data} arrays (flat or nested) are kept
 * as raw longs until the model's datatype is known; {@code binary_data_size} inputs carry no data.
 * A request whose header is byte for byte the last good one's keeps the fields as they are.
 */
final class InferRequestJson {
    static final int MAX_INPUTS = 256;
    static final int MAX_DEPTH = 40;

    /** Documents a reused parser reads before it is replaced (its field-name table only grows). */
    static final int DOCUMENTS_PER_PARSER = 1000;

    /**
     * Jackson with the request limits. No document-length limit: a connection's parser is reused
     * across its requests and Jackson counts the length over all of them; the HTTP layer already
     * refuses a body over {@code maxDocumentBytes}.
     */
    static JsonFactory factory(long maxDocumentBytes) {
        return JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .maxNumberLength(64)
                        .maxStringLength(1 << 16)
                        .maxNameLength(1 << 12)
                        .build())
                .build();
    }

    static final class Input {
        String name;
        String datatype;
        final long[] shape = new long[io.hotpath.core.Shape.MAX_RANK];
        int rank = -1;
        long binarySize = -1;
        int dataStart;
        int dataCount = -1;
    }

    static final class Output {
        String name;
        boolean binary;
        boolean binarySet;
    }

    String id;
    long timeoutMicros = -1;
    boolean binaryOutputs;
    Input[] inputs = new Input[4];
    int inputCount;
    Output[] outputs = new Output[4];
    int outputCount = -1;       // -1: no "outputs" field (every output is returned)
    long[] numbers = new long[256];
    boolean[] integral = new boolean[256];
    int numberCount;
    private final long maxNumbers;

    InferRequestJson(long maxNumbers) {
        this.maxNumbers = maxNumbers;
    }

    private void reset() {
        id = null;
        timeoutMicros = -1;
        binaryOutputs = false;
        inputCount = 0;
        outputCount = -1;
        numberCount = 0;
    }

    /** The protocol's datatype names: a datatype read from JSON is one of these strings, not a new one. */
    private static final java.util.List<String> DATATYPES = java.util.List.of("FP32", "INT64", "INT32", "FP16", "BF16", "FP64", "UINT8",
            "INT8", "BOOL", "INT16", "UINT16", "UINT32", "UINT64", "BYTES");
    private java.util.List<String> inputNames = java.util.List.of();
    private java.util.List<String> outputNames = java.util.List.of();

    /** The current string token as one of {@code known} when equal to it, else a new string. */
    private static String text(JsonParser p, java.util.List<String> known) throws IOException {
        char[] buf = p.getTextCharacters();
        int off = p.getTextOffset();
        int len = p.getTextLength();
        for (int k = 0; k < known.size(); k++) {
            String c = known.get(k);
            if (c.length() == len) {
                int i = 0;
                while (i < len && c.charAt(i) == buf[off + i]) {
                    i++;
                }
                if (i == len) {
                    return c;
                }
            }
        }
        return new String(buf, off, len);
    }

    // this connection's parser, reused request after request (a new parser costs about 900 bytes of heap)
    private JsonParser stream;
    private int streamDocuments;
    // where the current document starts in the parser's input, and its length
    private long streamBase;
    private int streamLength;
    private byte[] streamBytes = new byte[512];
    // the bytes of the document being parsed: streamBytes, or a request's own array when it is larger than KEEP_BYTES
    private byte[] document;
    /** The largest JSON header whose bytes a connection keeps an array for; a larger one gets its own, dropped with its parser. */
    static final int KEEP_BYTES = 64 << 10;

    /**
     * The last document parsed without a refusal, when at most {@link #REPEAT_BYTES} long: a client
     * sends the same JSON header request after request (the same inputs, shapes and binary sizes,
     * only the binary data differs), and the same bytes parse to the same fields, so a repeat is
     * compared instead of parsed: 34 ns against 850 ns for {@code mlp}'s header on the Intel Xeon
     * measured ({@code InferRequestJsonBenchmark}).
     */
    private byte[] repeat = new byte[256];
    private int repeatLength = -1;
    /** How many documents were repeats (for tests). */
    long repeats;
    static final int REPEAT_BYTES = 4096;

    /**
     * Parses {@code length} bytes of {@code body} from {@code index} with this connection's
     * non-blocking parser: the bytes are copied to a reused array and fed to it, and a complete
     * object leaves it ready for the next request's. Any refusal drops the parser (it may stop
     * mid-document); the next request makes a new one. Names and datatypes that equal one of the
     * model's names or a protocol datatype come back as those very strings (the common case
     * allocates no string for them). Returns null, or a one-line reason for a 400.
     */
    String parse(JsonFactory factory, io.netty.buffer.ByteBuf body, int index, int length, java.util.List<String> modelInputs,
                 java.util.List<String> modelOutputs) {
        boolean large = length > KEEP_BYTES;
        if (large) {
            document = new byte[length];
        } else {
            if (streamBytes.length < length) {
                streamBytes = new byte[Math.min(KEEP_BYTES, Math.max(length, 2 * streamBytes.length))];
            }
            document = streamBytes;
        }
        body.getBytes(index, document, 0, length);
        if (length == repeatLength && modelInputs == inputNames && modelOutputs == outputNames
                && java.util.Arrays.equals(document, 0, length, repeat, 0, length)) {
            repeats++;
            document = null;
            return null;        // the fields still hold what these very bytes parsed to
        }
        repeatLength = -1;
        this.inputNames = modelInputs;
        this.outputNames = modelOutputs;
        reset();
        long base = streamBase + streamLength;
        String result = null;
        boolean finished = false;     // object() returned or refused; false when something unexpected escaped
        try {
            if (stream == null || streamDocuments >= DOCUMENTS_PER_PARSER
                    || !((com.fasterxml.jackson.core.async.ByteArrayFeeder) stream.getNonBlockingInputFeeder()).needMoreInput()) {
                drop();
                stream = new WholeDocuments(factory.createNonBlockingByteArrayParser());
                base = 0;
            }
            ((com.fasterxml.jackson.core.async.ByteArrayFeeder) stream.getNonBlockingInputFeeder()).feedInput(document, 0, length);
            streamBase = base;
            streamLength = length;
            streamDocuments++;
            result = object(stream);
            finished = true;
        } catch (IOException e) {
            result = reason(e, base);
            finished = true;
        } finally {
            if (!finished || result != null || large) {
                drop();         // a refused or broken-off document may have stopped mid-way; a large one's array is not kept
            } else if (length <= REPEAT_BYTES) {
                if (repeat.length < length) {
                    repeat = new byte[Math.max(length, 2 * repeat.length)];
                }
                System.arraycopy(document, 0, repeat, 0, length);
                repeatLength = length;
            }
            document = null;
        }
        return result;
    }

    private void drop() {
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // closing a parser over an array releases its buffers; nothing to report
            }
            stream = null;
        }
        streamBase = 0;
        streamLength = 0;
        streamDocuments = 0;
    }

    /**
     * A non-blocking parser that reads like a blocking one over a whole document: out of input
     * at the root (the object ended, or never began) is the end of the document, {@code null};
     * out of input inside the object is a truncated document, an error, never a token a loop
     * could wait on.
     */
    private static final class WholeDocuments extends com.fasterxml.jackson.core.util.JsonParserDelegate {
        WholeDocuments(JsonParser p) {
            super(p);
        }

        @Override
        public JsonToken nextToken() throws IOException {
            JsonToken t = delegate.nextToken();
            if (t != JsonToken.NOT_AVAILABLE) {
                return t;
            }
            if (delegate.getParsingContext().inRoot()) {
                return null;
            }
            throw new com.fasterxml.jackson.core.JsonParseException(delegate, "Unexpected end-of-input: the JSON object is not closed");
        }

        @Override
        public JsonParser skipChildren() throws IOException {
            if (delegate.currentToken() != JsonToken.START_OBJECT && delegate.currentToken() != JsonToken.START_ARRAY) {
                return this;
            }
            int open = 1;
            while (open > 0) {
                JsonToken t = nextToken();
                if (t == null) {
                    throw new com.fasterxml.jackson.core.JsonParseException(delegate, "Unexpected end-of-input inside a skipped value");
                }
                open += t.isStructStart() ? 1 : t.isStructEnd() ? -1 : 0;
            }
            return this;
        }
    }

    /** The request object from {@code p}'s next token to its end; null, or a one-line reason. */
    private String object(JsonParser p) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return "the request body is not a JSON object";
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            String err = switch (f) {
                case "id" -> v == JsonToken.VALUE_STRING ? setId(p.getText()) : "\"id\" must be a string";
                case "parameters" -> requestParameters(p, v);
                case "inputs" -> inputs(p, v);
                case "outputs" -> outputs(p, v);
                default -> skip(p, v);
            };
            if (err != null) {
                return err;
            }
        }
        if (p.currentToken() != JsonToken.END_OBJECT || !nothingAfter(p)) {
            return "trailing content after the JSON request object";
        }
        if (inputCount == 0) {
            return "the request has no \"inputs\"";
        }
        return null;
    }

    /**
     * Whether only whitespace follows the object that just ended. The parser is not asked: a
     * partial token after the object (an unterminated string, say) would wait inside it for the
     * next request's bytes, so the bytes after the closing brace are checked instead.
     */
    private boolean nothingAfter(JsonParser p) throws IOException {
        long end = p.currentTokenLocation().getByteOffset() - streamBase + 1;
        if (end < 1 || end > streamLength) {
            return false;
        }
        for (int i = (int) end; i < streamLength; i++) {
            byte b = document[i];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /** A parse failure as one line; {@code base} is where this document began in the parser's input. */
    private static String reason(IOException e, long base) {
        if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException c) {
            return "the request JSON exceeds a limit: " + firstLine(c.getOriginalMessage());
        }
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
            long at = j.getLocation() == null ? -1 : j.getLocation().getByteOffset();
            return "malformed JSON: " + firstLine(j.getOriginalMessage()) + (at >= 0 ? " at byte " + Math.max(0, at - base) : "");
        }
        return "unreadable request body: " + e.getMessage();
    }

    /** Jackson's message up to its source description: one line, no parser internals. */
    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int end = s.length();
        for (String cut : new String[] {"\n", " (start marker", " at [Source", " [Source"}) {
            int i = s.indexOf(cut);
            if (i >= 0) {
                end = Math.min(end, i);
            }
        }
        return s.substring(0, end);
    }

    private String setId(String s) {
        id = s;
        return null;
    }

    private String requestParameters(JsonParser p, JsonToken v) throws IOException {
        if (v != JsonToken.START_OBJECT) {
            return "\"parameters\" must be an object";
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            if (f.equals("binary_data_output")) {
                if (!t.isBoolean()) {
                    return "parameter \"binary_data_output\" must be true or false";
                }
                binaryOutputs = t == JsonToken.VALUE_TRUE;
            } else if (f.equals("timeout")) {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
                    return "parameter \"timeout\" must be a non-negative integer (microseconds)";
                }
                timeoutMicros = p.getLongValue();
            } else {
                String err = skip(p, t);
                if (err != null) {
                    return err;
                }
            }
        }
        return null;
    }

    private String inputs(JsonParser p, JsonToken v) throws IOException {
        if (v != JsonToken.START_ARRAY) {
            return "\"inputs\" must be an array";
        }
        while (p.nextToken() == JsonToken.START_OBJECT) {
            if (inputCount == MAX_INPUTS) {
                return "more than " + MAX_INPUTS + " inputs";
            }
            if (inputCount == inputs.length) {
                inputs = java.util.Arrays.copyOf(inputs, inputs.length * 2);
            }
            Input in = inputs[inputCount];
            if (in == null) {
                in = inputs[inputCount] = new Input();
            }
            in.name = null;
            in.datatype = null;
            in.rank = -1;
            in.binarySize = -1;
            in.dataCount = -1;
            inputCount++;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken t = p.nextToken();
                String err = switch (f) {
                    case "name" -> t == JsonToken.VALUE_STRING ? set(in, text(p, inputNames), true) : "an input's \"name\" must be a string";
                    case "datatype" -> t == JsonToken.VALUE_STRING ? set(in, text(p, DATATYPES), false) : "an input's \"datatype\" must be a string";
                    case "shape" -> shape(p, t, in);
                    case "parameters" -> inputParameters(p, t, in);
                    case "data" -> data(p, t, in);
                    default -> skip(p, t);
                };
                if (err != null) {
                    return err;
                }
            }
            if (in.name == null || in.datatype == null || in.rank < 0) {
                return "input " + (in.name == null ? "#" + (inputCount - 1) : "'" + in.name + "'") + " needs \"name\", \"shape\" and \"datatype\"";
            }
            if (in.binarySize < 0 && in.dataCount < 0) {
                return "input '" + in.name + "' has neither \"data\" nor a \"binary_data_size\" parameter";
            }
            if (in.binarySize >= 0 && in.dataCount >= 0) {
                return "input '" + in.name + "' has both \"data\" and a \"binary_data_size\" parameter";
            }
        }
        return p.currentToken() == JsonToken.END_ARRAY ? null : "\"inputs\" must be an array of objects";
    }

    private static String set(Input in, String s, boolean name) {
        if (name) {
            in.name = s;
        } else {
            in.datatype = s;
        }
        return null;
    }

    private static String shape(JsonParser p, JsonToken t, Input in) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            return "an input's \"shape\" must be an array of integers";
        }
        int r = 0;
        while ((t = p.nextToken()) == JsonToken.VALUE_NUMBER_INT) {
            if (r == in.shape.length) {
                return "input shape has more than " + in.shape.length + " dimensions";
            }
            long d = p.getLongValue();
            if (d < 0) {
                return "input shape has a negative dimension " + d;
            }
            in.shape[r++] = d;
        }
        if (t != JsonToken.END_ARRAY) {
            return "an input's \"shape\" must be an array of integers";
        }
        in.rank = r;
        return null;
    }

    private static String inputParameters(JsonParser p, JsonToken t, Input in) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            return "an input's \"parameters\" must be an object";
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            if (f.equals("binary_data_size")) {
                if (v != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
                    return "\"binary_data_size\" must be a non-negative integer";
                }
                in.binarySize = p.getLongValue();
            } else {
                String err = skip(p, v);
                if (err != null) {
                    return err;
                }
            }
        }
        return null;
    }

    private String data(JsonParser p, JsonToken t, Input in) throws IOException {
        if (t != JsonToken.START_ARRAY) {
            return "input '" + in.name + "': \"data\" must be an array";
        }
        in.dataStart = numberCount;
        int depth = 1;
        while (depth > 0) {
            t = p.nextToken();
            if (t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_ARRAY) {
                depth--;
            } else if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_TRUE
                    || t == JsonToken.VALUE_FALSE) {
                if (numberCount == numbers.length) {
                    if (numbers.length >= maxNumbers) {
                        return "more than " + maxNumbers + " elements in \"data\"";
                    }
                    int n = (int) Math.min(maxNumbers, numbers.length * 2L);
                    numbers = java.util.Arrays.copyOf(numbers, n);
                    integral = java.util.Arrays.copyOf(integral, n);
                }
                if (t == JsonToken.VALUE_NUMBER_INT) {
                    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        return "input '" + in.name + "': integer " + p.getText() + " does not fit 64 bits";
                    }
                    numbers[numberCount] = p.getLongValue();
                    integral[numberCount] = true;
                } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                    numbers[numberCount] = Double.doubleToRawLongBits(p.getDoubleValue());
                    integral[numberCount] = false;
                } else {
                    numbers[numberCount] = t == JsonToken.VALUE_TRUE ? 1 : 0;
                    integral[numberCount] = true;
                }
                numberCount++;
            } else if (t == JsonToken.VALUE_STRING) {
                return "input '" + in.name + "': string elements (BYTES) are not supported; every model input here is numeric";
            } else {
                return "input '" + in.name + "': \"data\" may hold only numbers, booleans and nested arrays";
            }
        }
        in.dataCount = numberCount - in.dataStart;
        return null;
    }

    private String outputs(JsonParser p, JsonToken v) throws IOException {
        if (v != JsonToken.START_ARRAY) {
            return "\"outputs\" must be an array";
        }
        outputCount = 0;
        while (p.nextToken() == JsonToken.START_OBJECT) {
            if (outputCount == MAX_INPUTS) {
                return "more than " + MAX_INPUTS + " outputs requested";
            }
            if (outputCount == outputs.length) {
                outputs = java.util.Arrays.copyOf(outputs, outputs.length * 2);
            }
            Output o = outputs[outputCount];
            if (o == null) {
                o = outputs[outputCount] = new Output();
            }
            o.name = null;
            o.binary = false;
            o.binarySet = false;
            outputCount++;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken t = p.nextToken();
                if (f.equals("name")) {
                    if (t != JsonToken.VALUE_STRING) {
                        return "an output's \"name\" must be a string";
                    }
                    o.name = text(p, outputNames);
                } else if (f.equals("parameters")) {
                    if (t != JsonToken.START_OBJECT) {
                        return "an output's \"parameters\" must be an object";
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String pf = p.currentName();
                        JsonToken pv = p.nextToken();
                        if (pf.equals("binary_data")) {
                            if (!pv.isBoolean()) {
                                return "output parameter \"binary_data\" must be true or false";
                            }
                            o.binary = pv == JsonToken.VALUE_TRUE;
                            o.binarySet = true;
                        } else if (pf.equals("classification")) {
                            return "the classification extension is not supported";
                        } else {
                            String err = skip(p, pv);
                            if (err != null) {
                                return err;
                            }
                        }
                    }
                } else {
                    String err = skip(p, t);
                    if (err != null) {
                        return err;
                    }
                }
            }
            if (o.name == null) {
                return "a requested output has no \"name\"";
            }
        }
        return p.currentToken() == JsonToken.END_ARRAY ? null : "\"outputs\" must be an array of objects";
    }

    private static String skip(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            p.skipChildren();
        }
        return null;
    }
}
