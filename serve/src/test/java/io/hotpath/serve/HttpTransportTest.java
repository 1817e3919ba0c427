package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.Request;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The REST transport against a real server over the built-in mlp, from Java's own HTTP client and a raw socket. */
class HttpTransportTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static HotpathServer server;
    static ServedModel mlp;
    static ServedModel narrow;
    static HttpClient client;
    static String base;

    @BeforeAll
    static void start() {
        ModelRegistry registry = new ModelRegistry();
        mlp = ModelSettings.defaults("mlp", ModelCatalog.resolve("mlp")).withBatching(8, 100).open(null);
        narrow = ModelSettings.defaults("narrow", ModelCatalog.resolve("mlp")).withSlots(1).open(null);
        registry.add(mlp);
        registry.add(narrow);
        server = HotpathServer.start(registry, ServerInfo.of("test", 1 << 20), new HotpathServer.Listen("127.0.0.1", 0, -1, 0, 1), null);
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        base = "http://127.0.0.1:" + server.httpPort();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aPortInUseIsOneCategorizedLine() {
        io.hotpath.core.HotpathException e = org.junit.jupiter.api.Assertions.assertThrows(io.hotpath.core.HotpathException.class,
                () -> HotpathServer.start(new ModelRegistry(), ServerInfo.of("test", 1 << 20),
                        new HotpathServer.Listen("127.0.0.1", server.httpPort(), -1, -1, 1), null));
        assertEquals(io.hotpath.core.HotpathException.Category.INVALID_ARGUMENT, e.category());
        assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + server.httpPort() + " (http): "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    static HttpResponse<byte[]> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<byte[]> post(String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static float[] rows(int n, long seed) {
        Random r = new Random(seed);
        float[] f = new float[n * 64];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextGaussian();
        }
        return f;
    }

    /** The same rows through the model's service directly: the reference answer. */
    static float[] direct(float[] in) {
        int n = in.length / 64;
        float[] out = new float[n];
        Request q = mlp.service().newRequest();
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < 64; i++) {
                q.input(0).putFloat(i, in[r * 64 + i]);
            }
            assertEquals(BatchStatus.OK, mlp.service().infer(q));
            out[r] = q.output(0).getFloat(0);
        }
        return out;
    }

    static String jsonInfer(float[] in, int n) throws Exception {
        StringBuilder d = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            d.append(i == 0 ? "" : ",").append(in[i]);
        }
        return "{\"id\":\"r1\",\"inputs\":[{\"name\":\"features\",\"shape\":[" + n + ",64],\"datatype\":\"FP32\",\"data\":[" + d + "]}]}";
    }

    static String error(HttpResponse<byte[]> r) throws Exception {
        return JSON.readTree(r.body()).get("error").asText();
    }

    @Test
    void healthMetadataConfigAndStats() throws Exception {
        assertEquals(200, get("/v2/health/live").statusCode());
        assertEquals(200, get("/v2/health/ready").statusCode());
        JsonNode server = JSON.readTree(get("/v2").body());
        assertEquals("hotpath", server.get("name").asText());
        assertTrue(server.get("extensions").toString().contains("binary_tensor_data"));
        JsonNode meta = JSON.readTree(get("/v2/models/mlp").body());
        assertEquals("[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,64]}]", meta.get("inputs").toString());
        assertEquals("[\"1\"]", meta.get("versions").toString());
        assertEquals(200, get("/v2/models/mlp/versions/1").statusCode());
        assertEquals(200, get("/v2/models/mlp/ready").statusCode());
        assertEquals(200, get("/v2/models/mlp/versions/1/ready").statusCode());
        assertEquals(404, get("/v2/models/mlp/versions/7").statusCode());
        assertEquals(404, get("/v2/models/nope/ready").statusCode());
        assertEquals("unknown model 'nope'", error(get("/v2/models/nope")));
        JsonNode config = JSON.readTree(get("/v2/models/mlp/config").body());
        assertEquals(8, config.get("max_batch_size").asInt());
        assertEquals("TYPE_FP32", config.get("input").get(0).get("data_type").asText());
        assertEquals("[64]", config.get("input").get(0).get("dims").toString());
        JsonNode stats = JSON.readTree(get("/v2/models/mlp/stats").body());
        assertEquals("mlp", stats.get("model_stats").get(0).get("name").asText());
        assertEquals(405, post("/v2/health/live", new byte[0]).statusCode());
        assertEquals(405, get("/v2/models/mlp/infer").statusCode());
        assertEquals(404, get("/v3/anything").statusCode());
    }

    @Test
    void jsonInferMatchesTheServiceBitForBit() throws Exception {
        for (int n : new int[] {1, 3, 8}) {
            float[] in = rows(n, n);
            HttpResponse<byte[]> r = post("/v2/models/mlp/infer", jsonInfer(in, n).getBytes(StandardCharsets.UTF_8));
            assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
            JsonNode out = JSON.readTree(r.body());
            assertEquals("r1", out.get("id").asText());
            assertEquals("mlp", out.get("model_name").asText());
            JsonNode o = out.get("outputs").get(0);
            assertEquals("score", o.get("name").asText());
            assertEquals("[" + n + ",1]", o.get("shape").toString());
            float[] want = direct(in);
            for (int i = 0; i < n; i++) {
                assertEquals(want[i], o.get("data").get(i).floatValue(), 0f, "row " + i);
            }
        }
    }

    static byte[] binaryBody(float[] in, int n, boolean binaryOut) {
        String header = "{\"inputs\":[{\"name\":\"features\",\"shape\":[" + n + ",64],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + in.length * 4 + "}}]" + (binaryOut ? ",\"parameters\":{\"binary_data_output\":true}" : "") + "}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(h.length + in.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h);
        for (float f : in) {
            b.putFloat(f);
        }
        return b.array();
    }

    static int headerLength(byte[] body) {
        String s = new String(body, StandardCharsets.ISO_8859_1);
        int depth = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            if (depth == 0) {
                return i + 1;
            }
        }
        return -1;
    }

    @Test
    void binaryInputsAndOutputs() throws Exception {
        int n = 4;
        float[] in = rows(n, 42);
        byte[] body = binaryBody(in, n, true);
        int hl = headerLength(body);
        HttpResponse<byte[]> r = post("/v2/models/mlp/infer", body, "Inference-Header-Content-Length", Integer.toString(hl));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        int rhl = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode out = JSON.readTree(new String(r.body(), 0, rhl, StandardCharsets.UTF_8));
        assertEquals(n * 4, out.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        assertEquals(rhl + n * 4, r.body().length);
        ByteBuffer b = ByteBuffer.wrap(r.body(), rhl, n * 4).order(ByteOrder.LITTLE_ENDIAN);
        float[] want = direct(in);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(b.getFloat()), "row " + i);
        }
        // binary in, JSON out
        r = post("/v2/models/mlp/infer", binaryBody(in, n, false), "Inference-Header-Content-Length", Integer.toString(headerLength(binaryBody(in, n, false))));
        assertEquals(200, r.statusCode());
        assertEquals(want[3], JSON.readTree(r.body()).get("outputs").get(0).get("data").get(3).floatValue(), 0f);
    }

    @Test
    void everyMalformedRequestIsA400WithOneLine() throws Exception {
        float[] in = rows(1, 1);
        byte[] good = binaryBody(in, 1, false);
        int hl = headerLength(good);
        String[][] cases = {
            {"{", "malformed JSON"},
            {"[1,2]", "not a JSON object"},
            {"{\"inputs\":[]}", "no \"inputs\""},
            {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[1]}]}", "unexpected inference input 'x'"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"INT32\",\"data\":[1]}]}", "has datatype INT32"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,63],\"datatype\":\"FP32\",\"data\":[1]}]}", "expects [1,64]"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[1,2]}]}", "has 2 elements"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[9,64],\"datatype\":\"FP32\",\"data\":[1]}]}", "batch size 9 outside [1, 8]"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[\"a\"]}]}", "string elements"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\"}]}", "neither \"data\" nor"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,-64],\"datatype\":\"FP32\",\"data\":[1]}]}", "negative dimension"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[{\"name\":\"nope\"}]}",
                "unexpected inference output 'nope'"},
            {"{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + ",\"inputs\":[]}", "exceeds a limit"},
            {"{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[" + "9".repeat(100) + "]}]}", "exceeds a limit"},
        };
        for (String[] c : cases) {
            HttpResponse<byte[]> r = post("/v2/models/mlp/infer", c[0].getBytes(StandardCharsets.UTF_8));
            assertEquals(400, r.statusCode(), c[0].length() > 200 ? c[0].substring(0, 200) : c[0]);
            String why = error(r);
            assertTrue(why.contains(c[1]), why + " should say " + c[1]);
            assertTrue(!why.contains("\n"), why);
        }
        // the binary extension's own mistakes
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 10);
        String why = error(post("/v2/models/mlp/infer", truncated, "Inference-Header-Content-Length", Integer.toString(hl)));
        assertTrue(why.contains("binary section ends after 246 bytes"), why);
        byte[] extra = java.util.Arrays.copyOf(good, good.length + 4);
        why = error(post("/v2/models/mlp/infer", extra, "Inference-Header-Content-Length", Integer.toString(hl)));
        assertTrue(why.contains("binary section has 260 bytes"), why);
        why = error(post("/v2/models/mlp/infer", good, "Inference-Header-Content-Length", Integer.toString(good.length + 1)));
        assertTrue(why.contains("outside the body"), why);
        why = error(post("/v2/models/mlp/infer", good, "Inference-Header-Content-Length", "abc"));
        assertTrue(why.contains("is not a number"), why);
        String wrongSize = new String(good, 0, hl, StandardCharsets.ISO_8859_1).replace("256", "252");
        byte[] ws = java.util.Arrays.copyOf(wrongSize.getBytes(StandardCharsets.ISO_8859_1), hl + 252);
        why = error(post("/v2/models/mlp/infer", ws, "Inference-Header-Content-Length", Integer.toString(hl)));
        assertTrue(why.contains("binary_data_size 252; shape [1,64] of FP32 takes 256 bytes"), why);
        // the server still answers correctly after all of that
        HttpResponse<byte[]> ok = post("/v2/models/mlp/infer", jsonInfer(in, 1).getBytes(StandardCharsets.UTF_8));
        assertEquals(200, ok.statusCode());
    }

    @Test
    void oversizedBodyIs413AndTheServerGoesOn() throws Exception {
        byte[] big = new byte[(1 << 20) + 10];
        HttpResponse<byte[]> r = post("/v2/models/mlp/infer", big);
        assertEquals(413, r.statusCode());
        assertTrue(error(r).contains("larger than the server's limit of 1048576 bytes"));
        assertEquals(200, get("/v2/health/live").statusCode());
    }

    @Test
    void noFreeSlotIs429AtOnce() throws Exception {
        // narrow has one slot: a request of two rows can never get both
        float[] in = rows(2, 5);
        HttpResponse<byte[]> r = post("/v2/models/narrow/infer", jsonInfer(in, 2).getBytes(StandardCharsets.UTF_8));
        assertEquals(429, r.statusCode());
        assertTrue(error(r).contains("at capacity"), error(r));
        assertEquals(200, post("/v2/models/narrow/infer", jsonInfer(rows(1, 5), 1).getBytes(StandardCharsets.UTF_8)).statusCode());
    }

    @Test
    void aDeadlineThatPassesIsATimeoutNeverALateAnswer() throws Exception {
        byte[] body = jsonInfer(rows(1, 9), 1).getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> r = post("/v2/models/mlp/infer", body, "Inference-Timeout-Us", "1");
        assertEquals(504, r.statusCode());
        assertTrue(error(r).contains("deadline exceeded"), error(r));
        r = post("/v2/models/mlp/infer", body, "Inference-Timeout-Us", "-5");
        assertEquals(400, r.statusCode());
        String withParam = new String(body, StandardCharsets.UTF_8).replace("{\"id\"", "{\"parameters\":{\"timeout\":1},\"id\"");
        assertEquals(504, post("/v2/models/mlp/infer", withParam.getBytes(StandardCharsets.UTF_8)).statusCode());
        assertEquals(200, post("/v2/models/mlp/infer", body, "Inference-Timeout-Us", "10000000").statusCode());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderExactlyOnce() throws Exception {
        float[][] ins = {rows(1, 11), rows(2, 12), rows(1, 13)};
        try (Socket s = new Socket("127.0.0.1", server.httpPort())) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int k = 0; k < ins.length; k++) {
                byte[] b = jsonInfer(ins[k], ins[k].length / 64).replace("\"r1\"", "\"p" + k + "\"").getBytes(StandardCharsets.UTF_8);
                all.write(("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                all.write(b);
            }
            OutputStream os = s.getOutputStream();
            os.write(all.toByteArray());        // three requests in one write
            os.flush();
            InputStream is = s.getInputStream();
            for (int k = 0; k < ins.length; k++) {
                String head = readHead(is);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
                int len = Integer.parseInt(head.lines().filter(l -> l.toLowerCase().startsWith("content-length:")).findFirst().orElseThrow()
                        .substring(15).trim());
                JsonNode out = JSON.readTree(is.readNBytes(len));
                assertEquals("p" + k, out.get("id").asText());
                float[] want = direct(ins[k]);
                assertEquals(want[want.length - 1], out.get("outputs").get(0).get("data").get(want.length - 1).floatValue(), 0f);
            }
            s.setSoTimeout(300);
            assertThrows(java.net.SocketTimeoutException.class, is::read, "no fourth response");
        }
    }

    static <T extends Throwable> void assertThrows(Class<T> type, org.junit.jupiter.api.function.Executable e, String msg) {
        org.junit.jupiter.api.Assertions.assertThrows(type, e, msg);
    }

    static String readHead(InputStream is) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = is.read();
            if (c < 0) {
                throw new java.io.EOFException("closed after " + b);
            }
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    /** HEAD answers GET's head without its body, and the connection goes on: the next answer is read whole, not misframed. */
    @Test
    void headIsGetsHeadWithoutTheBody() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.httpPort())) {
            OutputStream os = s.getOutputStream();
            os.write("HEAD /v2/models/mlp HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/models/mlp HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            os.flush();
            InputStream is = s.getInputStream();
            String head = readHead(is);
            String get = readHead(is);
            assertTrue(head.startsWith("HTTP/1.1 200") && get.startsWith("HTTP/1.1 200"), head + get);
            int headLength = contentLength(head);
            int getLength = contentLength(get);
            assertEquals(getLength, headLength, "HEAD announces GET's length");
            assertEquals("mlp", JSON.readTree(is.readNBytes(getLength)).get("name").asText());
            s.setSoTimeout(300);
            assertThrows(java.net.SocketTimeoutException.class, is::read, "nothing after GET's body");
        }
    }

    private static int contentLength(String head) {
        return Integer.parseInt(head.lines().filter(l -> l.toLowerCase().startsWith("content-length:")).findFirst().orElseThrow()
                .substring(15).trim());
    }

    @Test
    void malformedHttpIsA400AndClosed() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.httpPort())) {
            s.getOutputStream().write("GARBAGE / HTTP/9.9\r\nContent-Length: zz\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String head = readHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 400"), head);
        }
        assertEquals(200, get("/v2/health/live").statusCode());
    }

    @Test
    void manyConcurrentClientsAreEachAnsweredCorrectly() throws Exception {
        List<CompletableFuture<HttpResponse<byte[]>>> fs = new ArrayList<>();
        List<float[]> ins = new ArrayList<>();
        for (int k = 0; k < 64; k++) {
            float[] in = rows(1, 100 + k);
            ins.add(in);
            fs.add(client.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v2/models/mlp/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString(jsonInfer(in, 1))).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (int k = 0; k < fs.size(); k++) {
            HttpResponse<byte[]> r = fs.get(k).get();
            assertEquals(200, r.statusCode());
            assertEquals(direct(ins.get(k))[0], JSON.readTree(r.body()).get("outputs").get(0).get("data").get(0).floatValue(), 0f);
        }
    }

    @Test
    void metricsCarryTritonsNames() throws Exception {
        post("/v2/models/mlp/infer", jsonInfer(rows(2, 77), 2).getBytes(StandardCharsets.UTF_8));
        HttpClient c = HttpClient.newHttpClient();
        String text = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String name : new String[] {"nv_inference_request_success", "nv_inference_request_failure", "nv_inference_count",
                "nv_inference_exec_count", "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
                "nv_inference_compute_infer_duration_us", "nv_inference_pending_request_count", "nv_cache_num_hits_per_model",
                "nv_cache_num_misses_per_model", "hotpath_request_duration_us"}) {
            assertTrue(text.contains("# TYPE " + name + " "), name + " missing");
        }
        long success = Long.parseLong(text.lines().filter(l -> l.startsWith("nv_inference_request_success{model=\"mlp\",version=\"1\"}"))
                .findFirst().orElseThrow().split(" ")[1]);
        long count = Long.parseLong(text.lines().filter(l -> l.startsWith("nv_inference_count{model=\"mlp\",version=\"1\"}"))
                .findFirst().orElseThrow().split(" ")[1]);
        assertTrue(success >= 1 && count >= success + 1, "success " + success + " count " + count);
        assertEquals(404, c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.metricsPort() + "/v2")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }
}
