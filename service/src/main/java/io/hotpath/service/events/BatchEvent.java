package io.hotpath.service.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** One engine run for a batch: copying the rows into the engine's batch (padding included), then the run. */
@Name("hotpath.Batch")
@Label("Batch")
@Category({"Hotpath", "Request stages"})
@Description("Rows assembled into the engine's batch (padded to the longest) and the engine run; the duration is both")
@StackTrace(false)
public final class BatchEvent extends jdk.jfr.Event {
    @Label("Engine")
    public String engine;

    @Label("Rows")
    public int rows;

    @Label("Length")
    @Description("The variable length the batch was padded to (1 for fixed-size rows)")
    public int length;

    @Label("Assembly")
    @Timespan(Timespan.NANOSECONDS)
    public long assemblyNanos;

    @Label("Engine run")
    @Timespan(Timespan.NANOSECONDS)
    public long engineNanos;
}
