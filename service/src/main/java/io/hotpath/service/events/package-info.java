/**
 * Java Flight Recorder events for the stages a request passes in an
 * {@link io.hotpath.service.InferenceService}: {@link io.hotpath.service.events.CacheLookupEvent}
 * (the off-heap cache and the shared tier), {@link io.hotpath.service.events.BatchEvent} (assembling
 * the engine's batch and running it) and {@link io.hotpath.service.events.RequestEvent} (a request's
 * wait in the queue and its whole time until its answer was copied out). They cost a check when no
 * recording asks for them; {@code -Dhotpath.jfr=false} removes even that ({@link HotpathEvents#ON}).
 * Open a recording in JDK Mission Control, or start one with {@code hotpath.jfc} (in this package's
 * resources) to record only them.
 */
package io.hotpath.service.events;
