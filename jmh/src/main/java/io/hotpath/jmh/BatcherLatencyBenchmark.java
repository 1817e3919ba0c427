package io.hotpath.jmh;

import io.hotpath.batcher.BatchRequest;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.DynamicBatcher;
import io.hotpath.batcher.IdleStrategyKind;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
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
 * Enqueue-to-dispatch latency of {@link DynamicBatcher} at {@code maxQueueDelay} 0, engine
 * excluded: one caller submits a 256-byte request and waits for its answer, again and again.
 * JMH's sample mode gives the round trip (submit, dispatch, answer) percentiles; at the end of
 * each iteration the batcher's own queue-wait recorder (enqueue to the start of the batch's run)
 * is printed as {@code queue-wait p50/p99/p99.9}.
 *
 * <p>{@code java -jar jmh/target/benchmarks.jar BatcherLatencyBenchmark}
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@State(Scope.Thread)
public class BatcherLatencyBenchmark {
    /** How the batcher thread and the caller wait. */
    @Param({"BUSY_SPIN", "BACKOFF_PARK"})
    public String idle;

    DynamicBatcher batcher;
    BatchRequest request;
    Histogram recycle;

    @Setup(Level.Trial)
    public void start() {
        IdleStrategyKind kind = IdleStrategyKind.valueOf(idle);
        batcher = new DynamicBatcher(BatcherConfig.builder().maxBatchSize(32).maxQueueDelayMicros(0)
                .maxPayloadBytes(NoopBatchProcessor.ROW_BYTES).maxOutputBytes(NoopBatchProcessor.OUTPUT_BYTES)
                .batcherIdle(kind).callerIdle(kind).build(), new NoopBatchProcessor(32));
        request = batcher.newRequest().inputLength(NoopBatchProcessor.ROW_BYTES);
    }

    @Setup(Level.Iteration)
    public void resetRecorder() {
        recycle = batcher.metrics().intervalQueueWait(recycle);
    }

    @TearDown(Level.Iteration)
    public void printQueueWait() {
        recycle = batcher.metrics().intervalQueueWait(recycle);
        System.out.printf("queue-wait (enqueue to dispatch) p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us over %d requests%n",
                recycle.getValueAtPercentile(50) / 1e3, recycle.getValueAtPercentile(99) / 1e3,
                recycle.getValueAtPercentile(99.9) / 1e3, recycle.getMaxValue() / 1e3, recycle.getTotalCount());
    }

    @TearDown(Level.Trial)
    public void stop() {
        batcher.close();
    }

    @Benchmark
    public int roundTrip() {
        return batcher.infer(request);
    }
}
