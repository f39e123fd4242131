package dev.dmalab.arch;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;

/**
 * 32-bit arm (ARMv7; {@code arch/arm/mm/dma-mapping.c}, {@code arch/arm/mm/cache-v7.S}, 4.20–6.12).
 *
 * <ul>
 *   <li>Cache maintenance as {@code __dma_page_cpu_to_dev} / {@code __dma_page_dev_to_cpu} do with v7 caches:
 *       map FROM_DEVICE invalidates, other directions clean; unmap of anything but TO_DEVICE invalidates.
 *   <li>Until 5.19 non-IOMMU devices use the arch's own tables: {@code arch_setup_dma_ops} installs {@code
 *       arm_dma_ops} or {@code arm_coherent_dma_ops}, and {@code get_arch_dma_ops()} returns {@code arm_dma_ops}
 *       — except on LPAE kernels from 5.3, where {@code arm_get_dma_map_ops()} returns NULL (dma-direct and
 *       swiotlb, ad3c7b18c5b3). This is why the seed's Xen regression spared arm32: its saved native ops were never
 *       NULL.
 *   <li>From 5.19 arm32 uses dma-direct like everyone else.
 *   <li>{@code ARCH_DMA_MINALIGN} = {@code L1_CACHE_BYTES} = 64.
 * </ul>
 *
 * <p>Deliberate differences: one cache level (no outer L2 cache), no highmem, no dmabounce.
 */
public final class Arm32 extends Arch {
    private boolean lpae;
    private ArmDmaOps armDmaOps;
    private ArmDmaOps armCoherentDmaOps;

    private final boolean dmaDirect;
    private final boolean lpaeDirect;

    Arm32(Kernel kernel, CacheSystem caches) {
        super(kernel, caches);
        this.dmaDirect = kernel.has(Feature.ARM32_DMA_DIRECT);
        this.lpaeDirect = kernel.has(Feature.ARM32_LPAE_DMA_DIRECT);
    }

    /** CONFIG_ARM_LPAE. */
    public void setLpae(boolean lpae) {
        this.lpae = lpae;
    }

    public boolean lpae() {
        return lpae;
    }

    /** Installs {@code arm_dma_ops} and {@code arm_coherent_dma_ops} (built by the platform, which owns memory). */
    public void installArmDmaOps(ArmDmaOps nonCoherent, ArmDmaOps coherent) {
        this.armDmaOps = nonCoherent;
        this.armCoherentDmaOps = coherent;
    }

    private boolean usesOwnOps() {
        return !dmaDirect && !(lpae && lpaeDirect);
    }

    @Override
    public ArchKind kind() {
        return ArchKind.ARM32;
    }

    @Override
    public void syncDmaForDevice(long paddr, long size, Direction dir) {
        if (dir == Direction.FROM_DEVICE) {
            invalidatePoc(paddr, size);
        } else {
            caches.clean(paddr, size);
        }
    }

    @Override
    public void syncDmaForCpu(long paddr, long size, Direction dir) {
        if (dir != Direction.TO_DEVICE) {
            invalidatePoc(paddr, size);
        }
    }

    @Override
    public void prepCoherent(long paddr, long size) {
        caches.cleanInvalidate(paddr, size);
    }

    @Override
    public boolean defaultCoherent() {
        return false;
    }

    @Override
    public boolean supportsNonCoherentDevices() {
        return true;
    }

    @Override
    public int dmaMinAlign() {
        return 64;
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
    public boolean archDmaAlloc() {
        return true;
    }

    @Override
    public DmaMapOps get(Device dev) {
        return usesOwnOps() ? requireOps(armDmaOps) : null;
    }

    @Override
    public void setupDmaOps(Device dev, boolean coherent, DmaMapOps nativeOps) {
        super.setupDmaOps(dev, coherent, null);
        if (usesOwnOps() && dev.dmaOps() == null) {
            dev.setDmaOps(coherent ? requireOps(armCoherentDmaOps) : requireOps(armDmaOps));
        }
    }

    @Override
    public DmaMapOps nativeOpsFor(Device dev, boolean coherent, DmaMapOps nativeOps) {
        if (!usesOwnOps()) {
            return null;
        }
        return coherent ? requireOps(armCoherentDmaOps) : requireOps(armDmaOps);
    }

    private ArmDmaOps requireOps(ArmDmaOps ops) {
        if (ops == null) {
            throw new IllegalStateException("arm_dma_ops not installed: the platform must call installArmDmaOps");
        }
        return ops;
    }
}
