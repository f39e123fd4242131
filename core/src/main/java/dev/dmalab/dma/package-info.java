/**
 * The DMA API core: models {@code kernel/dma/mapping.c}, {@code include/linux/dma-mapping.h} and {@code
 * include/linux/dma-map-ops.h} — {@link dev.dmalab.dma.DmaApi} (every public entry point with its validation and
 * per-version dispatch: ops only up to 4.20, NULL ops = dma-direct from 5.0, direct / dma-iommu / ops in 6.12),
 * {@link dev.dmalab.dma.DmaMapOps} ({@code struct dma_map_ops}), directions, attributes, GFP flags, scatterlists,
 * {@code DMA_MAPPING_ERROR}, the devres records of {@code dmam_*}, the address helpers every backend shares
 * ({@code phys_to_dma}, {@code dma_capable}) and the events the core emits after each call.
 *
 * <p>The backends (dma-direct, dma-iommu) sit above this package and are reached through interfaces the platform
 * wires ({@link dev.dmalab.dma.DirectBackend}, {@link dev.dmalab.dma.ArchDmaOps}).
 *
 * <p>May use: {@code kernel}, {@code device}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.dma;
