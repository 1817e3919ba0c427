package io.hotpath.nativebindings.trt;

import java.lang.foreign.MemorySegment;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.tensorrt.nvinfer.IInt8Calibrator;
import org.bytedeco.tensorrt.nvinfer.IInt8EntropyCalibrator2;
import org.bytedeco.tensorrt.nvinfer.IInt8MinMaxCalibrator;

/**
 * TensorRT's implicit INT8 calibrators, implemented in Java: TensorRT calls back for batches of
 * calibration data (already in device memory) and for the calibration cache.
 */
public final class Int8Calibrators {
    private Int8Calibrators() {
    }

    /** Which TensorRT calibration algorithm. */
    public enum Algorithm {
        /** {@code IInt8EntropyCalibrator2}: thresholds minimizing KL divergence; TensorRT's recommendation for CNNs and most models. */
        ENTROPY,
        /** {@code IInt8MinMaxCalibrator}: the full observed range; often better for transformers' activations. */
        MINMAX
    }

    /** What the engine layer supplies: batches in device memory and the cache bytes. */
    public interface Feed {
        /** The batch size TensorRT is told (the calibration profile's opt batch). */
        int batchSize();

        /**
         * Puts the next batch in device memory and writes, for each of {@code names}, its device
         * address into {@code addresses}; false when the data is exhausted.
         */
        boolean next(String[] names, long[] addresses);

        /** A saved calibration cache to reuse instead of calibrating, or null. */
        byte[] readCache();

        /** Saves the calibration cache TensorRT produced. */
        void writeCache(byte[] cache);
    }

    /** The TensorRT-side calibrator object for {@code feed}. Keep it reachable until the build ends. */
    public static IInt8Calibrator create(Algorithm algorithm, Feed feed) {
        return algorithm == Algorithm.MINMAX ? new MinMax(feed) : new Entropy(feed);
    }

    /** Shared callback logic; exceptions never cross into TensorRT (they end calibration and are rethrown later). */
    static final class Callbacks {
        final Feed feed;
        volatile Throwable failure;
        private BytePointer cache;

        Callbacks(Feed feed) {
            this.feed = feed;
        }

        int batchSize() {
            return feed.batchSize();
        }

        boolean getBatch(PointerPointer bindings, PointerPointer names, int nbBindings) {
            try {
                String[] n = new String[nbBindings];
                for (int i = 0; i < nbBindings; i++) {
                    n[i] = new BytePointer(names.get(i)).getString();
                }
                long[] addr = new long[nbBindings];
                if (!feed.next(n, addr)) {
                    return false;
                }
                for (int i = 0; i < nbBindings; i++) {
                    final long a = addr[i];
                    bindings.put(i, new AddressPointer(a));
                }
                return true;
            } catch (Throwable t) {
                failure = t;
                return false;
            }
        }

        Pointer readCache(LongPointer length) {
            try {
                byte[] bytes = feed.readCache();
                if (bytes == null || bytes.length == 0) {
                    length.put(0L);
                    return null;
                }
                cache = new BytePointer(bytes.length);
                cache.put(bytes);
                length.put(bytes.length);
                return cache;
            } catch (Throwable t) {
                failure = t;
                length.put(0L);
                return null;
            }
        }

        void writeCache(Pointer ptr, long length) {
            try {
                byte[] bytes = new byte[Math.toIntExact(length)];
                MemorySegment.copy(io.hotpath.nativebindings.SegmentPointers.segment(ptr, length), java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                        bytes, 0, bytes.length);
                feed.writeCache(bytes);
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    /** A pointer holding a raw address, owning nothing. */
    static final class AddressPointer extends Pointer {
        AddressPointer(long a) {
            this.address = a;
        }
    }

    static final class Entropy extends IInt8EntropyCalibrator2 {
        final Callbacks cb;

        Entropy(Feed feed) {
            this.cb = new Callbacks(feed);
        }

        @Override
        public int getBatchSize() {
            return cb.batchSize();
        }

        @Override
        public boolean getBatch(PointerPointer bindings, PointerPointer names, int nbBindings) {
            return cb.getBatch(bindings, names, nbBindings);
        }

        @Override
        public Pointer readCalibrationCache(LongPointer length) {
            return cb.readCache(length);
        }

        @Override
        public void writeCalibrationCache(Pointer ptr, long length) {
            cb.writeCache(ptr, length);
        }
    }

    static final class MinMax extends IInt8MinMaxCalibrator {
        final Callbacks cb;

        MinMax(Feed feed) {
            this.cb = new Callbacks(feed);
        }

        @Override
        public int getBatchSize() {
            return cb.batchSize();
        }

        @Override
        public boolean getBatch(PointerPointer bindings, PointerPointer names, int nbBindings) {
            return cb.getBatch(bindings, names, nbBindings);
        }

        @Override
        public Pointer readCalibrationCache(LongPointer length) {
            return cb.readCache(length);
        }

        @Override
        public void writeCalibrationCache(Pointer ptr, long length) {
            cb.writeCache(ptr, length);
        }
    }

    /** The failure a calibrator callback swallowed, or null. */
    static Throwable failureOf(IInt8Calibrator c) {
        if (c instanceof Entropy e) {
            return e.cb.failure;
        }
        if (c instanceof MinMax m) {
            return m.cb.failure;
        }
        return null;
    }
}
