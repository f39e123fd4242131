package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.hypervisor.XenFrames;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.util.Bits;

/**
 * swiotlb-xen's address helpers (spec §7.3; {@code drivers/xen/swiotlb-xen.c}): guest physical to bus address
 * through {@code pfn_to_bfn} frame by frame, the 5.10+ forms that apply the device's {@code dma_range_map} on top,
 * and {@code range_straddles_page_boundary}.
 */
public final class XenAddress {
    private final XenP2m p2m;
    private final boolean physToDmaForm;
    private final boolean alignmentCheck;
    private final int pageShift;

    public XenAddress(Kernel kernel, XenP2m p2m, int pageShift) {
        this.p2m = p2m;
        this.physToDmaForm = kernel.has(Feature.XEN_PHYS_TO_DMA);
        this.alignmentCheck = kernel.has(Feature.XEN_STRADDLE_ALIGNMENT);
        this.pageShift = pageShift;
    }

    public XenP2m p2m() {
        return p2m;
    }

    /** {@code xen_phys_to_bus(phys)}: the machine address of {@code phys}. */
    public long physToBus(long phys) {
        long bfn = p2m.pfnToBfn(phys >>> XenFrames.SHIFT);
        return (bfn << XenFrames.SHIFT) | (phys & XenFrames.MASK);
    }

    /** {@code xen_bus_to_phys(bus)}. */
    public long busToPhys(long bus) {
        long pfn = p2m.bfnToPfn(bus >>> XenFrames.SHIFT);
        return (pfn << XenFrames.SHIFT) | (bus & XenFrames.MASK);
    }

    /** {@code xen_phys_to_dma(dev, phys)} (5.10+), {@code xen_phys_to_bus(phys)} before. */
    public long physToDma(Device dev, long phys) {
        long bus = physToBus(phys);
        return physToDmaForm ? DmaAddress.physToDma(dev, bus) : bus;
    }

    /** {@code xen_dma_to_phys(dev, dma)} (5.10+), {@code xen_bus_to_phys(dma)} before. */
    public long dmaToPhys(Device dev, long dma) {
        return busToPhys(physToDmaForm ? DmaAddress.dmaToPhys(dev, dma) : dma);
    }

    /** The bus address to look up: {@code dma_to_phys(dev, dma)} in 5.10+, the address itself before. */
    public long dmaToBus(Device dev, long dma) {
        return physToDmaForm ? DmaAddress.dmaToPhys(dev, dma) : dma;
    }

    /**
     * {@code range_straddles_page_boundary(p, size)}: whether the Xen frames under {@code [p, p + size)} are not
     * machine-contiguous (a buffer within one frame never straddles).
     *
     * <p>In 6.12.0–6.12.15 this also carried 9f40ec84a797's alignment test (so streaming maps of aligned buffers on
     * misaligned machine frames bounced); 6.12.16 moved that test to {@link #rangeRequiresAlignment}, called only by
     * the coherent allocator. The model's 6.12 is the 6.12.y of the captures (6.12.95), so the test is not here.
     */
    public boolean rangeStraddlesPageBoundary(long p, long size) {
        long xenPfn = p >>> XenFrames.SHIFT;
        long nrPages = ((p & XenFrames.MASK) + size + XenFrames.MASK) >>> XenFrames.SHIFT;
        long nextBfn = p2m.pfnToBfn(xenPfn);
        for (long i = 1; i < nrPages; i++) {
            if (p2m.pfnToBfn(++xenPfn) != ++nextBfn) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code range_requires_alignment(p, size)} (6.12.16+; 9f40ec84a797's test before): a buffer whose physical
     * address is aligned to its allocation order ({@code PAGE_SIZE << get_order(size)}) but whose first machine frame
     * is not. Always false before 6.12.
     */
    public boolean rangeRequiresAlignment(long p, long size) {
        if (!alignmentCheck) {
            return false;
        }
        long algn = 1L << (Bits.getOrder(size, pageShift) + pageShift);
        long busAddr = p2m.pfnToBfn(p >>> XenFrames.SHIFT) << XenFrames.SHIFT;
        return (p & (algn - 1)) == 0 && (busAddr & (algn - 1)) != 0;
    }
}
