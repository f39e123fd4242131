package dev.dmalab.device;

import dev.dmalab.util.Bits;
import java.util.List;

/**
 * {@code dev->dma_range_map} (5.10+): regions that translate CPU physical addresses to the addresses a device
 * puts on its bus, as {@code of_dma_get_range()} builds them from device-tree {@code dma-ranges}. Before 5.10 the
 * kernel had a single {@code dma_pfn_offset}; {@link #ofPfnOffset} builds the equivalent one-region map.
 *
 * <p>The same map is the interconnect's own truth: the bus-master engine uses it to turn a bus address back into a
 * physical one.
 */
public final class DmaRangeMap {
    /** One {@code struct bus_dma_region}. */
    public record Region(long cpuStart, long dmaStart, long size) {
        public Region {
            if (size <= 0) {
                throw new IllegalArgumentException("dma-range region of non-positive size " + size);
            }
        }

        public long offset() {
            return cpuStart - dmaStart;
        }
    }

    private final List<Region> regions;

    public DmaRangeMap(List<Region> regions) {
        if (regions.isEmpty()) {
            throw new IllegalArgumentException("a dma_range_map needs at least one region");
        }
        this.regions = List.copyOf(regions);
    }

    /** The one-region map equivalent to {@code dma_direct_set_offset(dev, cpu_start, dma_start, size)}. */
    public static DmaRangeMap single(long cpuStart, long dmaStart, long size) {
        return new DmaRangeMap(List.of(new Region(cpuStart, dmaStart, size)));
    }

    public List<Region> regions() {
        return regions;
    }

    /** {@code translate_phys_to_dma}: the first region holding {@code phys}, or all ones if none. */
    public long physToDma(long phys) {
        for (Region r : regions) {
            if (Bits.ule(r.cpuStart(), phys) && Bits.ult(phys - r.cpuStart(), r.size())) {
                return phys - r.offset();
            }
        }
        return Bits.U64_MAX;
    }

    /** {@code translate_dma_to_phys}: the first region holding {@code dma}, or all ones if none. */
    public long dmaToPhys(long dma) {
        for (Region r : regions) {
            if (Bits.ule(r.dmaStart(), dma) && Bits.ult(dma - r.dmaStart(), r.size())) {
                return dma + r.offset();
            }
        }
        return Bits.U64_MAX;
    }

    /** The highest CPU address any region covers (exclusive end), for {@code dma_direct_all_ram_mapped}-style checks. */
    public boolean coversPhys(long start, long end) {
        for (long pa = start; Bits.ult(pa, end); ) {
            Region hit = null;
            for (Region r : regions) {
                if (Bits.ule(r.cpuStart(), pa) && Bits.ult(pa - r.cpuStart(), r.size())) {
                    hit = r;
                    break;
                }
            }
            if (hit == null) {
                return false;
            }
            pa = hit.cpuStart() + hit.size();
            if (pa == 0) {
                return true;
            }
        }
        return true;
    }
}
