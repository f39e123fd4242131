/**
 * What each architecture contributes to DMA: {@code arch_sync_dma_for_device} / {@code arch_sync_dma_for_cpu} per
 * direction and version (arm64's clean-always on map from 5.19), {@code arch_dma_prep_coherent}, default
 * coherency, {@code ARCH_DMA_MINALIGN}, {@code get_arch_dma_ops} per version (arm64 NULL from 5.0-rc1; arm32
 * non-LPAE hands out its own {@code arm_dma_ops}) and arm32's {@code arm_dma_ops} themselves.
 *
 * <p>Models {@code arch/arm64/mm/dma-mapping.c}, {@code arch/arm64/mm/cache.S}, {@code
 * arch/arm/mm/dma-mapping.c}, {@code arch/arm/mm/cache-v7.S}, {@code arch/x86/kernel/pci-dma.c}.
 *
 * <p>May use: {@code dma}, {@code kernel}, {@code device}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.arch;
