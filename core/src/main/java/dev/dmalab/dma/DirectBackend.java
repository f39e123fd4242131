package dev.dmalab.dma;

import dev.dmalab.device.Device;

/**
 * dma-direct as the core calls it: the ops every device without {@code dma_ops} uses from 5.0 on (and, wrapped
 * as {@code dma_direct_ops}, before), plus the direct-only queries of {@code kernel/dma/direct.c}. Implemented by
 * {@code dev.dmalab.direct.DmaDirect}; the core sees only this interface, the platform wires the object.
 */
public interface DirectBackend extends DmaMapOps {
    /** {@code dma_direct_need_sync(dev, dma_addr)}. */
    boolean needSync(Device dev, long dmaAddr);

    /** {@code dma_direct_all_ram_mapped(dev)}: the dma_range_map covers all RAM. */
    boolean allRamMapped(Device dev);
}
