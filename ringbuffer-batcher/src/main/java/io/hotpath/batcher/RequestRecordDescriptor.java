package io.hotpath.batcher;

/**
 * Layout of one request record in a batcher ring (the body of an Agrona ring-buffer record, after
 * Agrona's own 8-byte length/type header). All fields little-endian, written by the producer
 * before it commits the record.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                          Request Id                           |  0
 *  +---------------------------------------------------------------+
 *  |              Length Key (e.g. sequence length)                |  4
 *  +---------------------------------------------------------------+
 *  |            Deadline, System.nanoTime() (0 = none)             |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |               Enqueue time, System.nanoTime()                 | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Payload (input bytes)                    ... 24
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class RequestRecordDescriptor {
    public static final int REQUEST_ID_OFFSET = 0;
    public static final int LENGTH_KEY_OFFSET = 4;
    public static final int DEADLINE_OFFSET = 8;
    public static final int ENQUEUE_TIME_OFFSET = 16;
    public static final int HEADER_LENGTH = 24;

    /** Agrona message type of every request record. */
    public static final int MSG_TYPE_REQUEST = 1;

    private RequestRecordDescriptor() {
    }
}
