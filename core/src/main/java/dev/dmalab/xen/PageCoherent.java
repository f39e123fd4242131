package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;

/**
 * The page-coherent hooks swiotlb-xen calls (spec §7.8): the "native" coherent allocator and the cache maintenance
 * of a mapped page, local or foreign. Their implementation is what changed across the seed regression:
 *
 * <ul>
 *   <li>{@link NativeOpsPageCoherent}, states (a) and (b): the device's saved native {@code dma_map_ops}
 *       ({@code archdata.dev_dma_ops}, else {@code get_arch_dma_ops(NULL)}) — arm and arm64 up to 5.0-rc2, arm32
 *       up to 5.3. On arm64 from 5.0-rc1 both are NULL: the seed's Oops.
 *   <li>{@link DirectPageCoherent}, state (c): arm64 5.0–5.3 calls {@code dma_direct_*} itself; from 5.4 (state d)
 *       only the allocator is left here and swiotlb-xen does the cache maintenance ({@link XenMm}).
 *   <li>{@link X86PageCoherent}: x86 allocates from the page allocator and needs no cache maintenance.
 * </ul>
 */
public interface PageCoherent {
    /**
     * The ≤ 5.3 map hook's local test: the bus frame lies within the Xen frames of the page (and of its compound
     * page, when the page heads one) — true only for dom0's own 1:1 memory.
     */
    static boolean localByCompound(dev.dmalab.memory.PageAllocator pages, int pageShift, long pagePhys, long devAddr) {
        long pageXenPfn = pagePhys >>> dev.dmalab.hypervisor.XenFrames.SHIFT;
        long devXenPfn = devAddr >>> dev.dmalab.hypervisor.XenFrames.SHIFT;
        long compoundPages = (1L << pages.compoundOrder(pagePhys >>> pageShift))
                << (pageShift - dev.dmalab.hypervisor.XenFrames.SHIFT);
        return pageXenPfn <= devXenPfn && devXenPfn - pageXenPfn < compoundPages;
    }

    /** Which state of spec §7.8 this is, for explanations. */
    String state();

    /** {@code xen_alloc_coherent_pages}: CPU address or 0; the handle it stores is a physical/DMA address. */
    long allocCoherentPages(Device dev, long size, long[] dmaHandle, int gfp, long attrs);

    /** {@code xen_free_coherent_pages}. */
    void freeCoherentPages(Device dev, long size, long cpuAddr, long dmaHandle, long attrs);

    /** {@code xen_dma_map_page(dev, page, dev_addr, offset, size, dir, attrs)}; {@code pagePhys} is the page's. */
    void dmaMapPage(Device dev, long pagePhys, long devAddr, long offset, long size, Direction dir, long attrs);

    /** {@code xen_dma_unmap_page(dev, handle, size, dir, attrs)}. */
    void dmaUnmapPage(Device dev, long handle, long size, Direction dir, long attrs);

    /** {@code xen_dma_sync_single_for_cpu(dev, handle, size, dir)}. */
    void dmaSyncSingleForCpu(Device dev, long handle, long size, Direction dir);

    /** {@code xen_dma_sync_single_for_device(dev, handle, size, dir)}. */
    void dmaSyncSingleForDevice(Device dev, long handle, long size, Direction dir);
}
