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
        try {
            System.clearProperty(HotpathServer.LEAK_DETECTION_PROPERTY);
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
            assertTrue(HotpathServer.leakDetectionOffUnlessAsked());
            assertEquals(ResourceLeakDetector.Level.DISABLED, ResourceLeakDetector.getLevel());

            System.setProperty(HotpathServer.LEAK_DETECTION_PROPERTY, "paranoid");
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
            assertFalse(HotpathServer.leakDetectionOffUnlessAsked());
            assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(), "the property's level stays");
        } finally {
            if (property == null) {
                System.clearProperty(HotpathServer.LEAK_DETECTION_PROPERTY);
            } else {
                System.setProperty(HotpathServer.LEAK_DETECTION_PROPERTY, property);
            }
            ResourceLeakDetector.setLevel(before);
        }
    }
}
