/**
 * dma-direct: models {@code kernel/dma/direct.c}, {@code kernel/dma/direct.h}, {@code include/linux/dma-direct.h}
 * and {@code kernel/dma/pool.c} (spec §2) in their 4.20, 5.0 and 6.12 forms — address translation and {@code
 * dma_capable}, the required mask and {@code dma_direct_supported}, zone choice and the allocation retry ladder,
 * coherent allocation (per-device pool first in the core; non-coherent remap semantics; atomic pools), streaming
 * maps with the swiotlb fallback when not capable or forced, and cache maintenance in the kernel's order. Also
 * 4.20's {@code swiotlb_dma_ops}, which calls into dma-direct and so lives here.
 *
 * <p>May use: {@code swiotlb}, {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code cache}, {@code
 * memory}, {@code util}.
 */
package dev.dmalab.direct;
