/**
 * The CUDA runtime through JavaCPP's {@code cuda} preset: device discovery, streams, pinned host
 * memory exposed as {@link java.lang.foreign.MemorySegment}s, device memory, asynchronous copies and
 * CUDA graphs. Every CUDA error becomes a {@link io.hotpath.core.HotpathException} carrying the CUDA
 * error code and name. Nothing here assumes a GPU is present: {@link io.hotpath.nativebindings.cuda.Cuda#status()}
 * says whether one is, and why not.
 */
package io.hotpath.nativebindings.cuda;
