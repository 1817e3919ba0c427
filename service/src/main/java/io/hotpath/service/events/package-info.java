/**
 * Java Flight Recorder events for the stages a request passes in an
 * {@link io.hotpath.service.InferenceService}: {@link io.hotpath.service.events.CacheLookupEvent}
 * (the off-heap cache and the shared tier), {@link io.hotpath.service.events.BatchEvent} (assembling
 * the engine's batch and running it), {@link io.hotpath.service.events.RequestEvent} (a request's
 * wait in the queue, the scatter of its answer and its whole time until its answer was copied out)
 * and {@link io.hotpath.service.events.CallbackEvent} (an asynchronous request's callback). The
 * tokenizer's {@code hotpath.Tokenize} (module onnx-model) is the text models' pre-processing. They
 * cost a check when no recording asks for them; {@code -Dhotpath.jfr=false} removes even that
 * ({@link HotpathEvents#ON}). Open a recording in JDK Mission Control (category Hotpath), or start
 * one with the repository's {@code docs/hotpath.jfc} to record all of them.
 */
package io.hotpath.service.events;
