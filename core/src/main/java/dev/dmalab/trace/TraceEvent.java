package dev.dmalab.trace;

import dev.dmalab.dma.Direction;

/**
 * The payload of one parsed trace line, typed by event. Device names are strings (a trace knows no device
 * objects); addresses are as printed. Arrays are as long as the trace printed them (a truncated {@code
 * dma_map_sg} prints at most 128 entries; see {@link MapSg#truncated()}).
 */
public sealed interface TraceEvent {
    /** {@code dma_map_page} / {@code dma_map_resource}. */
    record Map(String device, Direction dir, long dmaAddr, long size, long phys, long attrs, boolean resource)
            implements TraceEvent {}

    /** {@code dma_unmap_page} / {@code dma_unmap_resource}. */
    record Unmap(String device, Direction dir, long dmaAddr, long size, long attrs, boolean resource)
            implements TraceEvent {}

    /**
     * {@code dma_map_sg}. {@code nents}/{@code ents} are the full counts (the 6.12.y {@code nents=128/168}
     * prints both; 6.12.0 only the arrays).
     */
    record MapSg(
            String device,
            Direction dir,
            int nents,
            int ents,
            boolean truncated,
            long[] dmaAddrs,
            long[] sizes,
            long[] phys,
            long attrs)
            implements TraceEvent {}

    /** {@code dma_map_sg_err} (6.12.y): prints the phys addresses under the label {@code dma_addrs}. */
    record MapSgErr(String device, Direction dir, long[] phys, int err, long attrs) implements TraceEvent {}

    /** {@code dma_unmap_sg}: phys of every original entry (never truncated). */
    record UnmapSg(String device, Direction dir, long[] phys, long attrs) implements TraceEvent {}

    /** {@code dma_sync_single_for_cpu} / {@code _for_device}. */
    record Sync(String device, boolean forCpu, Direction dir, long dmaAddr, long size) implements TraceEvent {}

    /** {@code dma_sync_sg_for_cpu} / {@code _for_device}. */
    record SyncSg(String device, boolean forCpu, Direction dir, long[] dmaAddrs, long[] sizes) implements TraceEvent {}

    /**
     * {@code dma_alloc} / {@code dma_alloc_pages} (and {@code dma_alloc_sgt_err}). {@code dir} is null in the
     * 6.12.0 form; {@code virt} is -1 when the line printed {@code phys_addr=} (6.12-rc1..rc3) and then {@code phys}
     * holds it, else {@code phys} is -1.
     */
    record Alloc(
            String device,
            boolean pages,
            Direction dir,
            long dmaAddr,
            long size,
            long virt,
            long phys,
            int gfp,
            long attrs)
            implements TraceEvent {}

    /** {@code dma_free} / {@code dma_free_pages}; same conventions as {@link Alloc}. */
    record Free(String device, boolean pages, Direction dir, long dmaAddr, long size, long virt, long phys, long attrs)
            implements TraceEvent {}

    /**
     * {@code dma_alloc_sgt} (6.13+: {@code dma_alloc_noncontiguous}): the first segment's DMA address, the total
     * size, and the physical address of every page list entry.
     */
    record AllocSgt(String device, Direction dir, long dmaAddr, long size, long[] phys, int gfp, long attrs)
            implements TraceEvent {}

    /** {@code dma_free_sgt} (6.13+: {@code dma_free_noncontiguous}); as {@link AllocSgt}. */
    record FreeSgt(String device, Direction dir, long dmaAddr, long size, long[] phys) implements TraceEvent {}

    /** {@code swiotlb_bounced}: {@code devAddr} is the original buffer's DMA address. */
    record SwiotlbBounced(String device, long dmaMask, long devAddr, long size, boolean force) implements TraceEvent {}

    /** {@code tracing_mark_write}. */
    record Marker(String text) implements TraceEvent {}

    /** Any other event (or a function-tracer line): kept by name, not interpreted. */
    record Other(String event, String payload) implements TraceEvent {}
}
