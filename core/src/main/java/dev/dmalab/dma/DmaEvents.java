package dev.dmalab.dma;

import dev.dmalab.kernel.ExecContext;
import dev.dmalab.kernel.Kernel;
import java.util.ArrayList;
import java.util.List;

/**
 * The event bus of the modelled kernel's DMA layer: the core emits API events, swiotlb emits {@code
 * swiotlb_bounced}, workloads emit markers. With no listener attached, {@link #active()} is false and callers
 * build no event objects, so the hot path allocates nothing.
 */
public final class DmaEvents {
    private final Kernel kernel;
    private final List<DmaListener> listeners = new ArrayList<>();
    private DmaListener[] snapshot = new DmaListener[0];

    public DmaEvents(Kernel kernel) {
        this.kernel = kernel;
    }

    public void addListener(DmaListener listener) {
        listeners.add(listener);
        snapshot = listeners.toArray(new DmaListener[0]);
    }

    public void removeListener(DmaListener listener) {
        listeners.remove(listener);
        snapshot = listeners.toArray(new DmaListener[0]);
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
}
