/**
 * Small blocking clients for an Open Inference Protocol server, allocation-free after their first
 * call, for the load generator, the overhead benchmarks and Java applications that call a remote
 * Hotpath. May depend on the JDK only.
 */
package io.hotpath.serve.client;
