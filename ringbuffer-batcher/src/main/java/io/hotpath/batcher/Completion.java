package io.hotpath.batcher;

/**
 * Called once per answered request on the batcher thread, after its output is written and just
 * before its status is published ({@code request.status()} still reads PENDING inside the
 * callback; use the {@code status} argument). The request is free for reuse once the callback has
 * returned, so a callback may not resubmit its own request. Keep it short: the next batch waits.
 */
@FunctionalInterface
public interface Completion {
    void onComplete(BatchRequest request, int status);
}
