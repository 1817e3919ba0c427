package io.hotpath.service.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * One request through the batcher, committed when its answer has been copied out of the batch:
 * {@code totalNanos} from its enqueue to then, {@code queueNanos} the part it waited before its
 * batch started.
 */
@Name("hotpath.Request")
@Label("Request")
@Category({"Hotpath", "Request stages"})
@Description("A request from its enqueue until its answer was copied out of the engine's batch")
@StackTrace(false)
public final class RequestEvent extends jdk.jfr.Event {
    @Label("Engine")
    public String engine;

    @Label("Total")
    @Description("From its enqueue until its answer was copied out")
    @Timespan(Timespan.NANOSECONDS)
    public long totalNanos;

    @Label("Queue wait")
    @Timespan(Timespan.NANOSECONDS)
    public long queueNanos;

    @Label("Batch rows")
    public int batchRows;

    @Label("Scatter")
    @Description("From the end of the engine's run until this request's answer was copied out (0 when the batch was not recorded)")
    @Timespan(Timespan.NANOSECONDS)
    public long scatterNanos;
}
