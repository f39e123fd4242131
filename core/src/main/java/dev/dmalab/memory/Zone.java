package dev.dmalab.memory;

/**
 * The page allocator zones that matter for DMA ({@code include/linux/mmzone.h}). HIGHMEM (32-bit only) and
 * MOVABLE are not modelled.
 */
public enum Zone {
    /** ZONE_DMA: below {@code zone_dma_limit} (x86: 16 MiB; arm64: firmware-derived, e.g. 1 GiB on RPi4). */
    DMA,
    /** ZONE_DMA32: below 4 GiB. */
    DMA32,
    /** ZONE_NORMAL: everything else. */
    NORMAL
}
