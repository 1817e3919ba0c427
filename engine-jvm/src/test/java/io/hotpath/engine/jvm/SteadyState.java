package io.hotpath.engine.jvm;

/**
 * Heap bytes a call allocates once the JIT has compiled it. The Vector API allocates its vector
 * objects until C2 has compiled the kernels (interpreted and C1 code box them), and on a busy
 * 2-core machine the compile queue can hold them back past any fixed warm-up (a CI run measured
 * 954 B per call after 20,000 calls). So this measures blocks of calls until one allocates
 * almost nothing, or gives up after {@code maxBlocks} and returns the last block's bytes: a
 * per-call allocation in compiled code never passes, however long it runs.
 */
final class SteadyState {
    private SteadyState() {
    }

    /** The bytes the calling thread allocated over the first block of {@code calls} calls that stays under {@code bound}, else the last block's. */
    static long bytesPerBlock(Runnable call, int calls, long bound, int maxBlocks) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long bytes = Long.MAX_VALUE;
        for (int b = 0; b < maxBlocks && bytes >= bound; b++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) {
                call.run();
            }
            bytes = mx.getCurrentThreadAllocatedBytes() - before;
        }
        return bytes;
    }
}
