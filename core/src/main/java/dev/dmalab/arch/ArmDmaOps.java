package dev.dmalab.arch;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAddress;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.PageSize;
import dev.dmalab.memory.Zone;
import dev.dmalab.util.Bits;

/**
 * {@code arm_dma_ops} and {@code arm_coherent_dma_ops} ({@code arch/arm/mm/dma-mapping.c}, 4.20–5.18).
 *
 * <ul>
 *   <li>map_page: unless SKIP_CPU_SYNC (and not coherent), {@code __dma_page_cpu_to_dev}; returns {@code
 *       pfn_to_dma(dev, pfn) + offset} with no addressing check.
 *   <li>unmap and syncs: {@code __dma_page_dev_to_cpu} / {@code __dma_page_cpu_to_dev}.
 *   <li>alloc ({@code __dma_alloc}): {@code GFP_DMA} for masks below 32 bits; the coherent table returns zeroed
 *       linear-map pages, the non-coherent one clears the buffer through the cacheable alias, flushes it ({@code
 *       __dma_clear_buffer}) and remaps it {@code pgprot_dmacoherent} (non-cacheable).
 *   <li>dma_supported ({@code __dma_supported}): the mask must reach the last RAM page.
 *   <li>mapping_error (4.20): the cookie is {@code ARM_MAPPING_ERROR} (~0).
 * </ul>
 *
 * <p>Deliberate differences: no CMA and no atomic pool (non-blocking requests use the remap allocator too); no
 * dmabounce; no {@code map_resource} op (5.0 maps resources as raw physical addresses in the core).
 */
public final class ArmDmaOps implements DmaMapOps {
    private final Kernel kernel;
    private final Arch arch;
    private final PageAllocator pages;
    private final CpuMemory cpu;
    private final boolean coherent;
    private final long maxPfn;

    public ArmDmaOps(Kernel kernel, Arch arch, PageAllocator pages, CpuMemory cpu, long maxPfn, boolean coherent) {
        this.kernel = kernel;
        this.arch = arch;
        this.pages = pages;
        this.cpu = cpu;
        this.maxPfn = maxPfn;
        this.coherent = coherent;
    }

    @Override
    public String symbol() {
        return coherent ? "arm_coherent_dma_ops" : "arm_dma_ops";
    }

    @Override
    public boolean implementsOp(Op op) {
        return switch (op) {
            case MAP_RESOURCE, UNMAP_RESOURCE, ALLOC_PAGES, FREE_PAGES, MAX_MAPPING_SIZE -> false;
            case MAPPING_ERROR -> !kernel.has(Feature.GLOBAL_MAPPING_ERROR);
            case SYNC_SINGLE_FOR_CPU, SYNC_SINGLE_FOR_DEVICE, SYNC_SG_FOR_CPU, SYNC_SG_FOR_DEVICE -> !coherent;
            default -> true;
        };
    }

    private PageSize pageSize() {
        return pages.pageSize();
    }

    @KernelFunction("__dma_page_cpu_to_dev")
    private void cpuToDev(long phys, long size, Direction dir) {
        arch.syncDmaForDevice(phys, size, dir);
    }

    @KernelFunction("__dma_page_dev_to_cpu")
    private void devToCpu(long phys, long size, Direction dir) {
        arch.syncDmaForCpu(phys, size, dir);
    }

    @Override
    @KernelFunction("arm_dma_map_page")
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        if (!coherent && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            cpuToDev(pagePhys + offset, size, dir);
        }
        return DmaAddress.physToDma(dev, pagePhys) + offset;
    }

    @Override
    @KernelFunction("arm_dma_unmap_page")
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        if (!coherent && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)) {
            devToCpu(DmaAddress.dmaToPhys(dev, dmaAddr), size, dir);
        }
    }

    @Override
    @KernelFunction("arm_dma_map_sg")
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        for (int i = 0; i < nents; i++) {
            long addr = mapPage(dev, sg.pagePhys(i), sg.offset(i), sg.length(i), dir, attrs);
            sg.setDma(i, addr, sg.length(i));
        }
        return nents;
    }

    @Override
    @KernelFunction("arm_dma_unmap_sg")
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        for (int i = 0; i < nents; i++) {
            unmapPage(dev, sg.dmaAddress(i), sg.dmaLength(i), dir, attrs);
        }
    }

    @Override
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        throw new UnsupportedOperationException("arm_dma_ops has no map_resource");
    }

    @Override
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        throw new UnsupportedOperationException("arm_dma_ops has no unmap_resource");
    }

    @Override
    @KernelFunction("arm_dma_sync_single_for_cpu")
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {
        devToCpu(DmaAddress.dmaToPhys(dev, dmaAddr), size, dir);
    }

    @Override
    @KernelFunction("arm_dma_sync_single_for_device")
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {
        cpuToDev(DmaAddress.dmaToPhys(dev, dmaAddr), size, dir);
    }

    @Override
    @KernelFunction("arm_dma_sync_sg_for_cpu")
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            syncSingleForCpu(dev, sg.dmaAddress(i), sg.dmaLength(i), dir);
        }
    }

    @Override
    @KernelFunction("arm_dma_sync_sg_for_device")
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {
        for (int i = 0; i < nents; i++) {
            syncSingleForDevice(dev, sg.dmaAddress(i), sg.dmaLength(i), dir);
        }
    }

    @Override
    @KernelFunction("arm_dma_alloc")
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        long pageBytes = pageSize().bytes();
        size = Bits.alignUp(size, pageBytes);
        int order = Bits.getOrder(size, pageSize().shift());
        long mask = dev.coherentDmaMask();
        Zone zone = Bits.ult(mask, 0xffffffffL) && pages.zones().exists(Zone.DMA) ? Zone.DMA : Zone.NORMAL;
        long pfn = pages.alloc(order, zone, false);
        if (pfn < 0) {
            if ((gfp & Gfp.NOWARN) == 0 && !DmaAttrs.has(attrs, DmaAttrs.NO_WARN)) {
                kernel.printk().warn("arm_dma_alloc: page allocation failure: order:" + order);
            }
            return 0;
        }
        long phys = pageSize().pfnPhys(pfn);
        dmaHandle[0] = DmaAddress.physToDma(dev, phys);
        long linear = cpu.addressSpace().physToVirt(phys);
        cpu.memset(linear, (byte) 0, size);
        if (coherent) {
            return linear;
        }
        arch.prepCoherent(phys, size); // __dma_clear_buffer: the zeroing must reach memory, the alias must be clean
        long va = cpu.addressSpace().vmapContiguous(phys, size, MemAttr.NORMAL_NC);
        if (va == 0) {
            pages.free(pfn, order);
            return 0;
        }
        return va;
    }

    @Override
    @KernelFunction("arm_dma_free")
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        long pageBytes = pageSize().bytes();
        size = Bits.alignUp(size, pageBytes);
        long phys = DmaAddress.dmaToPhys(dev, dmaHandle);
        if (!coherent) {
            cpu.addressSpace().vunmap(cpuAddr);
        }
        pages.free(pageSize().pfnDown(phys), Bits.getOrder(size, pageSize().shift()));
    }

    @Override
    @KernelFunction("arm_dma_supported")
    public int dmaSupported(Device dev, long mask) {
        long maxDmaPfn = maxPfn - 1;
        long maskPfn = pageSize()
                .pfnDown(DmaAddress.dmaToPhys(dev, mask) == Bits.U64_MAX ? mask : DmaAddress.dmaToPhys(dev, mask));
        return Bits.ult(maskPfn, maxDmaPfn) ? 0 : 1;
    }

    @Override
    public boolean mappingError(Device dev, long dmaAddr) {
        return dmaAddr == Bits.U64_MAX;
    }
}
