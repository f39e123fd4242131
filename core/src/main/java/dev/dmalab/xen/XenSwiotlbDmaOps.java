package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.direct.DmaDirect;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaMapOps;
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
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.swiotlb.Swiotlb;
import dev.dmalab.util.Bits;

/**
 * {@code xen_swiotlb_dma_ops} ({@code drivers/xen/swiotlb-xen.c}, spec §7.5–7.7): the DMA ops of every device of a
 * Xen dom0 (ARM) or of the whole PV domain (x86). Addresses given to devices are bus (machine) addresses; a buffer
 * is bounced through the swiotlb pool when the device cannot reach it, when its Xen frames are not
 * machine-contiguous, when it is a foreign page the CPU cannot flush for a non-coherent device, or under {@code
 * swiotlb=force}.
 *
 * <p>Forms by version:
 *
 * <ul>
 *   <li>4.20 / 5.0: cache maintenance through the page-coherent hooks ({@link PageCoherent}); the bounce buffer is
 *       mapped through them before its address is checked; swiotlb-xen owns a pool it allocated itself, passing its
 *       bus address ({@code start_dma_addr}) to the 5.0 slot search; map_sg is its own loop (no {@code
 *       swiotlb_bounced} event, no second address check, "swiotlb buffer is full" and 0 on failure). 4.20 has a
 *       {@code ->mapping_error} op. (5.2's cleanups — map_sg through map_page, the address check before the cache
 *       maintenance, reusing a boot-time pool on arm — fall between the modelled versions; the first two are
 *       modelled from 5.4 on, the last from 5.2.)
 *   <li>5.4 … 5.18: {@code dev_is_dma_coherent} and {@code xen_dma_sync_for_*} ({@link XenMm}) — the local test is
 *       {@code pfn_valid} everywhere; the bounce address is checked before the cache maintenance.
 *   <li>5.19+: the generic swiotlb pool and the 6.x slot search; on arm {@code .alloc = dma_direct_alloc}; 6.7+
 *       {@code .max_mapping_size}.
 * </ul>
 *
 * <p>Coherent allocations (x86, and arm before 5.19) take the native allocator's pages and, if their bus address is
 * above the coherent mask or their frames are not machine-contiguous, exchange them with Xen ({@code
 * xen_create_contiguous_region}). From 4855c92dbb7b (2018) to 5.2 the free path trades back every region that is within the mask
 * or straddles frames — exchanged or not, so a 64-bit device's buffer gets new machine frames on every free; 5.3
 * undoes exactly the exchanges it made ({@code PageXenRemapped}) and warns about a region out of reach. 6.12 also
 * exchanges a buffer aligned to its order whose machine frames are not ({@code range_requires_alignment}).
 */
public final class XenSwiotlbDmaOps implements DmaMapOps {
    private final Kernel kernel;
    private final XenMm mm;
    private final XenAddress addr;
    private final PageCoherent pageCoherent;
    private final Swiotlb swiotlb;
    private final DmaDirect direct;
    private final CpuMemory cpu;
    private final PageAllocator pages;
    private final boolean x86;
    private final int pageShift;

    private final boolean v420;
    private final boolean mapSgLoop;
    private final boolean rework;
    private final boolean generic;
    private final boolean remappedFlag;
    private final boolean maxMappingSize;
    private final boolean nativeMmap;

    public XenSwiotlbDmaOps(
            Kernel kernel,
            XenMm mm,
            PageCoherent pageCoherent,
            Swiotlb swiotlb,
            DmaDirect direct,
            CpuMemory cpu,
            PageAllocator pages,
            boolean x86) {
        this.kernel = kernel;
        this.mm = mm;
        this.addr = mm.address();
        this.pageCoherent = pageCoherent;
        this.swiotlb = swiotlb;
        this.direct = direct;
        this.cpu = cpu;
        this.pages = pages;
        this.x86 = x86;
        this.pageShift = cpu.addressSpace().pageSize().shift();
        this.v420 = !kernel.has(Feature.GLOBAL_MAPPING_ERROR);
        this.mapSgLoop = kernel.has(Feature.XEN_MAP_SG_VIA_MAP_PAGE);
        this.rework = kernel.has(Feature.XEN_PAGE_COHERENT_REWORK);
        this.generic = kernel.has(Feature.XEN_SWIOTLB_GENERIC_POOL);
        this.remappedFlag = kernel.has(Feature.XEN_REMAPPED_PAGES);
        this.maxMappingSize = kernel.has(Feature.XEN_MAX_MAPPING_SIZE);
        // 5.0-rc2 forwards mmap/get_sgtable to the native ops on arm and arm64; the arm64 fix keeps it for arm32
        // only; the 5.4 rework drops it.
        this.nativeMmap = !x86
                && !rework
                && (kernel.arch() == dev.dmalab.kernel.ArchKind.ARM32 || !kernel.has(Feature.XEN_ARM64_HEADER_FIXED));
    }

    @Override
    public String symbol() {
        return "xen_swiotlb_dma_ops";
    }

    /**
     * What swiotlb-xen's page-coherent hooks use for {@code dev}: for the native-ops state, the table {@code
     * xen_get_dma_ops} finds (NULL in the seed regression); otherwise the state's own description.
     */
    public String nativeOpsFor(Device dev) {
        if (generic && x86) {
            return "__get_free_pages + XENMEM_exchange (x86)";
        }
        if (rework && !x86) {
            return "dma_direct_alloc; arch_sync_dma_* or hypercall"; // 5.4+ arm, 5.19+ included
        }
        if (pageCoherent instanceof NativeOpsPageCoherent n) {
            return n.describeNativeOps(dev);
        }
        return pageCoherent.state();
    }

    /** The page-coherent state in use (null from 5.19, where swiotlb-xen no longer has one). */
    public PageCoherent pageCoherent() {
        return pageCoherent;
    }

    @Override
    public boolean implementsOp(Op op) {
        return switch (op) {
            case MAP_RESOURCE, UNMAP_RESOURCE, CACHE_SYNC, GET_REQUIRED_MASK -> false;
            case MAPPING_ERROR -> v420;
            case MAX_MAPPING_SIZE -> maxMappingSize;
            case ALLOC_PAGES, FREE_PAGES -> rework;
            default -> true;
        };
    }

    private boolean forced(Device dev) {
        return swiotlb.isForceBounce(dev);
    }

    private IoTlbPool pool() {
        return swiotlb.defaultMem().defpool();
    }

    /**
     * {@code start_dma_addr}: the bus address of the pool's first byte, the 5.0 search's {@code tbl_dma_addr} — or 0
     * where {@code xen_swiotlb_init} reused a boot-time pool (5.2–5.8 skip the assignment on that path).
     */
    private long startDmaAddr() {
        IoTlbPool p = pool();
        return p == null || reusedBootPool ? 0 : addr.physToBus(p.start());
    }

    private boolean reusedBootPool;

    /** Marks that {@code xen_swiotlb_init} found the generic pool already set up and used it ("goto end"). */
    public void reusedBootPool() {
        this.reusedBootPool = true;
    }

    /** A note for {@code dmalab explain} (the text is built only when it is recording). */
    private void explain(String text) {
        if (kernel.paths().enabled()) {
            kernel.paths().note(text);
        }
    }

    private static boolean ugt(long a, long b) {
        return !Bits.ule(a, b);
    }

    private long pageOf(long phys) {
        return phys & -(1L << pageShift);
    }

    // -------------------------------------------------------------------------------------------------------------
    // Coherent allocations

    @Override
    @KernelFunction("xen_swiotlb_alloc_coherent")
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        if (generic && !x86) {
            return direct.alloc(dev, size, dmaHandle, gfp, attrs); // arm 5.19+: .alloc = dma_direct_alloc
        }
        if (kernel.paths().enabled()) {
            kernel.paths()
                    .note("swiotlb-xen: coherent pages from "
                            + (generic ? "__get_free_pages" : "xen_alloc_coherent_pages: " + pageCoherent.state()));
        }
        int order = Bits.getOrder(size, pageShift);
        long dmaMask;
        long ret;
        long phys;
        if (generic) {
            // 5.19+ x86: __get_free_pages and the pseudo-physical address.
            dmaMask = dev.coherentDmaMask();
            // 6.12 (c3dea3d54f4d, same merge window as the alignment check): ALIGN(size, XEN_PAGE_SIZE).
            size = kernel.has(Feature.XEN_STRADDLE_ALIGNMENT) ? Bits.alignUp(size, 4096) : 1L << (order + 12);
            ret = X86PageCoherent.getFreePages(pages, cpu.addressSpace(), gfp, Bits.getOrder(size, pageShift));
            if (ret == 0) {
                return 0;
            }
            phys = cpu.addressSpace().virtToPhys(ret);
            dmaHandle[0] = addr.physToDma(dev, phys);
        } else {
            gfp &= ~(Gfp.DMA | Gfp.HIGHMEM);
            size = 1L << (order + 12);
            ret = pageCoherent.allocCoherentPages(dev, size, dmaHandle, gfp, attrs);
            if (ret == 0) {
                return 0;
            }
            dmaMask = dev.coherentDmaMask() != 0 ? dev.coherentDmaMask() : Bits.dmaBitMask(32);
            phys = addr.dmaToBus(dev, dmaHandle[0]); // the native handle is a physical (DMA) address
            dmaHandle[0] = addr.physToDma(dev, phys);
        }
        if (Bits.ule(dmaHandle[0] + size - 1, dmaMask)
                && !addr.rangeStraddlesPageBoundary(phys, size)
                && !addr.rangeRequiresAlignment(phys, size)) {
            cpu.memset(ret, (byte) 0, size);
            return ret;
        }
        if (mm.createContiguousRegion(phys, order, Bits.fls64(dmaMask), dmaHandle) != 0) {
            if (generic) {
                pages.free(phys >>> pageShift, Bits.getOrder(size, pageShift));
            } else {
                pageCoherent.freeCoherentPages(dev, size, ret, phys, attrs);
            }
            return 0;
        }
        if (!generic && kernel.has(Feature.XEN_PHYS_TO_DMA)) {
            dmaHandle[0] = DmaAddress.physToDma(dev, dmaHandle[0]); // 5.10–5.18: phys_to_dma of the machine address
        }
        if (remappedFlag) {
            remapped.add(phys);
        }
        cpu.memset(ret, (byte) 0, size);
        return ret;
    }

    /** Pages exchanged by {@link #alloc} ({@code PageXenRemapped}, 5.3+), by physical address. */
    private final java.util.TreeSet<Long> remapped = new java.util.TreeSet<>();

    @Override
    @KernelFunction("xen_swiotlb_free_coherent")
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        if (generic && !x86) {
            direct.free(dev, size, cpuAddr, dmaHandle, attrs);
            return;
        }
        int order = Bits.getOrder(size, pageShift);
        long dmaMask = dev.coherentDmaMask() != 0 ? dev.coherentDmaMask() : Bits.dmaBitMask(32);
        if (generic) {
            size = kernel.has(Feature.XEN_STRADDLE_ALIGNMENT) ? Bits.alignUp(size, 4096) : 1L << (order + 12);
            long phys = cpu.addressSpace().virtToPhys(cpuAddr);
            if (ugt(dmaHandle + size - 1, dev.coherentDmaMask())
                    || addr.rangeStraddlesPageBoundary(phys, size)
                    || addr.rangeRequiresAlignment(phys, size)) {
                kernel.printk().warnOnce("xen_swiotlb_free_coherent", "drivers/xen/swiotlb-xen.c", null);
                return;
            }
            if (remapped.remove(phys)) {
                mm.destroyContiguousRegion(phys, order);
            }
            pages.free(phys >>> pageShift, Bits.getOrder(size, pageShift));
            return;
        }
        size = 1L << (order + 12);
        long phys = addr.dmaToPhys(dev, dmaHandle);
        boolean straddles = addr.rangeStraddlesPageBoundary(phys, size);
        boolean outOfReach = ugt(dmaHandle + size - 1, dmaMask);
        if (remappedFlag) {
            if (outOfReach || straddles) {
                kernel.printk().warnAt("drivers/xen/swiotlb-xen.c xen_swiotlb_free_coherent", null);
            } else if (remapped.remove(phys)) {
                mm.destroyContiguousRegion(phys, order);
            }
        } else if (!outOfReach || straddles) {
            // 4855c92dbb7b (2018) … 5.2: every region within the mask (exchanged or not) or straddling frames is traded
            // back
            mm.destroyContiguousRegion(phys, order);
        }
        // the native free gets the native handle: (dma_addr_t)phys up to 5.9, phys_to_dma(dev, phys) from 5.10
        pageCoherent.freeCoherentPages(
                dev,
                size,
                cpuAddr,
                kernel.has(Feature.XEN_PHYS_TO_DMA) ? DmaAddress.physToDma(dev, phys) : phys,
                attrs);
    }

    // -------------------------------------------------------------------------------------------------------------
    // Streaming

    /** Cache maintenance for the device after the (possibly bounced) buffer is chosen. */
    private void forDevice(Device dev, long pagePhys, long devAddr, long phys, long size, Direction dir, long attrs) {
        if (!rework) {
            pageCoherent.dmaMapPage(dev, pagePhys, devAddr, phys - pagePhys, size, dir, attrs);
        } else if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            mm.syncForDevice(dev, devAddr, phys, size, dir);
        }
    }

    @Override
    @KernelFunction("xen_swiotlb_map_page")
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        long phys = pagePhys + offset;
        long devAddr = addr.physToDma(dev, phys);
        boolean capable = DmaAddress.dmaCapable(dev, devAddr, size, true);
        boolean straddles = addr.rangeStraddlesPageBoundary(phys, size);
        boolean foreignNoFlush = mm.archNeedSwiotlb(dev, phys, devAddr);
        boolean force = forced(dev);
        if (capable && !straddles && !foreignNoFlush && !force) {
            if (kernel.paths().enabled()) { // the note's text is built only when explain records it
                explain("swiotlb-xen: phys " + Bits.hex0x(phys) + " is bus " + Bits.hex0x(devAddr) + ", no bounce");
            }
            forDevice(dev, pagePhys, devAddr, phys, size, dir, attrs);
            return devAddr;
        }
        if (kernel.paths().enabled()) {
            explain("swiotlb-xen: phys " + Bits.hex0x(phys) + " (bus " + Bits.hex0x(devAddr) + ") bounces: "
                    + (force
                            ? "swiotlb=force"
                            : !capable
                                    ? "the device cannot reach it"
                                    : straddles
                                            ? "its Xen frames are not machine-contiguous"
                                            : "a foreign page Xen cannot flush for a non-coherent device"));
        }
        swiotlb.emitBounced(dev, devAddr, size);
        long map = generic
                ? swiotlb.tblMapSingle(dev, phys, size, 0, dir, attrs)
                : swiotlb.tblMapSingle50(dev, startDmaAddr(), phys, size, dir, attrs);
        if (map == Bits.U64_MAX) {
            return Bits.U64_MAX;
        }
        devAddr = addr.physToDma(dev, map);
        if (!rework) {
            // 5.0: the bounce buffer gets its cache maintenance first, then its address is checked.
            pageCoherent.dmaMapPage(dev, pageOf(map), devAddr, map - pageOf(map), size, dir, attrs);
            if (DmaAddress.dmaCapable(dev, devAddr, size, true)) {
                return devAddr;
            }
            swiotlb.tblUnmapSingle(dev, map, size, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
            return Bits.U64_MAX;
        }
        if (!DmaAddress.dmaCapable(dev, devAddr, size, true)) {
            swiotlb.tblUnmapSingle(dev, map, size, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
            return Bits.U64_MAX;
        }
        forDevice(dev, pageOf(map), devAddr, map, size, dir, attrs);
        return devAddr;
    }

    /** {@code is_xen_swiotlb_buffer(dev, dma)} / {@code xen_swiotlb_find_pool}: only frames of this domain count. */
    private boolean isXenSwiotlbBuffer(Device dev, long dmaAddr) {
        long bfn = addr.dmaToBus(dev, dmaAddr) >>> 12;
        long xenPfn = addr.p2m().bfnToLocalPfn(bfn);
        if (xenPfn == XenP2m.NO_PFN) {
            return false;
        }
        long paddr = xenPfn << 12;
        return mm.pfnValidAddr(paddr) && swiotlb.findPool(dev, paddr) != null;
    }

    @Override
    @KernelFunction("xen_swiotlb_unmap_page")
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        unmapSingle(dev, dmaAddr, size, dir, attrs);
    }

    @KernelFunction(value = "xen_unmap_single", inline = true)
    private void unmapSingle(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        long paddr = addr.dmaToPhys(dev, dmaAddr);
        if (!rework) {
            pageCoherent.dmaUnmapPage(dev, dmaAddr, size, dir, attrs);
        } else if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            mm.syncForCpu(dev, dmaAddr, paddr, size, dir);
        }
        if (isXenSwiotlbBuffer(dev, dmaAddr)) {
            swiotlb.tblUnmapSingle(dev, paddr, size, dir, attrs);
        }
    }

    @Override
    @KernelFunction("xen_swiotlb_sync_single_for_cpu")
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {
        long paddr = addr.dmaToPhys(dev, dmaAddr);
        if (!rework) {
            pageCoherent.dmaSyncSingleForCpu(dev, dmaAddr, size, dir);
        } else if (!dev.dmaCoherent()) {
            mm.syncForCpu(dev, dmaAddr, paddr, size, dir);
        }
        if (isXenSwiotlbBuffer(dev, dmaAddr)) {
            swiotlb.syncSingleForCpu(dev, paddr, size, dir);
        }
    }

    @Override
    @KernelFunction("xen_swiotlb_sync_single_for_device")
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {
        long paddr = addr.dmaToPhys(dev, dmaAddr);
        if (isXenSwiotlbBuffer(dev, dmaAddr)) {
            swiotlb.syncSingleForDevice(dev, paddr, size, dir);
        }
        if (!rework) {
            pageCoherent.dmaSyncSingleForDevice(dev, dmaAddr, size, dir);
        } else if (!dev.dmaCoherent()) {
            mm.syncForDevice(dev, dmaAddr, paddr, size, dir);
        }
    }

    @Override
    @KernelFunction(value = "xen_swiotlb_map_sg", inlineBefore = "5.2")
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        if (!mapSgLoop) {
            return mapSgAttrs(dev, sg, nents, dir, attrs);
        }
        for (int i = 0; i < nents; i++) {
            long a = mapPage(dev, sg.pagePhys(i), sg.offset(i), sg.length(i), dir, attrs);
            if (a == Bits.U64_MAX) {
                unmapSg(dev, sg, i, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
                sg.setDma(0, sg.dmaAddress(0), 0);
                return kernel.has(Feature.MAP_SG_ERRNO) ? -Errno.EIO : 0;
            }
            sg.setDma(i, a, sg.length(i));
        }
        return nents;
    }

    /**
     * 4.20 / 5.0 {@code xen_swiotlb_map_sg_attrs} (until 5.2): the bounce decision inline, no {@code swiotlb_bounced}
     * event, no re-check of the bounce address, "swiotlb buffer is full" and 0 on failure.
     */
    @KernelFunction("xen_swiotlb_map_sg_attrs")
    private int mapSgAttrs(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        for (int i = 0; i < nents; i++) {
            long paddr = sg.phys(i);
            long devAddr = addr.physToBus(paddr);
            int len = sg.length(i);
            if (forced(dev)
                    || mm.archNeedSwiotlb(dev, paddr, devAddr)
                    || !DmaAddress.dmaCapable(dev, devAddr, len, true)
                    || addr.rangeStraddlesPageBoundary(paddr, len)) {
                long map = swiotlb.tblMapSingle50(dev, startDmaAddr(), paddr, len, dir, attrs);
                if (map == Bits.U64_MAX) {
                    kernel.printk().dev(Printk.Level.WARNING, dev.driverString(), dev.name(), "swiotlb buffer is full");
                    unmapSg(dev, sg, i, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
                    sg.setDma(0, sg.dmaAddress(0), 0);
                    return 0;
                }
                devAddr = addr.physToBus(map);
                pageCoherent.dmaMapPage(dev, pageOf(map), devAddr, map - pageOf(map), len, dir, attrs);
            } else {
                pageCoherent.dmaMapPage(dev, pageOf(paddr), devAddr, paddr - pageOf(paddr), len, dir, attrs);
            }
            sg.setDma(i, devAddr, len);
        }
        return nents;
    }

    @Override
    @KernelFunction("xen_swiotlb_unmap_sg")
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        for (int i = 0; i < nents; i++) {
            unmapSingle(dev, sg.dmaAddress(i), sg.dmaLength(i), dir, attrs);
        }
    }

    @Override
    @KernelFunction("xen_swiotlb_sync_sg_for_cpu")
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            syncSingleForCpu(dev, sg.dmaAddress(i), mapSgLoop ? sg.length(i) : sg.dmaLength(i), dir); // 5.2: sg->length
        }
    }

    @Override
    @KernelFunction("xen_swiotlb_sync_sg_for_device")
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            syncSingleForDevice(
                    dev, sg.dmaAddress(i), mapSgLoop ? sg.length(i) : sg.dmaLength(i), dir); // 5.2: sg->length
        }
    }

    @Override
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        return Bits.U64_MAX;
    }

    @Override
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {}

    /** {@code xen_swiotlb_dma_supported}: the bus address of the pool's last byte must fit the mask. */
    @Override
    @KernelFunction("xen_swiotlb_dma_supported")
    public int dmaSupported(Device dev, long mask) {
        IoTlbPool p = pool();
        if (p == null) {
            return 1;
        }
        return Bits.ule(addr.physToDma(dev, p.end() - 1), mask) ? 1 : 0;
    }

    @Override
    public long maxMappingSize(Device dev) {
        return maxMappingSize ? swiotlb.maxMappingSize(dev) : -1L;
    }

    @Override
    public boolean mappingError(Device dev, long dmaAddr) {
        return dmaAddr == Bits.U64_MAX; // XEN_SWIOTLB_ERROR_CODE (~0) in 4.20
    }

    @Override
    @KernelFunction("xen_swiotlb_dma_mmap")
    public int mmap(Device dev, Vma vma, long cpuAddr, long dmaAddr, long size, long attrs) {
        if (nativeMmap && pageCoherent instanceof NativeOpsPageCoherent n) {
            DmaMapOps ops = kernel.deref(
                    n.xenGetDmaOps(dev),
                    DmaMapOps.memberOffset(Op.MMAP, v420, kernel.arch().pointerBits() / 8));
            if (ops.implementsOp(Op.MMAP)) {
                return ops.mmap(dev, vma, cpuAddr, dmaAddr, size, attrs);
            }
        }
        return direct.mmap(dev, vma, cpuAddr, dmaAddr, size, attrs); // dma_common_mmap
    }

    @Override
    @KernelFunction("xen_swiotlb_get_sgtable")
    public int getSgtable(Device dev, SgTable sgt, long cpuAddr, long dmaAddr, long size, long attrs) {
        if (nativeMmap && pageCoherent instanceof NativeOpsPageCoherent n) {
            DmaMapOps ops = kernel.deref(
                    n.xenGetDmaOps(dev),
                    DmaMapOps.memberOffset(Op.GET_SGTABLE, v420, kernel.arch().pointerBits() / 8));
            if (ops.implementsOp(Op.GET_SGTABLE)) {
                return ops.getSgtable(dev, sgt, cpuAddr, dmaAddr, size, attrs);
            }
        }
        return direct.getSgtable(dev, sgt, cpuAddr, dmaAddr, size, attrs); // dma_common_get_sgtable
    }
}
