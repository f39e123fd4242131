package dev.dmalab.direct;

import dev.dmalab.arch.Arch;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.swiotlb.IoTlbPool;
import dev.dmalab.swiotlb.Swiotlb;
import dev.dmalab.util.Bits;

/**
 * The generic {@code swiotlb_dma_ops} table of 4.20 ({@code kernel/dma/swiotlb.c}; arm64's native ops since
 * 886643b76632, x86's global ops when swiotlb is enabled). It lives with dma-direct because, as in the kernel, it
 * calls dma-direct for coherent allocations and capability rules.
 *
 * <ul>
 *   <li>map_page: a capable buffer is used as is (with the arch clean for a non-coherent device); otherwise, or
 *       under {@code swiotlb=force}, it is bounced (trace {@code swiotlb_bounced}, 5.0-style slot search), and the
 *       bounce address must itself be capable.
 *   <li>The error cookie is {@code DIRECT_MAPPING_ERROR} and {@code ->mapping_error} is {@code
 *       dma_direct_mapping_error} (the overflow buffer was removed in 4.20 by dff8d6c1ed58). dmalab takes the
 *       cookie to be all ones, as after "dma-direct: Make DIRECT_MAPPING_ERROR viable for SWIOTLB"; whether that
 *       fix is in 4.20 final is not confirmed (fact sheets, open item).
 *   <li>unmap: arch invalidate, then the swiotlb release with the copy-back; syncs in the kernel's order.
 *   <li>alloc/free: {@code dma_direct_alloc} / {@code dma_direct_free}, never the bounce pool (fafadcd16595).
 * </ul>
 */
public final class SwiotlbDmaOps implements DmaMapOps {
    private final Kernel kernel;
    private final DmaDirect direct;
    private final Swiotlb swiotlb;
    private final Arch arch;

    public SwiotlbDmaOps(Kernel kernel, DmaDirect direct, Swiotlb swiotlb, Arch arch) {
        if (!kernel.has(Feature.SWIOTLB_DMA_OPS)) {
            throw new IllegalStateException("swiotlb_dma_ops does not exist in " + kernel.version());
        }
        this.kernel = kernel;
        this.direct = direct;
        this.swiotlb = swiotlb;
        this.arch = arch;
    }

    @Override
    public String symbol() {
        return "swiotlb_dma_ops";
    }

    @Override
    public boolean implementsOp(Op op) {
        return switch (op) {
            case MAP_RESOURCE, UNMAP_RESOURCE, ALLOC_PAGES, FREE_PAGES, MAX_MAPPING_SIZE, MMAP, GET_SGTABLE -> false;
            default -> true;
        };
    }

    private long tblDmaAddr(Device dev) {
        IoTlbPool pool = swiotlb.defaultMem().defpool();
        return pool == null ? 0 : DmaAddress.physToDma(dev, pool.start());
    }

    @Override
    @KernelFunction("swiotlb_map_page")
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        long phys = pagePhys + offset;
        long devAddr = DmaAddress.physToDma(dev, phys);
        if (!DmaAddress.dmaCapable(dev, devAddr, size, true) || swiotlb.isForceBounce(dev)) {
            long[] physDma = {phys, devAddr};
            if (!swiotlb.map50(dev, physDma, tblDmaAddr(dev), size, dir, attrs)) {
                return Bits.U64_MAX;
            }
            phys = physDma[0];
            devAddr = physDma[1];
        }
        if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            arch.syncDmaForDevice(phys, size, dir);
        }
        return devAddr;
    }

    @Override
    @KernelFunction("swiotlb_unmap_page")
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        long paddr = DmaAddress.dmaToPhys(dev, dmaAddr);
        if (!dev.dmaCoherent() && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            arch.syncDmaForCpu(paddr, size, dir);
        }
        if (swiotlb.findPool(dev, paddr) != null) {
            swiotlb.tblUnmapSingle(dev, paddr, size, dir, attrs);
        }
    }

    @Override
    @KernelFunction("swiotlb_map_sg_attrs")
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        for (int i = 0; i < nents; i++) {
            long addr = mapPage(dev, sg.pagePhys(i), sg.offset(i), sg.length(i), dir, attrs);
            if (addr == Bits.U64_MAX) {
                unmapSg(dev, sg, i, dir, attrs | DmaAttrs.SKIP_CPU_SYNC);
                sg.setDma(0, sg.dmaAddress(0), 0);
                return 0;
            }
            sg.setDma(i, addr, sg.length(i));
        }
        return nents;
    }

    @Override
    @KernelFunction("swiotlb_unmap_sg_attrs")
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        for (int i = 0; i < nents; i++) {
            unmapPage(dev, sg.dmaAddress(i), sg.dmaLength(i), dir, attrs);
        }
    }

    @Override
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        throw new UnsupportedOperationException("swiotlb_dma_ops has no map_resource");
    }

    @Override
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        throw new UnsupportedOperationException("swiotlb_dma_ops has no unmap_resource");
    }

    @Override
    @KernelFunction("swiotlb_sync_single_for_cpu")
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {
        long paddr = DmaAddress.dmaToPhys(dev, dmaAddr);
        if (!dev.dmaCoherent()) {
            arch.syncDmaForCpu(paddr, size, dir);
        }
        swiotlb.syncSingleForCpu(dev, paddr, size, dir);
    }

    @Override
    @KernelFunction("swiotlb_sync_single_for_device")
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {
        long paddr = DmaAddress.dmaToPhys(dev, dmaAddr);
        swiotlb.syncSingleForDevice(dev, paddr, size, dir);
        if (!dev.dmaCoherent()) {
            arch.syncDmaForDevice(paddr, size, dir);
        }
    }

    @Override
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            syncSingleForCpu(dev, sg.dmaAddress(i), sg.dmaLength(i), dir);
        }
    }

    @Override
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            syncSingleForDevice(dev, sg.dmaAddress(i), sg.dmaLength(i), dir);
        }
    }

    /**
     * {@code ->alloc} is {@code dma_direct_alloc}: since fafadcd16595 ("swiotlb: don't dip into swiotlb pool for
     * coherent allocations", the same 4.20 series as the arm64 switch to these ops) a failed direct allocation is
     * not retried from the bounce pool.
     */
    @Override
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        return direct.alloc(dev, size, dmaHandle, gfp, attrs);
    }

    /** {@code ->free} is {@code dma_direct_free}. */
    @Override
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        direct.free(dev, size, cpuAddr, dmaHandle, attrs);
    }

    @Override
    public int dmaSupported(Device dev, long mask) {
        return direct.dmaSupported(dev, mask);
    }

    @Override
    public long getRequiredMask(Device dev) {
        return direct.getRequiredMask(dev);
    }

    @Override
    public boolean mappingError(Device dev, long dmaAddr) {
        return dmaAddr == Bits.U64_MAX;
    }

    /** Whether this kernel version has the table (4.20 only among the modelled versions). */
    public static boolean exists(Kernel kernel) {
        return kernel.has(Feature.SWIOTLB_DMA_OPS);
    }
}
