package dev.dmalab.scenario;

import dev.dmalab.device.BusMaster;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.Zone;
import dev.dmalab.util.Bits;
import java.util.Arrays;

/**
 * A driver and its device exchange data through streaming mappings and a coherent descriptor, on every device of
 * the platform:
 *
 * <ol>
 *   <li><b>TO_DEVICE</b>: the driver fills a buffer, maps it, checks {@code dma_mapping_error()}; the device reads
 *       it and must see exactly the driver's bytes; unmap.
 *   <li><b>FROM_DEVICE</b>: the driver poisons a buffer (0xaa), maps it, polls its first bytes as a driver polls a
 *       completion header; the device writes new data; the driver calls {@code dma_sync_single_for_cpu()} (the
 *       {@code -nosync} twin skips this call) and must read exactly the device's bytes; unmap.
 *   <li><b>coherent</b>: a descriptor in {@code dma_alloc_coherent()} memory that the CPU writes and the device
 *       reads, and a completion word the device writes and the CPU reads, with no sync at all.
 * </ol>
 *
 * Buffers are 3000 bytes at offset 64 of their pages (sharing cache lines with their neighbours, like kmalloc
 * buffers) and come from the highest zone, so 32-bit devices on machines with RAM above 4 GiB bounce.
 *
 * <p>Without the sync, a non-coherent machine hands the CPU the cache lines it holds from before the transfer
 * (arm64 from 5.19 even keeps them through the map, which only cleans), and a bounced mapping leaves the data in
 * the bounce buffer: both are reported as stale bytes. A coherent machine that does not bounce passes either way.
 */
public final class StreamingRoundtrip implements Workload {
    static final int LEN = 3000;
    static final int OFFSET = 64;
    static final byte POISON = (byte) 0xaa;

    private final boolean sync;

    public StreamingRoundtrip(boolean sync) {
        this.sync = sync;
    }

    @Override
    public String name() {
        return sync ? "streaming-roundtrip" : "streaming-roundtrip-nosync";
    }

    @Override
    public String description() {
        return sync
                ? "driver and device exchange data through TO_DEVICE, FROM_DEVICE and coherent buffers, correctly"
                : "the same, but the driver reads the FROM_DEVICE buffer without dma_sync_single_for_cpu()";
    }

    @Override
    public void run(WorkloadContext ctx) {
        int pid = 400;
        for (Device dev : ctx.machine().devices()) {
            ctx.task("dmalab-rt", pid++, 0);
            ctx.dma().mark("ROUNDTRIP " + dev.name() + " begin");
            xmit(ctx, dev);
            rx(ctx, dev);
            descriptor(ctx, dev);
            ctx.dma().mark("ROUNDTRIP " + dev.name() + " end");
        }
    }

    @KernelFunction("dmalab_rt_xmit")
    private void xmit(WorkloadContext ctx, Device dev) {
        DmaApi dma = ctx.dma();
        long va = ctx.kmallocLike(LEN, OFFSET, Zone.NORMAL);
        byte[] data = ctx.pattern(LEN);
        ctx.cpuWrite(va, data);
        ctx.tick();
        long addr = dma.mapSingleAttrs(dev, va, LEN, Direction.TO_DEVICE, 0);
        if (dma.mappingError(dev, addr) != 0) {
            ctx.fail(dev.name() + ": dma_map_single(TO_DEVICE, " + LEN + " bytes) failed");
            return;
        }
        ctx.count("bytes_checked", LEN);
        ctx.tick();
        byte[] seen = new byte[LEN];
        BusMaster.Status st = ctx.busMaster(dev).read(addr, seen, 0, LEN);
        int bad = WorkloadContext.differing(data, seen);
        if (st != BusMaster.Status.OK || bad != 0) {
            ctx.fail(dev.name() + ": the device read " + bad + " of " + LEN + " bytes of a TO_DEVICE buffer wrong"
                    + " at bus address " + Bits.hex0x(addr) + (st != BusMaster.Status.OK ? " (" + st + ")" : "")
                    + ": the CPU's writes had not reached memory");
        }
        ctx.tick();
        dma.unmapSingleAttrs(dev, addr, LEN, Direction.TO_DEVICE, 0);
    }

    @KernelFunction("dmalab_rt_rx")
    private void rx(WorkloadContext ctx, Device dev) {
        DmaApi dma = ctx.dma();
        long va = ctx.kmallocLike(LEN, OFFSET, Zone.NORMAL);
        byte[] poison = new byte[LEN];
        Arrays.fill(poison, POISON);
        ctx.cpuWrite(va, poison);
        ctx.tick();
        long addr = dma.mapSingleAttrs(dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (dma.mappingError(dev, addr) != 0) {
            ctx.fail(dev.name() + ": dma_map_single(FROM_DEVICE, " + LEN + " bytes) failed");
            return;
        }
        ctx.tick();
        if (!sync) {
            // polling the completion header while the transfer is in flight (itself a bug the checker names)
            ctx.cpuRead(va, 16);
        }
        byte[] data = ctx.pattern(LEN);
        BusMaster.Status st = ctx.busMaster(dev).write(addr, data, 0, LEN);
        if (st != BusMaster.Status.OK) {
            ctx.fail(dev.name() + ": the device's write to bus address " + Bits.hex0x(addr) + " failed (" + st + ")");
        }
        ctx.tick();
        if (sync) {
            dma.syncSingleForCpu(dev, addr, LEN, Direction.FROM_DEVICE);
        }
        byte[] seen = ctx.cpuRead(va, LEN);
        ctx.count("bytes_checked", LEN);
        int stale = WorkloadContext.differing(data, seen);
        if (stale != 0) {
            ctx.count("stale_bytes", stale);
            ctx.fail(dev.name() + ": the CPU read " + stale + " of " + LEN + " bytes of a FROM_DEVICE buffer stale"
                    + (sync ? " after dma_sync_single_for_cpu()" : " (no dma_sync_single_for_cpu() before reading)")
                    + "; fix: call dma_sync_single_for_cpu() (or unmap) before the CPU reads a FROM_DEVICE buffer");
        }
        ctx.tick();
        dma.unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    @KernelFunction("dmalab_rt_descriptor")
    private void descriptor(WorkloadContext ctx, Device dev) {
        DmaApi dma = ctx.dma();
        long[] handle = new long[1];
        long va = dma.allocCoherent(dev, 256, handle, Gfp.GFP_KERNEL);
        if (va == 0) {
            ctx.fail(dev.name() + ": dma_alloc_coherent(256 bytes) failed");
            return;
        }
        byte[] desc = ctx.pattern(64);
        ctx.cpuWrite(va, desc);
        ctx.tick();
        byte[] seen = new byte[64];
        ctx.busMaster(dev).read(handle[0], seen, 0, 64);
        int bad = WorkloadContext.differing(desc, seen);
        if (bad != 0) {
            ctx.fail(dev.name() + ": the device read " + bad + " of 64 descriptor bytes wrong from coherent memory at "
                    + Bits.hex0x(handle[0]));
        }
        byte[] done = ctx.pattern(8);
        ctx.busMaster(dev).write(handle[0] + 64, done, 0, 8);
        ctx.tick();
        int stale = WorkloadContext.differing(done, ctx.cpuRead(va + 64, 8));
        if (stale != 0) {
            ctx.fail(dev.name() + ": the CPU read " + stale + " of 8 completion bytes stale from coherent memory");
        }
        ctx.count("bytes_checked", 72);
        dma.freeCoherent(dev, 256, va, handle[0]);
    }
}
