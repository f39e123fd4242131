/**
 * {@code struct device} as the DMA API sees it (spec §1.1, {@code include/linux/device.h}): the masks, {@code
 * bus_dma_limit}, {@code dma_range_map} / {@code dma_pfn_offset}, the coherent flag, the {@code dma_ops} slot and
 * Xen's {@code archdata.dev_dma_ops}, the {@code dma_parms}, {@code dma_skip_sync} and the per-device coherent
 * pool ({@code kernel/dma/coherent.c}); and the device's bus-master engine, with which a modelled device reads and
 * writes bus addresses that the interconnect turns back into physical memory.
 *
 * <p>The ops slot is typed by the marker {@link dev.dmalab.device.DmaOps}: the table itself ({@code struct
 * dma_map_ops}) belongs to the {@code dma} layer above, which would otherwise depend on this package and be
 * depended on by it.
 *
 * <p>May use: {@code iommuhw}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.device;
