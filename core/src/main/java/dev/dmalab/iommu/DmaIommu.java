package dev.dmalab.iommu;

import dev.dmalab.arch.Arch;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.direct.DmaDirect;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.DmaParams;
import dev.dmalab.dma.Errno;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.iommuhw.IoPageTable;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.iommuhw.IommuUnit;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelAddressSpace;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.PhysicalMemory;
import dev.dmalab.memory.Zone;
import dev.dmalab.swiotlb.Swiotlb;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * dma-iommu: models {@code drivers/iommu/dma-iommu.c} of Linux 6.12 (spec §8, corrected by validated-iova.md) and the
 * part of {@code drivers/iommu/iommu.c} that gives each IOMMU group its default domain.
 *
 * <p>One domain per IOMMU group ({@code iommu_group_alloc_default_domain}), of the type the command line and the
 * build choose: translated and strict ({@code DMA}), translated and lazy ({@code DMA-FQ}), identity (passthrough:
 * the device then uses dma-direct, {@code iommu=pt}) or blocked. A translated domain's IOVA space is set up once,
 * by the first device of the group ({@code iommu_dma_init_domain} returns early for the others): granule and start
 * pfn, the host bridge's memory windows ({@code iova_reserve_pci_windows}) and the reserved regions except software
 * MSI ({@code iova_reserve_iommu_regions}).
 *
 * <p>Entry points, each modelled on its kernel function: {@link #mapPage} ({@code iommu_dma_map_page}: swiotlb
 * bounce of sub-granule buffers for untrusted devices and unaligned kmalloc buffers, arch sync, {@code
 * __iommu_dma_map}), {@link #unmapPage}, {@link #mapSg} ({@code iommu_dma_map_sg}: every segment padded to granules
 * and the whole list given one IOVA range, then {@code __finalise_sg} merging), {@link #unmapSg}, the four syncs,
 * {@link #alloc} ({@code iommu_dma_alloc}, remap and contiguous paths), {@link #free}, {@link #mapResource}.
 *
 * <p>IOVA allocation ({@code iommu_dma_alloc_iova}): the limit is the mask, narrowed by {@code bus_dma_limit} and
 * the aperture ({@code 2^aw - 1}); a PCI device first tries the 32-bit space without flushing the rcache, unless
 * {@code iommu.forcedac}, and the first failure there clears its {@code pci_32bit_workaround} for good ("Using N-bit
 * DMA addresses"). Freeing ({@code __iommu_dma_unmap}): strict domains invalidate the range at once and free the
 * IOVA; lazy ones queue it ({@link FlushQueue}) and the device can still reach the memory through stale IOTLB
 * entries until the flush — that window is recorded per mapping ({@link Exposure}).
 *
 * <p>Timers (the flush-queue timer, the rcache depot work) run when simulated time passes their due time: every
 * entry point first runs what is due, at its own due time, oldest first.
 *
 * <p>Kernels before 6.12 reach dma-iommu through the device's {@code dma_ops} ({@code iommu_dma_ops}, as {@code
 * iommu_setup_dma_ops} installed it in 5.x) rather than by direct calls; the allocator and the paths are 6.12's in
 * every version (4.20's {@code intel_dma_ops}, the 5.x magazine sizes and the array depot are not modelled).
 *
 * <p>Deliberate differences: coherent buffers are allocated as one contiguous block rather than assembled from
 * single pages ({@code __iommu_dma_alloc_pages}); their IOVA and mapping are the kernel's, only the physical layout
 * differs. Non-blocking allocations for non-coherent devices take ordinary pages instead of the atomic pool. No MSI
 * cookie domains, no deferred attach, no PCI P2PDMA, no {@code mmap}/{@code get_sgtable}, no {@code
 * dma_opt_mapping_size}. The hardware's huge-page entries are not modelled (see {@link IoPageTable}).
 */
public final class DmaIommu implements DmaMapOps {
    /** {@code IOMMU_DOMAIN_*} as seen by dma-iommu. */
    public enum DomainType {
        /** Translated, strict invalidation. */
        DMA("DMA"),
        /** Translated, lazy invalidation through the flush queue. */
        DMA_FQ("DMA-FQ"),
        /** Passthrough: dma-direct, the IOMMU translates 1:1. */
        IDENTITY("identity"),
        /** All DMA blocked. */
        BLOCKED("blocked");

        private final String sysfs;

        DomainType(String sysfs) {
            this.sysfs = sysfs;
        }

        /** The name in {@code /sys/kernel/iommu_groups/N/type}. */
        public String sysfs() {
            return sysfs;
        }
    }

    /** A reserved region of a group ({@code struct iommu_resv_region}). */
    public record ReservedRegion(long start, long length, ReservedType type) {}

    /** {@code enum iommu_resv_type}. */
    public enum ReservedType {
        DIRECT("direct"),
        DIRECT_RELAXABLE("direct-relaxable"),
        RESERVED("reserved"),
        MSI("msi"),
        SW_MSI("msi-sw");

        private final String sysfs;

        ReservedType(String sysfs) {
            this.sysfs = sysfs;
        }

        public String sysfs() {
            return sysfs;
        }

        /** Parses the sysfs name ({@code reserved_regions}: direct, direct-relaxable, reserved, msi, msi-sw). */
        public static ReservedType parse(String text) {
            for (ReservedType t : values()) {
                if (t.sysfs.equals(text)) {
                    return t;
                }
            }
            throw new IllegalArgumentException(
                    "reserved region type must be direct, direct-relaxable, reserved, msi or msi-sw, got " + text);
        }
    }

    /**
     * The IOMMU's configuration as boot leaves it.
     *
     * @param defaultType the default domain type ({@code iommu.strict}, {@code iommu=pt}, the build's default)
     * @param forcedac {@code iommu.forcedac=1}: no 32-bit-first attempt
     * @param timers when the flush-queue timer and the depot work run
     * @param hostBridgeWindows the PCI host bridge's memory windows (dmesg "root bus resource [mem ...]"), reserved in
     *     every PCI device's domain
     */
    public record Config(
            DomainType defaultType, boolean forcedac, TimerModel timers, List<ReservedRegion> hostBridgeWindows) {}

    /** How long a device could still reach memory after its unmap: from the unmap to the IOTLB invalidation. */
    public record Exposure(String device, long iova, long pages, long unmapNs, long invalidatedNs) {
        public long windowNs() {
            return invalidatedNs - unmapNs;
        }
    }

    /** Per-mapping exposure records kept in full; the statistics cover all. */
    public static final int EXPOSURES_KEPT = 10_000;

    /** An IOMMU group's default domain and its dma-iommu cookie. */
    public final class Domain implements FlushQueue.Owner {
        private final int group;
        private final DomainType type;
        private final IoPageTable table;
        private final List<String> devices = new ArrayList<>();
        private final List<ReservedRegion> reserved;
        private IovaDomain iovad;
        private FlushQueue fq;

        private Domain(int group, DomainType type, List<ReservedRegion> reserved) {
            this.group = group;
            this.type = type;
            this.reserved = List.copyOf(reserved);
            this.table = type == DomainType.DMA || type == DomainType.DMA_FQ ? hw.newDomainTable() : null;
        }

        public int group() {
            return group;
        }

        public DomainType type() {
            return type;
        }

        /** The domain's tables, or null for identity and blocked domains. */
        public IoPageTable table() {
            return table;
        }

        /** The IOVA allocator, or null until the first device is set up (and for untranslated domains). */
        public IovaDomain iovad() {
            return iovad;
        }

        /** The flush queue of a lazy domain, else null. */
        public FlushQueue flushQueue() {
            return fq;
        }

        public List<String> devices() {
            return Collections.unmodifiableList(devices);
        }

        public List<ReservedRegion> reservedRegions() {
            return reserved;
        }

        @Override
        public void flushIotlbAll() {
            hw.invalidateAll(table);
        }

        @Override
        public void free(long pfn, long pages, long queuedNs, long invalidatedNs, int cpu) {
            recordExposure(
                    devices.size() == 1 ? devices.get(0) : "group " + group,
                    pfn << iovad.shift(),
                    pages,
                    queuedNs,
                    invalidatedNs);
            iovad.freeFast(pfn, pages, cpu);
        }
    }

    /** dma-iommu's per-device state ({@code dev->iommu}). */
    private static final class DevState {
        final Domain domain;
        boolean pci32bitWorkaround;

        DevState(Domain domain, boolean pci32bitWorkaround) {
            this.domain = domain;
            this.pci32bitWorkaround = pci32bitWorkaround;
        }
    }

    private final Kernel kernel;
    private final CpuMemory cpu;
    private final Arch arch;
    private final Swiotlb swiotlb;
    private final DmaDirect direct;
    private final PhysicalMemory memory;
    private final IommuUnit hw;
    private final Config config;
    private final Map<Integer, Domain> domains = new LinkedHashMap<>();
    private Domain[] domainArray = new Domain[0];
    private final Map<Device, DevState> states = new IdentityHashMap<>();
    private final Map<Long, long[]> coherentBlocks = new HashMap<>();
    private final List<Exposure> exposures = new ArrayList<>();
    private long exposureCount;
    private long exposedCount;
    private long exposureMaxNs;
    private long exposureTotalNs;
    private long unmapMismatches;
    private long[] sgScratch = new long[64];
    private long forcedIova = -1;

    public DmaIommu(
            Kernel kernel,
            CpuMemory cpu,
            Arch arch,
            Swiotlb swiotlb,
            DmaDirect direct,
            PhysicalMemory memory,
            IommuUnit hw,
            Config config) {
        this.kernel = kernel;
        this.cpu = cpu;
        this.arch = arch;
        this.swiotlb = swiotlb;
        this.direct = direct;
        this.memory = memory;
        this.hw = hw;
        this.config = config;
    }

    @Override
    public String symbol() {
        return "iommu_dma_ops";
    }

    public IommuUnit hardware() {
        return hw;
    }

    public Config config() {
        return config;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Probe

    /**
     * Adds {@code dev} to IOMMU group {@code group} ({@code iommu_probe_device}, {@code iommu_setup_dma_ops}): the
     * group gets its default domain on first use; a translated domain is initialised by this device if it is the
     * group's first, and the device is switched to dma-iommu.
     *
     * @param reserved the group's reserved regions (sysfs {@code reserved_regions}), used by its first device
     */
    public Domain probe(Device dev, int group, List<ReservedRegion> reserved) {
        if (states.containsKey(dev)) {
            throw new IllegalArgumentException("device " + dev.name() + " is already behind the IOMMU");
        }
        Domain d = domains.get(group);
        if (d == null) {
            d = new Domain(group, config.defaultType(), reserved);
            domains.put(group, d);
            domainArray = domains.values().toArray(new Domain[0]);
        }
        d.devices.add(dev.name());
        IommuContext ctx = hw.context(dev.name());
        switch (d.type) {
            case IDENTITY -> ctx.set(IommuContext.Kind.PASSTHROUGH, null);
            case BLOCKED -> ctx.set(IommuContext.Kind.BLOCKED, null);
            default -> {
                ctx.set(IommuContext.Kind.TRANSLATED, d.table);
                if (d.iovad == null) {
                    initDomain(d, dev);
                }
            }
        }
        dev.setIommuContext(ctx);
        boolean translated = d.type == DomainType.DMA || d.type == DomainType.DMA_FQ;
        if (kernel.has(Feature.DMA_IOMMU_DIRECT_CALLS)) {
            dev.setDmaIommu(translated); // 6.12: use_dma_iommu(), called directly
        } else if (translated) {
            dev.setDmaOps(this); // 5.x iommu_setup_dma_ops: dev->dma_ops = &iommu_dma_ops
        }
        states.put(dev, new DevState(d, dev.bus() == BusType.PCI && !config.forcedac()));
        return d;
    }

    /** {@code iommu_dma_init_domain}: granule, start pfn, rcaches, flush queue, reservations. */
    private void initDomain(Domain d, Device first) {
        int shift = hw.granuleShift();
        long basePfn = 1; // aperture_start is 0 on VT-d and SMMUv3
        d.iovad = new IovaDomain(shift, basePfn, kernel.context().cpus(), config.timers(), kernel.clock());
        if (d.type == DomainType.DMA_FQ) {
            d.fq = new FlushQueue(kernel.context().cpus(), d, config.timers());
        }
        if (first.bus() == BusType.PCI) {
            for (ReservedRegion w : config.hostBridgeWindows()) {
                d.iovad.reserve(w.start() >>> shift, (w.start() + w.length() - 1) >>> shift);
            }
        }
        for (ReservedRegion r : d.reserved) {
            if (r.type() == ReservedType.SW_MSI) {
                continue;
            }
            d.iovad.reserve(r.start() >>> shift, (r.start() + r.length() - 1) >>> shift);
        }
    }

    /** The domain of {@code dev}, or null when it is not behind the IOMMU. */
    public Domain domainOf(Device dev) {
        DevState st = states.get(dev);
        return st == null ? null : st.domain;
    }

    /** The groups' domains in group order of creation. */
    public List<Domain> domains() {
        return List.copyOf(domains.values());
    }

    /**
     * The IOMMU in one line, for reports: the unit, its domains' types, where IOVAs came from (the rcache, the tree)
     * and how often flush queues flushed.
     */
    public String summary() {
        long hits = 0;
        long tree = 0;
        long flushes = 0;
        TreeSet<String> types = new TreeSet<>();
        for (Domain d : domains.values()) {
            types.add(d.type().sysfs());
            if (d.iovad() != null) {
                hits += d.iovad().rcacheHits();
                tree += d.iovad().treeAllocs();
            }
            if (d.flushQueue() != null) {
                flushes += d.flushQueue().flushes();
            }
        }
        return hardware().name() + ", " + domains.size() + " domains (" + String.join(", ", types) + "), IOVAs: "
                + hits + " from the rcache, " + tree + " from the tree"
                + (flushes > 0 ? ", " + flushes + " flush-queue flushes" : "");
    }

    /** Whether {@code dev} still tries the 32-bit IOVA space first. */
    public boolean pci32bitWorkaround(Device dev) {
        DevState st = states.get(dev);
        return st != null && st.pci32bitWorkaround;
    }

    private DevState state(Device dev) {
        DevState st = states.get(dev);
        if (st == null || st.domain.iovad == null) {
            throw new IllegalStateException(dev.name() + " is not attached to a dma-iommu domain");
        }
        return st;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Time

    /** Runs every timer and delayed work due by now, each at its due time, oldest first. */
    public void runDue() {
        long now = kernel.clock().nowNs();
        while (true) {
            Domain next = null;
            long due = Long.MAX_VALUE;
            boolean fqFirst = false;
            for (Domain d : domainArray) {
                if (d.fq != null && d.fq.timerDueNs() < due) {
                    due = d.fq.timerDueNs();
                    next = d;
                    fqFirst = true;
                }
                if (d.iovad != null && d.iovad.nextWorkDueNs() < due) {
                    due = d.iovad.nextWorkDueNs();
                    next = d;
                    fqFirst = false;
                }
            }
            if (next == null || due > now) {
                return;
            }
            if (fqFirst) {
                next.fq.timeout();
            } else {
                next.iovad.runWorkUntil(due);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // IOVA

    /** {@code dma_info_to_prot}. */
    static int dmaInfoToProt(Direction dir, boolean coherent, long attrs) {
        int prot = coherent ? IoPageTable.CACHE : 0;
        if (DmaAttrs.has(attrs, DmaAttrs.PRIVILEGED)) {
            prot |= IoPageTable.PRIV;
        }
        return switch (dir) {
            case BIDIRECTIONAL -> prot | IoPageTable.READ | IoPageTable.WRITE;
            case TO_DEVICE -> prot | IoPageTable.READ;
            case FROM_DEVICE -> prot | IoPageTable.WRITE;
            default -> 0;
        };
    }

    /** {@code iommu_dma_alloc_iova}: the IOVA (bytes) of a granule-aligned {@code size}, or 0. */
    @KernelFunction("iommu_dma_alloc_iova")
    private long allocIova(Device dev, DevState st, long size, long dmaLimit) {
        IovaDomain iovad = st.domain.iovad;
        int shift = iovad.shift();
        long len = size >>> shift;
        if (forcedIova != -1) {
            long iova = forcedIova;
            forcedIova = -1;
            return iovad.adopt(iova >>> shift, len) ? iova : 0;
        }
        dmaLimit = Bits.minNotZero(dmaLimit, dev.busDmaLimit());
        dmaLimit = Bits.umin(dmaLimit, hw.apertureEnd());
        int onCpu = kernel.context().cpu();
        if (Bits.ult(0xffffffffL, dmaLimit) && st.pci32bitWorkaround) {
            long pfn = iovad.allocFast(len, 0xffffffffL >>> shift, false, onCpu);
            if (pfn != 0) {
                return pfn << shift;
            }
            st.pci32bitWorkaround = false;
            kernel.printk()
                    .dev(
                            Printk.Level.NOTICE,
                            dev.driverString(),
                            dev.name(),
                            "Using " + Bits.fls64(dmaLimit) + "-bit DMA addresses");
        }
        long pfn = iovad.allocFast(len, dmaLimit >>> shift, true, onCpu);
        return pfn << shift;
    }

    /** {@code iommu_dma_free_iova} without a gather: straight back to the allocator. */
    private void freeIovaNow(DevState st, long iova, long size) {
        IovaDomain iovad = st.domain.iovad;
        iovad.freeFast(
                iova >>> iovad.shift(), size >>> iovad.shift(), kernel.context().cpu());
    }

    /** {@code __iommu_dma_map}: the bus address of {@code phys}, or all ones. */
    @KernelFunction("__iommu_dma_map")
    private long dmaMap(Device dev, DevState st, long phys, long size, int prot, long dmaMask) {
        IovaDomain iovad = st.domain.iovad;
        long gmask = iovad.granule() - 1;
        long off = phys & gmask;
        if (Bits.ult(gmask, DmaParams.minAlignMask(kernel.version(), dev))) {
            kernel.printk()
                    .warnOnce(
                            "__iommu_dma_map:min_align:" + dev.name(),
                            "drivers/iommu/dma-iommu.c __iommu_dma_map",
                            dev.logPrefix() + "Unsupported alignment constraint");
            return Bits.U64_MAX;
        }
        size = Bits.alignUp(size + off, iovad.granule());
        long iova = allocIova(dev, st, size, dmaMask);
        if (iova == 0) {
            return Bits.U64_MAX;
        }
        if (st.domain.table.map(iova, phys - off, size, prot) != 0) {
            freeIovaNow(st, iova, size);
            return Bits.U64_MAX;
        }
        return iova + off;
    }

    /** {@code __iommu_dma_unmap}: clear the tables, then invalidate and free (strict) or queue (lazy). */
    @KernelFunction("__iommu_dma_unmap")
    private void dmaUnmap(Device dev, DevState st, long dmaAddr, long size) {
        Domain d = st.domain;
        IovaDomain iovad = d.iovad;
        long off = dmaAddr & (iovad.granule() - 1);
        dmaAddr -= off;
        size = Bits.alignUp(size + off, iovad.granule());
        long unmapped = d.table.unmap(dmaAddr, size);
        if (unmapped != size) {
            unmapMismatches++;
            kernel.printk()
                    .warnOnce(
                            "__iommu_dma_unmap:size",
                            "drivers/iommu/dma-iommu.c __iommu_dma_unmap",
                            dev.logPrefix() + "unmapped " + unmapped + " of " + size + " bytes at "
                                    + Bits.hex0x(dmaAddr));
        }
        long now = kernel.clock().nowNs();
        if (d.fq == null) {
            hw.invalidateRange(d.table, dmaAddr, size);
            recordExposure(dev.name(), dmaAddr, size >>> iovad.shift(), now, now);
            freeIovaNow(st, dmaAddr, size);
        } else {
            d.fq.queue(
                    dmaAddr >>> iovad.shift(),
                    size >>> iovad.shift(),
                    kernel.context().cpu(),
                    now);
        }
    }

    private void recordExposure(String device, long iova, long pages, long unmapNs, long invalidatedNs) {
        long window = Math.max(0, invalidatedNs - unmapNs);
        exposureCount++;
        exposureTotalNs += window;
        exposureMaxNs = Math.max(exposureMaxNs, window);
        if (window > 0) {
            exposedCount++;
        }
        if (window > 0 && exposures.size() < EXPOSURES_KEPT) {
            exposures.add(new Exposure(device, iova, pages, unmapNs, unmapNs + window));
        }
    }

    /** {@code dev_use_swiotlb}: untrusted devices and unaligned kmalloc buffers of non-coherent ones bounce. */
    private boolean useSwiotlb(Device dev, long size, Direction dir) {
        return dev.untrusted() || direct.kmallocNeedsBounce(dev, size, dir);
    }

    /** {@code dev_use_sg_swiotlb}. */
    private boolean useSgSwiotlb(Device dev, ScatterList sg, int nents, Direction dir) {
        if (dev.untrusted()) {
            return true;
        }
        for (int i = 0; i < nents; i++) {
            if (direct.kmallocNeedsBounce(dev, sg.length(i), dir)) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Streaming

    @Override
    @KernelFunction("iommu_dma_map_page")
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        runDue();
        DevState st = state(dev);
        long phys = pagePhys + offset;
        boolean coherent = dev.dmaCoherent();
        int prot = dmaInfoToProt(dir, coherent, attrs);
        long gmask = st.domain.iovad.granule() - 1;
        boolean bounced = false;
        if (useSwiotlb(dev, size, dir) && ((phys | size) & gmask) != 0) {
            if (!swiotlb.isActive(dev)) {
                kernel.printk()
                        .warnOnce(
                                "iommu_dma_map_page:inactive:" + dev.name(),
                                "drivers/iommu/dma-iommu.c iommu_dma_map_page",
                                dev.logPrefix()
                                        + "DMA bounce buffers are inactive, unable to map unaligned transaction.");
                return Bits.U64_MAX;
            }
            swiotlb.emitBounced(dev, phys, size);
            long tlb = swiotlb.tblMapSingle(dev, phys, size, gmask, dir, attrs);
            if (tlb == Bits.U64_MAX) {
                return Bits.U64_MAX;
            }
            if (dev.untrusted()) {
                long start = tlb & ~gmask;
                cpu.memsetPhys(start, (byte) 0, tlb - start);
                long end = tlb + size;
                cpu.memsetPhys(end, (byte) 0, Bits.alignUp(end, gmask + 1) - end);
            }
            phys = tlb;
            bounced = true;
        }
        if (!coherent && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            arch.syncDmaForDevice(phys, size, dir);
        }
        long iova = dmaMap(dev, st, phys, size, prot, dev.dmaMask());
        if (iova == Bits.U64_MAX && bounced) {
            swiotlb.tblUnmapSingle(dev, phys, size, dir, attrs);
        }
        return iova;
    }

    @Override
    @KernelFunction("iommu_dma_unmap_page")
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        runDue();
        DevState st = state(dev);
        long phys = st.domain.table.iovaToPhys(dmaAddr);
        if (phys == -1) {
            kernel.printk()
                    .warnAt(
                            "drivers/iommu/dma-iommu.c iommu_dma_unmap_page",
                            dev.logPrefix() + "unmap of " + Bits.hex0x(dmaAddr) + ", which is not mapped");
            return;
        }
        if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC) && !dev.dmaCoherent()) {
            arch.syncDmaForCpu(phys, size, dir);
        }
        dmaUnmap(dev, st, dmaAddr, size);
        swiotlb.tblUnmapSingle(dev, phys, size, dir, attrs);
    }

    @Override
    @KernelFunction("iommu_dma_map_sg")
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        runDue();
        DevState st = state(dev);
        if (useSgSwiotlb(dev, sg, nents, dir)) {
            return mapSgSwiotlb(dev, sg, nents, dir, attrs);
        }
        if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            syncSgForDevice(dev, sg, nents, dir);
        }
        IovaDomain iovad = st.domain.iovad;
        long granule = iovad.granule();
        long mask = DmaParams.segmentBoundary(kernel.version(), dev);
        if (sgScratch.length < nents) {
            sgScratch = new long[Integer.highestOneBit(nents) << 1];
        }
        long[] iovaLen = sgScratch; // each segment's padded length in IOVA space
        long total = 0;
        int prev = -1;
        for (int i = 0; i < nents; i++) {
            long off = sg.phys(i) & (granule - 1);
            long sLength = Bits.alignUp(sg.length(i) + off, granule);
            long padLen = (mask - total + 1) & mask;
            if (padLen != 0 && Bits.ult(padLen, sLength - 1)) {
                iovaLen[prev] += padLen;
                total += padLen;
            }
            iovaLen[i] = sLength;
            total += sLength;
            prev = i;
        }
        int prot = dmaInfoToProt(dir, dev.dmaCoherent(), attrs);
        long iova = allocIova(dev, st, total, dev.dmaMask());
        if (iova == 0) {
            return -Errno.ENOMEM;
        }
        long at = iova;
        for (int i = 0; i < nents; i++) {
            long off = sg.phys(i) & (granule - 1);
            long mapLen = Bits.alignUp(sg.length(i) + off, granule);
            if (st.domain.table.map(at, sg.phys(i) - off, mapLen, prot) != 0) {
                st.domain.table.unmap(iova, at - iova);
                freeIovaNow(st, iova, total);
                return -Errno.EINVAL;
            }
            at += iovaLen[i];
        }
        return finaliseSg(dev, sg, nents, iova, iovaLen, granule, mask);
    }

    /** {@code __finalise_sg}: writes the DMA addresses, merging granule-aligned continuations. */
    private int finaliseSg(
            Device dev, ScatterList sg, int nents, long dmaAddr, long[] iovaLen, long granule, long segMask) {
        long maxLen = DmaParams.maxSegmentSize(dev);
        long curLen = 0;
        int cur = 0;
        int count = 0;
        for (int i = 0; i < nents; i++) {
            long sOff = sg.phys(i) & (granule - 1);
            long sLength = sg.length(i);
            if (curLen != 0 && sOff == 0 && (dmaAddr & segMask) != 0 && Bits.ule(sLength, maxLen - curLen)) {
                curLen += sLength;
            } else {
                if (i > 0) {
                    cur++;
                }
                curLen = sLength;
                count++;
                sg.setDma(cur, dmaAddr + sOff, 0);
            }
            sg.setDma(cur, sg.dmaAddress(cur), (int) curLen);
            dmaAddr += iovaLen[i];
            if (sLength + sOff < iovaLen[i]) {
                curLen = 0;
            }
        }
        for (int i = count; i < nents; i++) {
            sg.setDma(i, Bits.U64_MAX, 0);
        }
        return count;
    }

    /** {@code iommu_dma_map_sg_swiotlb}: every entry through {@link #mapPage}. */
    private int mapSgSwiotlb(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        sg.setSwiotlbMapped(true);
        for (int i = 0; i < nents; i++) {
            long a = mapPage(dev, sg.pagePhys(i), sg.offset(i), sg.length(i), dir, attrs);
            if (a == Bits.U64_MAX) {
                for (int j = 0; j < i; j++) {
                    unmapPage(dev, sg.dmaAddress(j), sg.dmaLength(j), dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
                }
                sg.setSwiotlbMapped(false);
                return -Errno.EIO;
            }
            sg.setDma(i, a, sg.length(i));
        }
        return nents;
    }

    @Override
    @KernelFunction("iommu_dma_unmap_sg")
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        runDue();
        DevState st = state(dev);
        if (sg.swiotlbMapped()) {
            for (int i = 0; i < nents; i++) {
                unmapPage(dev, sg.dmaAddress(i), sg.dmaLength(i), dir, attrs);
            }
            sg.setSwiotlbMapped(false);
            return;
        }
        if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            syncSgForCpu(dev, sg, nents, dir);
        }
        long start = 0;
        long end = 0;
        int i = 0;
        for (; i < nents; i++) {
            if (sg.dmaLength(i) == 0) {
                break;
            }
            if (i == 0) {
                start = sg.dmaAddress(0);
            }
            end = sg.dmaAddress(i) + sg.dmaLength(i);
        }
        if (end != 0) {
            dmaUnmap(dev, st, start, end - start);
        }
    }

    @Override
    @KernelFunction("iommu_dma_map_resource")
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        runDue();
        DevState st = state(dev);
        return dmaMap(dev, st, phys, size, dmaInfoToProt(dir, false, attrs) | IoPageTable.MMIO, dev.dmaMask());
    }

    @Override
    @KernelFunction("iommu_dma_unmap_resource")
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        runDue();
        dmaUnmap(dev, state(dev), dmaAddr, size);
    }

    @Override
    @KernelFunction("iommu_dma_sync_single_for_cpu")
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {
        if (dev.dmaCoherent() && !useSwiotlb(dev, size, dir)) {
            return;
        }
        long phys = state(dev).domain.table.iovaToPhys(dmaAddr);
        if (phys == -1) {
            return;
        }
        if (!dev.dmaCoherent()) {
            arch.syncDmaForCpu(phys, size, dir);
        }
        swiotlb.syncSingleForCpu(dev, phys, size, dir);
    }

    @Override
    @KernelFunction("iommu_dma_sync_single_for_device")
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {
        if (dev.dmaCoherent() && !useSwiotlb(dev, size, dir)) {
            return;
        }
        long phys = state(dev).domain.table.iovaToPhys(dmaAddr);
        if (phys == -1) {
            return;
        }
        swiotlb.syncSingleForDevice(dev, phys, size, dir);
        if (!dev.dmaCoherent()) {
            arch.syncDmaForDevice(phys, size, dir);
        }
    }

    @Override
    @KernelFunction("iommu_dma_sync_sg_for_cpu")
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {
        if (sg.swiotlbMapped()) {
            for (int i = 0; i < nents; i++) {
                syncSingleForCpu(dev, sg.dmaAddress(i), sg.dmaLength(i), dir);
            }
        } else if (!dev.dmaCoherent()) {
            for (int i = 0; i < nents; i++) {
                arch.syncDmaForCpu(sg.phys(i), sg.length(i), dir);
            }
        }
    }

    @Override
    @KernelFunction("iommu_dma_sync_sg_for_device")
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {
        if (sg.swiotlbMapped()) {
            for (int i = 0; i < nents; i++) {
                syncSingleForDevice(dev, sg.dmaAddress(i), sg.dmaLength(i), dir);
            }
        } else if (!dev.dmaCoherent()) {
            for (int i = 0; i < nents; i++) {
                arch.syncDmaForDevice(sg.phys(i), sg.length(i), dir);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Coherent

    @Override
    @KernelFunction("iommu_dma_alloc")
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        runDue();
        DevState st = state(dev);
        boolean coherent = dev.dmaCoherent();
        int prot = dmaInfoToProt(Direction.BIDIRECTIONAL, coherent, attrs);
        KernelAddressSpace as = cpu.addressSpace();
        int pageShift = as.pageSize().shift();
        int order = Bits.getOrder(size, pageShift);
        long pfn = memory.pages().alloc(order, Zone.NORMAL, false);
        if (pfn < 0) {
            return 0;
        }
        long phys = memory.pageSize().pfnPhys(pfn);
        long bytes = 1L << (order + pageShift);
        cpu.memsetPhys(phys, (byte) 0, bytes);
        boolean remap = Gfp.allowsBlocking(gfp) && !DmaAttrs.has(attrs, DmaAttrs.FORCE_CONTIGUOUS);
        long handle;
        if (remap) {
            // __iommu_dma_alloc_noncontiguous: the IOVA of the granule-aligned size, the pages mapped behind it
            long alignedSize = Bits.alignUp(size, st.domain.iovad.granule());
            long iova = allocIova(dev, st, alignedSize, dev.coherentDmaMask());
            if (iova == 0 || st.domain.table.map(iova, phys, alignedSize, prot) != 0) {
                if (iova != 0) {
                    freeIovaNow(st, iova, alignedSize);
                }
                memory.pages().free(pfn, order);
                return 0;
            }
            handle = iova;
        } else {
            handle = dmaMap(dev, st, phys, size, prot, dev.coherentDmaMask());
            if (handle == Bits.U64_MAX) {
                memory.pages().free(pfn, order);
                return 0;
            }
        }
        long va = remap || !coherent
                ? as.vmapContiguous(phys, bytes, coherent ? MemAttr.NORMAL_WB : MemAttr.NORMAL_NC)
                : as.physToVirt(phys);
        coherentBlocks.put(va, new long[] {pfn, order});
        dmaHandle[0] = handle;
        return va;
    }

    @Override
    @KernelFunction("iommu_dma_free")
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        runDue();
        dmaUnmap(dev, state(dev), dmaHandle, size);
        if (!releaseCoherentPages(cpuAddr)) {
            kernel.printk()
                    .warnAt(
                            "drivers/iommu/dma-iommu.c __iommu_dma_free",
                            dev.logPrefix() + "free of " + Bits.hex0x(cpuAddr)
                                    + ", which this device did not allocate");
        }
    }

    @Override
    public int dmaSupported(Device dev, long mask) {
        return 1;
    }

    @Override
    public long maxMappingSize(Device dev) {
        return dev.untrusted() ? swiotlb.maxMappingSize(dev) : Bits.U64_MAX;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Replay support

    /**
     * One-step replay: takes back the model's own mapping of {@code size} bytes at {@code dmaAddr}, which the kernel
     * did not make — the tables cleared and the IOVA returned to where it came from (the top of the loaded magazine,
     * or out of the tree without a free's cache update), as if the allocation had never happened.
     *
     * @param fromRcache {@link #lastFromRcache} right after the model's map
     */
    public void undo(Device dev, long dmaAddr, long size, boolean fromRcache) {
        DevState st = state(dev);
        IovaDomain iovad = st.domain.iovad;
        long off = dmaAddr & (iovad.granule() - 1);
        long len = Bits.alignUp(size + off, iovad.granule());
        st.domain.table.unmap(dmaAddr - off, len);
        iovad.unallocate(
                (dmaAddr - off) >>> iovad.shift(),
                len >>> iovad.shift(),
                fromRcache,
                kernel.context().cpu());
    }

    /**
     * One-step replay: the next IOVA allocation of {@code dev}'s domain takes the granule at {@code iova} (the
     * kernel's choice) instead of searching — out of the rcache if the model has it cached, else from free space; it
     * fails if the model holds that space otherwise.
     */
    public void forceNextIova(Device dev, long iova) {
        forcedIova = iova & -state(dev).domain.iovad.granule();
    }

    /** Whether the last IOVA allocation in {@code dev}'s domain came from the rcache. */
    public boolean lastFromRcache(Device dev) {
        return state(dev).domain.iovad.lastFromRcache();
    }

    /**
     * {@code __iommu_dma_free}: unmaps the CPU's view of a coherent buffer and frees its pages (its IOVA is already
     * gone: unmapped by {@link #free}, or taken back by {@link #undo} in one-step replay).
     *
     * @return false if {@code cpuAddr} is not a coherent buffer of this IOMMU
     */
    public boolean releaseCoherentPages(long cpuAddr) {
        long[] block = coherentBlocks.remove(cpuAddr);
        if (block == null) {
            return false;
        }
        if (cpu.addressSpace().isVmalloc(cpuAddr)) {
            cpu.addressSpace().vunmap(cpuAddr);
        }
        memory.pages().free(block[0], (int) block[1]);
        return true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Statistics

    /** Unmaps (with their invalidation) so far, strict or lazy. */
    public long exposureCount() {
        return exposureCount;
    }

    /** The longest window a device could still reach unmapped memory, ns (0 in strict mode). */
    public long exposureMaxNs() {
        return exposureMaxNs;
    }

    public long exposureTotalNs() {
        return exposureTotalNs;
    }

    /** Invalidated unmaps whose invalidation came after the unmap (lazy mode): the device could still reach them. */
    public long exposedCount() {
        return exposedCount;
    }

    /** Unmapped IOVAs still waiting in a flush queue for their invalidation: exposed now. */
    public long awaitingInvalidation() {
        long n = 0;
        for (Domain d : domains.values()) {
            if (d.flushQueue() != null) {
                n += d.flushQueue().queued();
            }
        }
        return n;
    }

    /** The unmap time of the oldest IOVA still waiting for its invalidation, or {@link Long#MAX_VALUE}. */
    public long oldestAwaitingNs() {
        long oldest = Long.MAX_VALUE;
        for (Domain d : domains.values()) {
            if (d.flushQueue() != null) {
                oldest = Math.min(oldest, d.flushQueue().oldestQueuedNs());
            }
        }
        return oldest;
    }

    /** The {@code k} longest windows of {@link #exposures()}, longest first (ties: earliest unmap first). */
    public List<Exposure> longestExposures(int k) {
        List<Exposure> sorted = new ArrayList<>(exposures);
        sorted.sort(java.util.Comparator.comparingLong((Exposure e) -> -e.windowNs())
                .thenComparingLong(Exposure::unmapNs));
        return List.copyOf(sorted.subList(0, Math.min(k, sorted.size())));
    }

    /** The first {@link #EXPOSURES_KEPT} unmaps whose invalidation was deferred, with their windows. */
    public List<Exposure> exposures() {
        return Collections.unmodifiableList(exposures);
    }

    /** Unmaps whose size disagreed with what was mapped ({@code WARN_ON(unmapped != size)}). */
    public long unmapMismatches() {
        return unmapMismatches;
    }
}
