package io.hotpath.service;

/** Called once on the batcher thread when a {@link Request} submitted with {@code inferAsync} is answered. */
@FunctionalInterface
public interface RequestCallback {
    void onComplete(Request request, int status);
}
