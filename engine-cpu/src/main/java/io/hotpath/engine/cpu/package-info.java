/**
 * The ONNX Runtime CPU engine ({@link io.hotpath.engine.cpu.OrtCpuEngine}) and its options
 * ({@link io.hotpath.engine.cpu.CpuEngineOptions}): graph optimization level, threads,
 * execution mode, spinning, memory arena and patterns. Inputs and outputs are bound once to
 * off-heap memory, so a steady-state run allocates nothing on the Java heap.
 *
 * <p>May depend on: {@code core} (the Engine SPI) and {@code native-bindings} (all native calls).
 */
package io.hotpath.engine.cpu;
