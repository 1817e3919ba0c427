package io.hotpath.batcher;

import static io.hotpath.batcher.BatcherCountersDescriptor.FILE_LENGTH;
import static io.hotpath.batcher.BatcherCountersDescriptor.HEADER_LENGTH;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

/**
 * A batcher's counters file opened by another process (or another part of this one), read-only:
 * the header ({@link BatcherCountersDescriptor}) checked, the counters read with an Agrona
 * {@link CountersReader} over the mapped metadata and values buffers.
 */
public final class BatcherCountersFile implements AutoCloseable {
    private final Path path;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer buffer;
    private final CountersReader counters;
    private final long pid;
    private final long startTimeMs;
    private final String name;

    private BatcherCountersFile(Path path, MappedByteBuffer mapped) {
        this.path = path;
        this.mapped = mapped;
        this.buffer = new UnsafeBuffer(mapped);
        int magic = buffer.getIntAcquire(BatcherCountersDescriptor.MAGIC_OFFSET);
        if (magic != BatcherCountersDescriptor.MAGIC) {
            throw new IllegalArgumentException("not a batcher counters file (magic 0x" + Integer.toHexString(magic) + ", expected 0x"
                    + Integer.toHexString(BatcherCountersDescriptor.MAGIC) + "), or its batcher is still starting");
        }
        int version = buffer.getInt(BatcherCountersDescriptor.VERSION_OFFSET);
        if (version != BatcherCountersDescriptor.VERSION) {
            throw new IllegalArgumentException("counters file version " + version + ", this reader knows version " + BatcherCountersDescriptor.VERSION);
        }
        int meta = buffer.getInt(BatcherCountersDescriptor.METADATA_LENGTH_OFFSET);
        int values = buffer.getInt(BatcherCountersDescriptor.VALUES_LENGTH_OFFSET);
        if (meta != BatcherCountersDescriptor.METADATA_BUFFER_LENGTH || values != BatcherCountersDescriptor.VALUES_BUFFER_LENGTH) {
            throw new IllegalArgumentException("corrupt counters file: metadata " + meta + " bytes and values " + values + " bytes, expected "
                    + BatcherCountersDescriptor.METADATA_BUFFER_LENGTH + " and " + BatcherCountersDescriptor.VALUES_BUFFER_LENGTH);
        }
        int nameLength = buffer.getInt(BatcherCountersDescriptor.NAME_LENGTH_OFFSET);
        if (nameLength < 0 || nameLength > BatcherCountersDescriptor.MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("corrupt counters file: name length " + nameLength);
        }
        byte[] n = new byte[nameLength];
        buffer.getBytes(BatcherCountersDescriptor.NAME_OFFSET, n);
        this.name = new String(n, StandardCharsets.UTF_8);
        this.pid = buffer.getLong(BatcherCountersDescriptor.PID_OFFSET);
        this.startTimeMs = buffer.getLong(BatcherCountersDescriptor.START_TIME_OFFSET);
        this.counters = new CountersReader(
                new UnsafeBuffer(buffer, BatcherCountersDescriptor.METADATA_BUFFER_OFFSET, meta),
                new UnsafeBuffer(buffer, BatcherCountersDescriptor.VALUES_BUFFER_OFFSET, values));
    }

    /**
     * Maps {@code file} read-only and checks its header.
     *
     * @throws java.nio.file.NoSuchFileException when it does not exist
     * @throws IllegalArgumentException when it is not a counters file this code can read (wrong
     *         magic, version or lengths, too short), with what was found
     */
    public static BatcherCountersFile open(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_LENGTH || size != FILE_LENGTH) {
                throw new IllegalArgumentException("not a batcher counters file: " + size + " bytes, expected " + FILE_LENGTH);
            }
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            try {
                return new BatcherCountersFile(file, m);
            } catch (RuntimeException e) {
                IoUtil.unmap(m);
                throw e;
            }
        }
    }

    /** The counters files in {@code dir} (names ending {@code .counters}), sorted; none when it does not exist. */
    public static List<Path> list(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + BatcherCountersDescriptor.FILE_SUFFIX)) {
            ds.forEach(files::add);
        }
        files.sort(null);
        return files;
    }

    public Path path() {
        return path;
    }

    /** The process that wrote the file. */
    public long pid() {
        return pid;
    }

    /** The batcher's name (its thread name). */
    public String name() {
        return name;
    }

    /** True once the batcher has finished (it deletes the file then; a reader that mapped it before sees this). */
    public boolean isClosed() {
        return buffer.getIntAcquire(BatcherCountersDescriptor.STATE_OFFSET) == BatcherCountersDescriptor.STATE_CLOSED;
    }

    /**
     * True when the process that wrote the file is running: its pid exists and, where both are
     * known, started when the file says (a pid reused by a later process is not taken for it).
     */
    public boolean isProcessAlive() {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .map(p -> startTimeMs < 0 || p.info().startInstant().map(i -> i.toEpochMilli() == startTimeMs).orElse(true))
                .orElse(false);
    }

    /** The counters: labels, type ids and values, as Agrona's reader gives them. */
    public CountersReader counters() {
        return counters;
    }

    /** Unmaps the file; the reader must not be used after. */
    @Override
    public void close() {
        IoUtil.unmap(mapped);
    }
}
