package io.hotpath.cache;

/**
 * The counts one segment keeps: evictions, rejected puts, bytes of live records and live entries.
 * They change only under the segment's lock, so plain fields suffice; the cache's statistics read
 * them without the lock, and may see a count a moment old.
 */
final class SegmentStatistics {
    private long evictions;
    private long rejected;
    private long bytesUsed;
    private long entries;

    /** A record of {@code length} bytes was stored. */
    void stored(int length) {
        entries++;
        bytesUsed += length;
    }

    /** A record of {@code length} bytes was removed (replaced or invalidated). */
    void removed(int length) {
        bytesUsed -= length;
        entries--;
    }

    /** A record of {@code length} bytes was evicted to make room. */
    void evicted(int length) {
        evictions++;
        bytesUsed -= length;
        entries--;
    }

    /** A put was refused: the record did not fit. */
    void rejected() {
        rejected++;
    }

    long evictions() {
        return evictions;
    }

    long rejections() {
        return rejected;
    }

    long bytesUsed() {
        return bytesUsed;
    }

    long entries() {
        return entries;
    }
}
