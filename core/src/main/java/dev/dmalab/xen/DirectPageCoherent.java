package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.direct.DmaDirect;
import dev.dmalab.dma.Direction;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.PageAllocator;

/**
 * State (c) of spec §7.8 — arm64's own {@code asm/xen/page-coherent.h} after 60d8cd572f65 (5.0 … 5.3): the native
 * allocator and the cache maintenance of local pages are {@code dma_direct_*} called directly; foreign pages use the
 * hypercall variants. The local test is the compound-page frame test on map and {@code pfn_valid(PFN_DOWN(handle))}
 * on unmap and sync, as before the fix.
 *
 * <p>From 5.4 (state d) the consolidated header keeps only the allocator ({@code dma_direct_alloc} / {@code
 * dma_direct_free}); swiotlb-xen then does its cache maintenance through {@link XenMm} and never calls the map hooks
 * of this class.
 *
 * <p>Note, modelled as the code reads: {@code dma_direct_map_page} and {@code dma_direct_unmap_page} are called for
 * their cache maintenance, but in 5.0–5.3 they also bounce (under {@code swiotlb=force} or for an address the device
 * cannot reach) and unmap swiotlb buffers, on top of swiotlb-xen's own bounce.
 */
public final class DirectPageCoherent implements PageCoherent {
    private final DmaDirect direct;
    private final XenMm mm;
    private final PageAllocator pages;
    private final int pageShift;

    public DirectPageCoherent(DmaDirect direct, XenMm mm, PageAllocator pages, int pageShift) {
        this.direct = direct;
        this.mm = mm;
        this.pages = pages;
        this.pageShift = pageShift;
    }

    @Override
    public String state() {
        return "dma-direct (arm64 page-coherent.h of 60d8cd572f65)";
    }

    @Override
    @KernelFunction(value = "xen_alloc_coherent_pages", inline = true)
    public long allocCoherentPages(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        return direct.alloc(dev, size, dmaHandle, gfp, attrs);
    }

    @Override
    @KernelFunction(value = "xen_free_coherent_pages", inline = true)
    public void freeCoherentPages(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        direct.free(dev, size, cpuAddr, dmaHandle, attrs);
    }

    @Override
    @KernelFunction(value = "xen_dma_map_page", inline = true)
    public void dmaMapPage(Device dev, long pagePhys, long devAddr, long offset, long size, Direction dir, long attrs) {
        boolean local = PageCoherent.localByCompound(pages, pageShift, pagePhys, devAddr);
        mm.noteLocality(local, "dma_direct_map_page");
        if (local) {
            direct.mapPage(dev, pagePhys, offset, size, dir, attrs);
        } else {
            mm.foreignMapPage50(dev, devAddr, size, dir, attrs);
        }
    }

    @Override
    @KernelFunction(value = "xen_dma_unmap_page", inline = true)
    public void dmaUnmapPage(Device dev, long handle, long size, Direction dir, long attrs) {
        if (mm.pfnValidAddr(handle)) {
            direct.unmapPage(dev, handle, size, dir, attrs);
        } else {
            mm.foreignUnmapPage50(dev, handle, size, dir, attrs);
        }
    }

    @Override
    @KernelFunction(value = "xen_dma_sync_single_for_cpu", inline = true)
    public void dmaSyncSingleForCpu(Device dev, long handle, long size, Direction dir) {
        if (mm.pfnValidAddr(handle)) {
            direct.syncSingleForCpu(dev, handle, size, dir);
        } else {
            mm.foreignSyncForCpu50(dev, handle, size, dir);
        }
    }

    @Override
    @KernelFunction(value = "xen_dma_sync_single_for_device", inline = true)
    public void dmaSyncSingleForDevice(Device dev, long handle, long size, Direction dir) {
        if (mm.pfnValidAddr(handle)) {
            direct.syncSingleForDevice(dev, handle, size, dir);
        } else {
            mm.foreignSyncForDevice50(dev, handle, size, dir);
        }
    }
}
