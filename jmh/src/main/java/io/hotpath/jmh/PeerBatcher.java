package io.hotpath.jmh;

import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * The batcher's logic (drain up to maxBatch, skip expired requests, stage rows, run, copy each
 * output back, publish the status) over a peer queue, for {@code BatcherBenchmark}: with
 * {@code maxQueueDelay} 0, as measured there, the batcher runs whatever one drain found. The
 * queue is the only difference from {@code DynamicBatcher}.
 */
abstract class PeerBatcher implements AutoCloseable {
    static final int PENDING = 1;
    static final int OK = 2;

    /** A reusable request of a peer batcher: input and output off-heap, status volatile. */
    static final class PeerRequest {
        final MemorySegment input = Arena.ofAuto().allocate(NoopBatchProcessor.ROW_BYTES, 64);
        final MemorySegment output = Arena.ofAuto().allocate(NoopBatchProcessor.OUTPUT_BYTES, 64);
        long deadlineNanos;
        long enqueueNanos;
        volatile int status;
    }

    final NoopBatchProcessor processor;
    final int maxBatch;
    final PeerRequest[] staged;
    private final Thread thread;
    private volatile boolean running = true;
    int count;

    PeerBatcher(int maxBatch) {
        this.maxBatch = maxBatch;
        this.processor = new NoopBatchProcessor(maxBatch);
        this.staged = new PeerRequest[maxBatch];
        this.thread = new Thread(this::loop, getClass().getSimpleName());
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Offers a request; false when the queue is full. */
    abstract boolean offer(PeerRequest r);

    /** True while requests are queued (close() drains them, as DynamicBatcher's DRAIN does). */
    abstract boolean queued();

    /** Drains up to {@code limit} requests into {@link #stage}; returns how many. */
    abstract int drain(int limit) throws Exception;

    final void stage(PeerRequest r, MemorySegment src, long offset) {
        if (r.deadlineNanos != 0 && System.nanoTime() - r.deadlineNanos > 0) {
            r.status = -2;
            return;
        }
        processor.stage(0, count, src, offset, NoopBatchProcessor.ROW_BYTES, 0);
        staged[count++] = r;
    }

    private void loop() {
        while (running || queued()) {
            int n;
            try {
                n = drain(maxBatch);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            if (count > 0) {
                processor.run(0, count);
                for (int i = 0; i < count; i++) {
                    PeerRequest r = staged[i];
                    processor.output(i, r.output);
                    staged[i] = null;
                    r.status = OK;
                }
                count = 0;
            } else if (n == 0) {
                Thread.yield();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join();
    }

    /** Over {@link ArrayBlockingQueue}: producers offer the request object; the batcher polls. */
    static final class OverArrayBlockingQueue extends PeerBatcher {
        private final ArrayBlockingQueue<PeerRequest> queue;

        OverArrayBlockingQueue(int capacity, int maxBatch) {
            super(maxBatch);
            this.queue = new ArrayBlockingQueue<>(capacity);
            start();
        }

        @Override
        boolean offer(PeerRequest r) {
            r.enqueueNanos = System.nanoTime();
            r.status = PENDING;
            if (!queue.offer(r)) {
                r.status = 0;
                return false;
            }
            return true;
        }

        @Override
        boolean queued() {
            return !queue.isEmpty();
        }

        @Override
        int drain(int limit) {
            int n = 0;
            PeerRequest r;
            while (n < limit && (r = queue.poll()) != null) {
                stage(r, r.input, 0);
                n++;
            }
            return n;
        }
    }

    /** Over the LMAX Disruptor: producers copy the input into a preallocated event and publish; the batcher polls. */
    static final class OverDisruptor extends PeerBatcher {
        static final class Event {
            final MemorySegment payload = Arena.ofAuto().allocate(NoopBatchProcessor.ROW_BYTES, 64);
            PeerRequest request;
        }

        private final RingBuffer<Event> ring;
        private final EventPoller<Event> poller;
        private int drainLimit;
        private int drained;
        private final EventPoller.Handler<Event> handler = (event, sequence, endOfBatch) -> {
            stage(event.request, event.payload, 0);
            event.request = null;
            return ++drained < drainLimit;
        };

        OverDisruptor(int capacity, int maxBatch) {
            super(maxBatch);
            this.ring = RingBuffer.createMultiProducer(Event::new, capacity);
            this.poller = ring.newPoller();
            ring.addGatingSequences(poller.getSequence());
            start();
        }

        @Override
        boolean offer(PeerRequest r) {
            long seq;
            try {
                seq = ring.tryNext();
            } catch (InsufficientCapacityException full) {
                return false;
            }
            Event e = ring.get(seq);
            r.enqueueNanos = System.nanoTime();
            MemorySegment.copy(r.input, 0, e.payload, 0, NoopBatchProcessor.ROW_BYTES);
            e.request = r;
            r.status = PENDING;
            ring.publish(seq);
            return true;
        }

        @Override
        boolean queued() {
            return ring.getCursor() > poller.getSequence().get();
        }

        @Override
        int drain(int limit) throws Exception {
            drainLimit = limit;
            drained = 0;
            poller.poll(handler);
            return drained;
        }

        Sequence sequence() {
            return poller.getSequence();
        }
    }
}
