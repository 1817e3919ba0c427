package io.hotpath.jmh;

import io.hotpath.engine.cpu.CpuEngineOptions;
import io.hotpath.engine.cpu.OrtCpuEngine;
import io.hotpath.models.ModelCatalog;
import io.hotpath.service.InferenceService;
import io.hotpath.service.Request;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What Hotpath's JFR events cost: {@code mlp} at batch 1 through an {@code InferenceService}
 * (direct mode: a {@code hotpath.Batch} event per request; batched: {@code hotpath.Batch} and
 * {@code hotpath.Request}), with the events off ({@code -Dhotpath.jfr=false}: no event object is
 * made), on but not recorded (the default: no recording asks for them) and recorded (a JFR
 * recording with every {@code hotpath.*} event enabled, no threshold). Each fork is one setting.
 *
 * <p>{@code ./hotpath jmh EventsOverheadBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class EventsOverheadBenchmark {
    @Param({"off", "idle", "recorded"})
    public String events;

    @Param({"direct", "batched"})
    public String mode;

    InferenceService svc;
    Request req;
    Recording recording;

    @Setup(Level.Trial)
    public void open() {
        if (events.equals("off")) {
            System.setProperty("hotpath.jfr", "false");     // read once, when the service's event switch class loads
        }
        OrtCpuEngine e = OrtCpuEngine.open(ModelCatalog.resolve("mlp"), CpuEngineOptions.builder().maxBatchSize(1).intraOpThreads(1).build());
        InferenceService.Builder b = InferenceService.builder(e);
        if (mode.equals("direct")) {
            b.direct();
        } else {
            b.batching(c -> c.maxBatchSize(1).maxQueueDelayMicros(0));
        }
        svc = b.build();
        req = svc.newRequest();
        float[] f = BenchmarkInputs.mlp(1).features;
        for (int i = 0; i < f.length; i++) {
            req.input(0).putFloat(i, f[i]);
        }
        if (events.equals("recorded")) {
            recording = new Recording();
            for (String name : new String[] {"hotpath.CacheLookup", "hotpath.Batch", "hotpath.Request"}) {
                recording.enable(name).withoutThreshold();
            }
            recording.setToDisk(true);
            recording.start();
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        if (recording != null) {
            recording.stop();
            recording.close();
        }
        svc.close();
    }

    @Benchmark
    public int infer() {
        return svc.infer(req);
    }
}
