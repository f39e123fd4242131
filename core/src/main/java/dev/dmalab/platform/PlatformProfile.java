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
 * @param xen the Xen hypervisor the kernel runs on as dom0, or null for a native machine
 * @param iommu the IOMMU every device sits behind, or null for none
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
        XenSpec xen,
        IommuSpec iommu,
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
     * @param pciId a PCI function's vendor:device ({@code 1095:3132}), "" when not given
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
            String pciId,
            String description) {}

    /**
     * The hypervisor under a dom0 profile. The profile's {@code memory} is dom0's view (for a direct-mapped ARM dom0
     * that is also where its banks lie in machine memory; for x86 PV its pseudo-physical space); {@code
     * machineRam} is the host's.
     *
     * @param version Xen release, e.g. "4.17"
     * @param directMapped ARM dom0 mapped 1:1; false: x86 PV
     * @param machineRam the host's RAM (machine addresses)
     * @param machineReserved machine RAM Xen keeps for itself
     * @param cacheFlushHypercall whether Xen offers {@code GNTTABOP_cache_flush}
     * @param pvMachineBase x86 PV: the first machine byte of dom0's memory
     * @param pvChunkPages x86 PV: dom0's machine frames are contiguous within chunks of this many pages
     * @param pvReversed x86 PV: chunks handed out from the top down (a debug build of Xen)
     * @param domUs guests whose pages dom0's backends can map
     */
    public record XenSpec(
            String version,
            boolean directMapped,
            List<Range> machineRam,
            List<Range> machineReserved,
            boolean cacheFlushHypercall,
            long pvMachineBase,
            int pvChunkPages,
            boolean pvReversed,
            List<DomUSpec> domUs) {}

    /** A guest domain: its id, name and memory (its frames come from the top of Xen's heap). */
    public record DomUSpec(int id, String name, long memoryBytes) {}

    /**
     * The IOMMU of the machine. Every device sits behind it; a device no group names gets a group of its own with
     * the {@code defaultReserved} regions.
     *
     * @param kind {@code intel-vtd} or {@code arm-smmu-v3}
     * @param name the unit's name in faults ("dmar0", "smmu3.0")
     * @param addressBits the input address width of its domains (VT-d AGAW: 39 on QEMU's default q35)
     * @param granuleShift the smallest page size as a shift: 12, or 14/16 for SMMU 16K/64K granules
     * @param enabledByDefault whether the IOMMU is on without a command-line switch ({@code intel_iommu=on})
     * @param defaultDomain the build's default domain type: {@code lazy}, {@code strict} or {@code identity}
     *     ({@code CONFIG_IOMMU_DEFAULT_DMA_LAZY} / {@code _DMA_STRICT} / {@code _PASSTHROUGH}); the command line wins
     * @param flushTimer the flush-queue timer model ({@code fixed}, {@code jiffies:HZ}, {@code late:HZ:MS:SEED})
     * @param hostBridgeWindows the PCI host bridge's memory windows, reserved in each PCI device's domain
     * @param groups the IOMMU groups with their devices and reserved regions
     * @param defaultReserved the reserved regions of a group the profile does not list
     */
    public record IommuSpec(
            String kind,
            String name,
            int addressBits,
            int granuleShift,
            boolean enabledByDefault,
            String defaultDomain,
            String flushTimer,
            List<Range> hostBridgeWindows,
            List<GroupSpec> groups,
            List<ReservedSpec> defaultReserved) {

        /** The group {@code device} belongs to, or null. */
        public GroupSpec groupOf(String device) {
            for (GroupSpec g : groups) {
                if (g.devices().contains(device)) {
                    return g;
                }
            }
            return null;
        }

        /** This spec with other windows, groups or address width (a traced machine's own). */
        public IommuSpec refined(int newAddressBits, List<Range> newWindows, List<GroupSpec> newGroups) {
            return new IommuSpec(
                    kind,
                    name,
                    newAddressBits,
                    granuleShift,
                    enabledByDefault,
                    defaultDomain,
                    flushTimer,
                    List.copyOf(newWindows),
                    List.copyOf(newGroups),
                    defaultReserved);
        }
    }

    /** An IOMMU group: its number, devices in probe order, and reserved regions (sysfs {@code reserved_regions}). */
    public record GroupSpec(int id, List<String> devices, List<ReservedSpec> reserved) {}

    /** A reserved region: {@code type} is direct, direct-relaxable, reserved, msi or msi-sw. */
    public record ReservedSpec(long start, long size, String type) {}

    /** Whether the kernel runs as a Xen dom0. */
    public boolean isXenDom0() {
        return xen != null;
    }

    /** The line of {@code fieldPath} in the profile, or 0. */
    public int lineOf(String fieldPath) {
        return lines.getOrDefault(fieldPath, 0);
    }

    /**
     * This profile with another RAM layout (a machine's {@code /proc/iomem}), CPU count and device list; {@code
     * reserved} and {@code mmio} replace the profile's.
     */
    public PlatformProfile refined(
            List<Range> newRam,
            List<Range> newReserved,
            List<Range> newMmio,
            int newCpus,
            int newPossibleCpus,
            List<DeviceSpec> newDevices) {
        return new PlatformProfile(
                name,
                description,
                file,
                arch,
                pageSize,
                newCpus,
                newPossibleCpus,
                hardwareName,
                List.copyOf(newRam),
                List.copyOf(newReserved),
                List.copyOf(newMmio),
                zoneDmaLimit,
                cache,
                defaultKernel,
                cmdline,
                swiotlbBase,
                swiotlbDefault,
                lpae,
                List.copyOf(newDevices),
                xen,
                iommu,
                lines);
    }

    /** This profile with another IOMMU description (a traced machine's groups and windows). */
    public PlatformProfile withIommu(IommuSpec newIommu) {
        return new PlatformProfile(
                name,
                description,
                file,
                arch,
                pageSize,
                cpus,
                possibleCpus,
                hardwareName,
                ram,
                reserved,
                mmio,
                zoneDmaLimit,
                cache,
                defaultKernel,
                cmdline,
                swiotlbBase,
                swiotlbDefault,
                lpae,
                devices,
                xen,
                newIommu,
                lines);
    }

    /** The device named {@code name}, or null. */
    public DeviceSpec device(String deviceName) {
        for (DeviceSpec d : devices) {
            if (d.name().equals(deviceName)) {
                return d;
            }
        }
        return null;
    }

    public long totalRamBytes() {
        long t = 0;
        for (Range r : ram) {
            t += r.size();
        }
        return t;
    }
}
