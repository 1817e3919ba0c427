package io.hotpath.engine.cpu;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.ort.ExecutionMode;
import io.hotpath.nativebindings.ort.GraphOptimization;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of {@link OrtCpuEngine}, checked once by {@link Builder#build()}.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>graphOptimization</td><td>ALL</td><td>ONNX Runtime graph rewriting: NONE, BASIC, EXTENDED, ALL</td></tr>
 *   <tr><td>optimizedModelPath</td><td>none</td><td>write the optimized graph to this file at load</td></tr>
 *   <tr><td>profilePrefix</td><td>none</td><td>ONNX Runtime's per-operator profile (Chrome trace JSON) to {@code <prefix>_<time>.json}, written at close; costs time on every run</td></tr>
 *   <tr><td>intraOpThreads</td><td>0 (ONNX Runtime: one per physical core)</td><td>threads inside one operator</td></tr>
 *   <tr><td>interOpThreads</td><td>0</td><td>threads across operators (PARALLEL mode only)</td></tr>
 *   <tr><td>executionMode</td><td>SEQUENTIAL</td><td>SEQUENTIAL or PARALLEL</td></tr>
 *   <tr><td>spinWait</td><td>true</td><td>worker threads spin between operators: lower latency, busier cores</td></tr>
 *   <tr><td>memArena</td><td>true</td><td>pool intermediate buffers</td></tr>
 *   <tr><td>memPattern</td><td>true</td><td>pre-plan intermediate buffers for repeated shapes</td></tr>
 *   <tr><td>maxBatchSize</td><td>1</td><td>capacity: the largest dimension 0 of a run</td></tr>
 *   <tr><td>maxDimension(name)</td><td>defaultMaxDimension</td><td>capacity of a named dynamic dimension other than the batch (for example {@code sequence_length})</td></tr>
 *   <tr><td>defaultMaxDimension</td><td>{@value #DEFAULT_MAX_DYNAMIC_DIM}</td><td>capacity of any other dynamic dimension</td></tr>
 *   <tr><td>maxTensorBytes</td><td>2 GiB</td><td>largest tensor a batch may hold at full capacity; a model or capacity that needs more is refused when the engine opens</td></tr>
 *   <tr><td>maxBatchBytes</td><td>4 GiB</td><td>largest sum of a batch's tensors at full capacity</td></tr>
 *   <tr><td>maxStringBytes</td><td>{@value #DEFAULT_MAX_STRING_BYTES}</td><td>a string input's text memory per element at full capacity (UTF-8 bytes, on average over the elements)</td></tr>
 *   <tr><td>closeTimeout</td><td>30 s</td><td>how long {@code close()} waits for runs in flight before it gives up and leaves their memory allocated</td></tr>
 * </table>
 */
public final class CpuEngineOptions {
    /** Capacity of a dynamic dimension (other than the batch) that was not given a maximum. */
    public static final long DEFAULT_MAX_DYNAMIC_DIM = 512;
    /** Default cap on one tensor's bytes at full capacity. */
    public static final long DEFAULT_MAX_TENSOR_BYTES = 2L << 30;
    /** Default cap on a batch's bytes at full capacity. */
    public static final long DEFAULT_MAX_BATCH_BYTES = 4L << 30;
    /** Default bound on how long close waits for runs in flight. */
    public static final long DEFAULT_CLOSE_TIMEOUT_NANOS = 30_000_000_000L;
    /** Default text memory per string element. */
    public static final int DEFAULT_MAX_STRING_BYTES = 256;

    private final GraphOptimization graphOptimization;
    private final Path optimizedModelPath;
    private final Path profilePrefix;
    private final int intraOpThreads;
    private final int interOpThreads;
    private final ExecutionMode executionMode;
    private final boolean spinWait;
    private final boolean memArena;
    private final boolean memPattern;
    private final int maxBatchSize;
    private final Map<String, Long> maxDimensions;
    private final long defaultMaxDimension;
    private final long maxTensorBytes;
    private final long maxBatchBytes;
    private final long closeTimeoutNanos;
    private final int maxStringBytes;

    private CpuEngineOptions(Builder b) {
        this.graphOptimization = b.graphOptimization;
        this.optimizedModelPath = b.optimizedModelPath;
        this.profilePrefix = b.profilePrefix;
        this.intraOpThreads = b.intraOpThreads;
        this.interOpThreads = b.interOpThreads;
        this.executionMode = b.executionMode;
        this.spinWait = b.spinWait;
        this.memArena = b.memArena;
        this.memPattern = b.memPattern;
        this.maxBatchSize = b.maxBatchSize;
        this.maxDimensions = Map.copyOf(b.maxDimensions);
        this.defaultMaxDimension = b.defaultMaxDimension;
        this.maxTensorBytes = b.maxTensorBytes;
        this.maxBatchBytes = b.maxBatchBytes;
        this.closeTimeoutNanos = b.closeTimeoutNanos;
        this.maxStringBytes = b.maxStringBytes;
    }

    /** Text memory per string element of a string input at full capacity. */
    public int maxStringBytes() {
        return maxStringBytes;
    }

    public long maxTensorBytes() {
        return maxTensorBytes;
    }

    public long maxBatchBytes() {
        return maxBatchBytes;
    }

    public long closeTimeoutNanos() {
        return closeTimeoutNanos;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static CpuEngineOptions defaults() {
        return builder().build();
    }

    public GraphOptimization graphOptimization() {
        return graphOptimization;
    }

    public Path optimizedModelPath() {
        return optimizedModelPath;
    }

    /** Where ONNX Runtime's profile goes, or null (profiling off). */
    public Path profilePrefix() {
        return profilePrefix;
    }

    public int intraOpThreads() {
        return intraOpThreads;
    }

    public int interOpThreads() {
        return interOpThreads;
    }

    public ExecutionMode executionMode() {
        return executionMode;
    }

    public boolean spinWait() {
        return spinWait;
    }

    public boolean memArena() {
        return memArena;
    }

    public boolean memPattern() {
        return memPattern;
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    /** The capacity of dynamic dimension {@code name}. */
    public long maxDimension(String name) {
        return name == null ? defaultMaxDimension : maxDimensions.getOrDefault(name, defaultMaxDimension);
    }

    @Override
    public String toString() {
        return "opt=" + graphOptimization.name().toLowerCase(java.util.Locale.ROOT) + " intra=" + intraOpThreads
                + " inter=" + interOpThreads + " mode=" + executionMode.name().toLowerCase(java.util.Locale.ROOT)
                + " spin=" + (spinWait ? "on" : "off") + " arena=" + (memArena ? "on" : "off")
                + " pattern=" + (memPattern ? "on" : "off") + " maxBatch=" + maxBatchSize
                + " maxDim=" + defaultMaxDimension + (maxDimensions.isEmpty() ? "" : " maxDims=" + maxDimensions)
                + (profilePrefix == null ? "" : " profile=on");
    }

    /** Builds {@link CpuEngineOptions}; {@link #build()} rejects bad values once. */
    public static final class Builder {
        private GraphOptimization graphOptimization = GraphOptimization.ALL;
        private Path optimizedModelPath;
        private Path profilePrefix;
        private int intraOpThreads;
        private int interOpThreads;
        private ExecutionMode executionMode = ExecutionMode.SEQUENTIAL;
        private boolean spinWait = true;
        private boolean memArena = true;
        private boolean memPattern = true;
        private int maxBatchSize = 1;
        private final Map<String, Long> maxDimensions = new LinkedHashMap<>();
        private long defaultMaxDimension = DEFAULT_MAX_DYNAMIC_DIM;
        private long maxTensorBytes = DEFAULT_MAX_TENSOR_BYTES;
        private int maxStringBytes = DEFAULT_MAX_STRING_BYTES;
        private long maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private long closeTimeoutNanos = DEFAULT_CLOSE_TIMEOUT_NANOS;

        private Builder() {
        }

        public Builder graphOptimization(GraphOptimization level) {
            this.graphOptimization = java.util.Objects.requireNonNull(level, "graphOptimization");
            return this;
        }

        public Builder optimizedModelPath(Path file) {
            this.optimizedModelPath = file;
            return this;
        }

        /** Turns on ONNX Runtime's per-operator profiler, written to {@code <prefix>_<time>.json} at close. */
        public Builder profilePrefix(Path prefix) {
            this.profilePrefix = prefix;
            return this;
        }

        public Builder intraOpThreads(int n) {
            this.intraOpThreads = n;
            return this;
        }

        public Builder interOpThreads(int n) {
            this.interOpThreads = n;
            return this;
        }

        public Builder executionMode(ExecutionMode mode) {
            this.executionMode = java.util.Objects.requireNonNull(mode, "executionMode");
            return this;
        }

        public Builder spinWait(boolean on) {
            this.spinWait = on;
            return this;
        }

        public Builder memArena(boolean on) {
            this.memArena = on;
            return this;
        }

        public Builder memPattern(boolean on) {
            this.memPattern = on;
            return this;
        }

        public Builder maxBatchSize(int n) {
            this.maxBatchSize = n;
            return this;
        }

        /** The capacity of the dynamic dimension called {@code name} (for example {@code sequence_length}). */
        public Builder maxDimension(String name, long max) {
            this.maxDimensions.put(name, max);
            return this;
        }

        /** The capacity of every dynamic dimension (other than the batch) not named in {@link #maxDimension}. */
        public Builder defaultMaxDimension(long max) {
            this.defaultMaxDimension = max;
            return this;
        }

        /** The largest tensor (bytes, at full batch and dimension capacity) a batch may hold; larger is refused at open. */
        public Builder maxTensorBytes(long bytes) {
            this.maxTensorBytes = bytes;
            return this;
        }

        /** The largest batch (all tensors' bytes at full capacity); larger is refused at open. */
        public Builder maxBatchBytes(long bytes) {
            this.maxBatchBytes = bytes;
            return this;
        }

        /** How long {@code close()} waits for runs in flight; past it the engine's memory is left allocated (logged). */
        /** Text memory per element of a string input (UTF-8 bytes plus 5 bytes of framing, on average), 1..1 MiB. */
        public Builder maxStringBytes(int bytes) {
            this.maxStringBytes = bytes;
            return this;
        }

        public Builder closeTimeout(java.time.Duration d) {
            this.closeTimeoutNanos = d.toNanos();
            return this;
        }

        public CpuEngineOptions build() {
            if (maxTensorBytes < 1 || maxBatchBytes < 1) {
                throw HotpathException.invalidArgument("maxTensorBytes and maxBatchBytes must be >= 1, were " + maxTensorBytes + " and " + maxBatchBytes);
            }
            if (maxStringBytes < 1 || maxStringBytes > (1 << 20)) {
                throw HotpathException.invalidArgument("maxStringBytes must be within 1..1048576, was " + maxStringBytes);
            }
            if (closeTimeoutNanos < 0) {
                throw HotpathException.invalidArgument("closeTimeout must not be negative, was " + closeTimeoutNanos + " ns");
            }
            if (defaultMaxDimension < 1) {
                throw HotpathException.invalidArgument("defaultMaxDimension must be >= 1, was " + defaultMaxDimension);
            }
            if (intraOpThreads < 0) {
                throw HotpathException.invalidArgument("intraOpThreads must be >= 0 (0 = ONNX Runtime's choice), was " + intraOpThreads);
            }
            if (interOpThreads < 0) {
                throw HotpathException.invalidArgument("interOpThreads must be >= 0 (0 = ONNX Runtime's choice), was " + interOpThreads);
            }
            if (maxBatchSize < 1) {
                throw HotpathException.invalidArgument("maxBatchSize must be >= 1, was " + maxBatchSize);
            }
            maxDimensions.forEach((k, v) -> {
                if (v < 1) {
                    throw HotpathException.invalidArgument("maxDimension(" + k + ") must be >= 1, was " + v);
                }
            });
            return new CpuEngineOptions(this);
        }
    }
}
