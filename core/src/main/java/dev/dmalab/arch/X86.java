package dev.dmalab.arch;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Kernel;

/**
 * x86_64 (spec §9.2; {@code arch/x86/kernel/pci-dma.c}, {@code arch/x86/include/asm/dma-mapping.h}).
 *
 * <p>Every device is cache coherent and the arch has no cache-maintenance hooks ({@code dev_is_dma_coherent} is
 * constant true), so the arch syncs are never reached. {@code get_arch_dma_ops()} is the global {@code dma_ops}:
 * in 4.20 {@code dma_direct_ops}, replaced by {@code swiotlb_dma_ops} when swiotlb is enabled (set by the platform
 * with {@link #setDefaultOps}); from 5.0 NULL, i.e. dma-direct (swiotlb is folded into it), except in a Xen PV
 * domain, where {@code pci_xen_swiotlb_init} points it at {@code xen_swiotlb_dma_ops}.
 *
 * <p>Deliberate difference: GART, Calgary and the IOMMU drivers' global ops are not modelled.
 */
final class X86 extends Arch {
    X86(Kernel kernel, CacheSystem caches) {
        super(kernel, caches);
    }

    @Override
    public ArchKind kind() {
        return ArchKind.X86_64;
    }

    @Override
    public void syncDmaForDevice(long paddr, long size, Direction dir) {
        throw new IllegalStateException("x86 has no arch_sync_dma_for_device: all devices are coherent");
    }

    @Override
    public void syncDmaForCpu(long paddr, long size, Direction dir) {
        throw new IllegalStateException("x86 has no arch_sync_dma_for_cpu: all devices are coherent");
    }

    /** x86 has no {@code arch_dma_prep_coherent}: the generic stub does nothing. */
    @Override
    public void prepCoherent(long paddr, long size) {}

    @Override
    public boolean defaultCoherent() {
        return true;
    }

    @Override
    public boolean supportsNonCoherentDevices() {
        return false;
    }

    @Override
    public int dmaMinAlign() {
        return 1;
    }

    @Override
    public int cacheLineSize() {
        return 64;
    }

    @Override
    public boolean directRemap() {
        return false;
    }

    @Override
    public DmaMapOps get(Device dev) {
        // get_arch_dma_ops(): the global dma_ops pointer. 4.20 sets it to dma_direct_ops or swiotlb_dma_ops; from
        // 5.0 it is NULL (dma-direct) unless Xen PV installs &xen_swiotlb_dma_ops.
        return defaultOps();
    }
}
