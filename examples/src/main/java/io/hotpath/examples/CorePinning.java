package io.hotpath.examples;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.BitSet;
import java.util.concurrent.ThreadFactory;

/**
 * Pins threads to CPU cores on Linux through the C library's {@code sched_setaffinity} (called
 * with the FFM API: no JNI library, no dependency). A latency-critical application hands
 * {@link #onCore(int, String)} to the batcher as its {@code ThreadFactory}, so the batcher's
 * busy-spinning thread owns one core and the market-data thread another.
 */
public final class CorePinning {
    /** glibc's cpu_set_t: 1024 bits. */
    private static final long CPU_SET_BYTES = 128;
    private static final MethodHandle SET;
    private static final MethodHandle GET;

    static {
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
        SET = linker.downcallHandle(linker.defaultLookup().find("sched_setaffinity").orElseThrow(), fd);
        GET = linker.downcallHandle(linker.defaultLookup().find("sched_getaffinity").orElseThrow(), fd);
    }

    private CorePinning() {
    }

    /** Pins the calling thread to {@code cpu}; false (and the thread left as it was) when the kernel refuses. */
    public static boolean pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            throw new IllegalArgumentException("cpu " + cpu + " outside [0, " + CPU_SET_BYTES * 8 + ")");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(CPU_SET_BYTES);
            mask.set(JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            return (int) SET.invokeExact(0, CPU_SET_BYTES, mask) == 0;      // pid 0: the calling thread
        } catch (Throwable t) {
            throw new IllegalStateException("sched_setaffinity failed", t);
        }
    }

    /** The CPUs the calling thread may run on. */
    public static BitSet currentAffinity() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(CPU_SET_BYTES);
            if ((int) GET.invokeExact(0, CPU_SET_BYTES, mask) != 0) {
                throw new IllegalStateException("sched_getaffinity refused");
            }
            return BitSet.valueOf(mask.toArray(JAVA_BYTE));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sched_getaffinity failed", t);
        }
    }

    /**
     * A factory whose threads pin themselves to {@code cpu} before they run anything, named
     * {@code name}. A thread the kernel does not pin runs unpinned and says so on standard error
     * (a container may forbid the core): pinning is a latency aid, not a correctness condition.
     */
    public static Factory onCore(int cpu, String name) {
        return new Factory(cpu, name);
    }

    /** The pinning {@link ThreadFactory}; it remembers what happened to the threads it made. */
    public static final class Factory implements ThreadFactory {
        private final int cpu;
        private final String name;
        private final java.util.concurrent.atomic.AtomicInteger pinned = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger unpinned = new java.util.concurrent.atomic.AtomicInteger();
        private volatile BitSet lastAffinity;

        Factory(int cpu, String name) {
            this.cpu = cpu;
            this.name = name;
        }

        @Override
        public Thread newThread(Runnable task) {
            Thread t = new Thread(() -> {
                if (pinCurrentThread(cpu)) {
                    pinned.incrementAndGet();
                } else {
                    unpinned.incrementAndGet();
                    System.err.println(name + ": could not pin to CPU " + cpu + "; running unpinned");
                }
                lastAffinity = currentAffinity();
                task.run();
            }, name);
            t.setDaemon(true);
            return t;
        }

        /** Threads pinned so far. */
        public int pinned() {
            return pinned.get();
        }

        /** Threads the kernel refused to pin. */
        public int unpinned() {
            return unpinned.get();
        }

        /** The CPUs the last thread made here was allowed to run on, read back from the kernel after pinning; null before any thread ran. */
        public BitSet lastAffinity() {
            return lastAffinity;
        }

        public int cpu() {
            return cpu;
        }
    }
}
