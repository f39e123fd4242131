package dev.dmalab.dma;

import dev.dmalab.device.Device;

/**
 * {@code get_arch_dma_ops()}: the ops an arch hands out for a device whose {@code dma_ops} is NULL (x86 4.20: the
 * global {@code dma_ops}, i.e. {@code dma_direct_ops}; arm32 non-LPAE: {@code arm_dma_ops}; arm64 from 5.0: NULL).
 * Implemented by the {@code arch} layer.
 */
@FunctionalInterface
public interface ArchDmaOps {
    /** The arch's ops for {@code dev} ({@code dev} may be null, as in {@code get_arch_dma_ops(NULL)}), or null. */
    DmaMapOps get(Device dev);
}
