package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.device.DmaOps;
import dev.dmalab.dma.ArchDmaOps;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.PageAllocator;

/**
 * States (a)/(b) of spec §7.8: the shared {@code include/xen/arm/page-coherent.h} of 4.x–5.0-rc2 (arm and arm64),
 * kept by arm32 in its own header until 5.3. Every hook looks up the device's "native" ops with {@code
 * xen_get_dma_ops(dev)}: {@code dev->archdata.dev_dma_ops} if set, else {@code get_arch_dma_ops(NULL)}.
 *
 * <ul>
 *   <li>alloc/free call {@code ->alloc}/{@code ->free} of that table unconditionally;
 *   <li>map: the page is local iff the bus frame lies within the page's own Xen frames (the compound-page test);
 *       local → {@code ->map_page} (for its cache maintenance), foreign → {@code __xen_dma_map_page};
 *   <li>unmap and syncs: local iff {@code pfn_valid(PFN_DOWN(handle))}; local → the callback if the table has one,
 *       foreign → the hypercall variant.
 * </ul>
 *
 * On arm64 5.0-rc1/rc2 {@code archdata.dev_dma_ops} holds the NULL that {@code arch_setup_dma_ops} saved (dma-direct
 * devices have no ops any more) and {@code get_arch_dma_ops} is NULL too, so the first call reads a member of a NULL
 * table: the Oops in {@code xen_swiotlb_alloc_coherent} of the seed report.
 */
public final class NativeOpsPageCoherent implements PageCoherent {
    private final Kernel kernel;
    private final ArchDmaOps arch;
    private final XenMm mm;
    private final PageAllocator pages;
    private final int pageShift;
    private final boolean hasMappingErrorMember;

    /**
     * @param hasMappingErrorMember whether the version's {@code struct dma_map_ops} still has {@code
     *     ->mapping_error} (≤ 4.20), which moves the later members
     */
    public NativeOpsPageCoherent(
            Kernel kernel,
            ArchDmaOps arch,
            XenMm mm,
            PageAllocator pages,
            int pageShift,
            boolean hasMappingErrorMember) {
        this.kernel = kernel;
        this.arch = arch;
        this.mm = mm;
        this.pages = pages;
        this.pageShift = pageShift;
        this.hasMappingErrorMember = hasMappingErrorMember;
    }

    @Override
    public String state() {
        return "native ops (xen_get_dma_ops: archdata.dev_dma_ops, else get_arch_dma_ops(NULL))";
    }

    /** {@code xen_get_dma_ops(dev)}. */
    @KernelFunction(value = "xen_get_dma_ops", inline = true)
    public DmaMapOps xenGetDmaOps(Device dev) {
        DmaOps saved = dev == null ? null : dev.archdataDevDmaOps();
        DmaMapOps ops = saved != null ? (DmaMapOps) saved : arch.get(null);
        if (kernel.paths().enabled()) {
            DmaMapOps fallback = arch.get(null);
            kernel.paths()
                    .note("xen_get_dma_ops: archdata.dev_dma_ops = " + (saved == null ? "NULL" : saved.symbol())
                            + (saved == null
                                    ? ", get_arch_dma_ops(NULL) = " + (fallback == null ? "NULL" : fallback.symbol())
                                    : ""));
        }
        return ops;
    }

    /**
     * What {@code xen_get_dma_ops(dev)} finds, for explanations: the saved table, or NULL and the arch fallback.
     */
    public String describeNativeOps(Device dev) {
        DmaOps saved = dev.archdataDevDmaOps();
        if (saved != null) {
            return saved.symbol() + " (archdata.dev_dma_ops)";
        }
        DmaMapOps fallback = arch.get(null);
        return (fallback == null ? "NULL" : fallback.symbol())
                + " (archdata.dev_dma_ops is NULL; get_arch_dma_ops(NULL) = "
                + (fallback == null ? "NULL" : fallback.symbol()) + ")";
    }

    /** A call through the native table: reading member {@code op} of a NULL table faults at its offset. */
    private DmaMapOps table(Device dev, DmaMapOps.Op op) {
        return kernel.deref(
                xenGetDmaOps(dev),
                DmaMapOps.memberOffset(op, hasMappingErrorMember, kernel.arch().pointerBits() / 8));
    }

    @Override
    @KernelFunction(value = "xen_alloc_coherent_pages", inline = true)
    public long allocCoherentPages(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        return table(dev, DmaMapOps.Op.ALLOC).alloc(dev, size, dmaHandle, gfp, attrs);
    }

    @Override
    @KernelFunction(value = "xen_free_coherent_pages", inline = true)
    public void freeCoherentPages(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        table(dev, DmaMapOps.Op.FREE).free(dev, size, cpuAddr, dmaHandle, attrs);
    }

    @Override
    @KernelFunction(value = "xen_dma_map_page", inline = true)
    public void dmaMapPage(Device dev, long pagePhys, long devAddr, long offset, long size, Direction dir, long attrs) {
        boolean local = PageCoherent.localByCompound(pages, pageShift, pagePhys, devAddr);
        mm.noteLocality(local, "->map_page of the native ops");
        if (local) {
            table(dev, DmaMapOps.Op.MAP_PAGE).mapPage(dev, pagePhys, offset, size, dir, attrs);
        } else {
            mm.foreignMapPage50(dev, devAddr, size, dir, attrs);
        }
    }

    @Override
    @KernelFunction(value = "xen_dma_unmap_page", inline = true)
    public void dmaUnmapPage(Device dev, long handle, long size, Direction dir, long attrs) {
        if (mm.pfnValidAddr(handle)) {
            DmaMapOps ops = table(dev, DmaMapOps.Op.UNMAP_PAGE);
            if (ops.implementsOp(DmaMapOps.Op.UNMAP_PAGE)) {
                ops.unmapPage(dev, handle, size, dir, attrs);
            }
        } else {
            mm.foreignUnmapPage50(dev, handle, size, dir, attrs);
        }
    }

    @Override
    @KernelFunction(value = "xen_dma_sync_single_for_cpu", inline = true)
    public void dmaSyncSingleForCpu(Device dev, long handle, long size, Direction dir) {
        if (mm.pfnValidAddr(handle)) {
            DmaMapOps ops = table(dev, DmaMapOps.Op.SYNC_SINGLE_FOR_CPU);
            if (ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_CPU)) {
                ops.syncSingleForCpu(dev, handle, size, dir);
            }
        } else {
            mm.foreignSyncForCpu50(dev, handle, size, dir);
        }
    }

    @Override
    @KernelFunction(value = "xen_dma_sync_single_for_device", inline = true)
    public void dmaSyncSingleForDevice(Device dev, long handle, long size, Direction dir) {
        if (mm.pfnValidAddr(handle)) {
            DmaMapOps ops = table(dev, DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE);
            if (ops.implementsOp(DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE)) {
                ops.syncSingleForDevice(dev, handle, size, dir);
            }
        } else {
            mm.foreignSyncForDevice50(dev, handle, size, dir);
        }
    }
}
