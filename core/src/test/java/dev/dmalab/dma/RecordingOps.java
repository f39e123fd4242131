package dev.dmalab.dma;

import dev.dmalab.device.Device;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A {@code struct dma_map_ops} for dispatch tests: records which callbacks the core called and returns fixed
 * values; callbacks outside {@link #present} are NULL ({@link #implementsOp} false) and fail the test if called.
 */
final class RecordingOps implements DmaMapOps {
    static final long MAPPED = 0x7e570000L;

    final List<String> calls = new ArrayList<>();
    final Set<Op> present;
    int supported = 1;

    RecordingOps(Set<Op> present) {
        this.present = present;
    }

    static RecordingOps full() {
        return new RecordingOps(EnumSet.allOf(Op.class));
    }

    @Override
    public String symbol() {
        return "test_dma_ops";
    }

    @Override
    public boolean implementsOp(Op op) {
        return present.contains(op);
    }

    private void call(Op op) {
        if (!present.contains(op)) {
            throw new AssertionError("the core called the NULL ->" + op);
        }
        calls.add(op.name());
    }

    @Override
    public long alloc(Device dev, long size, long[] dmaHandle, int gfp, long attrs) {
        call(Op.ALLOC);
        return 0;
    }

    @Override
    public void free(Device dev, long size, long cpuAddr, long dmaHandle, long attrs) {
        call(Op.FREE);
    }

    @Override
    public long mapPage(Device dev, long pagePhys, long offset, long size, Direction dir, long attrs) {
        call(Op.MAP_PAGE);
        return MAPPED;
    }

    @Override
    public void unmapPage(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        call(Op.UNMAP_PAGE);
    }

    @Override
    public int mapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        call(Op.MAP_SG);
        return nents;
    }

    @Override
    public void unmapSg(Device dev, ScatterList sg, int nents, Direction dir, long attrs) {
        call(Op.UNMAP_SG);
    }

    @Override
    public long mapResource(Device dev, long phys, long size, Direction dir, long attrs) {
        call(Op.MAP_RESOURCE);
        return MAPPED;
    }

    @Override
    public void unmapResource(Device dev, long dmaAddr, long size, Direction dir, long attrs) {
        call(Op.UNMAP_RESOURCE);
    }

    @Override
    public void syncSingleForCpu(Device dev, long dmaAddr, long size, Direction dir) {
        call(Op.SYNC_SINGLE_FOR_CPU);
    }

    @Override
    public void syncSingleForDevice(Device dev, long dmaAddr, long size, Direction dir) {
        call(Op.SYNC_SINGLE_FOR_DEVICE);
    }

    @Override
    public void syncSgForCpu(Device dev, ScatterList sg, int nents, Direction dir) {
        call(Op.SYNC_SG_FOR_CPU);
    }

    @Override
    public void syncSgForDevice(Device dev, ScatterList sg, int nents, Direction dir) {
        call(Op.SYNC_SG_FOR_DEVICE);
    }

    @Override
    public int dmaSupported(Device dev, long mask) {
        call(Op.DMA_SUPPORTED);
        return supported;
    }

    @Override
    public long getRequiredMask(Device dev) {
        call(Op.GET_REQUIRED_MASK);
        return 0xfffffffffL;
    }

    @Override
    public long maxMappingSize(Device dev) {
        call(Op.MAX_MAPPING_SIZE);
        return 65536;
    }
}
