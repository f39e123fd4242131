package dev.dmalab.xen;

import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.Zone;
import dev.dmalab.swiotlb.IoTlbMem;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.swiotlb.SwiotlbBoot;
import dev.dmalab.util.Bits;

/**
 * swiotlb-xen's pool set-up (spec §7.4).
 *
 * <ul>
 *   <li>arm/arm64 up to 5.18: {@code xen_mm_init} (an {@code arch_initcall}, dom0 only) calls the late {@code
 *       xen_swiotlb_init(1, false)}: it asks the page allocator for the whole pool (64 MiB by default, or {@code
 *       swiotlb=N}) in one block and lowers the order until an allocation succeeds; with the buddy allocator's
 *       largest block of 4 MiB (4 KiB pages) that is where it ends, with the warning dom0 logs show ("only able to
 *       allocate 4 MB"). The block replaces the generic swiotlb's (the 5.x globals). Dom0 is 1:1, so no exchange.
 *   <li>arm/arm64 from 5.19: the generic pool is used; only if there is none, {@code swiotlb_init_late} builds one
 *       the same way.
 *   <li>x86 PV ({@code xen_swiotlb_fixup}): every 128-slot chunk (256 KiB) of the pool is exchanged with Xen for a
 *       machine-contiguous one, starting at 18 address bits and widening, without reset between chunks, up to 32.
 * </ul>
 *
 * <p>Deliberate differences: when the fixup fails, the kernel retries with half the pool (5.x: "Lowering to N MB"
 * up to three times, then panics; 6.12: halving down to {@code IO_TLB_MIN_SLABS}, "Failed to remap"); the model
 * logs the failure once and boots on without a pool. When the late allocation fails, 5.x logs its "Lowering" retries
 * before "Cannot allocate Xen-SWIOTLB buffer" and 6.12's {@code swiotlb_init_late} logs nothing; the model prints
 * one line in both cases.
 */
public final class XenSwiotlbInit {
    /** {@code IO_TLB_MIN_SLABS}: 1 MiB of slots. */
    static final long MIN_SLABS = (1L << 20) >>> IoTlbPool.IO_TLB_SHIFT;

    /** {@code MAX_DMA_BITS}. */
    static final int MAX_DMA_BITS = 32;

    private XenSwiotlbInit() {}

    /**
     * The late pool allocation of {@code xen_swiotlb_init(1, false)} (5.x) or {@code swiotlb_init_late} (5.19+),
     * from the page allocator.
     *
     * @param nslabs requested slots (already rounded to 128)
     * @param lowZone GFP_DMA32 when some RAM lies below 4 GiB ({@code xen_get_swiotlb_free_pages})
     * @param generic true for {@code swiotlb_init_late}'s messages, false for swiotlb-xen's
     * @return the new instance, or one without a pool when even 1 MiB is not available
     */
    @KernelFunction("xen_swiotlb_init")
    public static IoTlbMem lateInit(
            Kernel kernel,
            PageAllocator pages,
            long nslabs,
            boolean lowZone,
            IoTlbMem.ForceMode mode,
            boolean generic) {
        int pageShift = pages.pageSize().shift();
        long slabsPerPage = 1L << (pageShift - IoTlbPool.IO_TLB_SHIFT);
        long bytes = nslabs << IoTlbPool.IO_TLB_SHIFT;
        int wanted = Bits.getOrder(bytes, pageShift);
        int order = wanted;
        long pfn = -1;
        while ((slabsPerPage << order) > MIN_SLABS) {
            if (order <= pages.maxOrder()) {
                pfn = pages.alloc(order, lowZone ? Zone.DMA32 : Zone.NORMAL, false);
                if (pfn >= 0) {
                    break;
                }
            }
            order--;
        }
        if (pfn < 0) {
            kernel.printk()
                    .err(
                            generic
                                    ? "software IO TLB: Cannot allocate buffer"
                                    : "xen:swiotlb_xen: Cannot allocate Xen-SWIOTLB buffer");
            return new IoTlbMem(null, mode, true);
        }
        if (order != wanted) {
            long mb = ((1L << pageShift) << order) >>> 20;
            kernel.printk()
                    .warn(
                            generic
                                    ? "software IO TLB: only able to allocate " + mb + " MB"
                                    : "xen:swiotlb_xen: Warning: only able to allocate " + mb
                                            + " MB for software IO TLB");
            nslabs = slabsPerPage << order;
        }
        IoTlbPool pool = new IoTlbPool(pfn << pageShift, (int) nslabs, 1);
        kernel.printk().info("software IO TLB: " + SwiotlbBoot.mappedLine(pool, generic));
        return new IoTlbMem(pool, mode);
    }

    /**
     * {@code xen_swiotlb_fixup(buf, nslabs)} (x86 PV): exchanges the pool chunk by chunk; {@code dma_bits} grows on
     * failure and is not reset for the next chunk.
     *
     * @return 0, or the errno of the chunk that could not be placed even below 4 GiB
     */
    @KernelFunction("xen_swiotlb_fixup")
    public static int fixup(XenMm mm, long start, long nslabs, int pageShift) {
        int dmaBits = Bits.getOrder((long) IoTlbPool.IO_TLB_SEGSIZE << IoTlbPool.IO_TLB_SHIFT, pageShift) + pageShift;
        long[] handle = new long[1];
        for (long i = 0; i < nslabs; ) {
            long slabs = Math.min(nslabs - i, IoTlbPool.IO_TLB_SEGSIZE);
            int order = Bits.getOrder(slabs << IoTlbPool.IO_TLB_SHIFT, pageShift);
            int rc;
            do {
                rc = mm.createContiguousRegion(start + (i << IoTlbPool.IO_TLB_SHIFT), order, dmaBits, handle);
            } while (rc != 0 && dmaBits++ < MAX_DMA_BITS);
            if (rc != 0) {
                return rc;
            }
            i += slabs;
        }
        return 0;
    }
}
