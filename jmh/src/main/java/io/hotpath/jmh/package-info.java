/**
 * JMH benchmarks, each against a named peer doing the same work on the same inputs in the same
 * run. Build with {@code ./mvnw -B package -pl jmh -am -DskipTests}; run with
 * {@code java -jar jmh/target/benchmarks.jar CpuEngineBenchmark -prof gc} (the launcher
 * {@link io.hotpath.jmh.BenchmarkMain} appends Hotpath's JVM flags to every fork).
 *
 * <p>May depend on: every module; peers only here (Microsoft's ONNX Runtime Java API is loaded
 * from {@code target/peer/} in its own class loader).
 */
package io.hotpath.jmh;
