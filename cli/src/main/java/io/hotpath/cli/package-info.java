/**
 * The {@code hotpath} command: {@code demo} (MiniLM end to end on this machine) and
 * {@code bench} (latency percentiles and throughput of any ONNX model). Later issues add
 * {@code optimize}, {@code advise} and {@code serve}.
 *
 * <p>May depend on: every other module except {@code jmh}.
 */
package io.hotpath.cli;
