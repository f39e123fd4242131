package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelAddressSpace;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.Zone;
import dev.dmalab.util.Bits;

/**
 * {@code arch/x86/include/asm/xen/page-coherent.h} (≤ 5.18): the native allocator is {@code __get_free_pages} with
 * the physical address as the handle; x86 DMA is coherent, so the map, unmap and sync hooks do nothing.
 */
public final class X86PageCoherent implements PageCoherent {
    private final PageAllocator pages;
    private final KernelAddressSpace addressSpace;
    private final int pageShift;

    public X86PageCoherent(PageAllocator pages, KernelAddressSpace addressSpace) {
        this.pages = pages;
        this.addressSpace = addressSpace;
        this.pageShift = addressSpace.pageSize().shift();
    }

    @Override
    public String state() {
        return "x86 (__get_free_pages, no cache maintenance)";
    }

    /** {@code __get_free_pages(gfp, order)}: the CPU address, or 0. */
    static long getFreePages(PageAllocator pages, KernelAddressSpace as, int gfp, int order) {
        Zone zone = (gfp & Gfp.DMA) != 0 ? Zone.DMA : (gfp & Gfp.DMA32) != 0 ? Zone.DMA32 : Zone.NORMAL;
        long pfn = pages.alloc(order, zone, false);
        return pfn < 0 ? 0 : as.physToVirt(pfn << as.pageSize().shift());
    }

    @Override
    @KernelFunction(value = "xen_alloc_coherent_pages", inline = true)
    public long allocCoherentPages(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        long va = getFreePages(pages, addressSpace, gfp, Bits.getOrder(size, pageShift));
        dmaHandle[0] = va == 0 ? 0 : addressSpace.virtToPhys(va);
        return va;
    }

    @Override
    @KernelFunction(value = "xen_free_coherent_pages", inline = true)
    public void freeCoherentPages(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        pages.free(addressSpace.virtToPhys(cpuAddr) >>> pageShift, Bits.getOrder(size, pageShift));
    }

    @Override
    public void dmaMapPage(
            Device dev, long pagePhys, long devAddr, long offset, long size, Direction dir, long attrs) {}

    @Override
    public void dmaUnmapPage(Device dev, long handle, long size, Direction dir, long attrs) {}

    @Override
    public void dmaSyncSingleForCpu(Device dev, long handle, long size, Direction dir) {}

    @Override
    public void dmaSyncSingleForDevice(Device dev, long handle, long size, Direction dir) {}
}
