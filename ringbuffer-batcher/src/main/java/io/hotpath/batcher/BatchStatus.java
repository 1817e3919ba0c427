package io.hotpath.batcher;

/**
 * A request's state and the return codes of the batcher's hot path. Expected conditions (a full
 * queue, a shut-down batcher, a passed deadline) are codes, never exceptions.
 */
public final class BatchStatus {
    /** Never submitted, or its last result has been read. */
    public static final int IDLE = 0;
    /** Accepted and not answered yet. */
    public static final int PENDING = 1;
    /** Answered: its output is in the request's output memory. */
    public static final int OK = 2;
    /** Refused at once: the queue was full (back-pressure). Never queued. */
    public static final int REJECTED = -1;
    /** Its deadline passed before it ran; it never ran. */
    public static final int TIMEOUT = -2;
    /** The engine failed on the batch it was in; {@link BatchRequest#error()} says why. */
    public static final int FAILED = -3;
    /** The batcher was closed before it ran (or when it was submitted). */
    public static final int SHUTDOWN = -4;

    private BatchStatus() {
    }

    /** The name of a status code. */
    public static String name(int status) {
        return switch (status) {
            case IDLE -> "IDLE";
            case PENDING -> "PENDING";
            case OK -> "OK";
            case REJECTED -> "REJECTED";
            case TIMEOUT -> "TIMEOUT";
            case FAILED -> "FAILED";
            case SHUTDOWN -> "SHUTDOWN";
            default -> "UNKNOWN(" + status + ")";
        };
    }
}
