package io.hotpath.service.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The caller's callback for an asynchronous request ({@code inferAsync}); its duration is the callback's own. */
@Name("hotpath.Callback")
@Label("Callback")
@Category({"Hotpath", "Request stages"})
@Description("The application's completion callback of an asynchronous request, on the thread that answered it (the batcher's, or the caller's in direct mode)")
@StackTrace(false)
public final class CallbackEvent extends jdk.jfr.Event {
    @Label("Engine")
    public String engine;

    @Label("Status")
    @Description("The status the callback was given (BatchStatus)")
    public int status;

    @Label("Threw")
    @Description("Whether the callback threw (the service's error handler got it)")
    public boolean threw;
}
