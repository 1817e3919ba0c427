package io.hotpath.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON (and, through {@link LoadReports}, CSV) form of bench results. The field names and
 * their order are the report format that scripts and earlier results rely on; the records carry
 * the values, and this class alone turns them into ordered maps.
 */
final class BenchJson {
    private BenchJson() {
    }

    /** One direct-bench row, or the base of a load step. */
    static Map<String, Object> fields(BenchResult r) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", r.model());
        j.put("model_file", r.modelFile().toString());
        j.put("engine", r.engine().name());
        j.put("engine_options", r.engine().options());
        j.put("engine_description", r.engine().description());
        j.put("batch", r.batch());
        j.put("seq", r.seq());
        j.put("threads", r.threads());
        j.put("opt", r.opt());
        j.put("warmup", r.warmup());
        j.put("iterations", r.iterations());
        LatencyStats s = r.latency();
        j.put("p50_us", s.p50Us());
        j.put("p90_us", s.p90Us());
        j.put("p99_us", s.p99Us());
        j.put("p999_us", s.p999Us());
        j.put("max_us", s.maxUs());
        j.put("mean_us", s.meanUs());
        j.put("throughput_per_s", r.throughput());
        j.put("runs_per_s", s.runsPerSecond());
        SystemInfo sys = r.system();
        j.put("cpu_model", sys.cpuModel());
        j.put("cpu_flags", sys.cpuFlags());
        j.put("cores", sys.cores());
        j.put("jdk", sys.jdk());
        j.put("os", sys.os());
        if (r.engine().onnxRuntimeVersion() != null) {
            j.put("onnxruntime_version", r.engine().onnxRuntimeVersion());
        }
        BenchResult.TensorRtFacts t = r.engine().tensorRt();
        if (t != null) {
            j.put("precision", t.precision());
            j.put("cuda_graphs", t.cudaGraphs());
            j.put("gpu", t.gpu());
            j.put("compute_capability", t.computeCapability());
            j.put("tensorrt_version", t.tensorRtVersion());
            j.put("cuda_runtime", t.cudaRuntime());
            j.put("cuda_driver", t.cudaDriver());
            j.put("plan_built_now", t.planBuiltNow());
            j.put("build_seconds", t.buildSeconds());
            j.put("plan_file", t.planFile());
        }
        return j;
    }

    /** One load-generator step: the base fields, then the loop's and the batcher's. */
    static Map<String, Object> fields(LoadStepResult r) {
        Map<String, Object> j = fields(r.base());
        if (r.ratePerSecond() != null) {
            j.put("rate_per_s", r.ratePerSecond());
            j.put("uncorrected_p99_us", r.uncorrectedP99Us());
            j.put("uncorrected_p999_us", r.uncorrectedP999Us());
        } else {
            j.put("concurrency", r.concurrency());
        }
        j.put("p95_us", r.p95Us());
        j.put("max_batch", r.maxBatch());
        j.put("max_delay_us", r.maxDelayUs());
        j.put("mean_batch_size", r.meanBatchSize());
        j.put("batch_size_distribution", r.batchSizeDistribution());
        j.put("queue_p50_us", r.queueP50Us());
        j.put("queue_p99_us", r.queueP99Us());
        j.put("engine_p50_us", r.engineP50Us());
        j.put("engine_p99_us", r.engineP99Us());
        j.put("requests_ok", r.requestsOk());
        j.put("requests_not_ok", r.requestsNotOk());
        j.put("repeat_fraction", r.repeatFraction());
        j.put("cache_mb", r.cacheMb());
        j.put("cache_hit_rate", r.cacheHitRate());
        if (r.l2HitRate() != null) {
            j.put("l2_hit_rate", r.l2HitRate());
            j.put("l2_p50_us", r.l2P50Us());
            j.put("l2_p99_us", r.l2P99Us());
            j.put("l2_wait_p99_us", r.l2WaitP99Us());
            j.put("l2_wait_max_us", r.l2WaitMaxUs());
        }
        return j;
    }

    /** The direct bench's report: the one row itself, or every batch size's under {@code results}. */
    static void writeDirect(Path file, String model, String engineName, List<BenchResult> rows) throws IOException {
        if (rows.size() == 1) {
            write(file, fields(rows.get(0)));
        } else {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("model", model);
            all.put("engine", engineName);
            all.put("results", rows.stream().map(BenchJson::fields).toList());
            write(file, all);
        }
    }

    /** The load generator's report: the one step itself, or every step's under {@code steps}. */
    static void writeLoad(Path file, String model, boolean openLoop, List<LoadStepResult> steps) throws IOException {
        if (steps.size() == 1) {
            write(file, fields(steps.get(0)));
        } else {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("model", model);
            all.put("mode", openLoop ? "open-loop" : "closed-loop");
            all.put("steps", steps.stream().map(BenchJson::fields).toList());
            write(file, all);
        }
    }

    private static void write(Path file, Map<String, Object> j) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), j);
    }
}
