package dev.dmalab.memory;

/**
 * Where each zone ends, as the arch's {@code zone_sizes_init} computed it. A zone that does not exist on the
 * platform has an end equal to the previous zone's end (it is empty).
 *
 * @param dmaEnd exclusive end of ZONE_DMA (0 if the kernel has no ZONE_DMA)
 * @param dma32End exclusive end of ZONE_DMA32 (equal to {@code dmaEnd} if there is no ZONE_DMA32)
 * @param hasZoneDma CONFIG_ZONE_DMA and a non-empty zone limit
 * @param hasZoneDma32 CONFIG_ZONE_DMA32
 */
public record ZoneLayout(long dmaEnd, long dma32End, boolean hasZoneDma, boolean hasZoneDma32) {
    public ZoneLayout {
        if (dmaEnd < 0 || dma32End < dmaEnd) {
            throw new IllegalArgumentException("zone ends out of order: DMA " + dmaEnd + ", DMA32 " + dma32End);
        }
    }

    /** The zone a physical address belongs to. */
    public Zone zoneOf(long pa) {
        if (pa < dmaEnd) {
            return Zone.DMA;
        }
        if (pa < dma32End) {
            return Zone.DMA32;
        }
        return Zone.NORMAL;
    }

    /** Exclusive end of {@code zone}; NORMAL ends at the top of the address space. */
    public long endOf(Zone zone) {
        return switch (zone) {
            case DMA -> dmaEnd;
            case DMA32 -> dma32End;
            case NORMAL -> Long.MAX_VALUE;
        };
    }

    /** Inclusive start of {@code zone}. */
    public long startOf(Zone zone) {
        return switch (zone) {
            case DMA -> 0;
            case DMA32 -> dmaEnd;
            case NORMAL -> dma32End;
        };
    }

    /** Whether the kernel config has the zone (it may still hold no memory). */
    public boolean exists(Zone zone) {
        return switch (zone) {
            case DMA -> hasZoneDma;
            case DMA32 -> hasZoneDma32;
            case NORMAL -> true;
        };
    }
}
