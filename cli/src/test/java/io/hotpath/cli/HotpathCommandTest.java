package io.hotpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HotpathCommandTest {
    @TempDir
    Path tmp;

    /** Runs the command with stdout and stderr captured; returns {exit code, stdout, stderr}. */
    private static Object[] run(String... args) {
        return CliRun.runToArray(args);
    }

    /** Before: bench on a model with a scalar input was a raw ArrayIndexOutOfBoundsException. */
    @Test
    void benchRunsAModelWithAScalarInputDirectAndThroughTheBatcher() {
        Path m = new io.hotpath.onnx.OnnxBuilder("scaled", 13)
                .input("x", 1, "batch", 4)
                .input("s", 1)
                .output("y", 1, "batch", 4)
                .node("Mul", "x,s", "y")
                .write(tmp.resolve("scaled.onnx"));
        Object[] direct = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5");
        assertEquals(0, direct[0], (String) direct[2]);
        Object[] batcher = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5", "--concurrency", "2");
        assertEquals(0, batcher[0], (String) batcher[2]);
        assertTrue(((String) batcher[1]).contains("batches of at most 1"), (String) batcher[1]);
        Object[] info = run("info", "--model", m.toString());
        assertEquals(0, info[0], (String) info[2]);
        String text = (String) info[1];
        assertTrue(text.contains("runs one row at a time") && text.matches("(?s).*input +s +float32 +\\[\\] \\(scalar\\).*")
                && text.matches("(?s).*output +y +float32 +\\[batch,4\\].*preallocated.*"), text);
    }

    @Test
    void benchAndInfoOnAModelWhoseOutputSizeIsKnownOnlyAfterTheRun() {
        Path m = new io.hotpath.onnx.OnnxBuilder("nonzero", 13)
                .input("x", 1, "n", 4)
                .output("idx", 7, 2, "nnz")
                .output("twice", 1, "n", 4)
                .node("NonZero", "x", "idx")
                .node("Add", "x,x", "twice")
                .write(tmp.resolve("nonzero.onnx"));
        Object[] info = run("info", "--model", m.toString());
        assertEquals(0, info[0], (String) info[2]);
        String text = (String) info[1];
        assertTrue(text.matches("(?s).*output +idx +int64 +\\[2,nnz\\] +capacity set by each run; engine-allocated.*")
                && text.matches("(?s).*output +twice +float32 +\\[n,4\\] +capacity \\d+ elements; preallocated.*"), text);
        Object[] direct = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5");
        assertEquals(0, direct[0], (String) direct[2]);
        assertFalse(((String) direct[2]).contains("Exception"), (String) direct[2]);
        Object[] batcher = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5", "--concurrency", "2");
        assertEquals(2, batcher[0], "the batcher cannot split it into rows: a one-line refusal");
        assertTrue(((String) batcher[2]).contains("output 'idx' [2,nnz] has a size known only after the run")
                && ((String) batcher[2]).strip().lines().count() == 1, (String) batcher[2]);
    }

    @Test
    void benchFeedsAStatefulModelsStateBackAndTakesExplicitPairs() {
        Path m = new io.hotpath.onnx.OnnxBuilder("leaky", 13)
                .input("x", 1, 1, 3)
                .input("h", 1, 2, "batch", 3)
                .output("y", 1, 1, 3)
                .output("hn", 1, 2, "batch", 3)
                .node("Add", "h,x", "hn")
                .node("Add", "x,x", "y")
                .write(tmp.resolve("leaky.onnx"));
        Object[] auto = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5", "--shape", "h=2,1,3");
        assertEquals(0, auto[0], (String) auto[2]);
        assertTrue(((String) auto[1]).contains("state   hn -> h (each run's state output is the next run's input")
                && ((String) auto[1]).contains("h: recurrent state: zeros, then each run's output"), (String) auto[1]);
        Object[] none = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5", "--shape", "h=2,1,3", "--state", "none");
        assertEquals(0, none[0], (String) none[2]);
        assertFalse(((String) none[1]).contains("state   "), (String) none[1]);
        Object[] explicit = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5", "--shape", "h=2,1,3", "--state", "hn=h");
        assertEquals(0, explicit[0], (String) explicit[2]);
        assertTrue(((String) explicit[1]).contains("state   hn -> h"), (String) explicit[1]);
        Object[] bad = run("bench", "--model", m.toString(), "--iterations", "50", "--warmup", "5", "--state", "y=h");
        assertEquals(2, bad[0], (String) bad[2]);
        assertTrue(((String) bad[2]).contains("state pair y=h: output y float32[1,3] cannot be fed to input h")
                && ((String) bad[2]).strip().lines().count() == 1, (String) bad[2]);
        Object[] malformed = run("bench", "--model", m.toString(), "--state", "hn");
        assertEquals(2, malformed[0], (String) malformed[2]);
        assertTrue(((String) malformed[2]).contains("'hn' is not OUT=IN"), (String) malformed[2]);
    }

    @Test
    void benchRunsAStringModelWithRandomWordsOrAGivenText() {
        Path m = new io.hotpath.onnx.OnnxBuilder("twice", 20)
                .input("s", io.hotpath.onnx.OnnxBuilder.STRING, "n")
                .output("twice", io.hotpath.onnx.OnnxBuilder.STRING, "n")
                .node("StringConcat", "s,s", "twice")
                .write(tmp.resolve("twice.onnx"));
        Object[] words = run("bench", "--model", m.toString(), "--batch", "4", "--iterations", "50", "--warmup", "5");
        assertEquals(0, words[0], (String) words[2]);
        assertTrue(((String) words[1]).contains("s: random words"), (String) words[1]);
        Object[] given = run("bench", "--model", m.toString(), "--input", "s=order book", "--iterations", "50", "--warmup", "5");
        assertEquals(0, given[0], (String) given[2]);
        assertTrue(((String) given[1]).contains("s: constant order book"), (String) given[1]);
        Object[] npy = run("bench", "--model", m.toString(), "--input", "s=@" + tmp.resolve("none.npy"));
        assertEquals(2, npy[0], (String) npy[2]);
        Object[] info = run("info", "--model", m.toString());
        assertTrue(((String) info[1]).matches("(?s).*output +twice +string +\\[n\\] +capacity set by each run; engine-allocated.*"), (String) info[1]);
    }

    @Test
    void benchWritesTheTableAndTheJsonFields() throws Exception {
        Path json = tmp.resolve("mlp.json");
        Object[] r = run("bench", "--model", "mlp", "--batch", "4", "--iterations", "300", "--warmup", "30", "--json", json.toString());
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("p99 us") && out.contains("onnxruntime-cpu 1.24.1"), out);
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        for (String field : new String[] {"model", "engine", "batch", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
                "throughput_per_s", "cpu_model", "cores", "jdk", "onnxruntime_version"}) {
            assertTrue(j.has(field), "JSON lacks " + field + ": " + j);
        }
        assertEquals("mlp", j.get("model").asText());
        assertEquals("onnxruntime-cpu", j.get("engine").asText());
        assertEquals(4, j.get("batch").asInt());
        assertTrue(j.get("p50_us").asDouble() > 0 && j.get("p50_us").asDouble() <= j.get("p99_us").asDouble());
        assertTrue(j.get("p99_us").asDouble() <= j.get("max_us").asDouble());
        assertTrue(j.get("throughput_per_s").asDouble() > 0);
        assertEquals("1.24.1", j.get("onnxruntime_version").asText());
    }

    @Test
    void benchThroughTheBatcherReportsBatchSizesAndQueueWait() throws Exception {
        Path json = tmp.resolve("batched.json");
        Object[] r = run("bench", "--model", "mlp", "--threads", "1", "--concurrency", "4", "--max-batch", "8", "--max-delay-us", "200",
                "--iterations", "2000", "--warmup", "50", "--json", json.toString());
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("batch size: mean") && out.contains("queue wait: p50"), out);
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals(4, j.get("concurrency").asInt());
        assertEquals(8, j.get("max_batch").asInt());
        assertTrue(j.get("mean_batch_size").asDouble() >= 1.0 && j.get("mean_batch_size").asDouble() <= 8.0, j.toString());
        assertTrue(j.get("queue_p99_us").asDouble() >= 0, j.toString());
        assertEquals(2000, j.get("requests_ok").asLong(), "every measured request answered OK");
        long batched = 0;
        for (var e : j.get("batch_size_distribution").properties()) {
            batched += Long.parseLong(e.getKey()) * e.getValue().asLong();
        }
        assertEquals(2000, batched, "the batch-size distribution accounts for every measured request");
    }

    @Test
    void benchRunsATokenModelWithValidRandomIds() {
        Object[] r = run("bench", "--model", "minilm", "--seq", "16", "--iterations", "5", "--warmup", "1");
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("input_ids int64[batch_size,sequence_length]"), (String) r[1]);
    }

    @Test
    void aCorruptModelFileIsOneClearLineAndExitCode2() throws Exception {
        Path bad = tmp.resolve("bad.onnx");
        Files.write(bad, new byte[] {8, 1, 18, 3, 'a', 'b'});
        Object[] r = run("bench", "--model", bad.toString(), "--iterations", "1");
        assertEquals(2, r[0]);
        String err = (String) r[2];
        assertTrue(err.startsWith("hotpath: INVALID_MODEL") && err.contains("bad.onnx"), err);
    }

    @Test
    void aMissingModelIsNotFound() {
        Object[] r = run("bench", "--model", tmp.resolve("nope.onnx").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("NOT_FOUND"), (String) r[2]);
    }

    @Test
    void badOptionsAreUsageErrors() {
        Object[] r = run("bench", "--model", "mlp", "--batch", "0");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--batch"), (String) r[2]);
        Object[] opt = run("bench", "--model", "mlp", "--opt", "max");
        assertEquals(2, opt[0]);
        assertTrue(((String) opt[2]).contains("unknown graph optimization level 'max'"), (String) opt[2]);
    }

    @Test
    void theDemoShowsParaphrasesScoringAboveUnrelatedPairs() {
        Object[] r = run("demo", "--seconds", "0.2", "--seq", "32");
        assertEquals(0, r[0], (String) r[1] + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("every paraphrase pair above every unrelated pair: yes"), out);
        assertTrue(out.contains("none   1") && out.contains("all    8"), out);
    }

    @Test
    void adviseListsCpuFp32AndInt8AndTheGpuRowsOfASavedResult() throws Exception {
        // a GPU result file in the format `hotpath bench --engine tensorrt --batch 1,8 --json` writes
        Path gpu = tmp.resolve("gpu.json");
        java.nio.file.Files.writeString(gpu, """
                {"model":"mlp","engine":"tensorrt","results":[
                 {"engine":"tensorrt","precision":"fp16","batch":1,"p99_us":30.0,"throughput_per_s":50000.0,"gpu":"NVIDIA H100 80GB HBM3"},
                 {"engine":"tensorrt","precision":"fp16","batch":8,"p99_us":35.0,"throughput_per_s":400000.0,"gpu":"NVIDIA H100 80GB HBM3"}]}
                """);
        Path json = tmp.resolve("advise.json");
        Object[] r = run("advise", "--model", "mlp", "--price", "cpu=0.10,gpu=2.50", "--slo-p99-ms", "5", "--results", gpu.toString(),
                "--seconds", "0.3", "--json", json.toString());
        assertEquals(0, r[0], (String) r[1] + r[2]);
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        java.util.Set<String> kinds = new java.util.HashSet<>();
        double cheapest = Double.MAX_VALUE;
        for (JsonNode row : j.get("rows")) {
            kinds.add(row.get("hardware").asText().replaceAll(" .*", "") + "/" + row.get("precision").asText());
            assertTrue(row.get("usd_per_1000").asDouble() > 0, row.toString());
            double expected = row.get("usd_per_hour").asDouble() / 3600 / row.get("throughput_per_s").asDouble() * 1000;
            assertEquals(expected, row.get("usd_per_1000").asDouble(), expected * 1e-9, "cost per 1000 = price per hour / 3600 / throughput * 1000");
            if (row.get("meets_slo").asBoolean()) {
                cheapest = Math.min(cheapest, row.get("usd_per_1000").asDouble());
            }
        }
        assertTrue(kinds.containsAll(java.util.List.of("cpu/fp32", "cpu/int8", "gpu/fp16")), kinds.toString());
        double previous = 0;
        JsonNode recommended = null;
        for (JsonNode row : j.get("rows")) {
            assertTrue(row.get("usd_per_1000").asDouble() >= previous, "rows are sorted by cost: " + j.get("rows"));
            previous = row.get("usd_per_1000").asDouble();
            if (recommended == null && row.get("meets_slo").asBoolean()) {
                recommended = row;
            }
        }
        assertTrue(recommended != null, "the GPU rows meet a 5 ms objective: " + j.get("rows"));
        assertEquals(cheapest, recommended.get("usd_per_1000").asDouble(), "the first row within the objective is the cheapest that meets it");
        assertEquals(recommended.get("hardware").asText() + " " + recommended.get("engine").asText() + " " + recommended.get("precision").asText()
                + " batch " + recommended.get("batch").asInt(), j.get("recommendation").asText(), "and it is the one recommended");
        assertTrue(((String) r[1]).contains("recommendation:"), (String) r[1]);
        Object[] none = run("advise", "--model", "mlp", "--price", "cpu=0.10", "--slo-p99-ms", "0.000001", "--seconds", "0.2");
        assertEquals(3, none[0], "nothing meets an impossible objective: exit code 3");
        Object[] noGpuPrice = run("advise", "--model", "mlp", "--price", "cpu=0.10", "--results", gpu.toString(), "--seconds", "0.2");
        assertEquals(2, noGpuPrice[0], "GPU results without a GPU price are a usage error");
    }

    @Test
    void theOptimizeReportSaysWhichNodesStayedFloatAndWhy() {
        io.hotpath.optimizer.Accuracy a = io.hotpath.optimizer.Accuracy.compare(new float[][] {{1, 0}}, new float[][] {{1, 0}});
        var kept = List.of(new io.hotpath.optimizer.QdqQuantizer.KeptFloat("/attn/MatMul", "MatMul",
                "both operands are activations (withActivationProducts quantizes those)"));
        var v = new io.hotpath.optimizer.Optimizer.Variant("int8-minmax", "int8", "minmax", tmp.resolve("m.onnx"), a, 10, 100, true, 0, true, kept);
        var rep = new io.hotpath.optimizer.Optimizer.Report("m", new io.hotpath.optimizer.Optimizer.Budget(0.99, 0.97), 128, List.of(v), v,
                List.of(), null, List.of());
        String md = OptimizeCommand.markdown(rep);
        assertTrue(md.contains("`int8-minmax` keeps 1 node(s) of quantizable kinds in float32"), md);
        assertTrue(md.contains("/attn/MatMul (MatMul): both operands are activations"), md);
    }

    @Test
    void benchOrtProfilePrintsTheOperatorTimePerOperatorType() throws Exception {
        Path prefix = tmp.resolve("prof").resolve("mlp");
        java.nio.file.Files.createDirectories(prefix.getParent());
        Object[] r = run("bench", "--model", "mlp", "--batch", "4", "--iterations", "20", "--warmup", "2", "--ort-profile", prefix.toString());
        assertEquals(0, r[0], (String) r[1] + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("ONNX Runtime profile"), out);
        assertTrue(out.contains("22 runs"), "warm-up and measured runs are all in the trace: " + out);
        assertTrue(out.contains("Gemm") || out.contains("MatMul"), "the mlp's matrix products appear by operator type: " + out);
        try (var files = java.nio.file.Files.list(prefix.getParent())) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("mlp_") && f.toString().endsWith(".json")), "the trace file is kept");
        }
        Object[] bad = run("bench", "--model", "mlp", "--engine", "tensorrt", "--ort-profile", prefix.toString());
        assertEquals(2, bad[0], "--ort-profile is for the CPU engine: a usage error");
    }

    @Test
    void optimizeWritesTheChosenModelAndTheReportContract() throws Exception {
        Path out = tmp.resolve("opt");
        Object[] r = run("optimize", "--model", "mlp", "--budget", "cosine>=0.99,max_abs_err<=0.05", "--runs", "5", "--out", out.toString());
        assertEquals(0, r[0], (String) r[1] + r[2]);
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("model.onnx")));
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("calibration-stats.txt")));
        assertTrue(java.nio.file.Files.readString(out.resolve("report.md")).contains("| variant | precision | calibration |"));
        JsonNode j = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        java.util.Set<String> names = new java.util.HashSet<>();
        for (JsonNode v : j.get("variants")) {
            for (String f : new String[] {"name", "precision", "calibration", "cosine_mean", "cosine_min", "max_abs_err", "p50_us_batch1",
                    "throughput_per_s_batch8", "batch_invariant", "passed"}) {
                assertTrue(v.has(f), "variant field " + f + " in " + v);
            }
            names.add(v.get("name").asText());
        }
        assertTrue(names.contains(j.get("chosen").asText()), "chosen names one of the variants");
        assertTrue(j.get("peers").isArray());
        assertTrue(j.get("graph_passes").isArray() && j.get("graph_passes").isEmpty(), "no transformer block in the mlp: no pass applied");
        Path plain = tmp.resolve("opt-plain");
        Object[] standard = run("optimize", "--model", "mlp", "--no-fusions", "--precisions", "int8", "--methods", "minmax", "--runs", "3",
                "--out", plain.toString());
        assertEquals(0, standard[0], (String) standard[1] + standard[2]);
        io.hotpath.onnx.proto.Onnx.ModelProto chosen = io.hotpath.onnx.proto.Onnx.ModelProto.parseFrom(Files.readAllBytes(plain.resolve("model.onnx")));
        assertTrue(chosen.getGraph().getNodeList().stream().allMatch(n -> n.getDomain().isEmpty()), "standard operators only");
        Object[] bad = run("optimize", "--model", "mlp", "--budget", "latency>=1", "--out", out.toString());
        assertEquals(2, bad[0], "an unknown budget metric is a usage error, said plainly");
        assertTrue(((String) bad[2]).contains("unknown budget metric"), (String) bad[2]);
    }
}
