/**
 * Drives a modelled platform from a parsed real trace and compares the DMA addresses the model chooses with the
 * kernel's. This issue provides the swiotlb replay ({@link dev.dmalab.replay.SwiotlbReplay}) with the pool-base
 * rule of {@code validated-swiotlb.md} §2 ({@link dev.dmalab.replay.PoolBase}); the trace-replay issue adds the
 * rest (IOVAs, coherent allocations, open-loop and one-step fidelity, {@code dmalab replay}).
 *
 * <p>May use: {@code trace}, {@code platform}, {@code direct}, {@code swiotlb}, {@code arch}, {@code dma},
 * {@code kernel}, {@code device}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.replay;
