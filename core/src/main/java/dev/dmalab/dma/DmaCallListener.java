package dev.dmalab.dma;

import dev.dmalab.device.Device;

/**
 * A {@link DmaListener} that takes the calls of a driver's per-packet path — {@code dma_map_page} (and {@code
 * dma_map_resource}), {@code dma_mapping_error}, {@code dma_sync_single_for_cpu} / {@code _for_device}, {@code
 * dma_unmap_page} (and {@code dma_unmap_resource}), and swiotlb's {@code swiotlb_bounced} — as plain arguments
 * instead of event records, so that listening to them allocates nothing (no record, no {@link DmaEvent.Stamp}).
 * {@link DmaEvents} calls these methods for those calls and {@link #onEvent} for every other event; a listener reads
 * the time and CPU of the call from the kernel, as the stamp would have.
 *
 * <p>{@link #onEvent} must still accept {@link DmaEvent.Map}, {@link DmaEvent.Unmap}, {@link DmaEvent.SyncSingle},
 * {@link DmaEvent.MappingErrorCheck} and {@link DmaEvent.SwiotlbBounced} records (a caller may feed recorded
 * events), handling them as these methods do.
 */
public interface DmaCallListener extends DmaListener {
    /** As {@link DmaEvent.Map}: {@code dmaAddr} is all ones for a failed map. */
    void onMap(
            Device dev,
            boolean traced,
            DmaEvent.MapKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long phys,
            long attrs);

    /** As {@link DmaEvent.Unmap}. */
    void onUnmap(Device dev, boolean traced, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size, long attrs);

    /** As {@link DmaEvent.SyncSingle}. */
    void onSyncSingle(Device dev, boolean traced, boolean forCpu, Direction dir, long dmaAddr, long size);

    /** As {@link DmaEvent.MappingErrorCheck}. */
    void onMappingErrorCheck(Device dev, long dmaAddr);

    /** As {@link DmaEvent.SwiotlbBounced}. */
    void onSwiotlbBounced(Device dev, boolean traced, long dmaMask, long devAddr, long size, boolean force);
}
