package dev.dmalab.arch;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;

/**
 * arm64 (spec §9.1; {@code arch/arm64/mm/dma-mapping.c}, {@code arch/arm64/mm/cache.S}, 4.20–6.12).
 *
 * <ul>
 *   <li>{@code arch_sync_dma_for_device}: before 5.19, {@code __dma_map_area}: FROM_DEVICE invalidates, other
 *       directions clean; from 5.19 (c50f11c6196f) every direction cleans.
 *   <li>{@code arch_sync_dma_for_cpu}: TO_DEVICE does nothing, other directions invalidate ({@code
 *       dcache_inval_poc}, partial edge lines cleaned and invalidated).
 *   <li>{@code arch_dma_prep_coherent}: clean+invalidate ({@code __dma_flush_area}) up to 5.x; clean only from
 *       6.0.
 *   <li>{@code get_arch_dma_ops}: in 4.20 the arm64-private {@code dummy_dma_ops} (devices set up by {@code
 *       arch_setup_dma_ops} carry {@code swiotlb_dma_ops}); NULL from 5.0-rc1, which is what the seed's Oops
 *       shows (a NULL native-ops table reached from {@code xen_swiotlb_alloc_coherent}).
 *   <li>{@code ARCH_DMA_MINALIGN} 128, {@code cache_line_size()} 64 (CTR_EL0.CWG of Cortex-A57).
 * </ul>
 *
 * <p>Deliberate difference: one source read a 5.2-era arm64 header whose {@code get_arch_dma_ops} still returned
 * {@code dummy_dma_ops}; a NULL-pointer Oops in the seed cannot come from a non-NULL table, so dmalab follows the
 * seed and the spec (§7.8b).
 */
final class Arm64 extends Arch {
    private final DmaMapOps dummyOps;
    private final boolean dmaDirect;
    private final boolean cleanOnMap;
    private final boolean prepCleanOnly;
    private final boolean kmallocBounce;

    Arm64(Kernel kernel, CacheSystem caches) {
        super(kernel, caches);
        this.dummyOps = new DummyDmaOps("dummy_dma_ops");
        this.dmaDirect = kernel.has(Feature.ARM64_DMA_DIRECT);
        this.cleanOnMap = kernel.has(Feature.ARM64_CLEAN_ON_MAP);
        this.prepCleanOnly = kernel.has(Feature.ARM64_PREP_COHERENT_CLEAN_ONLY);
        this.kmallocBounce = kernel.has(Feature.DIRECT_KMALLOC_BOUNCE);
    }

    @Override
    public ArchKind kind() {
        return ArchKind.ARM64;
    }

    @Override
    public void syncDmaForDevice(long paddr, long size, Direction dir) {
        if (cleanOnMap || dir != Direction.FROM_DEVICE) {
            caches.clean(paddr, size);
        } else {
            invalidatePoc(paddr, size);
        }
    }

    @Override
    public void syncDmaForCpu(long paddr, long size, Direction dir) {
        if (dir == Direction.TO_DEVICE) {
            return;
        }
        invalidatePoc(paddr, size);
    }

    @Override
    public void prepCoherent(long paddr, long size) {
        if (prepCleanOnly) {
            caches.clean(paddr, size);
        } else {
            caches.cleanInvalidate(paddr, size);
        }
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
        return 128;
    }

    @Override
    public int cacheLineSize() {
        return 64;
    }

    @Override
    public boolean directRemap() {
        return true;
    }

    @Override
    public boolean bounceUnalignedKmalloc() {
        return kmallocBounce;
    }

    @Override
    public DmaMapOps get(Device dev) {
        return dmaDirect ? null : dummyOps;
    }
}
