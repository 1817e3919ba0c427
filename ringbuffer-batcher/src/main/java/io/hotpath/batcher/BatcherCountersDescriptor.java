package io.hotpath.batcher;

import static org.agrona.concurrent.status.CountersReader.COUNTER_LENGTH;
import static org.agrona.concurrent.status.CountersReader.METADATA_LENGTH;

import java.nio.file.Path;

/**
 * Layout of a batcher's counters file: a header, then an Agrona {@code CountersManager}'s metadata
 * buffer and values buffer, as Aeron's CnC file holds its counters. Another process maps the file
 * read-only and reads the counters with a {@code CountersReader} ({@link BatcherCountersFile}).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     Magic 'HPBC' (written last)               |  0
 *  +---------------------------------------------------------------+
 *  |                     Version                                   |  4
 *  +---------------------------------------------------------------+
 *  |                     Process id                                |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Process start time, epoch ms (-1: unknown)| 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Metadata buffer length                    | 24
 *  +---------------------------------------------------------------+
 *  |                     Values buffer length                      | 28
 *  +---------------------------------------------------------------+
 *  |                     State (1 live, 2 closed)                  | 32
 *  +---------------------------------------------------------------+
 *  |                     Batcher name length                       | 36
 *  +---------------------------------------------------------------+
 *  |                     Batcher name, UTF-8 (at most 88 bytes)   ...  40
 *  ...                                                             |
 *  +---------------------------------------------------------------+
 *  |  Metadata buffer: MAX_COUNTERS records of 512 bytes          ...  128
 *  ...  (CountersReader.METADATA_LENGTH: state, type id, key, label)|
 *  +---------------------------------------------------------------+
 *  |  Values buffer: MAX_COUNTERS records of 128 bytes            ...  128 + metadata length
 *  ...  (CountersReader.COUNTER_LENGTH: the value, padded apart)   |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>All numbers are in the platform's byte order (little-endian on x86 and ARM), as Agrona's
 * buffers write them. The writer fills everything, then stores the version and, last, the magic
 * with release semantics: a reader that sees the magic (acquire) sees a complete header. The
 * process id and start time let a reader tell a live process from a file a crashed one left.
 */
public final class BatcherCountersDescriptor {
    /** "HPBC" in ASCII. */
    public static final int MAGIC = 0x43425048;
    /** The layout version this code writes and reads. */
    public static final int VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int PID_OFFSET = 8;
    public static final int START_TIME_OFFSET = 16;
    public static final int METADATA_LENGTH_OFFSET = 24;
    public static final int VALUES_LENGTH_OFFSET = 28;
    public static final int STATE_OFFSET = 32;
    public static final int NAME_LENGTH_OFFSET = 36;
    public static final int NAME_OFFSET = 40;
    /** Header bytes, a multiple of the 128-byte counter record so the buffers after it stay aligned. */
    public static final int HEADER_LENGTH = 128;
    public static final int MAX_NAME_LENGTH = HEADER_LENGTH - NAME_OFFSET;

    public static final int STATE_LIVE = 1;
    public static final int STATE_CLOSED = 2;

    /** Room for this many counters (the batcher uses fewer; the rest is reserve for later versions). */
    public static final int MAX_COUNTERS = 32;
    public static final int METADATA_BUFFER_LENGTH = MAX_COUNTERS * METADATA_LENGTH;
    public static final int VALUES_BUFFER_LENGTH = MAX_COUNTERS * COUNTER_LENGTH;
    public static final int METADATA_BUFFER_OFFSET = HEADER_LENGTH;
    public static final int VALUES_BUFFER_OFFSET = HEADER_LENGTH + METADATA_BUFFER_LENGTH;
    /** Length of the whole file. */
    public static final int FILE_LENGTH = VALUES_BUFFER_OFFSET + VALUES_BUFFER_LENGTH;

    /** Suffix of a counters file's name. */
    public static final String FILE_SUFFIX = ".counters";

    // Counter type ids, one per counter: a reader may pick counters by type rather than by label.
    public static final int SUBMITTED_TYPE_ID = 1;
    public static final int COMPLETED_TYPE_ID = 2;
    public static final int REJECTED_TYPE_ID = 3;
    public static final int TIMED_OUT_TYPE_ID = 4;
    public static final int FAILED_TYPE_ID = 5;
    public static final int SHUTDOWN_TYPE_ID = 6;
    public static final int BATCHES_TYPE_ID = 7;
    public static final int FAILED_BATCHES_TYPE_ID = 8;
    public static final int ERRORS_TYPE_ID = 9;
    public static final int BATCH_ROWS_TYPE_ID = 10;
    public static final int IN_FLIGHT_TYPE_ID = 11;
    public static final int STAGED_ROWS_TYPE_ID = 12;

    private BatcherCountersDescriptor() {
    }

    /**
     * The directory where batchers publish counters files unless told a path:
     * {@code ${java.io.tmpdir}/hotpath-<user>}.
     */
    public static Path defaultDirectory() {
        return Path.of(System.getProperty("java.io.tmpdir"), "hotpath-" + System.getProperty("user.name", "user"));
    }

    /** {@code <pid>-<name>.counters}, with characters other than letters, digits, '.', '_' and '-' in the name as '_'. */
    public static String defaultFileName(long pid, String name, int sequence) {
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return pid + "-" + safe + (sequence > 1 ? "-" + sequence : "") + FILE_SUFFIX;
    }

    /** The process id a default file name starts with, or -1 when the name does not have that form. */
    public static long pidOf(String fileName) {
        int dash = fileName.indexOf('-');
        if (dash <= 0 || !fileName.endsWith(FILE_SUFFIX)) {
            return -1;
        }
        try {
            return Long.parseLong(fileName.substring(0, dash));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
