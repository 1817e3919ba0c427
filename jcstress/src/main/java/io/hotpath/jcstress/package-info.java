/**
 * jcstress tests (OpenJDK's concurrency harness) for Hotpath's lock-free structures: the
 * prediction cache's read/write race and evict/read race. Build with
 * {@code ./mvnw -B package -pl jcstress -am -DskipTests}; run with
 * {@code java $(cat jcstress/target/jvm.flags) -jar jcstress/target/jcstress.jar -m quick}.
 *
 * <p>May depend on: {@code offheap-cache} and jcstress; nothing depends on it.
 */
package io.hotpath.jcstress;
