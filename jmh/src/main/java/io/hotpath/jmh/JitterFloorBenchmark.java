package io.hotpath.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The tail under {@link DirectServiceBenchmark} and {@link SmallModelBenchmark}: work of a fixed
 * size that allocates nothing, calls nothing and shares nothing, sampled the same way. Whatever its
 * p99 is above its p50 the machine did (interrupts, the hypervisor, the other vCPU), not the code;
 * a model's p99 is read against this one, measured in the same run: arithmetic only
 * ({@link Blackhole#consumeCPU}), {@code tokens} of it per call (2,000 by default: about 4 us on the
 * Intel Xeon measured, near {@code mlp}'s p50 through the direct service there; a list of sizes shows
 * how the tail grows with the operation's length).
 *
 * <p>{@code ./hotpath jmh 'JitterFloorBenchmark|DirectServiceBenchmark' -p engine=jvm}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class JitterFloorBenchmark {
    /** {@link Blackhole#consumeCPU} tokens per call. */
    @Param({"2000"})
    public long tokens;

    @Benchmark
    public void registers() {
        Blackhole.consumeCPU(tokens);
    }
}
