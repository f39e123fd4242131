package dev.dmalab.device;

/**
 * The type of the {@code dev->dma_ops} pointer slot. The table ({@code struct dma_map_ops}) is {@code
 * dev.dmalab.dma.DmaMapOps}, which extends this marker; a NULL slot is modelled by {@code null}.
 */
public interface DmaOps {
    /** The kernel symbol of the table, e.g. {@code "xen_swiotlb_dma_ops"}. */
    String symbol();
}
