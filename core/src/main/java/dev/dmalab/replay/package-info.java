/**
 * Drives a modelled platform from a parsed real trace and compares the DMA addresses the model chooses with the
 * kernel's: {@link dev.dmalab.replay.ReplaySetup} builds the machine from a profile and the traced machine's own
 * files (each parameter with its source), {@link dev.dmalab.replay.TraceReplay} replays the events open-loop and
 * one-step and keeps the account (fidelity per event type and device, inversions, leaks, failures, peak pool use),
 * {@link dev.dmalab.replay.PoolSizer} finds the smallest swiotlb pool that holds the trace, and {@link
 * dev.dmalab.replay.PoolBase} derives a pool base the kernel did not print (validated-swiotlb.md §2).
 *
 * <p>May use: {@code trace}, {@code platform}, {@code iommu}, {@code direct}, {@code swiotlb}, {@code arch}, {@code dma},
 * {@code kernel}, {@code device}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.replay;
