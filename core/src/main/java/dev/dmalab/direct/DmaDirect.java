package dev.dmalab.direct;

import dev.dmalab.arch.Arch;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.device.DmaCoherentMem;
import dev.dmalab.dma.DirectBackend;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Errno;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.dma.SgTable;
import dev.dmalab.dma.Vma;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.MemoryRegion;
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.PhysicalMemory;
import dev.dmalab.memory.Zone;
import dev.dmalab.memory.ZoneLayout;
import dev.dmalab.swiotlb.Swiotlb;
import dev.dmalab.util.Bits;

/**
 * dma-direct: models {@code kernel/dma/direct.c} and {@code kernel/dma/direct.h} (spec §2, corrected by the 6.12
 * source) in three forms:
 *
 * <ul>
 *   <li><b>4.20</b> — the {@code dma_direct_ops} table: {@code check_addr} fails a map the device cannot reach with
 *       a {@code dev_err} and {@code DIRECT_MAPPING_ERROR}; there is no swiotlb fallback (swiotlb is its own table).
 *   <li><b>5.0–5.9</b> ({@link Feature#DIRECT_SWIOTLB_FALLBACK}): called directly; a map that is not capable, or
 *       any map under {@code swiotlb=force}, goes through the bool {@code swiotlb_map}; a failure is reported by
 *       {@code report_addr} (dev_err_once + WARN_ON_ONCE). Unmap copies a bounce back twice up to 5.15.
 *   <li><b>6.12</b>: {@code is_swiotlb_force_bounce} first, then capability or the kmalloc-bounce rule, then the
 *       arch sync; a failure with no swiotlb is {@code dev_WARN_ONCE("DMA addr ... overflow ...")}.
 * </ul>
 *
 * Coherent allocation follows {@code dma_direct_alloc}: the zone from the coherent mask, the DMA32-then-DMA retry
 * ladder on unreachable pages, a non-cacheable remap (with {@code arch_dma_prep_coherent} on the cacheable alias)
 * for non-coherent devices, and the atomic pools for non-blocking remap requests.
 *
 * <p>Deliberate differences: no CMA, no memory encryption (SEV/TDX/CCA), no PCI P2PDMA, no restricted pools
 * ({@code swiotlb_alloc}), no highmem; {@code DMA_ATTR_NO_KERNEL_MAPPING} returns the linear address as the
 * opaque cookie (the kernel returns the {@code struct page *}).
 */
public final class DmaDirect implements DirectBackend {
    private final Kernel kernel;
    private final CpuMemory cpu;
    private final PhysicalMemory memory;
    private final Arch arch;
    private final Swiotlb swiotlb;
    private final PageSize pageSize;
    private final AtomicPools atomicPools;

    private final boolean fallback;
    private final boolean modernMap;
    private final boolean unmapSingleCopy;

    public DmaDirect(
            Kernel kernel, CpuMemory cpu, PhysicalMemory memory, Arch arch, Swiotlb swiotlb, AtomicPools atomicPools) {
        this.kernel = kernel;
        this.cpu = cpu;
        this.memory = memory;
        this.arch = arch;
        this.swiotlb = swiotlb;
        this.pageSize = memory.pageSize();
        this.atomicPools = atomicPools;
        this.fallback = kernel.has(Feature.DIRECT_SWIOTLB_FALLBACK);
        this.modernMap = kernel.has(Feature.DIRECT_OVERFLOW_DEV_WARN_ONCE);
        this.unmapSingleCopy = kernel.has(Feature.DIRECT_UNMAP_SINGLE_COPY);
    }

    @Override
    public String symbol() {
        return "dma_direct_ops";
    }

    /** The ops of the 4.20 {@code dma_direct_ops} table; from 5.0 dma-direct is called directly and has them all. */
    @Override
    public boolean implementsOp(Op op) {
        if (kernel.has(Feature.DIRECT_BYPASS)) {
            return op != Op.MAPPING_ERROR;
        }
        boolean syncs = arch.supportsNonCoherentDevices();
        return switch (op) {
            case MAP_RESOURCE, UNMAP_RESOURCE, ALLOC_PAGES, FREE_PAGES, MAX_MAPPING_SIZE -> false;
            case UNMAP_PAGE, UNMAP_SG, SYNC_SINGLE_FOR_CPU, SYNC_SG_FOR_CPU -> syncs;
            case SYNC_SINGLE_FOR_DEVICE, SYNC_SG_FOR_DEVICE -> syncs;
            default -> true;
        };
    }

    public Swiotlb swiotlb() {
        return swiotlb;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Addressing

    /** The highest physical page's address, {@code (max_pfn - 1) << PAGE_SHIFT}. */
    private long lastPagePhys() {
        return pageSize.pfnPhys(memory.map().maxPfn() - 1);
    }

    /** {@code zone_dma_limit} (6.12) / {@code DMA_BIT_MASK(zone_dma_bits)}: the last byte of ZONE_DMA. */
    private long zoneDmaLimit() {
        ZoneLayout z = memory.zones();
        return z.hasZoneDma() ? z.dmaEnd() - 1 : -1;
    }

    /** {@code dma_direct_get_required_mask}. */
    @Override
    @KernelFunction("dma_direct_get_required_mask")
    public long getRequiredMask(Device dev) {
        long max = DmaAddress.physToDma(dev, lastPagePhys());
        if (!kernel.has(Feature.DMA_RANGE_MAP) && dev.busDmaLimit() != 0 && Bits.ult(dev.busDmaLimit(), max)) {
            max = dev.busDmaLimit(); // 5.x clamps to bus_dma_mask
        }
        return Bits.maskCovering(max);
    }

    /** {@code dma_direct_supported}. */
    @Override
    @KernelFunction("dma_direct_supported")
    public int dmaSupported(Device dev, long mask) {
        if (kernel.has(Feature.DIRECT_SUPPORTED_32BIT_ALWAYS)) {
            if (Bits.ule(Bits.dmaBitMask(32), mask)) {
                return 1;
            }
            long minMask = lastPagePhys();
            if (memory.zones().hasZoneDma()) {
                minMask = Bits.umin(minMask, zoneDmaLimit());
            }
            return Bits.ule(DmaAddress.physToDmaUnencrypted(dev, minMask), mask) ? 1 : 0;
        }
        long minMask = memory.zones().hasZoneDma() ? zoneDmaLimit() : Bits.dmaBitMask(32);
        minMask = Bits.umin(minMask, lastPagePhys());
        return Bits.ule(DmaAddress.physToDma(dev, minMask), mask) ? 1 : 0;
    }

    /** {@code dma_direct_all_ram_mapped}: every RAM bank is covered by the device's dma_range_map. */
    @Override
    public boolean allRamMapped(Device dev) {
        if (dev == null || dev.dmaRangeMap() == null) {
            return true;
        }
        for (MemoryRegion r : memory.map().ramBanks()) {
            if (!dev.dmaRangeMap().coversPhys(r.start(), r.end())) {
                return false;
            }
        }
        return true;
    }

    /** {@code dma_direct_max_mapping_size}. */
    @Override
    @KernelFunction("dma_direct_max_mapping_size")
    public long maxMappingSize(Device dev) {
        if (swiotlb.isActive(dev) && (addressingLimited(dev) || swiotlb.isForceBounce(dev))) {
            return swiotlb.maxMappingSize(dev);
        }
        return Bits.U64_MAX;
    }

    private boolean addressingLimited(Device dev) {
        long mask = dev.hasDmaMask() && dev.dmaMask() != 0 ? dev.dmaMask() : Bits.dmaBitMask(32);
        return Bits.ult(Bits.minNotZero(mask, dev.busDmaLimit()), getRequiredMask(dev)) || !allRamMapped(dev);
    }

    /** {@code dma_direct_need_sync}. */
    @Override
    public boolean needSync(Device dev, long dmaAddr) {
        return !dev.dmaCoherent() || swiotlb.findPool(dev, DmaAddress.dmaToPhys(dev, dmaAddr)) != null;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Streaming

    /**
     * {@code dma_kmalloc_needs_bounce} (6.5+, CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC): a small FROM_DEVICE or
     * BIDIRECTIONAL buffer of a non-coherent device whose kmalloc size class is not a multiple of {@code
     * ARCH_DMA_MINALIGN} could share a cache line with other data, so it is bounced.
     */
    public boolean kmallocNeedsBounce(Device dev, long size, Direction dir) {
        if (!arch.bounceUnalignedKmalloc() || dev.dmaCoherent() || dir == Direction.TO_DEVICE) {
            return false;
        }
        int align = arch.dmaMinAlign();
        if (size >= 2L * align) {
            return false;
        }
        return kmallocSizeRoundup(size) % align != 0;
    }

    /**
     * {@code kmalloc_size_roundup(size)} for sizes below 2 * ARCH_DMA_MINALIGN with {@code ARCH_KMALLOC_MINALIGN} 8:
     * the kmalloc caches 8, 16, 32, 64, 96, 128, 192, 256.
     */
    static long kmallocSizeRoundup(long size) {
        if (size <= 8) {
            return 8;
        }
        if (size <= 64) {
            return Bits.roundUpPowerOfTwo(size);
        }
        if (size <= 96) {
            return 96;
        }
        if (size <= 128) {
            return 128;
        }
        if (size <= 192) {
            return 192;
        }
        return Bits.roundUpPowerOfTwo(size);
    }

    @Override
    @KernelFunction(value = "dma_direct_map_page", inline = true)
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        long phys = pagePhys + offset;
        long dma = DmaAddress.physToDma(dev, phys);
        if (!fallback) {
            return mapPage420(dev, phys, dma, size, dir, attrs);
        }
        if (!modernMap) {
            return mapPage50(dev, phys, dma, size, dir, attrs);
        }
        if (swiotlb.isForceBounce(dev)) {
            return swiotlb.map(dev, phys, size, dir, attrs);
        }
        if (!DmaAddress.dmaCapable(dev, dma, size, true) || kmallocNeedsBounce(dev, size, dir)) {
            if (swiotlb.isActive(dev)) {
                return swiotlb.map(dev, phys, size, dir, attrs);
            }
            kernel.printk()
                    .warnOnce(
                            "dma_direct_map_page:overflow",
                            "kernel/dma/direct.h dma_direct_map_page",
                            dev.logPrefix() + "DMA addr " + Bits.hex16(dma) + "+" + size + " overflow (mask "
                                    + Bits.hex(dev.dmaMask()) + ", bus limit " + Bits.hex(dev.busDmaLimit()) + ").");
            return Bits.U64_MAX;
        }
        if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            arch.syncDmaForDevice(phys, size, dir);
        }
        return dma;
    }

    private long mapPage50(Device dev, long phys, long dma, long size, Direction dir, long attrs) {
        if (swiotlb.isForceBounce(dev) || !DmaAddress.dmaCapable(dev, dma, size, true)) {
            long[] physDma = {phys, dma};
            long tbl = swiotlb.defaultMem().defpool() == null
                    ? 0
                    : DmaAddress.physToDma(dev, swiotlb.defaultMem().defpool().start());
            if (!swiotlb.map50(dev, physDma, tbl, size, dir, attrs)) {
                reportAddr(dev, dma, size);
                return Bits.U64_MAX;
            }
            phys = physDma[0];
            dma = physDma[1];
        }
        if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            arch.syncDmaForDevice(phys, size, dir);
        }
        return dma;
    }

    /** {@code report_addr} (5.0–5.9). */
    private void reportAddr(Device dev, long dma, long size) {
        Printk log = kernel.printk();
        if (!dev.hasDmaMask()) {
            log.logOnce("report_addr:nomask", Printk.Level.ERR, dev.logPrefix() + "DMA map on device without dma_mask");
        } else if (Bits.ule(Bits.dmaBitMask(32), dev.dmaMask()) || dev.busDmaLimit() != 0) {
            log.logOnce(
                    "report_addr:overflow",
                    Printk.Level.ERR,
                    dev.logPrefix() + "overflow " + Bits.hex16(dma) + "+" + size + " of DMA mask "
                            + Bits.hex(dev.dmaMask()) + " bus mask " + Bits.hex(dev.busDmaLimit()));
        }
        log.warnOnce("report_addr", "kernel/dma/direct.c report_addr", null);
    }

    private long mapPage420(Device dev, long phys, long dma, long size, Direction dir, long attrs) {
        if (!checkAddr(dev, dma, size, "dma_direct_map_page")) {
            return Bits.U64_MAX;
        }
        if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC) && !dev.dmaCoherent()) {
            arch.syncDmaForDevice(DmaAddress.dmaToPhys(dev, dma), size, dir);
        }
        return dma;
    }

    /** {@code check_addr} (4.20). */
    private boolean checkAddr(Device dev, long dma, long size, String caller) {
        if (DmaAddress.dmaCapable(dev, dma, size, true)) {
            return true;
        }
        Printk log = kernel.printk();
        if (!dev.hasDmaMask()) {
            log.dev(Printk.Level.ERR, dev.driverString(), dev.name(), caller + ": call on device without dma_mask");
        } else if (Bits.ule(Bits.dmaBitMask(32), dev.dmaMask()) || dev.busDmaLimit() != 0) {
            log.dev(
                    Printk.Level.ERR,
                    dev.driverString(),
                    dev.name(),
                    caller + ": overflow " + Bits.hex16(dma) + "+" + size + " of device mask " + Bits.hex(dev.dmaMask())
                            + " bus mask " + Bits.hex(dev.busDmaLimit()));
        }
        return false;
    }

    @Override
    @KernelFunction(value = "dma_direct_unmap_page", inline = true)
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        long phys = DmaAddress.dmaToPhys(dev, dmaAddr);
        if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            syncSingleForCpu(dev, dmaAddr, size, dir);
        }
        if (!fallback) {
            return;
        }
        if (unmapSingleCopy) {
            swiotlb.tblUnmapSingle(dev, phys, size, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
        } else if (swiotlb.findPool(dev, phys) != null) {
            swiotlb.tblUnmapSingle(dev, phys, size, dir, attrs); // 5.x: copies back a second time
        }
    }

    @Override
    @KernelFunction(value = "dma_direct_sync_single_for_device", inline = true)
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {
        long paddr = DmaAddress.dmaToPhys(dev, dmaAddr);
        if (fallback) {
            swiotlb.syncSingleForDevice(dev, paddr, size, dir);
        }
        if (!dev.dmaCoherent()) {
            arch.syncDmaForDevice(paddr, size, dir);
        }
    }

    @Override
    @KernelFunction(value = "dma_direct_sync_single_for_cpu", inline = true)
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {
        long paddr = DmaAddress.dmaToPhys(dev, dmaAddr);
        if (!dev.dmaCoherent()) {
            arch.syncDmaForCpu(paddr, size, dir);
            arch.syncDmaForCpuAll();
        }
        if (fallback) {
            swiotlb.syncSingleForCpu(dev, paddr, size, dir);
        }
    }

    @Override
    @KernelFunction("dma_direct_map_sg")
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        if (!fallback) {
            for (int i = 0; i < nents; i++) {
                long dma = DmaAddress.physToDma(dev, sg.phys(i));
                if (!checkAddr(dev, dma, sg.length(i), "dma_direct_map_sg")) {
                    return 0;
                }
                sg.setDma(i, dma, sg.length(i));
            }
            if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
                syncSgForDevice(dev, sg, nents, dir);
            }
            return nents;
        }
        for (int i = 0; i < nents; i++) {
            long addr = mapPage(dev, sg.pagePhys(i), sg.offset(i), sg.length(i), dir, attrs);
            if (addr == Bits.U64_MAX) {
                unmapSg(dev, sg, i, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
                return kernel.has(Feature.MAP_SG_ERRNO) ? -Errno.EIO : 0;
            }
            sg.setDma(i, addr, sg.length(i));
        }
        return nents;
    }

    @Override
    @KernelFunction("dma_direct_unmap_sg")
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        if (!fallback) {
            if (!DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
                syncSgForCpu(dev, sg, nents, dir);
            }
            return;
        }
        for (int i = 0; i < nents; i++) {
            unmapPage(dev, sg.dmaAddress(i), sg.dmaLength(i), dir, attrs);
        }
    }

    /** The physical address a sg sync works on: 5.0–5.3 used {@code sg_phys()} (bounces are missed). */
    private long sgSyncPhys(Device dev, ScatterList sg, int i) {
        return kernel.has(Feature.DIRECT_SG_SYNC_USES_SG_PHYS) || !fallback
                ? sg.phys(i)
                : DmaAddress.dmaToPhys(dev, sg.dmaAddress(i));
    }

    @Override
    @KernelFunction("dma_direct_sync_sg_for_device")
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            long paddr = sgSyncPhys(dev, sg, i);
            if (fallback) {
                swiotlb.syncSingleForDevice(dev, paddr, sg.length(i), dir);
            }
            if (!dev.dmaCoherent()) {
                arch.syncDmaForDevice(paddr, sg.length(i), dir);
            }
        }
    }

    @Override
    @KernelFunction("dma_direct_sync_sg_for_cpu")
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            long paddr = sgSyncPhys(dev, sg, i);
            if (!dev.dmaCoherent()) {
                arch.syncDmaForCpu(paddr, sg.length(i), dir);
            }
            if (fallback) {
                swiotlb.syncSingleForCpu(dev, paddr, sg.length(i), dir);
            }
        }
        if (!dev.dmaCoherent()) {
            arch.syncDmaForCpuAll();
        }
    }

    @Override
    @KernelFunction("dma_direct_map_resource")
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        long dma = phys;
        if (!DmaAddress.dmaCapable(dev, dma, size, false)) {
            kernel.printk()
                    .logOnce(
                            "dma_direct_map_resource",
                            Printk.Level.ERR,
                            dev.logPrefix() + "DMA addr " + Bits.hex16(dma) + "+" + size + " overflow (mask "
                                    + Bits.hex(dev.dmaMask()) + ", bus limit " + Bits.hex(dev.busDmaLimit()) + ").");
            kernel.printk()
                    .warnOnce("dma_direct_map_resource:warn", "kernel/dma/direct.c dma_direct_map_resource", null);
            return Bits.U64_MAX;
        }
        return dma;
    }

    @Override
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {}

    /** {@code dma_direct_mapping_error} (4.20): the cookie is {@code DIRECT_MAPPING_ERROR}. */
    @Override
    public boolean mappingError(Device dev, long dmaAddr) {
        return dmaAddr == Bits.U64_MAX;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Coherent allocation

    /** {@code dma_direct_optimal_gfp_mask}: GFP_DMA, GFP_DMA32 or 0, and the physical limit it was chosen for. */
    private int optimalGfp(Device dev, long[] physLimit) {
        long dmaLimit = DmaAddress.coherentLimit(dev);
        physLimit[0] = DmaAddress.dmaToPhys(dev, dmaLimit);
        ZoneLayout z = memory.zones();
        if (z.hasZoneDma() && Bits.ule(physLimit[0], zoneDmaLimit())) {
            return Gfp.DMA;
        }
        if (z.hasZoneDma32() && Bits.ule(physLimit[0], Bits.dmaBitMask(32))) {
            return Gfp.DMA32;
        }
        return 0;
    }

    /** {@code dma_coherent_ok(dev, phys, size)}. */
    @KernelFunction(value = "dma_coherent_ok", inline = true)
    boolean coherentOk(Device dev, long phys, long size) {
        long addr = DmaAddress.physToDma(dev, phys);
        if (addr == Bits.U64_MAX) {
            return false;
        }
        return Bits.ule(addr + size - 1, DmaAddress.coherentLimit(dev));
    }

    private static Zone zoneOf(int gfp) {
        if ((gfp & Gfp.DMA) != 0) {
            return Zone.DMA;
        }
        if ((gfp & Gfp.DMA32) != 0) {
            return Zone.DMA32;
        }
        return Zone.NORMAL;
    }

    /**
     * {@code __dma_direct_alloc_pages}: pages the device can reach, trying the optimal zone, then DMA32, then DMA.
     *
     * @return the physical address, or -1
     */
    @KernelFunction("__dma_direct_alloc_pages")
    long allocPagesInternal(Device dev, long size, int gfp) {
        long[] physLimit = new long[1];
        gfp |= optimalGfp(dev, physLimit);
        PageAllocator pages = memory.pages();
        int order = Bits.getOrder(size, pageSize.shift());
        ZoneLayout z = memory.zones();
        boolean ladder612 = kernel.has(Feature.DMA_RANGE_MAP);
        while (true) {
            long pfn = pages.alloc(order, zoneOf(gfp), false);
            if (pfn < 0) {
                return -1;
            }
            long phys = pageSize.pfnPhys(pfn);
            if (coherentOk(dev, phys, size)) {
                return phys;
            }
            pages.free(pfn, order);
            if (z.hasZoneDma32() && physLimit[0] != Bits.U64_MAX && (gfp & (Gfp.DMA32 | Gfp.DMA)) == 0) {
                gfp |= Gfp.DMA32;
                continue;
            }
            boolean dmaStepAllowed = ladder612 || Bits.ult(physLimit[0], Bits.dmaBitMask(32));
            if (z.hasZoneDma() && (gfp & Gfp.DMA) == 0 && dmaStepAllowed) {
                gfp = (gfp & ~Gfp.DMA32) | Gfp.DMA;
                continue;
            }
            return -1;
        }
    }

    /**
     * Whether {@code DMA_ATTR_NO_KERNEL_MAPPING} takes the cookie path: in dma-direct from 5.3; before, only in the
     * arch remap allocator that non-coherent devices use ({@code kernel/dma/remap.c} {@code arch_dma_alloc}).
     */
    private boolean noKernelMapping(Device dev, long attrs) {
        return DmaAttrs.has(attrs, DmaAttrs.NO_KERNEL_MAPPING)
                && (kernel.has(Feature.DIRECT_NO_KERNEL_MAPPING) || !dev.dmaCoherent());
    }

    @Override
    @KernelFunction("dma_direct_alloc")
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        size = Bits.alignUp(size, pageSize.bytes());
        if (DmaAttrs.has(attrs, DmaAttrs.NO_WARN)) {
            gfp |= Gfp.NOWARN;
        }
        if (noKernelMapping(dev, attrs)) {
            long phys = allocPagesInternal(dev, size, gfp & ~Gfp.ZERO);
            if (phys < 0) {
                return 0;
            }
            arch.prepCoherent(phys, size);
            dmaHandle[0] = DmaAddress.physToDma(dev, phys);
            return cpu.addressSpace().physToVirt(phys);
        }
        boolean remap = false;
        if (!dev.dmaCoherent()) {
            remap = arch.directRemap() || arch.archDmaAlloc();
            if (!remap) {
                kernel.printk()
                        .logOnce(
                                "dma_direct_alloc:noremap",
                                Printk.Level.WARNING,
                                "coherent DMA allocations not supported on this platform.");
                return 0;
            }
        }
        if (remap && !Gfp.allowsBlocking(gfp)) {
            return allocFromPool(dev, size, dmaHandle, gfp);
        }
        long phys = allocPagesInternal(dev, size, gfp & ~Gfp.ZERO);
        if (phys < 0) {
            return 0;
        }
        long va;
        if (remap) {
            MemAttr attr = arch.coherentRemapAttr(attrs);
            arch.prepCoherent(phys, size);
            va = cpu.addressSpace().vmapContiguous(phys, size, attr);
            if (va == 0) {
                memory.pages().free(pageSize.pfnDown(phys), Bits.getOrder(size, pageSize.shift()));
                return 0;
            }
        } else {
            va = cpu.addressSpace().physToVirt(phys);
        }
        cpu.memset(va, (byte) 0, size);
        dmaHandle[0] = DmaAddress.physToDma(dev, phys);
        return va;
    }

    @KernelFunction("dma_direct_alloc_from_pool")
    private long allocFromPool(Device dev, long size, long[] dmaHandle, int gfp) {
        long[] physLimit = new long[1];
        gfp |= optimalGfp(dev, physLimit);
        long phys =
                atomicPools.alloc(size, (gfp & Gfp.DMA32) != 0, (gfp & Gfp.DMA) != 0, pa -> coherentOk(dev, pa, size));
        if (phys < 0) {
            return 0;
        }
        long va = atomicPools.vaOf(phys);
        cpu.memset(va, (byte) 0, size);
        dmaHandle[0] = DmaAddress.physToDma(dev, phys);
        return va;
    }

    @Override
    @KernelFunction("dma_direct_free")
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        size = Bits.alignUp(size, pageSize.bytes());
        int order = Bits.getOrder(size, pageSize.shift());
        long phys = DmaAddress.dmaToPhys(dev, dmaHandle);
        if (noKernelMapping(dev, attrs)) {
            memory.pages().free(pageSize.pfnDown(phys), order);
            return;
        }
        if (atomicPools.freeVa(cpuAddr, size)) {
            return;
        }
        if (cpu.addressSpace().isVmalloc(cpuAddr)) {
            cpu.addressSpace().vunmap(cpuAddr);
        }
        memory.pages().free(pageSize.pfnDown(phys), order);
    }

    @Override
    @KernelFunction("dma_direct_alloc_pages")
    public long allocPages(Device dev, long size, long[] dmaHandle, Direction dir, int gfp) {
        long phys = allocPagesInternal(dev, size, gfp);
        if (phys < 0) {
            return -1;
        }
        cpu.memsetPhys(phys, (byte) 0, size);
        dmaHandle[0] = DmaAddress.physToDma(dev, phys);
        return phys;
    }

    @Override
    @KernelFunction("dma_direct_free_pages")
    public void freePages(Device dev, long size, long pagePhys, long dmaHandle, Direction dir) {
        memory.pages().free(pageSize.pfnDown(pagePhys), Bits.getOrder(size, pageSize.shift()));
    }

    @Override
    @KernelFunction("dma_direct_mmap")
    public int mmap(Device dev, Vma vma, long cpuAddr, long dmaAddr, long size, long attrs) {
        long userCount = vma.pages(pageSize.shift());
        long count = Bits.alignUp(size, pageSize.bytes()) >>> pageSize.shift();
        long off = vma.vmPgoff();
        Vma.Prot prot = dev.dmaCoherent()
                ? Vma.Prot.CACHED
                : DmaAttrs.has(attrs, DmaAttrs.WRITE_COMBINE) ? Vma.Prot.WRITECOMBINE : Vma.Prot.NONCACHED;
        DmaCoherentMem pool = dev.dmaMem();
        if (pool != null
                && pool.containsVirt(cpuAddr)
                && Bits.ule(cpuAddr - pool.virtBase() + size, pool.sizeBytes())) {
            // dma_mmap_from_dev_coherent: the pool's own pages (pfn_base + page), not the bus address.
            if (off >= count || userCount > count - off) {
                return -Errno.ENXIO;
            }
            long start = (cpuAddr - pool.virtBase()) >>> pageSize.shift();
            vma.remap(pageSize.pfnDown(pool.physBase()) + start + off, userCount, prot);
            return 0;
        }
        if (off >= count || userCount > count - off) {
            return -Errno.ENXIO;
        }
        long pfn = pageSize.pfnDown(DmaAddress.dmaToPhys(dev, dmaAddr));
        vma.remap(pfn + off, userCount, prot);
        return 0;
    }

    @Override
    @KernelFunction("dma_direct_get_sgtable")
    public int getSgtable(Device dev, SgTable sgt, long cpuAddr, long dmaAddr, long size, long attrs) {
        long phys = DmaAddress.dmaToPhys(dev, dmaAddr);
        long page = phys & pageSize.pageMask();
        sgt.sgl().clear();
        sgt.sgl().add(page, 0, (int) Bits.alignUp(size, pageSize.bytes()));
        return 0;
    }
}
