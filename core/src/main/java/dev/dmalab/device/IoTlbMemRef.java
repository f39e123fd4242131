package dev.dmalab.device;

/**
 * The type of the {@code dev->dma_io_tlb_mem} pointer: the swiotlb instance a device bounces through (the
 * default pool, or a restricted pool). Implemented by {@code dev.dmalab.swiotlb.IoTlbMem}.
 */
public interface IoTlbMemRef {}
