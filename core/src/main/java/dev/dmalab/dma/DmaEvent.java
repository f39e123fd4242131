package dev.dmalab.dma;

import dev.dmalab.device.Device;

/**
 * One DMA API call as the core saw it, with the fields of the kernel tracepoint that reports it (spec §6). The core
 * emits one event per call to its listeners (the trace writer, the checker, statistics) after the call, in call
 * order; backends emit none, except {@link SwiotlbBounced}, which the kernel fires from inside swiotlb.
 *
 * <p>{@link #traced()} says whether the modelled kernel's tracepoint fires for this call (a 5.0 kernel has no
 * {@code dma:*} events; 6.12 skips sync events on {@code dma_skip_sync} devices); listeners other than the trace
 * writer see every call.
 */
public sealed interface DmaEvent {
    /** Where and when the call ran: the ftrace line prefix. */
    record Stamp(long timeNs, int cpu, String comm, int pid, String flags) {}

    Stamp stamp();

    Device device();

    boolean traced();

    /** Which mapping call produced a {@link Map} or {@link Unmap}. */
    enum MapKind {
        /** {@code dma_map_page_attrs} / {@code dma_map_single_attrs}. */
        PAGE,
        /** {@code dma_map_resource}. */
        RESOURCE
    }

    /** Which allocation call produced an {@link Alloc} or {@link Free}. */
    enum AllocKind {
        /** {@code dma_alloc_attrs} / {@code dma_free_attrs}. */
        COHERENT,
        /** {@code dma_alloc_pages} / {@code dma_free_pages}. */
        PAGES
    }

    /** {@code dma_map_page} / {@code dma_map_resource}. {@code dmaAddr} is all ones for a failed map. */
    record Map(
            Stamp stamp,
            Device device,
            boolean traced,
            MapKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long phys,
            long attrs)
            implements DmaEvent {}

    /** {@code dma_unmap_page} / {@code dma_unmap_resource}. */
    record Unmap(
            Stamp stamp,
            Device device,
            boolean traced,
            MapKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long attrs)
            implements DmaEvent {}

    /**
     * {@code dma_map_sg}: {@code phys} and {@code lengths} of the {@code nents} CPU entries, {@code dmaAddrs} and
     * {@code dmaLengths} of the {@code ents} mapped segments.
     */
    record MapSg(
            Stamp stamp,
            Device device,
            boolean traced,
            Direction dir,
            int nents,
            int ents,
            long[] phys,
            int[] lengths,
            long[] dmaAddrs,
            int[] dmaLengths,
            long attrs)
            implements DmaEvent {}

    /** {@code dma_map_sg_err} (6.12.y): a failed scatterlist map with its errno. */
    record MapSgErr(Stamp stamp, Device device, boolean traced, Direction dir, long[] phys, int err, long attrs)
            implements DmaEvent {}

    /** {@code dma_unmap_sg}: the phys of every original entry. */
    record UnmapSg(Stamp stamp, Device device, boolean traced, Direction dir, long[] phys, int nents, long attrs)
            implements DmaEvent {}

    /** {@code dma_sync_single_for_cpu} / {@code _for_device}. */
    record SyncSingle(
            Stamp stamp, Device device, boolean traced, boolean forCpu, Direction dir, long dmaAddr, long size)
            implements DmaEvent {}

    /** {@code dma_sync_sg_for_cpu} / {@code _for_device}. */
    record SyncSg(
            Stamp stamp, Device device, boolean traced, boolean forCpu, Direction dir, long[] dmaAddrs, int[] lengths)
            implements DmaEvent {}

    /** {@code dma_alloc} / {@code dma_alloc_pages}; {@code cpuAddr} 0 for a failed allocation. */
    record Alloc(
            Stamp stamp,
            Device device,
            boolean traced,
            AllocKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long cpuAddr,
            long phys,
            int gfp,
            long attrs)
            implements DmaEvent {}

    /** {@code dma_free} / {@code dma_free_pages}. */
    record Free(
            Stamp stamp,
            Device device,
            boolean traced,
            AllocKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long cpuAddr,
            long attrs)
            implements DmaEvent {}

    /**
     * {@code swiotlb:swiotlb_bounced}: fired by swiotlb (or xen-swiotlb) before a bounce slot is searched, so it
     * appears even when the pool is full. {@code devAddr} is the original buffer's DMA address.
     */
    record SwiotlbBounced(
            Stamp stamp, Device device, boolean traced, long dmaMask, long devAddr, long size, boolean force)
            implements DmaEvent {}

    /** A {@code dma_mapping_error()} call (not a tracepoint; dma-debug notes it to mark the mapping checked). */
    record MappingErrorCheck(Stamp stamp, Device device, boolean traced, long dmaAddr) implements DmaEvent {}

    /**
     * {@code dma_map_single_attrs} was called with kernel virtual address {@code va} (not a tracepoint: the hook
     * where dma-debug's {@code debug_dma_map_single} checks the address). Emitted before the core's own vmalloc
     * test, so the checker sees the call even when 5.18+ refuses it; the {@link Map} event follows if it maps.
     */
    record MapSingle(Stamp stamp, Device device, boolean traced, long va, long size, Direction dir)
            implements DmaEvent {}

    /**
     * The driver core unbound {@code driver} from the device ({@code BUS_NOTIFY_UNBOUND_DRIVER}, after {@code
     * ->remove} and the managed resources): where dma-debug reports the mappings the driver leaked. Not a
     * tracepoint.
     */
    record DriverUnbound(Stamp stamp, Device device, boolean traced, String driver) implements DmaEvent {}

    /** {@code tracing_mark_write}: a marker the workload writes into the trace. */
    record Marker(Stamp stamp, Device device, boolean traced, String text) implements DmaEvent {}
}
