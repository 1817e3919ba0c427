package io.hotpath.jmh;

import io.hotpath.batcher.BatchRequest;
import io.hotpath.batcher.BatchStatus;
import io.hotpath.batcher.BatcherConfig;
import io.hotpath.batcher.DynamicBatcher;
import io.hotpath.batcher.IdleStrategyKind;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The batcher's own overhead, engine excluded ({@link NoopBatchProcessor} only copies rows in and
 * outputs back): 8 producer threads submit 256-byte requests as fast as the batcher answers them
 * (each keeps 8 requests in flight and reuses a request once it is answered); one batcher thread
 * drains up to 32 at a time with {@code maxQueueDelay} 0. An operation is one accepted request.
 *
 * <ul>
 *   <li>{@code hotpath}: {@link DynamicBatcher} (Agrona many-to-one rings in off-heap memory);</li>
 *   <li>{@code arrayBlockingQueue}: the same batcher logic over {@code ArrayBlockingQueue};</li>
 *   <li>{@code disruptor}: the same batcher logic over the LMAX Disruptor (multi-producer ring,
 *       {@code EventPoller}).</li>
 * </ul>
 * All three wait the same way (a producer with no free request yields; an idle batcher yields).
 *
 * <p>{@code java -jar jmh/target/benchmarks.jar BatcherBenchmark -prof gc}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@Threads(8)
public class BatcherBenchmark {
    static final int MAX_BATCH = 32;
    static final int IN_FLIGHT_PER_PRODUCER = 8;
    static final int QUEUE_REQUESTS = 1024;

    @State(Scope.Benchmark)
    public static class Hotpath {
        DynamicBatcher batcher;

        @Setup(Level.Trial)
        public void start() {
            int recordBytes = 8 + io.hotpath.batcher.RequestRecordDescriptor.HEADER_LENGTH + NoopBatchProcessor.ROW_BYTES;
            batcher = new DynamicBatcher(BatcherConfig.builder().maxBatchSize(MAX_BATCH).maxQueueDelayMicros(0)
                    .queueCapacityBytes(Integer.highestOneBit(QUEUE_REQUESTS * recordBytes) * 2)
                    .maxPayloadBytes(NoopBatchProcessor.ROW_BYTES).maxOutputBytes(NoopBatchProcessor.OUTPUT_BYTES)
                    .maxRequests(64 * IN_FLIGHT_PER_PRODUCER)
                    .batcherIdle(IdleStrategyKind.YIELD).callerIdle(IdleStrategyKind.YIELD).build(),
                    new NoopBatchProcessor(MAX_BATCH));
        }

        @TearDown(Level.Trial)
        public void stop() {
            batcher.close();
        }
    }

    @State(Scope.Thread)
    public static class HotpathProducer {
        BatchRequest[] requests;
        int next;

        @Setup(Level.Trial)
        public void make(Hotpath shared) {
            requests = new BatchRequest[IN_FLIGHT_PER_PRODUCER];
            for (int i = 0; i < requests.length; i++) {
                requests[i] = shared.batcher.newRequest();
                for (int k = 0; k < NoopBatchProcessor.ROW_BYTES / 4; k++) {
                    requests[i].input().setAtIndex(ValueLayout.JAVA_FLOAT, k, k * 0.5f);
                }
                requests[i].inputLength(NoopBatchProcessor.ROW_BYTES);
            }
        }

        @TearDown(Level.Trial)
        public void drain(Hotpath shared) {
            for (BatchRequest r : requests) {
                shared.batcher.await(r);
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Abq {
        PeerBatcher batcher;

        @Setup(Level.Trial)
        public void start() {
            batcher = new PeerBatcher.OverArrayBlockingQueue(QUEUE_REQUESTS, MAX_BATCH);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            batcher.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Disruptor {
        PeerBatcher batcher;

        @Setup(Level.Trial)
        public void start() {
            batcher = new PeerBatcher.OverDisruptor(QUEUE_REQUESTS, MAX_BATCH);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            batcher.close();
        }
    }

    @State(Scope.Thread)
    public static class PeerProducer {
        PeerBatcher.PeerRequest[] requests;
        int next;

        @Setup(Level.Trial)
        public void make() {
            requests = new PeerBatcher.PeerRequest[IN_FLIGHT_PER_PRODUCER];
            for (int i = 0; i < requests.length; i++) {
                requests[i] = new PeerBatcher.PeerRequest();
                for (int k = 0; k < NoopBatchProcessor.ROW_BYTES / 4; k++) {
                    requests[i].input.setAtIndex(ValueLayout.JAVA_FLOAT, k, k * 0.5f);
                }
            }
        }

        @TearDown(Level.Trial)
        public void drain() {
            for (PeerBatcher.PeerRequest r : requests) {
                while (r.status == PeerBatcher.PENDING) {
                    Thread.yield();
                }
            }
        }
    }

    @Benchmark
    public int hotpath(Hotpath shared, HotpathProducer p) {
        BatchRequest r = p.requests[p.next];
        p.next = (p.next + 1) & (IN_FLIGHT_PER_PRODUCER - 1);
        while (r.status() == BatchStatus.PENDING) {
            Thread.yield();
        }
        int s;
        while ((s = shared.batcher.submit(r)) == BatchStatus.REJECTED) {
            Thread.yield();
        }
        return s;
    }

    @Benchmark
    public int arrayBlockingQueue(Abq shared, PeerProducer p) {
        return peer(shared.batcher, p);
    }

    @Benchmark
    public int disruptor(Disruptor shared, PeerProducer p) {
        return peer(shared.batcher, p);
    }

    private static int peer(PeerBatcher batcher, PeerProducer p) {
        PeerBatcher.PeerRequest r = p.requests[p.next];
        p.next = (p.next + 1) & (IN_FLIGHT_PER_PRODUCER - 1);
        while (r.status == PeerBatcher.PENDING) {
            Thread.yield();
        }
        while (!batcher.offer(r)) {
            Thread.yield();
        }
        return PeerBatcher.PENDING;
    }
}
