package io.hotpath.batcher;

/**
 * Called once per answered request on the batcher thread, after the request's status and output
 * are set. Keep it short: the next batch waits for it. A callback may resubmit its request.
 */
@FunctionalInterface
public interface Completion {
    void onComplete(BatchRequest request, int status);
}
