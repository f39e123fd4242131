package dev.dmalab.dma;

import dev.dmalab.device.Device;
import dev.dmalab.kernel.ExecContext;
import dev.dmalab.kernel.Kernel;
import java.util.ArrayList;
import java.util.List;

/**
 * The event bus of the modelled kernel's DMA layer: the core emits API events, swiotlb emits {@code
 * swiotlb_bounced}, workloads emit markers. With no listener attached, {@link #active()} is false and callers
 * build no event objects, so the hot path allocates nothing. The per-packet calls (map, mapping-error check, sync,
 * unmap, swiotlb's bounce) go through {@link #emitMap}, {@link #emitUnmap}, {@link #emitSyncSingle}, {@link
 * #emitSwiotlbBounced} and {@link #emitMappingErrorCheck}, which build a record only when a listener that is not a
 * {@link DmaCallListener} is attached: with only call listeners (the checker) they allocate nothing either.
 */
public final class DmaEvents {
    private final Kernel kernel;
    private final List<DmaListener> listeners = new ArrayList<>();
    private DmaListener[] snapshot = new DmaListener[0];
    /** Whether some listener takes records for every call (is not a {@link DmaCallListener}). */
    private boolean recordListeners;
    /** When {@link #recordListeners} is false: the listeners, every one a call listener, in order. */
    private DmaCallListener[] callListeners = new DmaCallListener[0];
    /** When the only listener is a call listener (the checker alone): that listener, called without a loop. */
    private DmaCallListener sole;

    public DmaEvents(Kernel kernel) {
        this.kernel = kernel;
    }

    public void addListener(DmaListener listener) {
        listeners.add(listener);
        refresh();
    }

    public void removeListener(DmaListener listener) {
        listeners.remove(listener);
        refresh();
    }

    private void refresh() {
        snapshot = listeners.toArray(new DmaListener[0]);
        recordListeners = false;
        for (DmaListener l : snapshot) {
            recordListeners |= !(l instanceof DmaCallListener);
        }
        callListeners = recordListeners ? new DmaCallListener[0] : listeners.toArray(new DmaCallListener[0]);
        sole = callListeners.length == 1 ? callListeners[0] : null;
    }

    /** Whether anyone listens; callers skip building events when not. */
    public boolean active() {
        return snapshot.length != 0;
    }

    /** A stamp for an event happening now on the current CPU and task. */
    public DmaEvent.Stamp stamp() {
        ExecContext c = kernel.context();
        return new DmaEvent.Stamp(kernel.clock().nowNs(), c.cpu(), c.comm(), c.pid(), c.flags());
    }

    public void emit(DmaEvent event) {
        for (DmaListener l : snapshot) {
            l.onEvent(event);
        }
    }

    /**
     * {@code dma_map_page} / {@code dma_map_resource} has returned: a {@link DmaEvent.Map} to record listeners, a
     * {@link DmaCallListener#onMap} call to the others, in the order they were added.
     */
    public void emitMap(
            Device dev,
            boolean traced,
            DmaEvent.MapKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long phys,
            long attrs) {
        DmaCallListener one = sole;
        if (one != null) {
            one.onMap(dev, traced, kind, dir, dmaAddr, size, phys, attrs);
            return;
        }
        if (!recordListeners) {
            for (DmaCallListener c : callListeners) {
                c.onMap(dev, traced, kind, dir, dmaAddr, size, phys, attrs);
            }
            return;
        }
        emitMapToRecords(dev, traced, kind, dir, dmaAddr, size, phys, attrs);
    }

    private void emitMapToRecords(
            Device dev,
            boolean traced,
            DmaEvent.MapKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long phys,
            long attrs) {
        DmaEvent record = new DmaEvent.Map(stamp(), dev, traced, kind, dir, dmaAddr, size, phys, attrs);
        for (DmaListener l : snapshot) {
            if (l instanceof DmaCallListener c) {
                c.onMap(dev, traced, kind, dir, dmaAddr, size, phys, attrs);
            } else {
                l.onEvent(record);
            }
        }
    }

    /** {@code dma_unmap_page} / {@code dma_unmap_resource} has returned; as {@link #emitMap}. */
    public void emitUnmap(
            Device dev, boolean traced, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size, long attrs) {
        DmaCallListener one = sole;
        if (one != null) {
            one.onUnmap(dev, traced, kind, dir, dmaAddr, size, attrs);
            return;
        }
        if (!recordListeners) {
            for (DmaCallListener c : callListeners) {
                c.onUnmap(dev, traced, kind, dir, dmaAddr, size, attrs);
            }
            return;
        }
        emitUnmapToRecords(dev, traced, kind, dir, dmaAddr, size, attrs);
    }

    private void emitUnmapToRecords(
            Device dev, boolean traced, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size, long attrs) {
        DmaEvent record = new DmaEvent.Unmap(stamp(), dev, traced, kind, dir, dmaAddr, size, attrs);
        for (DmaListener l : snapshot) {
            if (l instanceof DmaCallListener c) {
                c.onUnmap(dev, traced, kind, dir, dmaAddr, size, attrs);
            } else {
                l.onEvent(record);
            }
        }
    }

    /** {@code dma_sync_single_for_cpu} / {@code _for_device} has returned; as {@link #emitMap}. */
    public void emitSyncSingle(Device dev, boolean traced, boolean forCpu, Direction dir, long dmaAddr, long size) {
        DmaCallListener one = sole;
        if (one != null) {
            one.onSyncSingle(dev, traced, forCpu, dir, dmaAddr, size);
            return;
        }
        if (!recordListeners) {
            for (DmaCallListener c : callListeners) {
                c.onSyncSingle(dev, traced, forCpu, dir, dmaAddr, size);
            }
            return;
        }
        emitSyncSingleToRecords(dev, traced, forCpu, dir, dmaAddr, size);
    }

    private void emitSyncSingleToRecords(
            Device dev, boolean traced, boolean forCpu, Direction dir, long dmaAddr, long size) {
        DmaEvent record = new DmaEvent.SyncSingle(stamp(), dev, traced, forCpu, dir, dmaAddr, size);
        for (DmaListener l : snapshot) {
            if (l instanceof DmaCallListener c) {
                c.onSyncSingle(dev, traced, forCpu, dir, dmaAddr, size);
            } else {
                l.onEvent(record);
            }
        }
    }

    /** swiotlb is about to bounce a buffer ({@code swiotlb_bounced}); as {@link #emitMap}. */
    public void emitSwiotlbBounced(Device dev, boolean traced, long dmaMask, long devAddr, long size, boolean force) {
        DmaCallListener one = sole;
        if (one != null) {
            one.onSwiotlbBounced(dev, traced, dmaMask, devAddr, size, force);
            return;
        }
        if (!recordListeners) {
            for (DmaCallListener c : callListeners) {
                c.onSwiotlbBounced(dev, traced, dmaMask, devAddr, size, force);
            }
            return;
        }
        emitSwiotlbBouncedToRecords(dev, traced, dmaMask, devAddr, size, force);
    }

    private void emitSwiotlbBouncedToRecords(
            Device dev, boolean traced, long dmaMask, long devAddr, long size, boolean force) {
        DmaEvent record = new DmaEvent.SwiotlbBounced(stamp(), dev, traced, dmaMask, devAddr, size, force);
        for (DmaListener l : snapshot) {
            if (l instanceof DmaCallListener c) {
                c.onSwiotlbBounced(dev, traced, dmaMask, devAddr, size, force);
            } else {
                l.onEvent(record);
            }
        }
    }

    /** {@code dma_mapping_error} was called (not a tracepoint); as {@link #emitMap}. */
    public void emitMappingErrorCheck(Device dev, long dmaAddr) {
        DmaCallListener one = sole;
        if (one != null) {
            one.onMappingErrorCheck(dev, dmaAddr);
            return;
        }
        if (!recordListeners) {
            for (DmaCallListener c : callListeners) {
                c.onMappingErrorCheck(dev, dmaAddr);
            }
            return;
        }
        emitMappingErrorCheckToRecords(dev, dmaAddr);
    }

    private void emitMappingErrorCheckToRecords(Device dev, long dmaAddr) {
        DmaEvent record = new DmaEvent.MappingErrorCheck(stamp(), dev, false, dmaAddr);
        for (DmaListener l : snapshot) {
            if (l instanceof DmaCallListener c) {
                c.onMappingErrorCheck(dev, dmaAddr);
            } else {
                l.onEvent(record);
            }
        }
    }
}
