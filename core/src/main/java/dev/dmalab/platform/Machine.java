package dev.dmalab.platform;

import dev.dmalab.arch.Arch;
import dev.dmalab.arch.Arm32;
import dev.dmalab.arch.ArmDmaOps;
import dev.dmalab.cache.CacheGeometry;
import dev.dmalab.cache.CacheSystem;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.check.CheckOptions;
import dev.dmalab.check.DmaChecker;
import dev.dmalab.device.BusMaster;
import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.device.DmaCoherentMem;
import dev.dmalab.device.DmaRangeMap;
import dev.dmalab.direct.AtomicPools;
import dev.dmalab.direct.DmaDirect;
import dev.dmalab.direct.SwiotlbDmaOps;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.DmaEvents;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.DmaParams;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.iommu.DmaIommu;
import dev.dmalab.iommu.TimerModel;
import dev.dmalab.iommuhw.IommuUnit;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelAddressSpace;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.MemoryRegion;
import dev.dmalab.memory.PhysicalMemory;
import dev.dmalab.memory.PhysicalMemoryMap;
import dev.dmalab.memory.Zone;
import dev.dmalab.memory.ZoneLayout;
import dev.dmalab.swiotlb.IoTlbMem;
import dev.dmalab.swiotlb.Swiotlb;
import dev.dmalab.swiotlb.SwiotlbBoot;
import dev.dmalab.swiotlb.SwiotlbParams;
import dev.dmalab.util.Bits;
import dev.dmalab.xen.DirectPageCoherent;
import dev.dmalab.xen.NativeOpsPageCoherent;
import dev.dmalab.xen.PageCoherent;
import dev.dmalab.xen.X86PageCoherent;
import dev.dmalab.xen.XenAddress;
import dev.dmalab.xen.XenDmaSetup;
import dev.dmalab.xen.XenGnttab;
import dev.dmalab.xen.XenMm;
import dev.dmalab.xen.XenP2m;
import dev.dmalab.xen.XenSwiotlbDmaOps;
import dev.dmalab.xen.XenSwiotlbInit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A booted machine: a {@link PlatformProfile} built for one kernel version and command line. This is the
 * composition root — the only place where the layers are wired to each other.
 *
 * <p>Boot order follows the kernel's: the memory map and zones ({@code zone_sizes_init}), memblock reservations
 * (the profile's, then per-device pools), the swiotlb pool ({@code swiotlb_init} / {@code mem_init}), the hand-over
 * to the page allocator, the atomic pools ({@code dma_atomic_pool_init}), then each device: {@code
 * arch_setup_dma_ops}, {@code swiotlb_dev_init}, and the driver's {@code dma_set_mask_and_coherent}.
 */
public final class Machine {
    private final PlatformProfile profile;
    private final Kernel kernel;
    private final PhysicalMemory memory;
    private final CacheSystem caches;
    private final KernelAddressSpace addressSpace;
    private final CpuMemory cpu;
    private final Arch arch;
    private final Swiotlb swiotlb;
    private final DmaDirect direct;
    private final DmaEvents events;
    private final DmaApi dma;
    private final AtomicPools atomicPools;
    private final KernelCmdline cmdline;
    private final SwiotlbBoot.Result swiotlbBoot;
    private final PhysicalMemoryMap machineMap;
    private Xen xen;
    private Domain dom0;
    private XenMm xenMm;
    private XenSwiotlbDmaOps xenOps;
    private XenDmaSetup xenSetup;
    private XenGnttab gnttab;
    private DmaMapOps nativeOps;
    private DmaIommu iommu;
    private int nextIommuGroup;
    private final Map<String, Device> devices = new LinkedHashMap<>();
    private final Map<String, BusMaster> busMasters = new LinkedHashMap<>();
    private DmaChecker checker;

    /**
     * Overrides applied at boot.
     *
     * @param extraCmdline kernel parameters appended to the profile's (they win)
     * @param cachesModelled null: the profile decides; else force the cache model on or off
     * @param swiotlbBase the swiotlb pool's address (a capture's), or -1 for the profile's choice
     */
    public record BootOptions(String extraCmdline, Boolean cachesModelled, long swiotlbBase) {
        public static final BootOptions DEFAULT = new BootOptions("", null, -1);

        public BootOptions withCmdline(String cmdline) {
            return new BootOptions(cmdline, cachesModelled, swiotlbBase);
        }

        public BootOptions withSwiotlbBase(long base) {
            return new BootOptions(extraCmdline, cachesModelled, base);
        }
    }

    private Machine(PlatformProfile profile, KernelVersion version, BootOptions options) {
        this.profile = profile;
        this.cmdline = KernelCmdline.parse(profile.cmdline()).append(options.extraCmdline());
        this.kernel = new Kernel(version, profile.arch(), profile.cpus(), profile.hardwareName());
        kernel.printk().info("Linux version " + version.release() + " (dmalab model of " + profile.name() + ")");
        kernel.printk().info("Kernel command line: " + cmdline.text());
        if (!cmdline.uninterpreted().isEmpty()) {
            kernel.printk().info("dmalab: parameters not modelled: " + String.join(" ", cmdline.uninterpreted()));
        }

        PhysicalMemoryMap.Builder mb = PhysicalMemoryMap.builder(profile.pageSize());
        for (PlatformProfile.Range r : profile.ram()) {
            mb.ram(r.start(), r.size(), r.name());
        }
        for (PlatformProfile.Range r : profile.reserved()) {
            mb.reserved(r.start(), r.size(), r.name());
        }
        for (PlatformProfile.Range r : profile.mmio()) {
            mb.mmio(r.start(), r.size(), r.name());
        }
        PhysicalMemoryMap map;
        try {
            map = mb.build();
        } catch (IllegalArgumentException e) {
            throw new InputException(profile.file(), 0, "memory", e.getMessage());
        }
        ZoneLayout zones = zoneLayout(profile, version, map);
        this.memory = new PhysicalMemory(map, zones, profile.pageSize().defaultMaxOrder());
        logZones(zones, map);

        boolean anyNonCoherent = false;
        for (PlatformProfile.DeviceSpec d : profile.devices()) {
            boolean coherent = d.coherent() != null ? d.coherent() : profile.arch() == ArchKind.X86_64;
            anyNonCoherent |= !coherent;
        }
        this.machineMap = profile.isXenDom0() ? machineMap(profile, map) : map;
        PlatformProfile.CacheSpec cs = profile.cache();
        boolean modelled = options.cachesModelled() != null
                ? options.cachesModelled()
                : cs.modelled() != null ? cs.modelled() : anyNonCoherent;
        this.caches = new CacheSystem(
                memory.contents(),
                machineMap,
                profile.cpus(),
                new CacheGeometry(cs.lineBytes(), cs.sizeBytes(), cs.ways()),
                modelled,
                cs.speculation());
        this.addressSpace = new KernelAddressSpace(
                profile.arch(), profile.pageSize(), map.startOfDram(), version.has(Feature.ARM64_FLIPPED_VA));
        this.cpu = new CpuMemory(addressSpace, caches, kernel.context());
        this.arch = Arch.create(kernel, caches);
        if (arch instanceof Arm32 a32) {
            a32.setLpae(profile.lpae());
        }
        this.events = new DmaEvents(kernel);
        if (profile.isXenDom0()) {
            bootHypervisor(map);
        }

        reserveDevicePools();
        SwiotlbBoot.Result sw = bootSwiotlb(map, zones, options);
        this.swiotlbBoot = sw;
        memory.finishBoot();

        boolean remapPools = arch.directRemap();
        long managedPages = memory.pages().totalFreePages();
        this.atomicPools = AtomicPools.create(
                memory.pages(),
                managedPages,
                version.has(Feature.ATOMIC_POOLS_PER_ZONE),
                (pa, size) -> remapPools
                        ? addressSpace.vmapContiguous(pa, size, MemAttr.NORMAL_NC)
                        : addressSpace.physToVirt(pa));
        atomicPools.describe().forEach(kernel.printk()::info);

        this.swiotlb = new Swiotlb(kernel, cpu, events, arch, sw.mem());
        this.direct = new DmaDirect(kernel, cpu, memory, arch, swiotlb, atomicPools);
        this.dma = new DmaApi(kernel, cpu, events, direct, arch, map::pfnValid);
        if (profile.isXenDom0()) {
            xenMmInit(map);
        }

        if (version.has(Feature.SWIOTLB_DMA_OPS)) {
            SwiotlbDmaOps swOps = new SwiotlbDmaOps(kernel, direct, swiotlb, arch);
            if (profile.arch() == ArchKind.ARM64) {
                nativeOps = swOps; // arm64 4.20: arch_setup_dma_ops installs swiotlb_dma_ops
            } else if (profile.arch() == ArchKind.X86_64 && xenOps == null) {
                // x86 4.20: the global dma_ops is swiotlb_dma_ops when swiotlb is on, else dma_direct_ops (a Xen PV
                // domain has pointed it at xen_swiotlb_dma_ops instead)
                arch.setDefaultOps(sw.mem().defpool() != null ? swOps : direct);
            }
        }
        bootIommu();
        if (arch instanceof Arm32 a32) {
            long maxPfn = map.maxPfn();
            a32.installArmDmaOps(
                    new ArmDmaOps(kernel, arch, memory.pages(), cpu, maxPfn, false),
                    new ArmDmaOps(kernel, arch, memory.pages(), cpu, maxPfn, true));
        }
        for (int i = 0; i < profile.devices().size(); i++) {
            addDevice(i, profile.devices().get(i), nativeOps);
        }
    }

    /**
     * Adds a device to the running machine as a hot-plugged one is set up (PCI hotplug: {@code pci_device_add}, the
     * arch's DMA set-up, the driver's {@code dma_set_mask_and_coherent}). Trace replay uses it for devices a capture
     * names that its profile does not list.
     *
     * @throws IllegalArgumentException if a device of that name exists
     */
    public Device hotplug(PlatformProfile.DeviceSpec spec) {
        if (devices.containsKey(spec.name())) {
            throw new IllegalArgumentException("device " + spec.name() + " exists");
        }
        addDevice(devices.size(), spec, nativeOps);
        return devices.get(spec.name());
    }

    /**
     * Boots {@code profile} with {@code version} and the profile's command line plus {@code options}.
     *
     * @throws InputException if the profile cannot be built (for example a fixed swiotlb base that does not fit)
     */
    public static Machine boot(PlatformProfile profile, KernelVersion version, BootOptions options) {
        try {
            return new Machine(profile, version, options);
        } catch (IllegalArgumentException e) {
            throw new InputException(profile.file(), 0, null, e.getMessage());
        }
    }

    public static Machine boot(PlatformProfile profile, KernelVersion version) {
        return boot(profile, version, BootOptions.DEFAULT);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Boot steps

    /**
     * {@code zone_sizes_init}: x86 has ZONE_DMA below 16 MiB and ZONE_DMA32 below 4 GiB. arm64 (5.5+) places
     * ZONE_DMA up to {@code max_zone_phys(zone_dma_limit)} and ZONE_DMA32 up to {@code max_zone_phys(4 GiB)}, which
     * leaves DMA32 empty when RAM starts high enough; before 5.5 arm64 had only ZONE_DMA32. arm32 has ZONE_DMA
     * only when the machine declares a limit.
     */
    static ZoneLayout zoneLayout(PlatformProfile profile, KernelVersion version, PhysicalMemoryMap map) {
        long limit = profile.zoneDmaLimit();
        return switch (profile.arch()) {
            case X86_64 -> new ZoneLayout(limit, 1L << 32, limit != 0, true);
            case ARM64 -> {
                long dma32 = maxZonePhys(map, (1L << 32) - 1);
                if (!version.has(Feature.ARM64_ZONE_DMA)) {
                    yield new ZoneLayout(0, dma32, false, true);
                }
                long dma = limit == 0 ? 0 : maxZonePhys(map, limit - 1);
                yield new ZoneLayout(dma, Math.max(dma, dma32), limit != 0, true);
            }
            case ARM32 -> new ZoneLayout(limit, limit, limit != 0, false);
        };
    }

    /** arm64 {@code max_zone_phys(zone_limit)}: the zone's exclusive end for RAM that starts where it does. */
    private static long maxZonePhys(PhysicalMemoryMap map, long zoneLimit) {
        long start = map.startOfDram();
        long limit = zoneLimit;
        if (start > 0xffffffffL) {
            limit = Long.MAX_VALUE - 1;
        } else if (start > zoneLimit) {
            limit = 0xffffffffL;
        }
        return Math.min(limit, map.endOfDram() - 1) + 1;
    }

    private void logZones(ZoneLayout z, PhysicalMemoryMap map) {
        kernel.printk().info("Zone ranges:");
        long lo = map.startOfDram();
        long hi = map.endOfDram();
        logZone("DMA", z.hasZoneDma(), Math.max(lo, 0), Math.min(hi, z.dmaEnd()));
        logZone("DMA32", z.hasZoneDma32(), Math.max(lo, z.dmaEnd()), Math.min(hi, z.dma32End()));
        logZone("Normal", true, Math.max(lo, z.dma32End()), hi);
    }

    private void logZone(String name, boolean exists, long start, long end) {
        if (!exists) {
            return;
        }
        String pad = String.format(java.util.Locale.ROOT, "  %-8s ", name);
        if (end <= start) {
            kernel.printk().info(pad + "empty");
        } else {
            kernel.printk().info(pad + "[mem " + Bits.hex16(start) + "-" + Bits.hex16(end - 1) + "]");
        }
    }

    private void reserveDevicePools() {
        for (PlatformProfile.DeviceSpec d : profile.devices()) {
            PlatformProfile.PoolSpec p = d.coherentPool();
            if (p != null && memory.map().isRam(p.phys())) {
                memory.memblock().reserve(p.phys(), p.size());
            }
        }
    }

    /** The arch's swiotlb policy (spec §9, swiotlb fact sheet B.2) and the boot itself. */
    private SwiotlbBoot.Result bootSwiotlb(PhysicalMemoryMap map, ZoneLayout zones, BootOptions options) {
        long baseOverride = options.swiotlbBase();
        KernelVersion v = kernel.version();
        SwiotlbParams params = SwiotlbParams.NONE;
        String value = cmdline.get("swiotlb");
        if (value == null && !profile.swiotlbDefault().isEmpty()) {
            value = profile.swiotlbDefault();
        }
        if (value != null) {
            try {
                params = SwiotlbParams.parse(value, v);
            } catch (IllegalArgumentException e) {
                if (KernelCmdline.parse(options.extraCmdline()).get("swiotlb") != null) {
                    // the value came with the boot options (the CLI's --cmdline), not from the profile file
                    throw new InputException("kernel command line", 0, null, e.getMessage());
                }
                throw new InputException(profile.file(), profile.lineOf("cmdline"), "cmdline", e.getMessage());
            }
        }
        boolean limited;
        long adjust = 0;
        boolean verbose;
        long lowLimit;
        boolean xenPv = profile.isXenDom0() && !profile.xen().directMapped();
        switch (profile.arch()) {
            case X86_64 -> {
                if (xenPv) {
                    // pci_xen_swiotlb_detect: dom0 always gets swiotlb-xen, placed anywhere (memblock_alloc / 6.x
                    // SWIOTLB_ANY); 5.x prints it (swiotlb_init_with_tbl(..., 1)), 6.x x86 does not.
                    limited = true;
                    verbose = !v.has(Feature.XEN_SWIOTLB_GENERIC_POOL);
                    lowLimit = Long.MAX_VALUE;
                    break;
                }
                limited = map.endOfDram() > (1L << 32);
                verbose = false;
                lowLimit = 0xffffffffL; // ARCH_LOW_ADDRESS_LIMIT
            }
            case ARM64 -> {
                long dmaPhysLimit = zones.hasZoneDma() ? zones.dmaEnd() : zones.dma32End();
                limited = map.endOfDram() > dmaPhysLimit;
                if (arch.bounceUnalignedKmalloc() && !limited) {
                    adjust = Math.min(Bits.divRoundUp(map.totalRamBytes(), 1024), SwiotlbBoot.DEFAULT_NSLABS << 11);
                    limited = true;
                }
                verbose = true;
                lowLimit = dmaPhysLimit - 1; // ARCH_LOW_ADDRESS_LIMIT = arm64_dma_phys_limit - 1
            }
            default -> {
                limited = profile.lpae() && map.endOfDram() > (1L << 32);
                verbose = true;
                lowLimit = 0xffffffffL;
            }
        }
        SwiotlbBoot.Policy policy = new SwiotlbBoot.Policy(
                limited,
                adjust,
                verbose,
                lowLimit,
                profile.possibleCpus(),
                baseOverride >= 0 ? baseOverride : profile.swiotlbBase(),
                profile.arch() == ArchKind.ARM64);
        SwiotlbBoot.Result result;
        try {
            result = SwiotlbBoot.boot(
                    kernel,
                    memory.memblock(),
                    params,
                    policy,
                    profile.pageSize().bytes());
        } catch (IllegalArgumentException e) {
            if (baseOverride >= 0) {
                throw new InputException("boot options", 0, "swiotlb base", e.getMessage());
            }
            throw new InputException(profile.file(), profile.lineOf("swiotlb.base"), "swiotlb.base", e.getMessage());
        }
        if (xenPv && result.mem().defpool() != null) {
            var pool = result.mem().defpool();
            int rc = XenSwiotlbInit.fixup(
                    xenMm, pool.start(), pool.nslabs(), profile.pageSize().shift());
            if (rc != 0) {
                kernel.printk().err("xen:swiotlb_xen: Failed to get contiguous memory for DMA from Xen!");
                result = new SwiotlbBoot.Result(new IoTlbMem(null, result.mem().force(), true), 0, 0, -1);
            }
            return result;
        }
        if (profile.arch() == ArchKind.X86_64 && limited && result.mem().defpool() != null) {
            kernel.printk().info("PCI-DMA: Using software bounce buffering for IO (SWIOTLB)");
            var pool = result.mem().defpool();
            kernel.printk()
                    .info("software IO TLB: mapped [mem " + Bits.hex16(pool.start()) + "-" + Bits.hex16(pool.end())
                            + "] (" + (((long) pool.nslabs() << 11) >>> 20) + "MB)");
        }
        return result;
    }

    // ---------------------------------------------------------------------------------------------------------
    // IOMMU

    /**
     * The IOMMU's initialisation ({@code intel_iommu_init} / {@code arm_smmu_device_probe}, {@code
     * iommu_subsys_init}): whether it is on, the default domain type from the command line over the build's default,
     * and dma-iommu wired into the DMA API. Nothing happens for a profile without an IOMMU; its parameters are then
     * reported as having no effect.
     */
    private void bootIommu() {
        PlatformProfile.IommuSpec spec = profile.iommu();
        if (spec == null) {
            for (String key : KernelCmdline.IOMMU_PARAMS) {
                if (cmdline.get(key) != null) {
                    kernel.printk().info("dmalab: " + key + "= has no effect: " + profile.name() + " has no IOMMU");
                }
            }
            return;
        }
        IommuMode mode = iommuMode(spec, cmdline);
        boolean vtd = spec.kind().equals("intel-vtd");
        if (mode == null) {
            kernel.printk().info(vtd ? "DMAR: IOMMU disabled" : "arm-smmu-v3: disabled");
            return;
        }
        DmaIommu.DomainType type = mode.type();
        if (vtd) {
            kernel.printk().info("DMAR: IOMMU enabled");
            kernel.printk().info("DMAR: Host address width " + spec.addressBits());
        }
        String viaCmdline = " (set via kernel command line)";
        kernel.printk()
                .info("iommu: Default domain type: "
                        + (type == DmaIommu.DomainType.IDENTITY ? "Passthrough" : "Translated")
                        + (mode.typeFromCmdline() ? viaCmdline : ""));
        if (type != DmaIommu.DomainType.IDENTITY) {
            kernel.printk()
                    .info("iommu: DMA domain TLB invalidation policy: "
                            + (type == DmaIommu.DomainType.DMA ? "strict" : "lazy") + " mode"
                            + (mode.policyFromCmdline() ? viaCmdline : ""));
        }
        boolean forcedac = mode.forcedac();
        List<DmaIommu.ReservedRegion> windows = new ArrayList<>();
        for (PlatformProfile.Range w : spec.hostBridgeWindows()) {
            windows.add(new DmaIommu.ReservedRegion(w.start(), w.size(), DmaIommu.ReservedType.RESERVED));
        }
        IommuUnit unit = new IommuUnit(spec.name(), spec.granuleShift(), spec.addressBits(), kernel.clock());
        this.iommu = new DmaIommu(
                kernel,
                cpu,
                arch,
                swiotlb,
                direct,
                memory,
                unit,
                new DmaIommu.Config(type, forcedac, TimerModel.parse(spec.flushTimer()), List.copyOf(windows)));
        dma.setIommuBackend(iommu);
        for (PlatformProfile.GroupSpec g : spec.groups()) {
            nextIommuGroup = Math.max(nextIommuGroup, g.id() + 1);
        }
    }

    /**
     * What the IOMMU of a profile does under a command line: its default domain type and whether DMA addresses are
     * forced above 32 bits.
     *
     * @param typeFromCmdline {@code iommu=pt|nopt} or {@code iommu.passthrough=} chose the type
     * @param policyFromCmdline {@code iommu.strict=} chose strict or lazy
     */
    public record IommuMode(
            DmaIommu.DomainType type, boolean typeFromCmdline, boolean policyFromCmdline, boolean forcedac) {
        /** "strict", "lazy", "passthrough" or "blocked", as {@code dmalab platforms} shows it. */
        public String label() {
            return switch (type) {
                case DMA -> "strict";
                case DMA_FQ -> "lazy";
                case IDENTITY -> "passthrough";
                case BLOCKED -> "blocked";
            };
        }
    }

    /**
     * The IOMMU's mode on {@code cmdline} ({@code intel_iommu=on|off}, {@code iommu=off|pt|nopt}, {@code
     * iommu.passthrough=}, {@code iommu.strict=}, {@code iommu.forcedac=}) over the build's defaults; null when the
     * IOMMU is off.
     */
    public static IommuMode iommuMode(PlatformProfile.IommuSpec spec, KernelCmdline cmdline) {
        boolean vtd = spec.kind().equals("intel-vtd");
        boolean on = spec.enabledByDefault();
        String intel = cmdline.get("intel_iommu");
        if (vtd && intel != null) {
            for (String opt : intel.split(",")) {
                if (opt.equals("on")) {
                    on = true;
                } else if (opt.equals("off")) {
                    on = false;
                }
            }
        }
        String iommuParam = cmdline.get("iommu");
        List<String> x86Iommu = iommuParam == null ? List.of() : List.of(iommuParam.split(","));
        if (x86Iommu.contains("off") || !on) {
            return null;
        }
        DmaIommu.DomainType type =
                switch (spec.defaultDomain()) {
                    case "strict" -> DmaIommu.DomainType.DMA;
                    case "identity" -> DmaIommu.DomainType.IDENTITY;
                    default -> DmaIommu.DomainType.DMA_FQ;
                };
        boolean typeFromCmdline = false;
        if (x86Iommu.contains("pt") || truthy(cmdline.get("iommu.passthrough"))) {
            type = DmaIommu.DomainType.IDENTITY;
            typeFromCmdline = true;
        } else if (x86Iommu.contains("nopt") || falsy(cmdline.get("iommu.passthrough"))) {
            type = spec.defaultDomain().equals("strict") ? DmaIommu.DomainType.DMA : DmaIommu.DomainType.DMA_FQ;
            typeFromCmdline = true;
        }
        boolean policyFromCmdline = false;
        String strict = cmdline.get("iommu.strict");
        if (type != DmaIommu.DomainType.IDENTITY && strict != null) {
            type = truthy(strict) ? DmaIommu.DomainType.DMA : DmaIommu.DomainType.DMA_FQ;
            policyFromCmdline = true;
        }
        return new IommuMode(type, typeFromCmdline, policyFromCmdline, truthy(cmdline.get("iommu.forcedac")));
    }

    private static boolean truthy(String v) {
        return v != null && (v.equals("1") || v.equalsIgnoreCase("y") || v.equalsIgnoreCase("on") || v.isEmpty());
    }

    private static boolean falsy(String v) {
        return v != null && (v.equals("0") || v.equalsIgnoreCase("n") || v.equalsIgnoreCase("off"));
    }

    /** Puts {@code dev} behind the IOMMU in its group ({@code iommu_probe_device}). */
    private void probeIommu(Device dev) {
        PlatformProfile.IommuSpec spec = profile.iommu();
        PlatformProfile.GroupSpec g = spec.groupOf(dev.name());
        int group;
        List<PlatformProfile.ReservedSpec> resv;
        if (g != null) {
            group = g.id();
            resv = g.reserved();
        } else {
            group = nextIommuGroup++;
            resv = spec.defaultReserved();
        }
        List<DmaIommu.ReservedRegion> regions = new ArrayList<>();
        for (PlatformProfile.ReservedSpec r : resv) {
            regions.add(new DmaIommu.ReservedRegion(r.start(), r.size(), DmaIommu.ReservedType.parse(r.type())));
        }
        iommu.probe(dev, group, regions);
        kernel.printk().info(dev.bus().kernelName() + " " + dev.name() + ": Adding to iommu group " + group);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Xen

    /** The host's memory map: machine RAM and Xen's reservations, with the platform's MMIO. */
    private static PhysicalMemoryMap machineMap(PlatformProfile profile, PhysicalMemoryMap guest) {
        PhysicalMemoryMap.Builder b = PhysicalMemoryMap.builder(dev.dmalab.memory.PageSize.SIZE_4K);
        for (PlatformProfile.Range r : profile.xen().machineRam()) {
            b.ram(r.start(), r.size(), r.name());
        }
        for (PlatformProfile.Range r : profile.xen().machineReserved()) {
            b.reserved(r.start(), r.size(), r.name());
        }
        for (MemoryRegion r : guest.mmioRegions()) {
            b.mmio(r.start(), r.sizeBytes(), r.name());
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new InputException(profile.file(), profile.lineOf("xen"), "xen.machine_ram", e.getMessage());
        }
    }

    /**
     * Xen builds dom0 (and the profile's domUs) before the kernel starts: a 1:1 ARM dom0 gets its banks, a PV dom0
     * its p2m; the dom0 kernel's CPU then reaches memory through that map.
     */
    private void bootHypervisor(PhysicalMemoryMap map) {
        PlatformProfile.XenSpec spec = profile.xen();
        boolean x86 = profile.arch() == ArchKind.X86_64;
        this.xen = new Xen(spec.version(), machineMap, caches, spec.cacheFlushHypercall() && !x86);
        try {
            if (spec.directMapped()) {
                dom0 = xen.createDirectMappedDom0(map.ramBanks());
            } else {
                dom0 = xen.createPvDom0(
                        map.endOfDram() >>> 12, spec.pvMachineBase() >>> 12, spec.pvChunkPages(), spec.pvReversed());
            }
            long guestBase = x86 ? 0 : 0x4000_0000L >>> 12; // GUEST_RAM0_BASE of an ARM guest
            for (PlatformProfile.DomUSpec d : spec.domUs()) {
                xen.createDomU(d.id(), d.name(), guestBase, d.memoryBytes() >>> 12);
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new InputException(profile.file(), profile.lineOf("xen"), "xen", e.getMessage());
        }
        cpu.setGuestPhysMap(dom0);
        int pageShift = profile.pageSize().shift();
        XenP2m p2m = new XenP2m(xen, dom0);
        XenAddress addr = new XenAddress(kernel, p2m, pageShift);
        this.xenMm = new XenMm(kernel, p2m, addr, cpu, arch, map::pfnValid, pageShift, true);
        if (x86) {
            kernel.printk().info("Booting paravirtualized kernel on Xen");
            kernel.printk().info("Xen version: " + spec.version() + ".0 (preserve-AD)");
        } else {
            kernel.printk().info("Xen " + spec.version() + " support found");
        }
    }

    /**
     * {@code xen_mm_init} (arm, an {@code arch_initcall}) and the ops wiring: up to 5.18 swiotlb-xen allocates its own
     * pool from the page allocator and it replaces the generic one; from 5.19 the generic pool is used (created
     * late if there is none). The cache-flush hypercall is probed. x86 PV points the global {@code dma_ops} at
     * swiotlb-xen; arm installs it per device in {@code arch_setup_dma_ops}.
     */
    private void xenMmInit(PhysicalMemoryMap map) {
        boolean x86 = profile.arch() == ArchKind.X86_64;
        KernelVersion v = kernel.version();
        int pageShift = profile.pageSize().shift();
        // 5.2–5.18 arm: xen_swiotlb_init uses a pool the generic swiotlb set up at boot ("goto end")
        boolean reusedPool = !x86
                && v.has(Feature.XEN_REUSE_BOOT_POOL)
                && !v.has(Feature.XEN_SWIOTLB_GENERIC_POOL)
                && swiotlb.defaultMem().nslabs() > 0;
        if (!x86) {
            boolean lowRam = map.startOfDram() < (1L << 32);
            if (!v.has(Feature.XEN_SWIOTLB_GENERIC_POOL) && !reusedPool) {
                long nslabs = swiotlbBoot.nslabs() > 0 ? swiotlbBoot.nslabs() : SwiotlbBoot.DEFAULT_NSLABS;
                swiotlb.setDefaultMem(XenSwiotlbInit.lateInit(
                        kernel,
                        memory.pages(),
                        nslabs,
                        lowRam,
                        swiotlb.defaultMem().force(),
                        false));
            } else if (swiotlb.defaultMem().nslabs() == 0) {
                swiotlb.setDefaultMem(XenSwiotlbInit.lateInit(
                        kernel,
                        memory.pages(),
                        SwiotlbBoot.DEFAULT_NSLABS,
                        lowRam,
                        swiotlb.defaultMem().force(),
                        true));
            }
            xenMm.probeCacheFlush();
        }
        PageCoherent pc;
        if (x86) {
            pc = new X86PageCoherent(memory.pages(), addressSpace);
        } else if (v.has(Feature.XEN_PAGE_COHERENT_REWORK)
                || (profile.arch() == ArchKind.ARM64 && v.has(Feature.XEN_ARM64_HEADER_FIXED))) {
            pc = new DirectPageCoherent(direct, xenMm, memory.pages(), pageShift);
        } else {
            pc = new NativeOpsPageCoherent(
                    kernel, arch, xenMm, memory.pages(), pageShift, !v.has(Feature.GLOBAL_MAPPING_ERROR));
        }
        this.xenOps = new XenSwiotlbDmaOps(kernel, xenMm, pc, swiotlb, direct, cpu, memory.pages(), x86);
        if (reusedPool) {
            xenOps.reusedBootPool();
        }
        if (x86) {
            arch.setDefaultOps(xenOps); // pci_xen_swiotlb_init: dma_ops = &xen_swiotlb_dma_ops
        } else {
            boolean directMappedFeature =
                    profile.xen().directMapped() && xenAtLeast(profile.xen().version(), 4, 15);
            this.xenSetup = new XenDmaSetup(kernel, xenOps, true, directMappedFeature);
        }
        this.gnttab = new XenGnttab(xenMm.p2m(), memory.pages());
    }

    /** Whether Xen release {@code version} ("4.17") is at least {@code major.minor}. */
    static boolean xenAtLeast(String version, int major, int minor) {
        String[] p = version.split("\\.");
        try {
            int ma = Integer.parseInt(p[0]);
            int mi = p.length > 1 ? Integer.parseInt(p[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Sets up the device {@code devices[index]} of the profile. */
    private void addDevice(int index, PlatformProfile.DeviceSpec spec, DmaMapOps nativeOps) {
        String field = "devices[" + index + "]";
        Device dev = new Device(spec.name(), spec.bus());
        dev.setDriverName(spec.driver());
        dev.setPciId(spec.pciId());
        if (!spec.dmaRanges().isEmpty()) {
            if (kernel.has(Feature.DMA_RANGE_MAP)) {
                dev.setDmaRangeMap(new DmaRangeMap(spec.dmaRanges()));
            } else if (spec.dmaRanges().size() == 1) {
                dev.setDmaPfnOffsetBytes(spec.dmaRanges().get(0).offset()); // of_dma_configure: dma_pfn_offset
            } else {
                throw new InputException(
                        profile.file(),
                        profile.lineOf(field + ".dma_ranges"),
                        field + ".dma_ranges",
                        kernel.version() + " supports one dma-range per device (dma_pfn_offset); dma_range_map"
                                + " with several regions needs 5.10 or later");
            }
        }
        dev.setBusDmaLimit(spec.busDmaLimit());
        long maxSeg = spec.maxSegmentSize() != 0
                ? spec.maxSegmentSize()
                : spec.bus() == BusType.PCI ? DmaParams.DEFAULT_MAX_SEGMENT_SIZE : 0;
        long boundary = spec.segmentBoundary() != 0
                ? spec.segmentBoundary()
                : spec.bus() == BusType.PCI ? Bits.dmaBitMask(32) : 0;
        dev.setDmaParms(maxSeg, boundary, spec.minAlignMask());
        dev.setHardwareAddressBits(spec.hardwareAddressBits());
        boolean coherent = spec.coherent() != null ? spec.coherent() : arch.defaultCoherent();
        try {
            arch.setupDmaOps(dev, coherent, nativeOps);
        } catch (IllegalArgumentException e) {
            throw new InputException(profile.file(), 0, field + ".coherent", e.getMessage());
        }
        if (xenSetup != null) {
            xenSetup.setup(dev, arch.nativeOpsFor(dev, coherent, nativeOps));
        }
        swiotlb.attach(dev);
        if (iommu != null) {
            probeIommu(dev);
        }
        if (spec.coherentPool() != null) {
            PlatformProfile.PoolSpec p = spec.coherentPool();
            long va = addressSpace.vmapContiguous(p.phys(), p.size(), MemAttr.NORMAL_NC);
            boolean useOffset = p.deviceBase() < 0;
            long deviceBase = useOffset ? DmaAddress.physToDma(dev, p.phys()) : p.deviceBase();
            dev.setDmaMem(new DmaCoherentMem(
                    p.phys(), deviceBase, va, p.size(), profile.pageSize().shift(), useOffset));
        }
        // The driver's probe: dma_set_mask_and_coherent() with the device's real limits.
        if (dma.setMask(dev, spec.dmaMask()) != 0) {
            kernel.printk()
                    .dev(
                            Printk.Level.WARNING,
                            dev.driverName(),
                            dev.name(),
                            "DMA mask " + Bits.hex0x(spec.dmaMask()) + " not supported (-EIO)");
        }
        if (dma.setCoherentMask(dev, spec.coherentDmaMask()) != 0) {
            kernel.printk()
                    .dev(
                            Printk.Level.WARNING,
                            dev.driverName(),
                            dev.name(),
                            "coherent DMA mask " + Bits.hex0x(spec.coherentDmaMask()) + " not supported (-EIO)");
        }
        devices.put(dev.name(), dev);
        BusMaster bm = new BusMaster(dev, caches, machineMap);
        if (checker != null) {
            bm.setObserver(checker);
        }
        busMasters.put(dev.name(), bm);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Access

    public PlatformProfile profile() {
        return profile;
    }

    public Kernel kernel() {
        return kernel;
    }

    public KernelVersion version() {
        return kernel.version();
    }

    public PhysicalMemory memory() {
        return memory;
    }

    public CacheSystem caches() {
        return caches;
    }

    public KernelAddressSpace addressSpace() {
        return addressSpace;
    }

    public CpuMemory cpu() {
        return cpu;
    }

    public Arch arch() {
        return arch;
    }

    public Swiotlb swiotlb() {
        return swiotlb;
    }

    /** The swiotlb geometry boot chose (slots, areas, base; base -1 if there is no pool). */
    public SwiotlbBoot.Result swiotlbGeometry() {
        return swiotlbBoot;
    }

    public DmaDirect direct() {
        return direct;
    }

    public DmaEvents events() {
        return events;
    }

    /** The DMA API the drivers call. */
    public DmaApi dma() {
        return dma;
    }

    public KernelCmdline cmdline() {
        return cmdline;
    }

    public Collection<Device> devices() {
        return Collections.unmodifiableCollection(devices.values());
    }

    /** The device named {@code name}. */
    public Device device(String name) {
        Device d = devices.get(name);
        if (d == null) {
            throw new IllegalArgumentException("no device '" + name + "' on " + profile.name() + " (devices: "
                    + String.join(", ", devices.keySet()) + ")");
        }
        return d;
    }

    /**
     * Attaches the DMA sanitizer: it listens to the DMA API events, to every CPU access drivers make, to every
     * device access and to the caches, from now on. One checker per machine.
     *
     * @throws IllegalStateException if a checker is already attached
     */
    public DmaChecker attachChecker(CheckOptions options) {
        if (checker != null) {
            throw new IllegalStateException("a checker is already attached");
        }
        checker = new DmaChecker(
                kernel, caches, cpu, kernel.objects(), caches.geometry().lineBytes(), options);
        events.addListener(checker);
        cpu.setAccessObserver(checker);
        caches.setObserver(checker);
        for (BusMaster bm : busMasters.values()) {
            bm.setObserver(checker);
        }
        return checker;
    }

    /** The attached checker, or null. */
    public DmaChecker checker() {
        return checker;
    }

    /** The bus-master engine of {@code dev}. */
    public BusMaster busMaster(Device dev) {
        return busMasters.get(dev.name());
    }

    /**
     * Allocates {@code pages} pages of ordinary kernel memory (a driver's buffer) with {@code __GFP_COMP} when
     * more than one page, as {@code alloc_pages} would; returns the physical address.
     */
    public long allocKernelPages(int order, Zone zone) {
        long pfn = memory.pages().alloc(order, zone, order > 0);
        if (pfn < 0) {
            throw new IllegalStateException("out of memory allocating 2^" + order + " pages");
        }
        return memory.pageSize().pfnPhys(pfn);
    }

    /** The host's memory map (machine addresses); the kernel's own map for a native machine. */
    public PhysicalMemoryMap machineMap() {
        return machineMap;
    }

    /** The hypervisor, or null for a native machine. */
    public Xen xen() {
        return xen;
    }

    /** Dom0, or null for a native machine. */
    public Domain dom0() {
        return dom0;
    }

    /** dma-iommu with its IOMMU, or null when the machine has none (or it is off). */
    public DmaIommu iommu() {
        return iommu;
    }

    /** swiotlb-xen's ops, or null for a native machine. */
    public XenSwiotlbDmaOps xenOps() {
        return xenOps;
    }

    /** swiotlb-xen's arch glue (cache maintenance by hypercall, contiguous regions), or null. */
    public XenMm xenMm() {
        return xenMm;
    }

    /**
     * How swiotlb-xen serves a dom0 device: its {@code dma_ops}, and what the page-coherent hooks use as the
     * "native" allocator and cache maintenance (the NULL of the seed regression shows here).
     */
    public record XenWiring(String device, String driver, String dmaOps, String nativeOps) {}

    /** The wiring of every device (empty for a native machine). */
    public List<XenWiring> xenWiring() {
        if (xenOps == null) {
            return List.of();
        }
        List<XenWiring> out = new ArrayList<>();
        for (Device d : devices.values()) {
            DmaMapOps ops = dma.getDmaOps(d);
            out.add(new XenWiring(
                    d.name(),
                    d.driverString(),
                    ops == null ? "NULL (dma-direct)" : ops.symbol(),
                    xenOps.nativeOpsFor(d)));
        }
        return out;
    }

    /** The backend grant mapper of dom0, or null for a native machine. */
    public XenGnttab gnttab() {
        return gnttab;
    }

    /** The platform's devices in profile order. */
    public List<String> deviceNames() {
        return List.copyOf(devices.keySet());
    }
}
