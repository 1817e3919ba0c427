package io.hotpath.service.events;

/** The switch for Hotpath's JFR events, read once: {@code -Dhotpath.jfr=false} turns them off (no event object is made). */
public final class HotpathEvents {
    /** Whether Hotpath makes JFR events at all (default true; each still costs nothing recorded unless a recording enables it). */
    public static final boolean ON = !"false".equalsIgnoreCase(System.getProperty("hotpath.jfr"));

    private HotpathEvents() {
    }
}
