package io.hotpath.service.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** One prediction-cache lookup: which tier, whether it answered; its duration is the lookup's. */
@Name("hotpath.CacheLookup")
@Label("Cache lookup")
@Category({"Hotpath", "Request stages"})
@Description("A request looked up in the off-heap cache (local) or the shared tier on Redis (shared)")
@StackTrace(false)
public final class CacheLookupEvent extends jdk.jfr.Event {
    @Label("Engine")
    public String engine;

    @Label("Tier")
    @Description("local (off-heap) or shared (Redis)")
    public String tier;

    @Label("Hit")
    public boolean hit;
}
