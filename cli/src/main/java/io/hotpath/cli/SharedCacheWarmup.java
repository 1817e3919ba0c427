package io.hotpath.cli;

import io.hotpath.service.InferenceService;

/**
 * Before a measurement over a service with a shared cache tier: waits until the tier has connected,
 * warmed its client and opened for lookups, so the measured requests find it ready rather than
 * skipping it while it connects.
 */
final class SharedCacheWarmup {
    private SharedCacheWarmup() {
    }

    /** Returns whether the tier is ready (false after {@code maxMillis}: the measurement then shows it in its hit rate). */
    static boolean await(InferenceService svc, long maxMillis) {
        if (svc.sharedCache() == null) {
            return true;
        }
        long end = System.nanoTime() + maxMillis * 1_000_000;
        while (svc.sharedCache().breakerOpen()) {
            if (System.nanoTime() > end) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
