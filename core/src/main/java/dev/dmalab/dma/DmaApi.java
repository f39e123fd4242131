package dev.dmalab.dma;

import dev.dmalab.device.Device;
import dev.dmalab.device.DmaCoherentMem;
import dev.dmalab.device.DmaOps;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.DmaPathLog;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.Printk;
import dev.dmalab.util.Bits;
import java.util.function.LongPredicate;

/**
 * The DMA API core: models {@code kernel/dma/mapping.c} and the inline wrappers of {@code
 * include/linux/dma-mapping.h}, 4.20 to 6.12 (spec §1, corrected by the 6.12 source: see implementation notes).
 *
 * <p>Every entry point validates its arguments as the kernel does ({@code DMA_NONE} is a {@code BUG}), dispatches
 * as the modelled version does, then emits one {@link DmaEvent} to the listeners. Dispatch:
 *
 * <ul>
 *   <li>≤ 4.20 ({@link Feature#DIRECT_BYPASS} absent): always {@code get_dma_ops(dev)->op}; a NULL table is a
 *       NULL dereference.
 *   <li>5.0+: NULL ops means dma-direct, called directly; 5.10+ {@code dma_go_direct()} also bypasses ops whose
 *       device has {@code dma_ops_bypass} and a mask covering all RAM.
 *   <li>6.12: a device attached to a dma-iommu domain calls dma-iommu directly before anything else.
 * </ul>
 *
 * <h2>Implementation notes</h2>
 *
 * Version switches are read once into final fields. With no listener attached the map, unmap and sync paths
 * allocate nothing. Where the 6.12 source and the spec differ, the source wins: {@code dma_free} is traced after
 * the NULL check in 6.12.0 and before it in 6.12.y; per-device-pool allocations are traced only in 6.12.y; {@code
 * dma_map_resource} checks nothing about RAM in 6.12 and {@code BUG_ON}s on RAM in 4.20/5.0.
 *
 * <p>Deliberate differences: no kmsan; no dma-debug (the checker listens to the events instead); {@code
 * dmam_free_coherent} uses the 6.12 order (destroy the record, then free) in every version; {@code
 * arch_dma_set_mask} and memory encryption are not modelled.
 */
public final class DmaApi {
    private static final int ROUTE_DIRECT = 0;
    private static final int ROUTE_IOMMU = 1;
    private static final int ROUTE_OPS = 2;

    private final Kernel kernel;
    private final CpuMemory cpu;
    private final DmaEvents events;
    private final DirectBackend direct;
    private final ArchDmaOps arch;
    private final LongPredicate pfnValid;
    private final Devres devres = new Devres();
    private final DmaPathLog paths;
    private DmaMapOps iommu;
    private boolean dmaApiDebug;

    private final boolean bypass;
    private final boolean opsBypass;
    private final boolean iommuDirectCalls;
    private final boolean tracepoints;
    private final boolean tracepoints612y;
    private final boolean skipSync;
    private final boolean warnNoMask;
    private final boolean sgErrno;
    private final boolean hasMappingErrorOp;
    private final String bugSite;

    /**
     * @param pfnValid {@code pfn_valid(pfn)} of the machine's memory map
     */
    public DmaApi(
            Kernel kernel,
            CpuMemory cpu,
            DmaEvents events,
            DirectBackend direct,
            ArchDmaOps arch,
            LongPredicate pfnValid) {
        this.kernel = kernel;
        this.pfnValid = pfnValid;
        this.cpu = cpu;
        this.events = events;
        this.direct = direct;
        this.arch = arch;
        this.bypass = kernel.has(Feature.DIRECT_BYPASS);
        this.opsBypass = kernel.has(Feature.DMA_OPS_BYPASS);
        this.iommuDirectCalls = kernel.has(Feature.DMA_IOMMU_DIRECT_CALLS);
        this.tracepoints = kernel.has(Feature.DMA_TRACEPOINTS);
        this.tracepoints612y = kernel.has(Feature.DMA_TRACEPOINTS_6_12_Y);
        this.skipSync = kernel.has(Feature.DMA_SKIP_SYNC);
        this.warnNoMask = kernel.has(Feature.MAP_WARN_NO_DMA_MASK);
        this.sgErrno = kernel.has(Feature.MAP_SG_ERRNO);
        this.hasMappingErrorOp = !kernel.has(Feature.GLOBAL_MAPPING_ERROR);
        this.bugSite =
                kernel.has(Feature.MAP_WARN_NO_DMA_MASK) ? "kernel/dma/mapping.c" : "include/linux/dma-mapping.h";
        this.paths = kernel.paths();
    }

    public Kernel kernel() {
        return kernel;
    }

    public DmaEvents events() {
        return events;
    }

    public Devres devres() {
        return devres;
    }

    public DirectBackend direct() {
        return direct;
    }

    /** Installs the dma-iommu backend (the IOMMU issue); devices with {@code dma_iommu} then dispatch to it. */
    public void setIommuBackend(DmaMapOps iommu) {
        this.iommu = iommu;
    }

    /** CONFIG_DMA_API_DEBUG: when set, {@code dma_skip_sync} never elides a sync. */
    public void setDmaApiDebug(boolean on) {
        this.dmaApiDebug = on;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Dispatch

    /** {@code get_dma_ops(dev)}: the device's table, else the arch's. */
    public DmaMapOps getDmaOps(Device dev) {
        DmaOps ops = dev.dmaOps();
        if (ops != null) {
            return (DmaMapOps) ops;
        }
        return arch.get(dev);
    }

    /** {@code dma_go_direct} / {@code dma_is_direct} / 4.20's "always ops", as one decision. */
    private int route(Device dev, DmaMapOps ops, long mask) {
        if (iommuDirectCalls && dev.dmaIommu()) {
            return ROUTE_IOMMU;
        }
        if (!bypass) {
            return ROUTE_OPS;
        }
        if (ops == null) {
            return ROUTE_DIRECT;
        }
        if (opsBypass && dev.dmaOpsBypass()) {
            long limit = Bits.minNotZero(mask, dev.busDmaLimit());
            return Bits.ule(direct.getRequiredMask(dev), limit) ? ROUTE_DIRECT : ROUTE_OPS;
        }
        return ROUTE_OPS;
    }

    private int routeMap(Device dev, DmaMapOps ops, String api) {
        return explain(api, dev, ops, route(dev, ops, dev.dmaMask()));
    }

    private int routeAlloc(Device dev, DmaMapOps ops, String api) {
        return explain(api, dev, ops, route(dev, ops, dev.coherentDmaMask()));
    }

    /** Records the call and the path the dispatch chose, when {@code dmalab explain} asks for it. */
    private int explain(String api, Device dev, DmaMapOps ops, int route) {
        if (paths.enabled()) {
            paths.call(
                    api,
                    dev.name(),
                    switch (route) {
                        case ROUTE_DIRECT -> "dma-direct";
                        case ROUTE_IOMMU -> "dma-iommu";
                        default -> ops == null ? "NULL dma_ops" : ops.symbol();
                    });
        }
        return route;
    }

    /** A call through the table: a NULL table (or, where the kernel does not check, a NULL callback) oopses. */
    private DmaMapOps table(DmaMapOps ops, DmaMapOps.Op op) {
        return kernel.deref(
                ops, DmaMapOps.memberOffset(op, hasMappingErrorOp, kernel.arch().pointerBits() / 8));
    }

    private void validDirection(Direction dir) {
        if (!dir.valid()) {
            throw kernel.bug(bugSite);
        }
    }

    /** {@code WARN_ON_ONCE(!dev->dma_mask)} at {@code site} (each call site has its own once-flag). */
    private boolean noDmaMask(Device dev, String site) {
        if (warnNoMask && !dev.hasDmaMask()) {
            kernel.printk().warnOnce(site + ":no_dma_mask", "kernel/dma/mapping.c " + site, null);
            return true;
        }
        return false;
    }

    private DmaMapOps iommu() {
        if (iommu == null) {
            throw new IllegalStateException("device is attached to dma-iommu but no IOMMU backend is wired");
        }
        return iommu;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Streaming: single pages

    /** {@code dma_map_page_attrs}: {@code pagePhys} is {@code page_to_phys(page)}. */
    @KernelFunction(value = "dma_map_page_attrs", inlineBefore = "5.10")
    public long mapPageAttrs(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        validDirection(dir);
        long addr;
        if (noDmaMask(dev, "dma_map_page_attrs")) {
            addr = Bits.U64_MAX;
        } else {
            DmaMapOps ops = getDmaOps(dev);
            addr = switch (routeMap(dev, ops, "dma_map_page_attrs")) {
                case ROUTE_DIRECT -> direct.mapPage(dev, pagePhys, offset, size, dir, attrs);
                case ROUTE_IOMMU -> iommu().mapPage(dev, pagePhys, offset, size, dir, attrs);
                default -> table(ops, DmaMapOps.Op.MAP_PAGE).mapPage(dev, pagePhys, offset, size, dir, attrs);
            };
        }
        if (events.active()) {
            events.emitMap(dev, tracepoints, DmaEvent.MapKind.PAGE, dir, addr, size, pagePhys + offset, attrs);
        }
        return addr;
    }

    /**
     * {@code dma_map_single_attrs(dev, ptr, size, dir, attrs)}: maps a kernel virtual address. From 5.18 a
     * vmalloc address is refused with a WARN; before, {@code virt_to_page} of it yields a meaningless page, as in
     * the kernel.
     */
    @KernelFunction(value = "dma_map_single_attrs", inline = true)
    public long mapSingleAttrs(Device dev, long va, long size, Direction dir, long attrs) {
        if (events.active()) {
            events.emit(new DmaEvent.MapSingle(events.stamp(), dev, false, va, size, dir));
        }
        if (kernel.has(Feature.MAP_SINGLE_REJECTS_VMALLOC) && cpu.addressSpace().isVmalloc(va)) {
            kernel.printk()
                    .warnOnce(
                            "dma_map_single_attrs:vmalloc:" + dev.driverString(),
                            "include/linux/dma-mapping.h dma_map_single_attrs",
                            dev.logPrefix() + "rejecting DMA map of vmalloc memory");
            return Bits.U64_MAX;
        }
        long pa = virtToPhysArith(va);
        long page = pa & cpu.addressSpace().pageSize().pageMask();
        return mapPageAttrs(dev, page, pa - page, size, dir, attrs);
    }

    /** {@code virt_to_phys} as the arithmetic the kernel does, valid for linear-map addresses only. */
    private long virtToPhysArith(long va) {
        long pa = cpu.addressSpace().virtToPhys(va);
        if (pa >= 0 && !cpu.addressSpace().isVmalloc(va)) {
            return pa;
        }
        // virt_to_page() of a non-linear address: the same subtraction, giving a bogus page.
        return va - cpu.addressSpace().physToVirt(0);
    }

    /** {@code dma_unmap_page_attrs} (and {@code dma_unmap_single_attrs}, which is the same function). */
    @KernelFunction(value = "dma_unmap_page_attrs", inlineBefore = "5.10")
    public void unmapPageAttrs(Device dev, long addr, long size, Direction dir, long attrs) {
        validDirection(dir);
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_unmap_page_attrs")) {
            case ROUTE_DIRECT -> direct.unmapPage(dev, addr, size, dir, attrs);
            case ROUTE_IOMMU -> iommu().unmapPage(dev, addr, size, dir, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.UNMAP_PAGE);
                if (t.implementsOp(DmaMapOps.Op.UNMAP_PAGE)) {
                    t.unmapPage(dev, addr, size, dir, attrs);
                } else if (kernel.has(Feature.UNCONDITIONAL_UNMAP_PAGE_OP)) {
                    kernel.deref(null, 0); // a call through the NULL ->unmap_page
                }
            }
        }
        if (events.active()) {
            events.emitUnmap(dev, tracepoints, DmaEvent.MapKind.PAGE, dir, addr, size, attrs);
        }
    }

    /** {@code dma_unmap_single_attrs}. */
    @KernelFunction(value = "dma_unmap_single_attrs", inline = true)
    public void unmapSingleAttrs(Device dev, long addr, long size, Direction dir, long attrs) {
        unmapPageAttrs(dev, addr, size, dir, attrs);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Streaming: scatterlists

    /** {@code __dma_map_sg_attrs}: the mapped entry count, or a negative errno (5.10+) / 0 on failure. */
    @KernelFunction(value = "__dma_map_sg_attrs", inlineBefore = "5.10")
    private int mapSgInternal(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        validDirection(dir);
        if (nents < 1 || nents > sg.nents()) {
            throw new IllegalArgumentException("nents " + nents + " outside the list's " + sg.nents() + " entries");
        }
        if (noDmaMask(dev, "__dma_map_sg_attrs")) {
            return 0;
        }
        DmaMapOps ops = getDmaOps(dev);
        int ents =
                switch (routeMap(dev, ops, "dma_map_sg_attrs")) {
                    case ROUTE_DIRECT -> direct.mapSg(dev, sg, nents, dir, attrs);
                    case ROUTE_IOMMU -> iommu().mapSg(dev, sg, nents, dir, attrs);
                    default -> table(ops, DmaMapOps.Op.MAP_SG).mapSg(dev, sg, nents, dir, attrs);
                };
        if (ents > 0) {
            if (events.active()) {
                events.emit(mapSgEvent(dev, sg, nents, ents, dir, attrs));
            }
            return ents;
        }
        if (!sgErrno) {
            if (ents < 0) {
                throw kernel.bug(bugSite); // BUG_ON(ents < 0)
            }
            return 0;
        }
        if (ents != -Errno.EINVAL && ents != -Errno.ENOMEM && ents != -Errno.EIO && ents != -Errno.EREMOTEIO) {
            kernel.printk().warnOnce("__dma_map_sg_attrs:errno", "kernel/dma/mapping.c __dma_map_sg_attrs", null);
            ents = -Errno.EIO;
        }
        if (events.active()) {
            long[] phys = new long[nents];
            for (int i = 0; i < nents; i++) {
                phys[i] = sg.phys(i);
            }
            events.emit(new DmaEvent.MapSgErr(events.stamp(), dev, tracepoints612y, dir, phys, ents, attrs));
        }
        return ents;
    }

    private DmaEvent mapSgEvent(Device dev, ScatterList sg, int nents, int ents, Direction dir, long attrs) {
        long[] phys = new long[nents];
        int[] lengths = new int[nents];
        for (int i = 0; i < nents; i++) {
            phys[i] = sg.phys(i);
            lengths[i] = sg.length(i);
        }
        long[] dma = new long[ents];
        int[] dmaLen = new int[ents];
        for (int i = 0; i < ents; i++) {
            dma[i] = sg.dmaAddress(i);
            dmaLen[i] = sg.dmaLength(i);
        }
        return new DmaEvent.MapSg(
                events.stamp(), dev, tracepoints, dir, nents, ents, phys, lengths, dma, dmaLen, attrs);
    }

    /** {@code dma_map_sg_attrs}: the number of DMA segments, 0 on any failure. */
    @KernelFunction(value = "dma_map_sg_attrs", inlineBefore = "5.10")
    public int mapSgAttrs(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        int ents = mapSgInternal(dev, sg, nents, dir, attrs);
        return Math.max(ents, 0);
    }

    /** {@code dma_map_sgtable}: 0 on success (with {@code sgt->nents} set), or the negative errno (5.10+). */
    @KernelFunction("dma_map_sgtable")
    public int mapSgtable(Device dev, SgTable sgt, Direction dir, long attrs) {
        if (!sgErrno) {
            throw new IllegalStateException("dma_map_sgtable does not exist in " + kernel.version());
        }
        int n = mapSgInternal(dev, sgt.sgl(), sgt.origNents(), dir, attrs);
        if (n < 0) {
            return n;
        }
        sgt.setNents(n);
        return 0;
    }

    /** {@code dma_unmap_sg_attrs}, with the {@code nents} passed to map. Traced before the unmap. */
    @KernelFunction(value = "dma_unmap_sg_attrs", inlineBefore = "5.10")
    public void unmapSgAttrs(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        validDirection(dir);
        if (events.active()) {
            long[] phys = new long[nents];
            for (int i = 0; i < nents; i++) {
                phys[i] = sg.phys(i);
            }
            events.emit(new DmaEvent.UnmapSg(events.stamp(), dev, tracepoints, dir, phys, nents, attrs));
        }
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_unmap_sg_attrs")) {
            case ROUTE_DIRECT -> direct.unmapSg(dev, sg, nents, dir, attrs);
            case ROUTE_IOMMU -> iommu().unmapSg(dev, sg, nents, dir, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.UNMAP_SG);
                if (t.implementsOp(DmaMapOps.Op.UNMAP_SG)) {
                    t.unmapSg(dev, sg, nents, dir, attrs);
                }
            }
        }
    }

    /** {@code dma_unmap_sgtable}. */
    @KernelFunction(value = "dma_unmap_sgtable", inline = true)
    public void unmapSgtable(Device dev, SgTable sgt, Direction dir, long attrs) {
        unmapSgAttrs(dev, sgt.sgl(), sgt.origNents(), dir, attrs);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Resources (MMIO)

    /** {@code dma_map_resource}: maps another device's MMIO for peer DMA. */
    @KernelFunction(value = "dma_map_resource", inlineBefore = "5.10")
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        validDirection(dir);
        boolean ram = pfnValid.test(cpu.addressSpace().pageSize().pfnDown(phys));
        long addr = Bits.U64_MAX;
        DmaMapOps ops = getDmaOps(dev);
        if (kernel.has(Feature.MAP_RESOURCE_BUG_ON_RAM)) {
            if (ram) {
                throw kernel.bug("include/linux/dma-mapping.h"); // BUG_ON(pfn_valid(PHYS_PFN(phys_addr)))
            }
            addr = phys;
            if (routeMap(dev, ops, "dma_map_resource") == ROUTE_OPS) {
                DmaMapOps t = table(ops, DmaMapOps.Op.MAP_RESOURCE);
                if (t.implementsOp(DmaMapOps.Op.MAP_RESOURCE)) {
                    addr = t.mapResource(dev, phys, size, dir, attrs);
                }
            }
        } else if (kernel.has(Feature.MAP_RESOURCE_WARN_ON_RAM) && ram) {
            kernel.printk().warnOnce("dma_map_resource:ram", "kernel/dma/mapping.c dma_map_resource", null);
        } else if (!noDmaMask(dev, "dma_map_resource")) {
            addr = switch (routeMap(dev, ops, "dma_map_resource")) {
                case ROUTE_DIRECT -> direct.mapResource(dev, phys, size, dir, attrs);
                case ROUTE_IOMMU -> iommu().mapResource(dev, phys, size, dir, attrs);
                default -> {
                    DmaMapOps t = table(ops, DmaMapOps.Op.MAP_RESOURCE);
                    yield t.implementsOp(DmaMapOps.Op.MAP_RESOURCE)
                            ? t.mapResource(dev, phys, size, dir, attrs)
                            : Bits.U64_MAX;
                }
            };
        }
        if (events.active()) {
            events.emitMap(dev, tracepoints, DmaEvent.MapKind.RESOURCE, dir, addr, size, phys, attrs);
        }
        return addr;
    }

    /** {@code dma_unmap_resource}. */
    @KernelFunction(value = "dma_unmap_resource", inlineBefore = "5.10")
    public void unmapResource(Device dev, long addr, long size, Direction dir, long attrs) {
        validDirection(dir);
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_unmap_resource")) {
            case ROUTE_DIRECT -> {} // nothing to undo
            case ROUTE_IOMMU -> iommu().unmapResource(dev, addr, size, dir, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.UNMAP_RESOURCE);
                if (t.implementsOp(DmaMapOps.Op.UNMAP_RESOURCE)) {
                    t.unmapResource(dev, addr, size, dir, attrs);
                }
            }
        }
        if (events.active()) {
            events.emitUnmap(dev, tracepoints, DmaEvent.MapKind.RESOURCE, dir, addr, size, attrs);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Syncs

    /** {@code dma_dev_need_sync(dev)} (6.11+): false when syncs are elided for this device. */
    public boolean devNeedSync(Device dev) {
        return !skipSync || !dev.dmaSkipSync() || dmaApiDebug;
    }

    /** {@code dma_sync_single_for_cpu}: the inline wrapper, then {@code __dma_sync_single_for_cpu}. */
    @KernelFunction(value = "dma_sync_single_for_cpu", inline = true)
    public void syncSingleForCpu(Device dev, long addr, long size, Direction dir) {
        if (!devNeedSync(dev)) {
            emitSync(dev, false, true, dir, addr, size);
            return;
        }
        syncSingleForCpuOutOfLine(dev, addr, size, dir);
    }

    @KernelFunction(value = "__dma_sync_single_for_cpu", inlineBefore = "5.10")
    private void syncSingleForCpuOutOfLine(Device dev, long addr, long size, Direction dir) {
        validDirection(dir);
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_sync_single_for_cpu")) {
            case ROUTE_DIRECT -> direct.syncSingleForCpu(dev, addr, size, dir);
            case ROUTE_IOMMU -> iommu().syncSingleForCpu(dev, addr, size, dir);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.SYNC_SINGLE_FOR_CPU);
                if (t.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_CPU)) {
                    t.syncSingleForCpu(dev, addr, size, dir);
                }
            }
        }
        emitSync(dev, tracepoints, true, dir, addr, size);
    }

    /** {@code dma_sync_single_for_device}. */
    @KernelFunction(value = "dma_sync_single_for_device", inline = true)
    public void syncSingleForDevice(Device dev, long addr, long size, Direction dir) {
        if (!devNeedSync(dev)) {
            emitSync(dev, false, false, dir, addr, size);
            return;
        }
        syncSingleForDeviceOutOfLine(dev, addr, size, dir);
    }

    @KernelFunction(value = "__dma_sync_single_for_device", inlineBefore = "5.10")
    private void syncSingleForDeviceOutOfLine(Device dev, long addr, long size, Direction dir) {
        validDirection(dir);
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_sync_single_for_device")) {
            case ROUTE_DIRECT -> direct.syncSingleForDevice(dev, addr, size, dir);
            case ROUTE_IOMMU -> iommu().syncSingleForDevice(dev, addr, size, dir);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE);
                if (t.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE)) {
                    t.syncSingleForDevice(dev, addr, size, dir);
                }
            }
        }
        emitSync(dev, tracepoints, false, dir, addr, size);
    }

    private void emitSync(Device dev, boolean traced, boolean forCpu, Direction dir, long addr, long size) {
        if (events.active()) {
            events.emitSyncSingle(dev, traced, forCpu, dir, addr, size);
        }
    }

    /** {@code dma_sync_sg_for_cpu}. */
    @KernelFunction(value = "dma_sync_sg_for_cpu", inline = true)
    public void syncSgForCpu(Device dev, ScatterList sg, int nelems, Direction dir) {
        if (!devNeedSync(dev)) {
            emitSyncSg(dev, false, true, sg, nelems, dir);
            return;
        }
        syncSgForCpuOutOfLine(dev, sg, nelems, dir);
    }

    @KernelFunction(value = "__dma_sync_sg_for_cpu", inlineBefore = "5.10")
    private void syncSgForCpuOutOfLine(Device dev, ScatterList sg, int nelems, Direction dir) {
        validDirection(dir);
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_sync_sg_for_cpu")) {
            case ROUTE_DIRECT -> direct.syncSgForCpu(dev, sg, nelems, dir);
            case ROUTE_IOMMU -> iommu().syncSgForCpu(dev, sg, nelems, dir);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.SYNC_SG_FOR_CPU);
                if (t.implementsOp(DmaMapOps.Op.SYNC_SG_FOR_CPU)) {
                    t.syncSgForCpu(dev, sg, nelems, dir);
                }
            }
        }
        emitSyncSg(dev, tracepoints, true, sg, nelems, dir);
    }

    /** {@code dma_sync_sg_for_device}. */
    @KernelFunction(value = "dma_sync_sg_for_device", inline = true)
    public void syncSgForDevice(Device dev, ScatterList sg, int nelems, Direction dir) {
        if (!devNeedSync(dev)) {
            emitSyncSg(dev, false, false, sg, nelems, dir);
            return;
        }
        syncSgForDeviceOutOfLine(dev, sg, nelems, dir);
    }

    @KernelFunction(value = "__dma_sync_sg_for_device", inlineBefore = "5.10")
    private void syncSgForDeviceOutOfLine(Device dev, ScatterList sg, int nelems, Direction dir) {
        validDirection(dir);
        DmaMapOps ops = getDmaOps(dev);
        switch (routeMap(dev, ops, "dma_sync_sg_for_device")) {
            case ROUTE_DIRECT -> direct.syncSgForDevice(dev, sg, nelems, dir);
            case ROUTE_IOMMU -> iommu().syncSgForDevice(dev, sg, nelems, dir);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.SYNC_SG_FOR_DEVICE);
                if (t.implementsOp(DmaMapOps.Op.SYNC_SG_FOR_DEVICE)) {
                    t.syncSgForDevice(dev, sg, nelems, dir);
                }
            }
        }
        emitSyncSg(dev, tracepoints, false, sg, nelems, dir);
    }

    private void emitSyncSg(Device dev, boolean traced, boolean forCpu, ScatterList sg, int nelems, Direction dir) {
        if (events.active()) {
            long[] dma = new long[nelems];
            int[] len = new int[nelems];
            for (int i = 0; i < nelems; i++) {
                dma[i] = sg.dmaAddress(i);
                len[i] = sg.dmaLength(i);
            }
            events.emit(new DmaEvent.SyncSg(events.stamp(), dev, traced, forCpu, dir, dma, len));
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Coherent allocations

    /**
     * {@code dma_alloc_attrs}: returns the CPU address (0 = NULL) and stores the bus address in {@code
     * dmaHandle[0]}.
     */
    @KernelFunction(value = "dma_alloc_attrs", inlineBefore = "5.0-rc1")
    public long allocAttrs(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        if (!bypass && getDmaOps(dev) == null) {
            throw kernel.bug("include/linux/dma-mapping.h"); // 4.20's inline dma_alloc_attrs: BUG_ON(!ops)
        }
        if (dev.coherentDmaMask() == 0) {
            kernel.printk().warnOnce("dma_alloc_attrs:no_mask", "kernel/dma/mapping.c dma_alloc_attrs", null);
        }
        if (kernel.has(Feature.ALLOC_REJECTS_GFP_COMP) && (gfp & Gfp.COMP) != 0) {
            kernel.printk().warnOnce("dma_alloc_attrs:comp", "kernel/dma/mapping.c dma_alloc_attrs", null);
            return 0;
        }
        DmaCoherentMem pool = dev.dmaMem();
        if (pool != null) {
            long ret = allocFromDevCoherent(dev, pool, size, dmaHandle);
            emitAlloc(
                    dev,
                    tracepoints612y,
                    DmaEvent.AllocKind.COHERENT,
                    Direction.BIDIRECTIONAL,
                    dmaHandle,
                    size,
                    ret,
                    gfp,
                    attrs);
            return ret;
        }
        gfp &= ~Gfp.ZONE_MASK;
        DmaMapOps ops = getDmaOps(dev);
        long ret;
        boolean traced = tracepoints;
        switch (routeAlloc(dev, ops, "dma_alloc_attrs")) {
            case ROUTE_DIRECT -> ret = direct.alloc(dev, size, dmaHandle, gfp, attrs);
            case ROUTE_IOMMU -> ret = iommu().alloc(dev, size, dmaHandle, gfp, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.ALLOC);
                if (t.implementsOp(DmaMapOps.Op.ALLOC)) {
                    ret = t.alloc(dev, size, dmaHandle, gfp, attrs);
                } else {
                    ret = 0;
                    traced = tracepoints612y;
                }
            }
        }
        emitAlloc(dev, traced, DmaEvent.AllocKind.COHERENT, Direction.BIDIRECTIONAL, dmaHandle, size, ret, gfp, attrs);
        return ret;
    }

    @KernelFunction("dma_alloc_from_dev_coherent")
    private long allocFromDevCoherent(Device dev, DmaCoherentMem pool, long size, long[] dmaHandle) {
        int pageno = pool.allocPages(size);
        if (pageno < 0) {
            dmaHandle[0] = 0;
            return 0;
        }
        long off = (long) pageno << cpu.addressSpace().pageSize().shift();
        long base = pool.useDevDmaPfnOffset() ? DmaAddress.physToDma(dev, pool.physBase()) : pool.deviceBase();
        dmaHandle[0] = base + off;
        long va = pool.virtBase() + off;
        cpu.memset(va, (byte) 0, size);
        return va;
    }

    private void emitAlloc(
            Device dev,
            boolean traced,
            DmaEvent.AllocKind kind,
            Direction dir,
            long[] dmaHandle,
            long size,
            long cpuAddr,
            int gfp,
            long attrs) {
        if (events.active()) {
            long phys = cpuAddr == 0 ? 0 : Math.max(-1, cpu.addressSpace().virtToPhys(cpuAddr));
            events.emit(new DmaEvent.Alloc(
                    events.stamp(),
                    dev,
                    traced,
                    kind,
                    dir,
                    cpuAddr == 0 ? 0 : dmaHandle[0],
                    size,
                    cpuAddr,
                    phys,
                    gfp,
                    attrs));
        }
    }

    /** {@code dma_alloc_coherent}: {@code dma_alloc_attrs} with NO_WARN when the gfp has {@code __GFP_NOWARN}. */
    @KernelFunction(value = "dma_alloc_coherent", inline = true)
    public long allocCoherent(Device dev, long size, long[] dmaHandle, int gfp) {
        return allocAttrs(dev, size, dmaHandle, gfp, (gfp & Gfp.NOWARN) != 0 ? DmaAttrs.NO_WARN : 0);
    }

    /** {@code dma_free_attrs}. */
    @KernelFunction(value = "dma_free_attrs", inlineBefore = "5.0-rc1")
    public void freeAttrs(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        if (!bypass && getDmaOps(dev) == null) {
            throw kernel.bug("include/linux/dma-mapping.h"); // 4.20's inline dma_free_attrs: BUG_ON(!ops)
        }
        DmaCoherentMem pool = dev.dmaMem();
        if (pool != null && cpuAddr != 0 && pool.containsVirt(cpuAddr)) {
            int pageno = (int) ((cpuAddr - pool.virtBase())
                    >>> cpu.addressSpace().pageSize().shift());
            pool.releasePages(pageno, size);
            return;
        }
        if (kernel.context().flags().charAt(0) == 'd') {
            kernel.printk().warnAt("kernel/dma/mapping.c dma_free_attrs", null); // WARN_ON(irqs_disabled())
        }
        if (tracepoints612y || cpuAddr != 0) {
            emitFree(
                    dev,
                    tracepoints,
                    DmaEvent.AllocKind.COHERENT,
                    Direction.BIDIRECTIONAL,
                    dmaHandle,
                    size,
                    cpuAddr,
                    attrs);
        }
        if (cpuAddr == 0) {
            return;
        }
        DmaMapOps ops = getDmaOps(dev);
        switch (routeAlloc(dev, ops, "dma_free_attrs")) {
            case ROUTE_DIRECT -> direct.free(dev, size, cpuAddr, dmaHandle, attrs);
            case ROUTE_IOMMU -> iommu().free(dev, size, cpuAddr, dmaHandle, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.FREE);
                if (t.implementsOp(DmaMapOps.Op.FREE)) {
                    t.free(dev, size, cpuAddr, dmaHandle, attrs);
                }
            }
        }
    }

    private void emitFree(
            Device dev,
            boolean traced,
            DmaEvent.AllocKind kind,
            Direction dir,
            long dmaHandle,
            long size,
            long cpuAddr,
            long attrs) {
        if (events.active()) {
            events.emit(new DmaEvent.Free(events.stamp(), dev, traced, kind, dir, dmaHandle, size, cpuAddr, attrs));
        }
    }

    /** {@code dma_free_coherent}. */
    @KernelFunction(value = "dma_free_coherent", inline = true)
    public void freeCoherent(Device dev, long size, long cpuAddr, long dmaHandle) {
        freeAttrs(dev, size, cpuAddr, dmaHandle, 0);
    }

    /** {@code dmam_alloc_attrs}: a coherent allocation released automatically when the driver detaches. */
    @KernelFunction("dmam_alloc_attrs")
    public long dmamAllocAttrs(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        long va = allocAttrs(dev, size, dmaHandle, gfp, attrs);
        if (va != 0) {
            devres.add(dev, new Devres.Record(size, va, dmaHandle[0], attrs));
        }
        return va;
    }

    /** {@code dmam_alloc_coherent}. */
    @KernelFunction(value = "dmam_alloc_coherent", inline = true)
    public long dmamAllocCoherent(Device dev, long size, long[] dmaHandle, int gfp) {
        return dmamAllocAttrs(dev, size, dmaHandle, gfp, (gfp & Gfp.NOWARN) != 0 ? DmaAttrs.NO_WARN : 0);
    }

    /** {@code dmam_free_coherent}: destroys the record (WARN if none, or size/handle differ), then frees. */
    @KernelFunction("dmam_free_coherent")
    public void dmamFreeCoherent(Device dev, long size, long vaddr, long dmaHandle) {
        Devres.Record r = devres.remove(dev, vaddr);
        if (r == null) {
            kernel.printk().warnAt("kernel/dma/mapping.c dmam_free_coherent", null); // WARN_ON(devres_destroy(...))
        } else if (r.size() != size || r.dmaHandle() != dmaHandle) {
            kernel.printk().warnAt("kernel/dma/mapping.c dmam_match", null); // WARN_ON(size or handle differ)
        }
        freeCoherent(dev, size, vaddr, dmaHandle);
    }

    /**
     * {@code devres_release_all(dev)} for the DMA records: what the driver core does when a driver detaches —
     * every remaining managed allocation is freed, newest first.
     *
     * @return the number of allocations released
     */
    @KernelFunction("devres_release_all")
    public int devresReleaseAll(Device dev) {
        int n = 0;
        for (Devres.Record r : devres.drain(dev)) {
            freeAttrs(dev, r.size(), r.vaddr(), r.dmaHandle(), r.attrs());
            n++;
        }
        return n;
    }

    /** {@code dma_alloc_pages}: returns the page's physical address, or -1 (NULL). */
    @KernelFunction("dma_alloc_pages")
    public long allocPages(Device dev, long size, long[] dmaHandle, Direction dir, int gfp) {
        if (!kernel.has(Feature.DMA_ALLOC_PAGES)) {
            throw new IllegalStateException("dma_alloc_pages does not exist in " + kernel.version());
        }
        Printk log = kernel.printk();
        if (dev.coherentDmaMask() == 0) {
            log.warnOnce("__dma_alloc_pages:no_mask", "kernel/dma/mapping.c __dma_alloc_pages", null);
            return -1;
        }
        if ((gfp & Gfp.ZONE_MASK) != 0) {
            log.warnOnce("__dma_alloc_pages:zone", "kernel/dma/mapping.c __dma_alloc_pages", null);
            return -1;
        }
        if (kernel.has(Feature.ALLOC_REJECTS_GFP_COMP) && (gfp & Gfp.COMP) != 0) {
            log.warnOnce("__dma_alloc_pages:comp", "kernel/dma/mapping.c __dma_alloc_pages", null);
            return -1;
        }
        long pageSize = cpu.addressSpace().pageSize().bytes();
        size = Bits.alignUp(size, pageSize);
        DmaMapOps ops = getDmaOps(dev);
        long page =
                switch (routeAlloc(dev, ops, "dma_alloc_pages")) {
                    case ROUTE_DIRECT -> direct.allocPages(dev, size, dmaHandle, dir, gfp);
                    case ROUTE_IOMMU -> iommu().allocPages(dev, size, dmaHandle, dir, gfp);
                    default -> {
                        DmaMapOps t = table(ops, DmaMapOps.Op.ALLOC_PAGES);
                        yield t.implementsOp(DmaMapOps.Op.ALLOC_PAGES)
                                ? t.allocPages(dev, size, dmaHandle, dir, gfp)
                                : -1;
                    }
                };
        if (page >= 0 && events.active()) {
            if (tracepoints612y) {
                events.emit(new DmaEvent.Alloc(
                        events.stamp(),
                        dev,
                        true,
                        DmaEvent.AllocKind.PAGES,
                        dir,
                        dmaHandle[0],
                        size,
                        cpu.addressSpace().physToVirt(page),
                        page,
                        gfp,
                        0));
            } else {
                events.emitMap(dev, tracepoints, DmaEvent.MapKind.PAGE, dir, dmaHandle[0], size, page, 0);
            }
        }
        return page;
    }

    /** {@code dma_free_pages}. */
    @KernelFunction("dma_free_pages")
    public void freePages(Device dev, long size, long pagePhys, long dmaHandle, Direction dir) {
        size = Bits.alignUp(size, cpu.addressSpace().pageSize().bytes());
        if (events.active()) {
            if (tracepoints612y) {
                events.emit(new DmaEvent.Free(
                        events.stamp(),
                        dev,
                        true,
                        DmaEvent.AllocKind.PAGES,
                        dir,
                        dmaHandle,
                        size,
                        cpu.addressSpace().physToVirt(pagePhys),
                        0));
            } else {
                events.emitUnmap(dev, tracepoints, DmaEvent.MapKind.PAGE, dir, dmaHandle, size, 0);
            }
        }
        DmaMapOps ops = getDmaOps(dev);
        switch (routeAlloc(dev, ops, "dma_free_pages")) {
            case ROUTE_DIRECT -> direct.freePages(dev, size, pagePhys, dmaHandle, dir);
            case ROUTE_IOMMU -> iommu().freePages(dev, size, pagePhys, dmaHandle, dir);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.FREE_PAGES);
                if (t.implementsOp(DmaMapOps.Op.FREE_PAGES)) {
                    t.freePages(dev, size, pagePhys, dmaHandle, dir);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Masks and capabilities

    /** {@code dma_supported(dev, mask)} (exported before 6.x, static in 6.12). */
    @KernelFunction("dma_supported")
    public boolean dmaSupported(Device dev, long mask) {
        DmaMapOps ops = getDmaOps(dev);
        if (iommuDirectCalls && dev.dmaIommu()) {
            if (ops != null) {
                kernel.printk().warnAt("kernel/dma/mapping.c dma_supported", null); // WARN_ON(ops)
                return false;
            }
            return true;
        }
        // Not dma_go_direct(): an ops table is always asked, even one whose device may bypass it (->dma_supported
        // is what sets and clears dma_ops_bypass).
        if (bypass && ops == null) {
            return direct.dmaSupported(dev, mask) != 0;
        }
        if (!bypass && ops == null) {
            return false; // 4.20: !ops -> 0
        }
        if (kernel.has(Feature.DMA_SUPPORTED_INVERTED)) {
            if (ops.implementsOp(DmaMapOps.Op.DMA_SUPPORTED)) {
                return true;
            }
            kernel.deref(null, 0); // calls the NULL ->dma_supported
        }
        return !ops.implementsOp(DmaMapOps.Op.DMA_SUPPORTED) || ops.dmaSupported(dev, mask) != 0;
    }

    /** {@code dma_set_mask}: 0, or -EIO if the device has no mask pointer or cannot use {@code mask}. */
    @KernelFunction("dma_set_mask")
    public int setMask(Device dev, long mask) {
        if (!dev.hasDmaMask() || !dmaSupported(dev, mask)) {
            return -Errno.EIO;
        }
        dev.setDmaMask(mask);
        if (skipSync) {
            setupNeedSync(dev);
        }
        return 0;
    }

    /** {@code dma_setup_need_sync} (6.11+): decides {@code dma_skip_sync} after a successful {@code dma_set_mask}. */
    private void setupNeedSync(Device dev) {
        DmaMapOps ops = getDmaOps(dev);
        int route = routeMap(dev, ops, "dma_set_mask");
        if (route == ROUTE_DIRECT || route == ROUTE_IOMMU) {
            dev.setDmaSkipSync(dev.dmaCoherent());
        } else {
            boolean noHooks = !ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_CPU)
                    && !ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE)
                    && !ops.implementsOp(DmaMapOps.Op.SYNC_SG_FOR_CPU)
                    && !ops.implementsOp(DmaMapOps.Op.SYNC_SG_FOR_DEVICE);
            dev.setDmaSkipSync(noHooks);
        }
    }

    /** {@code dma_set_coherent_mask}. */
    @KernelFunction("dma_set_coherent_mask")
    public int setCoherentMask(Device dev, long mask) {
        if (!dmaSupported(dev, mask)) {
            return -Errno.EIO;
        }
        dev.setCoherentDmaMask(mask);
        return 0;
    }

    /** {@code dma_set_mask_and_coherent}. */
    @KernelFunction(value = "dma_set_mask_and_coherent", inline = true)
    public int setMaskAndCoherent(Device dev, long mask) {
        int rc = setMask(dev, mask);
        return rc == 0 ? setCoherentMask(dev, mask) : rc;
    }

    /** {@code dma_get_mask}: {@code *dma_mask} if set, else 32 bits. */
    public long getMask(Device dev) {
        return dev.hasDmaMask() && dev.dmaMask() != 0 ? dev.dmaMask() : Bits.dmaBitMask(32);
    }

    /** {@code dma_get_required_mask}. */
    @KernelFunction("dma_get_required_mask")
    public long getRequiredMask(Device dev) {
        DmaMapOps ops = getDmaOps(dev);
        int route = routeAlloc(dev, ops, "dma_get_required_mask");
        if (route == ROUTE_DIRECT || (route == ROUTE_OPS && ops == null)) {
            return direct.getRequiredMask(dev);
        }
        if (route == ROUTE_IOMMU) {
            return Bits.dmaBitMask(32);
        }
        if (ops.implementsOp(DmaMapOps.Op.GET_REQUIRED_MASK)) {
            return ops.getRequiredMask(dev);
        }
        return Bits.dmaBitMask(32);
    }

    /** {@code dma_addressing_limited}: the device cannot reach all RAM without bouncing. */
    @KernelFunction("dma_addressing_limited")
    public boolean addressingLimited(Device dev) {
        if (Bits.ult(Bits.minNotZero(getMask(dev), dev.busDmaLimit()), getRequiredMask(dev))) {
            return true;
        }
        DmaMapOps ops = getDmaOps(dev);
        if (ops != null || (iommuDirectCalls && dev.dmaIommu())) {
            return false;
        }
        return !direct.allRamMapped(dev);
    }

    /** {@code dma_max_mapping_size}: SIZE_MAX (all ones) when unlimited. */
    @KernelFunction("dma_max_mapping_size")
    public long maxMappingSize(Device dev) {
        if (!kernel.has(Feature.MAX_MAPPING_SIZE)) {
            return Bits.U64_MAX;
        }
        DmaMapOps ops = getDmaOps(dev);
        return switch (routeMap(dev, ops, "dma_max_mapping_size")) {
            case ROUTE_DIRECT -> direct.maxMappingSize(dev);
            case ROUTE_IOMMU -> iommu().maxMappingSize(dev);
            default -> ops != null && ops.implementsOp(DmaMapOps.Op.MAX_MAPPING_SIZE)
                    ? ops.maxMappingSize(dev)
                    : Bits.U64_MAX;
        };
    }

    /** {@code dma_need_sync(dev, dma_addr)}: whether syncs on this mapping do anything. */
    @KernelFunction("dma_need_sync")
    public boolean needSync(Device dev, long addr) {
        if (skipSync && !devNeedSync(dev)) {
            return false;
        }
        DmaMapOps ops = getDmaOps(dev);
        int route = routeMap(dev, ops, "dma_need_sync");
        if (route == ROUTE_DIRECT) {
            return direct.needSync(dev, addr);
        }
        if (skipSync || route == ROUTE_IOMMU) {
            return true;
        }
        return ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_CPU)
                || ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE);
    }

    /**
     * {@code dma_mapping_error(dev, dma_addr)}: -ENOMEM if {@code addr} is the error cookie, else 0. Up to 4.20
     * the table's {@code ->mapping_error} decides (a table without it can never report failure).
     */
    @KernelFunction(value = "dma_mapping_error", inline = true)
    public int mappingError(Device dev, long addr) {
        if (events.active()) {
            events.emitMappingErrorCheck(dev, addr);
        }
        if (!hasMappingErrorOp) {
            return addr == Bits.U64_MAX ? -Errno.ENOMEM : 0;
        }
        DmaMapOps ops = table(getDmaOps(dev), DmaMapOps.Op.MAPPING_ERROR);
        if (ops.implementsOp(DmaMapOps.Op.MAPPING_ERROR)) {
            return ops.mappingError(dev, addr) ? -Errno.ENOMEM : 0;
        }
        return 0;
    }

    /** {@code dma_mmap_attrs}: maps a coherent buffer into a user vma; 0 or a negative errno. */
    @KernelFunction("dma_mmap_attrs")
    public int mmapAttrs(Device dev, Vma vma, long cpuAddr, long dmaAddr, long size, long attrs) {
        DmaMapOps ops = getDmaOps(dev);
        return switch (routeAlloc(dev, ops, "dma_mmap_attrs")) {
            case ROUTE_DIRECT -> direct.mmap(dev, vma, cpuAddr, dmaAddr, size, attrs);
            case ROUTE_IOMMU -> iommu().mmap(dev, vma, cpuAddr, dmaAddr, size, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.MMAP);
                if (t.implementsOp(DmaMapOps.Op.MMAP)) {
                    yield t.mmap(dev, vma, cpuAddr, dmaAddr, size, attrs);
                }
                // 5.0 falls back to dma_common_mmap, the same as dma-direct's; 6.x returns -ENXIO.
                yield kernel.has(Feature.DMA_RANGE_MAP)
                        ? -Errno.ENXIO
                        : direct.mmap(dev, vma, cpuAddr, dmaAddr, size, attrs);
            }
        };
    }

    /** {@code dma_get_sgtable_attrs}: describes a coherent buffer as a one-entry table; 0 or a negative errno. */
    @KernelFunction("dma_get_sgtable_attrs")
    public int getSgtableAttrs(Device dev, SgTable sgt, long cpuAddr, long dmaAddr, long size, long attrs) {
        DmaMapOps ops = getDmaOps(dev);
        return switch (routeAlloc(dev, ops, "dma_get_sgtable_attrs")) {
            case ROUTE_DIRECT -> direct.getSgtable(dev, sgt, cpuAddr, dmaAddr, size, attrs);
            case ROUTE_IOMMU -> iommu().getSgtable(dev, sgt, cpuAddr, dmaAddr, size, attrs);
            default -> {
                DmaMapOps t = table(ops, DmaMapOps.Op.GET_SGTABLE);
                if (t.implementsOp(DmaMapOps.Op.GET_SGTABLE)) {
                    yield t.getSgtable(dev, sgt, cpuAddr, dmaAddr, size, attrs);
                }
                yield kernel.has(Feature.DMA_RANGE_MAP)
                        ? -Errno.ENXIO
                        : direct.getSgtable(dev, sgt, cpuAddr, dmaAddr, size, attrs);
            }
        };
    }

    /**
     * {@code BUS_NOTIFY_UNBOUND_DRIVER} as the DMA layer hears it: the driver core calls this after a driver's
     * {@code ->remove} and the release of its managed resources.
     */
    public void driverUnbound(Device dev, String driverName) {
        if (events.active()) {
            events.emit(new DmaEvent.DriverUnbound(events.stamp(), dev, false, driverName));
        }
    }

    /** Writes a {@code tracing_mark_write} marker (what a workload writes to {@code trace_marker}). */
    public void mark(String text) {
        if (events.active()) {
            events.emit(new DmaEvent.Marker(events.stamp(), null, true, text));
        }
    }
}
