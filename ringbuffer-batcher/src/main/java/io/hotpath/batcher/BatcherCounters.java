package io.hotpath.batcher;

import static io.hotpath.batcher.BatcherCountersDescriptor.FILE_LENGTH;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * The batcher's counters: Agrona {@link AtomicCounter}s allocated by a {@link CountersManager} in
 * a buffer laid out as {@link BatcherCountersDescriptor} says, either a memory-mapped file that
 * other processes read or, without one, direct memory of the same layout. Updates are single
 * instructions on off-heap memory: no allocation.
 *
 * <p>The mapping is never unmapped explicitly: producers and metric readers may touch a counter
 * at any time, also after close, and unmapping under them would crash the JVM. The file is
 * deleted at close (its few KiB stay mapped until the batcher is garbage collected); a reader
 * that has it mapped sees the state turn CLOSED.
 */
final class BatcherCounters {
    private final UnsafeBuffer buffer;
    private final Path file;
    final CountersManager manager;

    final AtomicCounter submitted;
    final AtomicCounter completed;
    final AtomicCounter rejected;
    final AtomicCounter timedOut;
    final AtomicCounter failed;
    final AtomicCounter shutdown;
    final AtomicCounter batches;
    final AtomicCounter failedBatches;
    final AtomicCounter errors;
    final AtomicCounter batchRows;
    final AtomicCounter inFlight;
    final AtomicCounter stagedRows;

    private BatcherCounters(UnsafeBuffer buffer, Path file, String name) {
        this.buffer = buffer;
        this.file = file;
        ProcessHandle self = ProcessHandle.current();
        buffer.putLong(BatcherCountersDescriptor.PID_OFFSET, self.pid());
        buffer.putLong(BatcherCountersDescriptor.START_TIME_OFFSET, self.info().startInstant().map(i -> i.toEpochMilli()).orElse(-1L));
        buffer.putInt(BatcherCountersDescriptor.METADATA_LENGTH_OFFSET, BatcherCountersDescriptor.METADATA_BUFFER_LENGTH);
        buffer.putInt(BatcherCountersDescriptor.VALUES_LENGTH_OFFSET, BatcherCountersDescriptor.VALUES_BUFFER_LENGTH);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(n.length, BatcherCountersDescriptor.MAX_NAME_LENGTH);
        buffer.putInt(BatcherCountersDescriptor.NAME_LENGTH_OFFSET, len);
        buffer.putBytes(BatcherCountersDescriptor.NAME_OFFSET, n, 0, len);
        this.manager = new CountersManager(
                new UnsafeBuffer(buffer, BatcherCountersDescriptor.METADATA_BUFFER_OFFSET, BatcherCountersDescriptor.METADATA_BUFFER_LENGTH),
                new UnsafeBuffer(buffer, BatcherCountersDescriptor.VALUES_BUFFER_OFFSET, BatcherCountersDescriptor.VALUES_BUFFER_LENGTH));
        submitted = manager.newCounter("submitted", BatcherCountersDescriptor.SUBMITTED_TYPE_ID);
        completed = manager.newCounter("completed", BatcherCountersDescriptor.COMPLETED_TYPE_ID);
        rejected = manager.newCounter("rejected", BatcherCountersDescriptor.REJECTED_TYPE_ID);
        timedOut = manager.newCounter("timed out", BatcherCountersDescriptor.TIMED_OUT_TYPE_ID);
        failed = manager.newCounter("failed", BatcherCountersDescriptor.FAILED_TYPE_ID);
        shutdown = manager.newCounter("shutdown", BatcherCountersDescriptor.SHUTDOWN_TYPE_ID);
        batches = manager.newCounter("batches", BatcherCountersDescriptor.BATCHES_TYPE_ID);
        failedBatches = manager.newCounter("failed batches", BatcherCountersDescriptor.FAILED_BATCHES_TYPE_ID);
        errors = manager.newCounter("errors", BatcherCountersDescriptor.ERRORS_TYPE_ID);
        batchRows = manager.newCounter("batch rows", BatcherCountersDescriptor.BATCH_ROWS_TYPE_ID);
        inFlight = manager.newCounter("in flight", BatcherCountersDescriptor.IN_FLIGHT_TYPE_ID);
        stagedRows = manager.newCounter("staged rows", BatcherCountersDescriptor.STAGED_ROWS_TYPE_ID);
        buffer.putIntRelease(BatcherCountersDescriptor.STATE_OFFSET, BatcherCountersDescriptor.STATE_LIVE);
        buffer.putIntRelease(BatcherCountersDescriptor.VERSION_OFFSET, BatcherCountersDescriptor.VERSION);
        buffer.putIntRelease(BatcherCountersDescriptor.MAGIC_OFFSET, BatcherCountersDescriptor.MAGIC);
    }

    /** Counters in direct memory, visible to this process only. */
    static BatcherCounters inMemory(String name) {
        return new BatcherCounters(new UnsafeBuffer(BufferUtil.allocateDirectAligned(FILE_LENGTH, 128)), null, name);
    }

    /**
     * Counters in a new memory-mapped file: {@code file} itself, or when null a new file in
     * {@link BatcherCountersDescriptor#defaultDirectory()} named after this process and {@code name}.
     * An existing file is never overwritten: an explicit path that exists is refused; a default name
     * that exists gets a sequence number.
     */
    static BatcherCounters mapped(Path file, String name) {
        try {
            if (file != null) {
                return new BatcherCounters(map(file), file, name);
            }
            Path dir = BatcherCountersDescriptor.defaultDirectory();
            Files.createDirectories(dir);
            long pid = ProcessHandle.current().pid();
            for (int seq = 1; ; seq++) {
                Path f = dir.resolve(BatcherCountersDescriptor.defaultFileName(pid, name, seq));
                try {
                    return new BatcherCounters(map(f), f, name);
                } catch (FileAlreadyExistsException e) {
                    // another batcher of this process (or a dead process with our pid) has it: next number
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the batcher's counters file " + (file != null ? file : "in "
                    + BatcherCountersDescriptor.defaultDirectory()) + ": " + e, e);
        }
    }

    private static UnsafeBuffer map(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, FILE_LENGTH);
            return new UnsafeBuffer(mapped);      // keeps the mapping reachable for as long as the counters are
        }
    }

    /** The counters file, or null when the counters live in memory only. */
    Path file() {
        return file;
    }

    /** Marks the counters closed (a reader that has them mapped sees it) and deletes the file. */
    void close() {
        buffer.putIntRelease(BatcherCountersDescriptor.STATE_OFFSET, BatcherCountersDescriptor.STATE_CLOSED);
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                System.getLogger(BatcherCounters.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot delete the batcher's counters file " + file + ": " + e);
            }
        }
    }
}
