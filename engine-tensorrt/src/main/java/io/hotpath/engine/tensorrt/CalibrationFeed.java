package io.hotpath.engine.tensorrt;

import io.hotpath.core.HotpathException;
import io.hotpath.nativebindings.cuda.Cuda;
import io.hotpath.nativebindings.cuda.DeviceMemory;
import io.hotpath.nativebindings.cuda.HostRegion;
import io.hotpath.nativebindings.cuda.PinnedMemory;
import io.hotpath.nativebindings.trt.Int8Calibrators;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Feeds TensorRT's calibrator: batch k of the calibration data is staged in pinned memory and
 * copied to device buffers that stay valid until the next call. Reads and writes the
 * calibration cache file when one is configured.
 */
final class CalibrationFeed implements Int8Calibrators.Feed, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.hotpath.tensorrt");

    private final CalibrationData data;
    private final int batchSize;
    private final Path cacheFile;
    private final List<String> names;
    private final DeviceMemory[] device;
    private final PinnedMemory[] host;
    private int next;

    /** The profile whose opt batch is closest to the wanted calibration batch (the calibrator must feed exactly that batch). */
    static int profileFor(List<ShapeProfiles.Profile> profiles, int wanted) {
        int best = 0;
        long bestDistance = Long.MAX_VALUE;
        for (int i = 0; i < profiles.size(); i++) {
            long opt = profiles.get(i).ranges().get(0).opt().length == 0 ? 1 : profiles.get(i).ranges().get(0).opt()[0];
            long d = Math.abs(opt - wanted);
            if (d < bestDistance) {
                best = i;
                bestDistance = d;
            }
        }
        return best;
    }

    CalibrationFeed(CalibrationData data, ShapeProfiles.Profile profile, Path cacheFile) {
        this.data = data;
        this.cacheFile = cacheFile;
        ShapeProfiles.Range first = profile.ranges().get(0);
        this.batchSize = first.opt().length == 0 ? 1 : (int) first.opt()[0];
        this.names = data == null ? List.of() : data.names();
        this.device = new DeviceMemory[names.size()];
        this.host = new PinnedMemory[names.size()];
        if (data != null) {
            data.batches(batchSize);   // at least one whole batch, or a clear error now
            for (int i = 0; i < names.size(); i++) {
                ShapeProfiles.Range r = profile.range(names.get(i));
                if (r == null) {
                    throw HotpathException.invalidArgument("calibration data names input '" + names.get(i) + "', which the model lacks");
                }
                long rowBytes = data.rowBytes(names.get(i));
                long expected = 1;
                for (int d = 1; d < r.opt().length; d++) {
                    expected *= r.opt()[d];
                }
                if (expected * elementBytes(rowBytes, data.rowShape(i)) != rowBytes) {
                    throw HotpathException.invalidArgument("calibration rows of '" + names.get(i) + "' have shape "
                            + Arrays.toString(data.rowShape(i)) + " but the calibration profile's opt shape is "
                            + Arrays.toString(r.opt()) + " (pad the samples to that length)");
                }
                host[i] = new PinnedMemory(rowBytes * batchSize);
                device[i] = new DeviceMemory(rowBytes * batchSize);
            }
        }
    }

    private static long elementBytes(long rowBytes, long[] rowShape) {
        long n = 1;
        for (long d : rowShape) {
            n *= d;
        }
        return n == 0 ? 0 : rowBytes / n;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public boolean next(String[] bindingNames, long[] addresses) {
        if (data == null || next >= data.batches(batchSize)) {
            return false;
        }
        for (int b = 0; b < bindingNames.length; b++) {
            int i = names.indexOf(bindingNames[b]);
            if (i < 0) {
                throw HotpathException.invalidArgument("TensorRT asks for calibration input '" + bindingNames[b]
                        + "', which the calibration data lacks (it has " + names + ")");
            }
            MemorySegment staging = host[i].segment();
            data.fill(next, batchSize, names.get(i), staging);
            Cuda.copyToDevice(device[i], HostRegion.of(host[i]), host[i].byteSize());
            addresses[b] = device[i].address();
        }
        next++;
        return true;
    }

    @Override
    public byte[] readCache() {
        try {
            return cacheFile != null && Files.isRegularFile(cacheFile) ? Files.readAllBytes(cacheFile) : null;
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read calibration cache " + cacheFile + ": " + e.getMessage() + "; calibrating");
            return null;
        }
    }

    @Override
    public void writeCache(byte[] cache) {
        if (cacheFile == null) {
            return;
        }
        try {
            if (cacheFile.toAbsolutePath().getParent() != null) {
                Files.createDirectories(cacheFile.toAbsolutePath().getParent());
            }
            Files.write(cacheFile, cache);
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write calibration cache " + cacheFile + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        for (DeviceMemory d : device) {
            if (d != null) {
                d.close();
            }
        }
        for (PinnedMemory h : host) {
            if (h != null) {
                h.close();
            }
        }
    }
}
