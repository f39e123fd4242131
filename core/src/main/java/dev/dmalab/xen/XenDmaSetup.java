package dev.dmalab.xen;

import dev.dmalab.device.Device;
import dev.dmalab.device.DmaOps;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Finding;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;

/**
 * The Xen part of {@code arch_setup_dma_ops} on arm and arm64 (spec §7.8, §7.10; {@code arch/arm64/mm/dma-mapping.c},
 * {@code arch/arm/mm/dma-mapping.c}, {@code include/xen/arm/xen-ops.h}), run after the native part chose the device's
 * ops:
 *
 * <ul>
 *   <li>arm64 4.20 and 5.0-rc1/rc2, arm32 up to 5.3: {@code dev->archdata.dev_dma_ops = dev->dma_ops} (the native
 *       table, or on arm64 from 5.0-rc1 the NULL of a dma-direct device), then {@code dev->dma_ops =
 *       xen_dma_ops};
 *   <li>arm64 5.0 … 5.3 (60d8cd572f65): {@code dev->dma_ops = xen_dma_ops}, nothing saved;
 *   <li>5.4 …: {@code dev->dma_ops = &xen_swiotlb_dma_ops}; from 5.13 through {@code xen_setup_dma_ops}, i.e. when
 *       {@code xen_swiotlb_detect()} (dom0, or a direct-mapped domain).
 * </ul>
 *
 * <p>Where the wrappers no longer use saved native ops (arm64 from 5.0, every arch from 5.4) they treat the device
 * as dma-direct. Stefano Stabellini asked in the seed thread for a check that such a device has no {@code dma_ops} of
 * its own ("an optional suggestion to add a check on dma_ops being unset"): if it does — an IOMMU's ops, say — they
 * are overwritten and bypassed. dmalab reports that as the finding {@value #CHECK}. The arch's own default table
 * (arm32's {@code arm_dma_ops}) is not such a case: the wrappers do its cache maintenance themselves.
 */
public final class XenDmaSetup {
    /** The finding's identifier. */
    public static final String CHECK = "xen-direct-with-dma-ops";

    private final Kernel kernel;
    private final DmaMapOps xenOps;
    private final boolean saveArchdata;
    private final boolean wrappersAreDirect;
    private final boolean detectForm;
    private final boolean dom0;
    private final boolean directMapped;

    /**
     * @param dom0 {@code xen_initial_domain()}
     * @param directMapped {@code XENFEAT_direct_mapped}
     */
    public XenDmaSetup(Kernel kernel, DmaMapOps xenOps, boolean dom0, boolean directMapped) {
        this.kernel = kernel;
        this.xenOps = xenOps;
        ArchKind arch = kernel.arch();
        this.saveArchdata = arch == ArchKind.ARM64
                ? kernel.has(Feature.XEN_ARM64_ARCHDATA_OPS)
                : arch == ArchKind.ARM32 && kernel.has(Feature.XEN_ARM32_ARCHDATA_OPS);
        this.wrappersAreDirect = !saveArchdata;
        this.detectForm = kernel.has(Feature.XEN_SETUP_DMA_OPS);
        this.dom0 = dom0;
        this.directMapped = directMapped;
    }

    /** {@code xen_swiotlb_detect()} (5.13+): direct-mapped, or the legacy case of an initial domain. */
    public boolean swiotlbDetect() {
        return directMapped || dom0;
    }

    /**
     * The Xen part of {@code arch_setup_dma_ops(dev, ...)} for one device.
     *
     * @param archDefault the arch's own default table for this device (arm32's {@code arm_dma_ops}), or null
     */
    @KernelFunction(value = "xen_setup_dma_ops", inline = true)
    public void setup(Device dev, DmaOps archDefault) {
        if (detectForm ? !swiotlbDetect() : !dom0) {
            return;
        }
        DmaOps before = dev.dmaOps();
        if (saveArchdata) {
            dev.setArchdataDevDmaOps(before);
        } else if (wrappersAreDirect && before != null && before != archDefault) {
            kernel.finding(new Finding(
                    CHECK,
                    dev.name(),
                    "has dma_ops " + before.symbol() + ", but " + xenOps.symbol() + " replaces them and treats the"
                            + " device as dma-direct (the check Stefano Stabellini proposed on 2019-01-18)"));
        }
        dev.setDmaOps(xenOps);
    }
}
