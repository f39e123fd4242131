package dev.dmalab.arch;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.Errno;
import dev.dmalab.dma.ScatterList;

/**
 * arm64's private {@code dummy_dma_ops} (4.x, {@code arch/arm64/mm/dma-mapping.c}): what a device gets when
 * nobody called {@code arch_setup_dma_ops} for it. Every operation fails: {@code alloc} returns NULL, {@code
 * map_page} returns 0 and {@code mapping_error} always reports an error, {@code map_sg} maps nothing, and the
 * device supports no mask.
 */
final class DummyDmaOps implements DmaMapOps {
    private final String symbol;

    DummyDmaOps(String symbol) {
        this.symbol = symbol;
    }

    @Override
    public String symbol() {
        return symbol;
    }

    @Override
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        return 0;
    }

    @Override
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {}

    @Override
    public int mmap(Device dev, dev.dmalab.dma.Vma vma, long cpuAddr, long dmaAddr, long size, long attrs) {
        return -Errno.ENXIO;
    }

    @Override
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        return 0;
    }

    @Override
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {}

    @Override
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        return 0;
    }

    @Override
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {}

    @Override
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        return 0;
    }

    @Override
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {}

    @Override
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {}

    @Override
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {}

    @Override
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {}

    @Override
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {}

    @Override
    public int dmaSupported(Device dev, long mask) {
        return 0;
    }

    @Override
    public boolean mappingError(Device dev, long dmaAddr) {
        return true;
    }
}
