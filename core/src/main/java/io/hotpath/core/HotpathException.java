package io.hotpath.core;

/**
 * The one exception type Hotpath throws: a {@link Category} that says what kind of failure it
 * is, and, when the failure came from a native library, that library's own error code and name.
 *
 * <p>Configuration and validation errors are thrown once, before anything runs. On the hot path
 * expected conditions (a full queue, a cache miss) are return codes, not exceptions.
 */
public class HotpathException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure this is; callers branch on it, not on the message. */
    public enum Category {
        /** The caller passed something wrong: a name, a type, a shape, an option. */
        INVALID_ARGUMENT,
        /** The model file is missing, corrupt, truncated or not a model this engine can load. */
        INVALID_MODEL,
        /** A file or resource that was asked for does not exist. */
        NOT_FOUND,
        /** The engine failed while running; the inputs were valid. */
        ENGINE_FAILURE,
        /** The request was refused, for example because a bounded queue was full. */
        REJECTED,
        /** The request's deadline passed before it ran. */
        TIMEOUT,
        /** The component was shut down before the request ran. */
        SHUTDOWN,
        /** A feature the model needs that this engine or version does not provide. */
        UNSUPPORTED,
        /** A bug in Hotpath: an invariant did not hold. */
        INTERNAL
    }

    /** The value of {@link #nativeCode()} when no native library was involved. */
    public static final int NO_NATIVE_CODE = -1;

    private final Category category;
    private final int nativeCode;
    private final String nativeCodeName;

    public HotpathException(Category category, String message) {
        this(category, message, NO_NATIVE_CODE, null, null);
    }

    public HotpathException(Category category, String message, Throwable cause) {
        this(category, message, NO_NATIVE_CODE, null, cause);
    }

    public HotpathException(Category category, String message, int nativeCode, String nativeCodeName, Throwable cause) {
        super(category + ": " + message
                + (nativeCodeName == null ? "" : " [" + nativeCodeName + "=" + nativeCode + "]"), cause);
        this.category = java.util.Objects.requireNonNull(category, "category");
        this.nativeCode = nativeCode;
        this.nativeCodeName = nativeCodeName;
    }

    /** What kind of failure this is. */
    public Category category() {
        return category;
    }

    /** The native library's error code, or {@link #NO_NATIVE_CODE}. */
    public int nativeCode() {
        return nativeCode;
    }

    /** The native library's name for {@link #nativeCode()} (for example {@code ORT_INVALID_PROTOBUF}), or null. */
    public String nativeCodeName() {
        return nativeCodeName;
    }

    /** Shorthand for an {@link Category#INVALID_ARGUMENT} failure. */
    public static HotpathException invalidArgument(String message) {
        return new HotpathException(Category.INVALID_ARGUMENT, message);
    }
}
