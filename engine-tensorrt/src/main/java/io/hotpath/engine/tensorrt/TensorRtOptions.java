package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.trt.Int8Calibrators;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * How a TensorRT engine is built and run. Every option has a default; errors surface at
 * {@link Builder#build()}.
 *
 * <table>
 * <caption>Options</caption>
 * <tr><th>option</th><th>default</th><th>meaning</th></tr>
 * <tr><td>precision</td><td>TF32</td><td>FP32 (strict), TF32 (TensorRT's default), FP16, INT8</td></tr>
 * <tr><td>batchBuckets</td><td>1, 8, 64</td><td>one optimization profile per bucket; the largest is the max batch</td></tr>
 * <tr><td>maxDimension</td><td>128</td><td>top of every other dynamic dimension (sequence length)</td></tr>
 * <tr><td>profiles</td><td>from the buckets</td><td>explicit profiles instead of buckets</td></tr>
 * <tr><td>workspaceBytes</td><td>1 GiB</td><td>builder scratch memory limit</td></tr>
 * <tr><td>optimizationLevel</td><td>3</td><td>builder optimization level 0..5</td></tr>
 * <tr><td>cudaGraphs</td><td>false</td><td>capture each (profile, shape) once and replay it</td></tr>
 * <tr><td>cacheDirectory</td><td>~/.cache/hotpath/tensorrt</td><td>plans, layer reports, timing cache</td></tr>
 * <tr><td>calibration</td><td>none</td><td>INT8 without Q/DQ: data, algorithm (ENTROPY), batch 8, cache file</td></tr>
 * <tr><td>device</td><td>0</td><td>CUDA device index</td></tr>
 * </table>
 */
public final class TensorRtOptions {
    private final Precision precision;
    private final int[] batchBuckets;
    private final long maxDimension;
    private final List<ShapeProfiles.Profile> profiles;
    private final long workspaceBytes;
    private final int optimizationLevel;
    private final boolean cudaGraphs;
    private final Path cacheDirectory;
    private final CalibrationData calibrationData;
    private final Int8Calibrators.Algorithm calibrationAlgorithm;
    private final int calibrationBatch;
    private final Path calibrationCache;
    private final int device;

    private TensorRtOptions(Builder b) {
        this.precision = b.precision;
        this.batchBuckets = b.batchBuckets.clone();
        this.maxDimension = b.maxDimension;
        this.profiles = b.profiles;
        this.workspaceBytes = b.workspaceBytes;
        this.optimizationLevel = b.optimizationLevel;
        this.cudaGraphs = b.cudaGraphs;
        this.cacheDirectory = b.cacheDirectory != null ? b.cacheDirectory : PlanCache.defaultDirectory();
        this.calibrationData = b.calibrationData;
        this.calibrationAlgorithm = b.calibrationAlgorithm;
        this.calibrationBatch = b.calibrationBatch;
        this.calibrationCache = b.calibrationCache;
        this.device = b.device;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Precision precision() {
        return precision;
    }

    public int[] batchBuckets() {
        return batchBuckets.clone();
    }

    public long maxDimension() {
        return maxDimension;
    }

    /** Explicit profiles, or null to derive them from the buckets. */
    public List<ShapeProfiles.Profile> profiles() {
        return profiles;
    }

    public long workspaceBytes() {
        return workspaceBytes;
    }

    public int optimizationLevel() {
        return optimizationLevel;
    }

    public boolean cudaGraphs() {
        return cudaGraphs;
    }

    public Path cacheDirectory() {
        return cacheDirectory;
    }

    public CalibrationData calibrationData() {
        return calibrationData;
    }

    public Int8Calibrators.Algorithm calibrationAlgorithm() {
        return calibrationAlgorithm;
    }

    public int calibrationBatch() {
        return calibrationBatch;
    }

    public Path calibrationCache() {
        return calibrationCache;
    }

    public int device() {
        return device;
    }

    @Override
    public String toString() {
        return "precision=" + precision.label() + " buckets=" + Arrays.toString(batchBuckets) + " maxDim=" + maxDimension
                + " workspace=" + (workspaceBytes >> 20) + "MiB opt=" + optimizationLevel + " cudaGraphs=" + cudaGraphs
                + (precision == Precision.INT8 ? " calibration=" + calibrationAlgorithm.name().toLowerCase(java.util.Locale.ROOT) : "");
    }

    /** Builder with the defaults in the class table. */
    public static final class Builder {
        private Precision precision = Precision.TF32;
        private int[] batchBuckets = {1, 8, 64};
        private long maxDimension = 128;
        private List<ShapeProfiles.Profile> profiles;
        private long workspaceBytes = 1L << 30;
        private int optimizationLevel = 3;
        private boolean cudaGraphs;
        private Path cacheDirectory;
        private CalibrationData calibrationData;
        private Int8Calibrators.Algorithm calibrationAlgorithm = Int8Calibrators.Algorithm.ENTROPY;
        private int calibrationBatch = 8;
        private Path calibrationCache;
        private int device;

        private Builder() {
        }

        public Builder precision(Precision p) {
            this.precision = p;
            return this;
        }

        public Builder batchBuckets(int... buckets) {
            this.batchBuckets = buckets.clone();
            return this;
        }

        public Builder maxDimension(long max) {
            this.maxDimension = max;
            return this;
        }

        public Builder profiles(List<ShapeProfiles.Profile> p) {
            this.profiles = List.copyOf(p);
            return this;
        }

        public Builder workspaceBytes(long bytes) {
            this.workspaceBytes = bytes;
            return this;
        }

        public Builder optimizationLevel(int level) {
            this.optimizationLevel = level;
            return this;
        }

        public Builder cudaGraphs(boolean on) {
            this.cudaGraphs = on;
            return this;
        }

        public Builder cacheDirectory(Path dir) {
            this.cacheDirectory = dir;
            return this;
        }

        /** Calibration for INT8 models without Q/DQ nodes. */
        public Builder calibration(CalibrationData data, Int8Calibrators.Algorithm algorithm) {
            this.calibrationData = data;
            this.calibrationAlgorithm = algorithm;
            return this;
        }

        public Builder calibrationBatch(int batch) {
            this.calibrationBatch = batch;
            return this;
        }

        /** Where the calibration cache is read from (if present) and written to. */
        public Builder calibrationCache(Path file) {
            this.calibrationCache = file;
            return this;
        }

        public Builder device(int index) {
            this.device = index;
            return this;
        }

        public TensorRtOptions build() {
            if (precision == null) {
                throw HotpathException.invalidArgument("precision must be set");
            }
            if (batchBuckets.length == 0) {
                throw HotpathException.invalidArgument("batchBuckets needs at least one bucket");
            }
            for (int b : batchBuckets) {
                if (b < 1) {
                    throw HotpathException.invalidArgument("batch buckets must be >= 1, were " + Arrays.toString(batchBuckets));
                }
            }
            if (maxDimension < 1) {
                throw HotpathException.invalidArgument("maxDimension must be >= 1, was " + maxDimension);
            }
            if (workspaceBytes < (1 << 20)) {
                throw HotpathException.invalidArgument("workspaceBytes must be at least 1 MiB, was " + workspaceBytes);
            }
            if (optimizationLevel < 0 || optimizationLevel > 5) {
                throw HotpathException.invalidArgument("optimizationLevel must be 0..5, was " + optimizationLevel);
            }
            if (calibrationBatch < 1) {
                throw HotpathException.invalidArgument("calibrationBatch must be >= 1, was " + calibrationBatch);
            }
            if (device < 0) {
                throw HotpathException.invalidArgument("device must be >= 0, was " + device);
            }
            if (calibrationData != null && calibrationAlgorithm == null) {
                throw HotpathException.invalidArgument("a calibration algorithm is needed with calibration data");
            }
            return new TensorRtOptions(this);
        }
    }
}
