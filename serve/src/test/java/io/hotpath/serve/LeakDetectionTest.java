package io.hotpath.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** {@link HotpathServer#leakDetectionOffUnlessAsked()}: off by default, the property wins. */
class LeakDetectionTest {
    @Test
    void offUnlessThePropertyAsksForALevel() {
        ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
        String property = System.getProperty(HotpathServer.LEAK_DETECTION_PROPERTY);
        String legacy = System.getProperty(HotpathServer.LEGACY_LEAK_DETECTION_PROPERTY);
        try {
            System.clearProperty(HotpathServer.LEAK_DETECTION_PROPERTY);
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
            assertTrue(HotpathServer.leakDetectionOffUnlessAsked());
            assertEquals(ResourceLeakDetector.Level.DISABLED, ResourceLeakDetector.getLevel());

            for (String name : new String[] {HotpathServer.LEAK_DETECTION_PROPERTY, HotpathServer.LEGACY_LEAK_DETECTION_PROPERTY}) {
                System.clearProperty(HotpathServer.LEAK_DETECTION_PROPERTY);
                System.clearProperty(HotpathServer.LEGACY_LEAK_DETECTION_PROPERTY);
                System.setProperty(name, "simple");
                ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
                assertFalse(HotpathServer.leakDetectionOffUnlessAsked(), name);
                assertEquals(ResourceLeakDetector.Level.SIMPLE, ResourceLeakDetector.getLevel(), name + ": the level asked for stays");
            }
        } finally {
            restore(HotpathServer.LEAK_DETECTION_PROPERTY, property);
            restore(HotpathServer.LEGACY_LEAK_DETECTION_PROPERTY, legacy);
            ResourceLeakDetector.setLevel(before);
        }
    }

    private static void restore(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }
}
