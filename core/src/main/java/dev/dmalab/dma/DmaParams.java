package dev.dmalab.dma;

import dev.dmalab.device.Device;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.util.Bits;

/** The {@code dma_parms} accessors of {@code include/linux/dma-mapping.h}, with their per-version defaults. */
public final class DmaParams {
    /** {@code SZ_64K}: the segment size assumed for a device without {@code dma_parms}. */
    public static final long DEFAULT_MAX_SEGMENT_SIZE = 64 * 1024;

    private DmaParams() {}

    /** {@code dma_get_max_seg_size(dev)}. */
    public static long maxSegmentSize(Device dev) {
        return dev.hasDmaParms() && dev.maxSegmentSize() != 0 ? dev.maxSegmentSize() : DEFAULT_MAX_SEGMENT_SIZE;
    }

    /**
     * {@code dma_get_seg_boundary(dev)}: the device's mask, else all ones (5.10+) or {@code 0xffffffff} (before).
     * PCI devices always have {@code 0xffffffff} from {@code pci_device_add()} (validated-swiotlb C3).
     */
    public static long segmentBoundary(KernelVersion version, Device dev) {
        if (dev.hasDmaParms() && dev.segmentBoundaryMask() != 0) {
            return dev.segmentBoundaryMask();
        }
        return version.has(Feature.SEG_BOUNDARY_DEFAULT_ALL_ONES) ? Bits.U64_MAX : Bits.dmaBitMask(32);
    }

    /** {@code dma_get_min_align_mask(dev)} (5.12+; 0 before or without dma_parms). */
    public static long minAlignMask(KernelVersion version, Device dev) {
        if (!version.has(Feature.SWIOTLB_MIN_ALIGN) || !dev.hasDmaParms()) {
            return 0;
        }
        return dev.minAlignMask();
    }
}
