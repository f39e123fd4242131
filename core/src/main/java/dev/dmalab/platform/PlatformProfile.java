package dev.dmalab.platform;

import dev.dmalab.cache.SpeculativeFill;
import dev.dmalab.device.BusType;
import dev.dmalab.device.DmaRangeMap;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.PageSize;
import java.util.List;
import java.util.Map;

/**
 * A machine as its profile file describes it; validated by {@link ProfileLoader}. Fields that can fail only at
 * boot (for example a swiotlb base whose pool does not fit) keep their source line in {@link #lines()} so that the
 * error still names the file and line.
 *
 * @param zoneDmaLimit the firmware's DMA zone limit in bytes (the highest address + 1 a ZONE_DMA device can
 *     reach): x86 16 MiB; arm64 4 GiB unless device tree {@code dma-ranges} say less (RPi4: 1 GiB); 0 for no
 *     ZONE_DMA
 * @param swiotlbBase the swiotlb pool's physical address when known, else -1
 * @param swiotlbDefault the profile's {@code swiotlb:} slots/areas/force as the {@code swiotlb=} parameter value
 *     they stand for ("" when none); a {@code swiotlb=} on the command line replaces it
 * @param lines the source line of each field path that boot may still reject
 */
public record PlatformProfile(
        String name,
        String description,
        String file,
        ArchKind arch,
        PageSize pageSize,
        int cpus,
        int possibleCpus,
        String hardwareName,
        List<Range> ram,
        List<Range> reserved,
        List<Range> mmio,
        long zoneDmaLimit,
        CacheSpec cache,
        KernelVersion defaultKernel,
        String cmdline,
        long swiotlbBase,
        String swiotlbDefault,
        boolean lpae,
        List<DeviceSpec> devices,
        Map<String, Integer> lines) {

    /** A physical range of the profile. */
    public record Range(long start, long size, String name) {
        public long end() {
            return start + size;
        }
    }

    /**
     * Cache modelling.
     *
     * @param modelled null: model caches exactly when some device is non-coherent; else forced on or off
     */
    public record CacheSpec(int lineBytes, int sizeBytes, int ways, SpeculativeFill speculation, Boolean modelled) {}

    /** A per-device coherent pool ({@code shared-dma-pool} reserved memory or {@code dma_declare_coherent_memory}). */
    public record PoolSpec(long phys, long size, long deviceBase) {}

    /**
     * A device as its driver left it after probe.
     *
     * @param coherent null: the arch default
     * @param maxSegmentSize 0: the bus default
     * @param segmentBoundary 0: the bus default
     * @param hardwareAddressBits how many address bits the device's DMA engine drives (default: its mask width)
     */
    public record DeviceSpec(
            String name,
            BusType bus,
            String driver,
            long dmaMask,
            long coherentDmaMask,
            Boolean coherent,
            long busDmaLimit,
            List<DmaRangeMap.Region> dmaRanges,
            long maxSegmentSize,
            long segmentBoundary,
            long minAlignMask,
            PoolSpec coherentPool,
            int hardwareAddressBits,
            String description) {}

    /** The line of {@code fieldPath} in the profile, or 0. */
    public int lineOf(String fieldPath) {
        return lines.getOrDefault(fieldPath, 0);
    }

    public long totalRamBytes() {
        long t = 0;
        for (Range r : ram) {
            t += r.size();
        }
        return t;
    }
}
