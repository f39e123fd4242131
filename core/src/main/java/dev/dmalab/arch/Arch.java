package dev.dmalab.arch;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.dma.ArchDmaOps;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelVersion;

/**
 * An architecture's DMA hooks for one kernel version. Subclasses per arch; {@link #create} picks one.
 *
 * <p>The hooks act on the modelled {@link CacheSystem}: cache maintenance by physical address range, which is what
 * the arch code does through the linear map.
 */
public abstract class Arch implements ArchDmaOps {
    protected final Kernel kernel;
    protected final CacheSystem caches;
    private DmaMapOps defaultOps;

    protected Arch(Kernel kernel, CacheSystem caches) {
        this.kernel = kernel;
        this.caches = caches;
    }

    /** The arch for {@code kernel.arch()}. */
    public static Arch create(Kernel kernel, CacheSystem caches) {
        return switch (kernel.arch()) {
            case ARM64 -> new Arm64(kernel, caches);
            case ARM32 -> new Arm32(kernel, caches);
            case X86_64 -> new X86(kernel, caches);
        };
    }

    public abstract ArchKind kind();

    public KernelVersion version() {
        return kernel.version();
    }

    /** {@code arch_sync_dma_for_device(paddr, size, dir)}: make the CPU's writes visible to a non-coherent device. */
    public abstract void syncDmaForDevice(long paddr, long size, Direction dir);

    /** {@code arch_sync_dma_for_cpu(paddr, size, dir)}: make a non-coherent device's writes visible to the CPU. */
    public abstract void syncDmaForCpu(long paddr, long size, Direction dir);

    /** {@code arch_sync_dma_for_cpu_all()}: nothing on the modelled arches. */
    public void syncDmaForCpuAll() {}

    /** {@code arch_dma_prep_coherent(page, size)}: clean the cacheable alias before a non-cacheable remap. */
    public abstract void prepCoherent(long paddr, long size);

    /** Whether devices are cache-coherent unless the firmware says otherwise (x86: always). */
    public abstract boolean defaultCoherent();

    /** Whether a device may be declared non-coherent at all (x86 has no cache-maintenance hooks). */
    public abstract boolean supportsNonCoherentDevices();

    /** {@code ARCH_DMA_MINALIGN}, or 1 when the arch defines none ({@code dma_get_cache_alignment()}). */
    public abstract int dmaMinAlign();

    /** {@code cache_line_size()}. */
    public abstract int cacheLineSize();

    /** CONFIG_DMA_DIRECT_REMAP: non-coherent coherent buffers are remapped non-cacheable (arm64). */
    public abstract boolean directRemap();

    /** CONFIG_ARCH_HAS_DMA_ALLOC: the arch allocates non-coherent coherent buffers itself (arm32). */
    public boolean archDmaAlloc() {
        return false;
    }

    /** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64 6.5+ in distribution configs). */
    public boolean bounceUnalignedKmalloc() {
        return false;
    }

    /**
     * The memory type a non-coherent coherent buffer is remapped with ({@code dma_pgprot}): {@code
     * pgprot_dmacoherent} and, for {@code DMA_ATTR_WRITE_COMBINE}, {@code pgprot_writecombine}; on arm and arm64
     * both are Normal non-cacheable, which is all the model distinguishes.
     */
    public MemAttr coherentRemapAttr(long attrs) {
        return MemAttr.NORMAL_NC;
    }

    /**
     * Sets what {@code get_arch_dma_ops()} returns where the arch hands out a global table that lives in a higher
     * layer (x86 4.20: {@code dma_direct_ops} or {@code swiotlb_dma_ops}).
     */
    public void setDefaultOps(DmaMapOps ops) {
        this.defaultOps = ops;
    }

    protected DmaMapOps defaultOps() {
        return defaultOps;
    }

    /** {@code get_arch_dma_ops()}. */
    @Override
    public abstract DmaMapOps get(Device dev);

    /**
     * The native part of {@code arch_setup_dma_ops(dev, ..., coherent)}: the coherent flag and, where the version
     * installs one, the device's default table. (Xen's part lives in the Xen layer.)
     *
     * @param nativeOps the table this version installs for non-IOMMU devices, or null for none (dma-direct)
     */
    public void setupDmaOps(Device dev, boolean coherent, DmaMapOps nativeOps) {
        if (!coherent && !supportsNonCoherentDevices()) {
            throw new IllegalArgumentException(kind().kernelName() + " has no non-coherent DMA: device " + dev.name());
        }
        dev.setDmaCoherent(coherent);
        if (nativeOps != null && dev.dmaOps() == null) {
            dev.setDmaOps(nativeOps);
        }
    }

    /**
     * The table {@link #setupDmaOps} installs on a device that has none: the arch's own default, which Xen's
     * wrappers mirror (used to tell a device's own ops — an IOMMU's — from the arch default).
     */
    public DmaMapOps nativeOpsFor(Device dev, boolean coherent, DmaMapOps nativeOps) {
        return nativeOps;
    }

    /** Invalidates to the point of coherency as arm's {@code __dma_inv_area} does (partial edge lines cleaned). */
    protected void invalidatePoc(long start, long size) {
        caches.invalidateCleaningEdges(start, size);
    }
}
