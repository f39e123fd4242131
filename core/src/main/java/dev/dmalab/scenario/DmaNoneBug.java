package dev.dmalab.scenario;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.Zone;

/**
 * A driver maps a buffer with {@code DMA_NONE}: every kernel version BUG()s in the map entry point ({@code
 * BUG_ON(!valid_dma_direction(dir))}). Shows the Oops model: the run ends with outcome {@code oops} and a
 * kernel-style report whose call trace names the modelled frames.
 */
public final class DmaNoneBug implements Workload {
    @Override
    public String name() {
        return "bug-dma-none";
    }

    @Override
    public String description() {
        return "a driver maps a buffer with DMA_NONE: the kernel BUG()s (shows the Oops model)";
    }

    @Override
    public void run(WorkloadContext ctx) {
        Device dev = ctx.machine().devices().iterator().next();
        ctx.task("dmalab-bug", 500, 0);
        probe(ctx, dev);
    }

    @KernelFunction("dmalab_bug_probe")
    private void probe(WorkloadContext ctx, Device dev) {
        long va = ctx.kmallocLike(512, 0, Zone.NORMAL);
        ctx.dma().mapSingleAttrs(dev, va, 512, Direction.NONE, 0);
        ctx.fail(dev.name() + ": dma_map_single(DMA_NONE) returned instead of BUG()ing");
    }
}
