package io.hotpath.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.core.DType;
import io.hotpath.core.Tensor;
import io.hotpath.core.TensorSpec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * One HTTP connection of the Open Inference Protocol's REST transport: health, server and model
 * metadata, config, statistics and infer (JSON tensors and Triton's binary tensor data
 * extension), or, on the metrics port, {@code GET /metrics}. Requests on one connection are
 * answered in order, one at a time (a pipelining client's later requests wait here); every
 * request gets exactly one response.
 */
final class HttpInferHandler extends ChannelInboundHandlerAdapter {
    static final AsciiString HEADER_LENGTH = AsciiString.cached("Inference-Header-Content-Length");
    static final AsciiString TIMEOUT_US = AsciiString.cached("Inference-Timeout-Us");
    private static final AsciiString JSON = AsciiString.cached("application/json");
    private static final AsciiString OCTETS = AsciiString.cached("application/octet-stream");

    private final ModelRegistry registry;
    private final ServerInfo info;
    private final boolean metricsPort;
    private final JsonFactory json;
    private final InferRequestJson parsed;
    private final ArrayDeque<InboundRequest> waiting = new ArrayDeque<>();
    private boolean busy;
    private ChannelHandlerContext ctx;
    // the request in flight (one per connection)
    private boolean keepAlive;
    private boolean headRequest;
    private final int[] outputIndex = new int[InferRequestJson.MAX_INPUTS];
    private final boolean[] outputBinary = new boolean[InferRequestJson.MAX_INPUTS];
    private int outputsAsked;
    private String requestId;
    private final InferCall.Done completion = this::completed;
    // the last /v2/models/... path read and its parts
    private String routedPath;
    private String routedName;
    private String routedVersion;
    private String routedAction;

    HttpInferHandler(ModelRegistry registry, ServerInfo info, boolean metricsPort) {
        this.registry = registry;
        this.info = info;
        this.metricsPort = metricsPort;
        this.json = info.jsonFactory();
        this.parsed = new InferRequestJson(info.maxRequestBytes() / 2 + 16);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        InboundRequest req;
        if (msg instanceof InboundRequest r) {
            req = r;
        } else if (msg instanceof FullHttpRequest r) {
            req = InboundRequest.of(r);
        } else {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (busy) {
            waiting.add(req);
            return;
        }
        handle(req);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        InboundRequest r;
        while ((r = waiting.poll()) != null) {
            r.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            info.log().log(System.Logger.Level.WARNING, "http connection " + ctx.channel().remoteAddress() + " closed after " + cause);
        }
        ctx.close();
    }

    private void handle(InboundRequest req) {
        busy = true;
        keepAlive = req.keepAlive();
        headRequest = req.method() == HttpMethod.HEAD;
        try {
            Throwable bad = req.decodeFailure();
            if (bad != null) {
                keepAlive = false;
                error(400, "malformed HTTP request: " + bad.getMessage());
                return;
            }
            route(req);
        } catch (MethodNotAllowed e) {
            error(405, req.method() + " is not allowed on " + req.uri());
        } catch (Throwable t) {
            info.log().log(System.Logger.Level.ERROR, "answering " + req.method() + " " + req.uri() + ": " + t, t);
            error(500, "internal error: " + t.getClass().getSimpleName());
        } finally {
            req.release();
        }
    }

    private void route(InboundRequest req) throws IOException {
        String uri = req.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        HttpMethod m = req.method();
        if (metricsPort) {
            if (path.equals("/metrics") && m == HttpMethod.GET) {
                ByteBuf body = ctx.alloc().buffer();
                PrometheusMetrics.write(registry, info, body);
                respond(200, AsciiString.cached("text/plain; version=0.0.4; charset=utf-8"), body, -1);
            } else {
                error(404, "not found: " + path + " (this port serves GET /metrics)");
            }
            return;
        }
        switch (path) {
            case "/v2/health/live" -> {
                requireGet(m);
                empty(registry.live() ? 200 : 503);
                return;
            }
            case "/v2/health/ready" -> {
                requireGet(m);
                empty(registry.ready() ? 200 : 503);
                return;
            }
            case "/v2", "/v2/" -> {
                requireGet(m);
                jsonBody(200, g -> Metadata.server(g, info));
                return;
            }
            default -> {
            }
        }
        if (path.equals("/v2/models/stats") && m == HttpMethod.GET) {
            jsonBody(200, g -> Metadata.stats(g, registry.all()));
            return;
        }
        if (!path.startsWith("/v2/models/")) {
            error(404, "not found: " + path);
            return;
        }
        // the same path string as the last request's (HttpRequestReader reuses it) is not read again
        if (path != routedPath && !readModelPath(path)) {
            return;
        }
        String name = routedName;
        String version = routedVersion;
        String action = routedAction;
        ServedModel model = registry.find(name, version);
        if (model == null) {
            boolean known = !registry.versions(name).isEmpty();
            error(404, known ? "model '" + name + "' has no version '" + version + "'; it has " + registry.versions(name)
                    : "unknown model '" + name + "'");
            return;
        }
        switch (action) {
            case "" -> {
                requireGet(m);
                jsonBody(200, g -> Metadata.model(g, model, registry.versions(name)));
            }
            case "ready" -> {
                requireGet(m);
                empty(registry.ready() ? 200 : 503);
            }
            case "config" -> {
                requireGet(m);
                jsonBody(200, g -> Metadata.writeMap(g, model.config()));
            }
            case "stats" -> {
                requireGet(m);
                // without a version: every version of the model, as Triton answers
                java.util.List<ServedModel> which = version != null ? java.util.List.of(model)
                        : registry.all().stream().filter(x -> x.name().equals(name)).toList();
                jsonBody(200, g -> Metadata.stats(g, which));
            }
            case "infer" -> {
                if (m != HttpMethod.POST) {
                    error(405, "infer takes POST");
                    return;
                }
                infer(req, model);
            }
            default -> error(404, "not found: " + path);
        }
    }

    /**
     * Reads {@code /v2/models/{m}[/versions/{v}][/ready|/config|/stats|/infer]} without splitting
     * the path into {@link #routedName}, {@link #routedVersion} and {@link #routedAction}; answers
     * 404 and returns false for a path that names no endpoint.
     */
    private boolean readModelPath(String path) {
        routedPath = null;
        int from = "/v2/models/".length();
        int slash = path.indexOf('/', from);
        String name = decode(path.substring(from, slash < 0 ? path.length() : slash));
        String version = null;
        String action = "";
        if (slash >= 0) {
            int next = slash + 1;
            if (path.startsWith("versions/", next)) {
                int vEnd = path.indexOf('/', next + "versions/".length());
                version = decode(path.substring(next + "versions/".length(), vEnd < 0 ? path.length() : vEnd));
                next = vEnd < 0 ? path.length() : vEnd + 1;
                if (version.isEmpty()) {
                    error(404, "not found: " + path);
                    return false;
                }
            }
            action = next >= path.length() ? "" : path.substring(next);
            if (action.indexOf('/') >= 0 || (vEndsWithSlash(path, next) && action.isEmpty())) {
                error(404, "not found: " + path);
                return false;
            }
        }
        if (name.isEmpty()) {
            error(404, "not found: " + path);
            return false;
        }
        routedPath = path;
        routedName = name;
        routedVersion = version;
        routedAction = action;
        return true;
    }

    /** A path ending in '/' right where the action would start ({@code /v2/models/m/}): not an endpoint. */
    private static boolean vEndsWithSlash(String path, int next) {
        return next == path.length() && path.endsWith("/");
    }

    private static String decode(String s) {
        return s.indexOf('%') < 0 ? s : io.netty.handler.codec.http.QueryStringDecoder.decodeComponent(s);
    }

    private static void requireGet(HttpMethod m) {
        if (m != HttpMethod.GET && m != HttpMethod.HEAD) {
            throw new MethodNotAllowed();
        }
    }

    /** A GET-only endpoint called with another method. */
    private static final class MethodNotAllowed extends RuntimeException {
        MethodNotAllowed() {
            super("method not allowed", null, false, false);
        }
    }

    private void infer(InboundRequest req, ServedModel model) {
        ByteBuf body = req.content();
        int total = body.readableBytes();
        int headerLen = total;
        long hl = req.number(HEADER_LENGTH);
        if (hl != InboundRequest.ABSENT) {
            if (hl == InboundRequest.MALFORMED) {
                refuse(model, 400, "Inference-Header-Content-Length '" + req.header(HEADER_LENGTH) + "' is not a number");
                return;
            }
            if (hl < 0 || hl > total) {
                refuse(model, 400, "Inference-Header-Content-Length " + hl + " outside the body's " + total + " bytes");
                return;
            }
            headerLen = (int) hl;
        }
        String err = parsed.parse(json, body, body.readerIndex(), headerLen, model.inputNames(), model.outputNames());
        if (err != null) {
            refuse(model, 400, err);
            return;
        }
        requestId = parsed.id;
        InferCall call = model.newCall();
        try {
            for (int k = 0; k < parsed.inputCount; k++) {
                InferRequestJson.Input in = parsed.inputs[k];
                err = call.declare(in.name, in.datatype, in.shape, in.rank);
                if (err != null) {
                    call.release();
                    refuse(model, 400, err);
                    return;
                }
            }
            // which outputs, and how
            if (parsed.outputCount < 0) {
                outputsAsked = model.outputs().size();
                for (int o = 0; o < outputsAsked; o++) {
                    outputIndex[o] = o;
                    outputBinary[o] = parsed.binaryOutputs;
                }
            } else {
                outputsAsked = parsed.outputCount;
                for (int k = 0; k < outputsAsked; k++) {
                    InferRequestJson.Output o = parsed.outputs[k];
                    int idx = call.outputIndex(o.name);
                    if (idx < 0) {
                        call.release();
                        refuse(model, 400, "unexpected inference output '" + o.name + "' for model '" + model.name() + "'; its outputs are "
                                + model.outputs().stream().map(TensorSpec::name).toList());
                        return;
                    }
                    outputIndex[k] = idx;
                    outputBinary[k] = o.binarySet ? o.binary : parsed.binaryOutputs;
                }
            }
            int p = call.prepare();
            if (p != InferCall.OK) {
                String why = p == InferCall.BUSY ? "model '" + model.name() + "' is at capacity (" + model.slots()
                        + " rows in flight); retry later" : call.reason();
                call.release();
                refuse(model, p == InferCall.BUSY ? 429 : 400, why);
                return;
            }
            err = fill(call, body, headerLen, total);
            if (err != null) {
                call.release();
                refuse(model, 400, err);
                return;
            }
            long timeoutUs = parsed.timeoutMicros;
            long th = req.number(TIMEOUT_US);
            if (th != InboundRequest.ABSENT) {
                if (th < 0) {       // MALFORMED is negative too
                    call.release();
                    refuse(model, 400, "Inference-Timeout-Us '" + req.header(TIMEOUT_US) + "' is not a non-negative number of microseconds");
                    return;
                }
                timeoutUs = th;
            }
            long timeoutNanos = timeoutUs > 0 ? Math.min(timeoutUs, Long.MAX_VALUE / 2000) * 1000 : model.requestTimeoutNanos();
            if (timeoutNanos > 0) {
                call.deadlineNanos(System.nanoTime() + timeoutNanos);
            }
        } catch (Throwable t) {
            call.release();
            throw t;
        }
        call.submit(completion, ctx.executor());
    }

    /** Copies the inputs' data into the call's rows. Returns null or a reason for a 400. */
    private String fill(InferCall call, ByteBuf body, int headerLen, int total) {
        long binary = body.readerIndex() + (long) headerLen;
        long binaryEnd = body.readerIndex() + (long) total;
        int rows = call.rows();
        for (int k = 0; k < parsed.inputCount; k++) {
            InferRequestJson.Input in = parsed.inputs[k];
            int i = call.inputIndex(in.name);
            long rowBytes = call.inputRowBytes(i);
            if (in.binarySize >= 0) {
                long want = rowBytes * rows;
                if (in.binarySize != want) {
                    return "input '" + in.name + "' has binary_data_size " + in.binarySize + "; shape " + io.hotpath.core.Shape.format(in.shape,
                            in.rank) + " of " + in.datatype + " takes " + want + " bytes";
                }
                if (binary + want > binaryEnd) {
                    return "the binary section ends after " + (binaryEnd - body.readerIndex() - headerLen) + " bytes; input '" + in.name
                            + "' needs " + want + " bytes from offset " + (binary - body.readerIndex() - headerLen);
                }
                for (int r = 0; r < rows; r++) {
                    copyIn(body, (int) (binary + r * rowBytes), call.input(i, r).data(), rowBytes);
                }
                binary += want;
            } else {
                Tensor t0 = call.input(i, 0);
                long rowElems = t0.elementCount();
                long want = rowElems * rows;
                if (in.dataCount != want) {
                    return "input '" + in.name + "' has " + in.dataCount + " elements in \"data\"; shape "
                            + io.hotpath.core.Shape.format(in.shape, in.rank) + " takes " + want;
                }
                DType dt = t0.dtype();
                int n = in.dataStart;
                for (int r = 0; r < rows; r++) {
                    MemorySegment dst = call.input(i, r).data();
                    for (long e = 0; e < rowElems; e++, n++) {
                        String bad = Elements.put(dst, e, dt, parsed.numbers[n], parsed.integral[n]);
                        if (bad != null) {
                            return "input '" + in.name + "': " + bad;
                        }
                    }
                }
            }
        }
        if (binary != binaryEnd) {
            return "the binary section has " + (binaryEnd - body.readerIndex() - headerLen) + " bytes; the inputs' binary_data_size add up to "
                    + (binary - body.readerIndex() - headerLen);
        }
        return null;
    }

    /**
     * {@code length} bytes of {@code body} from {@code index} into {@code dst} (the caller checked
     * both ranges): one memory copy between the addresses when the buffer has one (a pooled direct
     * buffer, or a composite of one), no view objects; otherwise through a ByteBuffer view.
     */
    private static void copyIn(ByteBuf body, int index, MemorySegment dst, long length) {
        if (body.hasMemoryAddress() && dst.isNative() && length <= dst.byteSize()) {
            io.netty.util.internal.PlatformDependent.copyMemory(body.memoryAddress() + index, dst.address(), length);
        } else {
            body.getBytes(index, dst.asSlice(0, length).asByteBuffer());
        }
    }

    /** Appends {@code length} bytes of {@code src} to {@code out}, as {@link #copyIn} does. */
    private static void copyOut(MemorySegment src, long length, ByteBuf out) {
        out.ensureWritable((int) length);
        if (out.hasMemoryAddress() && src.isNative() && length <= src.byteSize()) {
            io.netty.util.internal.PlatformDependent.copyMemory(src.address(), out.memoryAddress() + out.writerIndex(), length);
            out.writerIndex(out.writerIndex() + (int) length);
        } else {
            out.writeBytes(src.asSlice(0, length).asByteBuffer());
        }
    }

    /** Any thread: the call is answered; the response is written on this connection's event loop. */
    private void completed(InferCall call) {
        if (ctx.executor().inEventLoop()) {
            answer(call);
        } else {
            // a connection has one call in flight (busy), so one task object serves them all; the executor's
            // queue orders this write before the task's read
            answering = call;
            try {
                ctx.executor().execute(answerTask);
            } catch (RuntimeException | Error e) {
                answering = null;       // the loop is gone: InferCall's completion releases the call
                throw e;
            }
        }
    }

    /** The call answered by {@link #answerTask}: set by the thread that completed it, read on the event loop. */
    private InferCall answering;
    private final Runnable answerTask = () -> {
        InferCall c = answering;
        // cleared before answering: answer() starts the next waiting request, whose call may complete on the
        // batcher thread and set the field again before answer() returns
        answering = null;
        answer(c);
    };

    private void answer(InferCall call) {
        try {
            if (call.status() != BatchStatus.OK) {
                int code = HttpStatusMap.http(call.status());
                error(code, HttpStatusMap.reason(call));
                return;
            }
            writeInferResponse(call);
        } catch (Throwable t) {
            info.log().log(System.Logger.Level.ERROR, "writing the answer of model '" + call.model().name() + "': " + t, t);
            error(500, "internal error writing the response: " + t.getClass().getSimpleName());
        } finally {
            call.release();
        }
    }

    private void writeInferResponse(InferCall call) throws IOException {
        ServedModel model = call.model();
        ByteBuf out = ctx.alloc().buffer(256 + (int) Math.min(1 << 20, binaryBytes(call)));
        long binaryTotal = 0;
        if (allBinary()) {
            binaryTotal = writeBinaryHeader(out, call);
        } else try (ByteBufOutputStream os = new ByteBufOutputStream(out); JsonGenerator g = json.createGenerator((java.io.OutputStream) os)) {
            g.writeStartObject();
            g.writeStringField("model_name", model.name());
            g.writeStringField("model_version", model.version());
            if (requestId != null) {
                g.writeStringField("id", requestId);
            }
            g.writeArrayFieldStart("outputs");
            for (int k = 0; k < outputsAsked; k++) {
                int o = outputIndex[k];
                TensorSpec spec = model.outputs().get(o);
                g.writeStartObject();
                g.writeStringField("name", spec.name());
                g.writeStringField("datatype", WireType.name(spec.dtype()));
                g.writeArrayFieldStart("shape");
                for (int d = 0; d < call.outputRank(o); d++) {
                    g.writeNumber(call.outputDim(o, d));
                }
                g.writeEndArray();
                if (outputBinary[k]) {
                    long bytes = call.outputBytes(o);
                    binaryTotal += bytes;
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", bytes);
                    g.writeEndObject();
                } else {
                    g.writeArrayFieldStart("data");
                    writeData(g, call, o, spec.dtype());
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        int jsonLen = out.readableBytes();
        if (binaryTotal > 0) {
            for (int k = 0; k < outputsAsked; k++) {
                if (outputBinary[k]) {
                    int o = outputIndex[k];
                    for (int r = 0; r < call.rows(); r++) {
                        Tensor t = call.output(o, r);
                        copyOut(t.data(), t.byteSize(), out);
                    }
                }
            }
        }
        respond(200, binaryTotal > 0 ? OCTETS : JSON, out, binaryTotal > 0 ? jsonLen : -1);
    }

    private boolean allBinary() {
        for (int k = 0; k < outputsAsked; k++) {
            if (!outputBinary[k]) {
                return false;
            }
        }
        return outputsAsked > 0;
    }

    /**
     * The binary path's JSON header, written byte by byte (no generator, no shape arrays: the
     * response of a binary request allocates next to nothing). Returns the binary section's size.
     */
    private long writeBinaryHeader(ByteBuf out, InferCall call) {
        ServedModel model = call.model();
        out.writeCharSequence("{\"model_name\":", java.nio.charset.StandardCharsets.US_ASCII);
        jsonString(out, model.name());
        out.writeCharSequence(",\"model_version\":", java.nio.charset.StandardCharsets.US_ASCII);
        jsonString(out, model.version());
        if (requestId != null) {
            out.writeCharSequence(",\"id\":", java.nio.charset.StandardCharsets.US_ASCII);
            jsonString(out, requestId);
        }
        out.writeCharSequence(",\"outputs\":[", java.nio.charset.StandardCharsets.US_ASCII);
        long total = 0;
        for (int k = 0; k < outputsAsked; k++) {
            int o = outputIndex[k];
            TensorSpec spec = model.outputs().get(o);
            out.writeCharSequence(k == 0 ? "{\"name\":" : ",{\"name\":", java.nio.charset.StandardCharsets.US_ASCII);
            jsonString(out, spec.name());
            out.writeCharSequence(",\"datatype\":\"", java.nio.charset.StandardCharsets.US_ASCII);
            out.writeCharSequence(WireType.name(spec.dtype()), java.nio.charset.StandardCharsets.US_ASCII);
            out.writeCharSequence("\",\"shape\":[", java.nio.charset.StandardCharsets.US_ASCII);
            Tensor t = call.output(o, 0);
            for (int d = 0; d < t.rank(); d++) {
                if (d > 0) {
                    out.writeByte(',');
                }
                ResponseHead.writeDecimal(out, d == 0 && model.batched() ? call.rows() : t.dim(d));
            }
            long bytes = call.outputBytes(o);
            total += bytes;
            out.writeCharSequence("],\"parameters\":{\"binary_data_size\":", java.nio.charset.StandardCharsets.US_ASCII);
            ResponseHead.writeDecimal(out, bytes);
            out.writeCharSequence("}}", java.nio.charset.StandardCharsets.US_ASCII);
        }
        out.writeCharSequence("]}", java.nio.charset.StandardCharsets.US_ASCII);
        return total;
    }

    /** A JSON string, escaped (quotes, backslashes, control characters), UTF-8. */
    private static void jsonString(ByteBuf out, String s) {
        out.writeByte('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.writeByte('\\').writeByte(c);
            } else if (c < 0x20) {
                out.writeCharSequence(String.format("\\u%04x", (int) c), java.nio.charset.StandardCharsets.US_ASCII);
            } else if (c < 0x80) {
                out.writeByte(c);
            } else {
                // a surrogate pair is one code point: encode both halves together
                int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
                out.writeCharSequence(s.substring(i, end), java.nio.charset.StandardCharsets.UTF_8);
                i = end - 1;
            }
        }
        out.writeByte('"');
    }

    private long binaryBytes(InferCall call) {
        long n = 0;
        for (int k = 0; k < outputsAsked; k++) {
            if (outputBinary[k]) {
                n += call.outputBytes(outputIndex[k]);
            }
        }
        return n;
    }

    private static void writeData(JsonGenerator g, InferCall call, int o, DType dt) throws IOException {
        boolean floating = Elements.floating(dt);
        for (int r = 0; r < call.rows(); r++) {
            Tensor t = call.output(o, r);
            MemorySegment m = t.data();
            long n = t.elementCount();
            for (long e = 0; e < n; e++) {
                if (floating) {
                    double v = Elements.getDouble(m, e, dt);
                    if (dt == DType.FLOAT64) {
                        g.writeNumber(v);
                    } else {
                        g.writeNumber((float) v);
                    }
                } else if (dt == DType.BOOL) {
                    g.writeBoolean(Elements.getLong(m, e, dt) != 0);
                } else if (dt == DType.UINT64) {
                    g.writeNumber(Long.toUnsignedString(Elements.getLong(m, e, dt)));
                } else {
                    g.writeNumber(Elements.getLong(m, e, dt));
                }
            }
        }
    }

    /** A request refused before it ran: counted in the model's failures. */
    private void refuse(ServedModel model, int code, String why) {
        model.stats().refused(code == 429);
        error(code, why);
    }

    /** Writes {@code {"error": why}} with {@code code}; logs server errors. */
    private void error(int code, String why) {
        ByteBuf out = ctx.alloc().buffer(64 + why.length());
        try (ByteBufOutputStream os = new ByteBufOutputStream(out); JsonGenerator g = json.createGenerator((java.io.OutputStream) os)) {
            g.writeStartObject();
            g.writeStringField("error", why);
            g.writeEndObject();
        } catch (IOException e) {
            out.clear();
        }
        respond(code, JSON, out, -1);
    }

    private void empty(int code) {
        respond(code, JSON, io.netty.buffer.Unpooled.EMPTY_BUFFER, -1);
    }

    @FunctionalInterface
    private interface JsonWriter {
        void write(JsonGenerator g) throws IOException;
    }

    private void jsonBody(int code, JsonWriter w) throws IOException {
        ByteBuf out = ctx.alloc().buffer();
        try (ByteBufOutputStream os = new ByteBufOutputStream(out); JsonGenerator g = json.createGenerator((java.io.OutputStream) os)) {
            w.write(g);
        } catch (IOException | RuntimeException e) {
            out.release();
            throw e;
        }
        respond(code, JSON, out, -1);
    }

    /**
     * The one place a response is written: its head and its body as two buffers on the channel
     * (no response object, no promise unless the connection closes after it; a HEAD request gets
     * the head only); then the next waiting request of this connection.
     */
    private void respond(int code, AsciiString type, ByteBuf body, int headerLength) {
        ModelRegistry.State state = registry.state();
        // draining: clients reconnect elsewhere; loading (a warm-up's requests) keeps the connection
        boolean close = !keepAlive || state == ModelRegistry.State.DRAINING || state == ModelRegistry.State.STOPPED;
        ByteBuf head = ctx.alloc().buffer(160);
        try {
            ResponseHead.write(head, code, type, body.readableBytes(), headerLength, close);
        } catch (RuntimeException e) {
            head.release();
            body.release();
            throw e;
        }
        requestId = null;
        busy = false;
        if (headRequest) {
            body.release();
            body = head;
        } else {
            ctx.write(head, ctx.voidPromise());
        }
        if (close) {
            ctx.writeAndFlush(body).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(body, ctx.voidPromise());
        InboundRequest next = waiting.poll();
        if (next != null) {
            handle(next);
        }
    }
}
