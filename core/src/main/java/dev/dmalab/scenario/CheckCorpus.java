package dev.dmalab.scenario;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.check.Category;
import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.driver.DriverCore;
import dev.dmalab.driver.PciDriver;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.kernel.ArchKind;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The checker's corpus: for each bug class the DMA checker names, a small driver that makes that one mistake
 * ({@code check-<category>}) and its fixed twin ({@code check-<category>-fixed}). A buggy run yields exactly its
 * own finding wherever the bug class applies; the fixed twin yields none anywhere; the arch-aware classes stay
 * silent where they cannot bite (coherent devices, no IOMMU).
 *
 * <p>Each case picks its device: the first one of the platform, or the first non-coherent one, or the first behind
 * a translating IOMMU, or the first PCI function (the driver core binds PCI drivers only). Buffers sit in their own
 * pages ({@link WorkloadContext#kmallocLike}) from the lowest zone, so that nothing but the case's mistake shares
 * a cache line or an IOMMU granule and 32-bit devices need not bounce.
 */
public final class CheckCorpus {
    private CheckCorpus() {}

    /** What a case needs from the platform. */
    public enum Need {
        ANY_DEVICE,
        NON_COHERENT_DEVICE,
        IOMMU_DEVICE,
        PCI_DEVICE
    }

    /** A driver body: does the mistake when {@code buggy}, the right thing otherwise. */
    @FunctionalInterface
    interface Body {
        void run(WorkloadContext ctx, Device dev, boolean buggy);
    }

    /**
     * One bug class.
     *
     * @param category the finding the buggy twin must yield
     * @param need which device it runs on
     * @param kernelHas whether the modelled kernel has what the case exercises (dma-debug's EEXIST report is 5.14+;
     *     only 5.18+ refuses a vmalloc address before mapping a meaningless page, so the vmalloc case runs there
     *     only)
     * @param summary one line for {@code dmalab workloads}
     */
    public record Case(
            Category category,
            Need need,
            Predicate<Machine> kernelHas,
            boolean runsWithout,
            String summary,
            Body body) {
        public String name() {
            return "check-" + category.id();
        }

        /**
         * The device the case runs on: the first that fits its need; for the arch-aware needs (non-coherent,
         * IOMMU) the platform's first device when none fits, where the buggy twin must stay silent; null when the
         * platform has no device to run on.
         */
        public Device device(Machine m) {
            Device first = null;
            for (Device d : m.devices()) {
                if (first == null) {
                    first = d;
                }
                if (fits(d)) {
                    return d;
                }
            }
            return need == Need.PCI_DEVICE ? null : first;
        }

        private boolean fits(Device d) {
            return switch (need) {
                case ANY_DEVICE -> true;
                case NON_COHERENT_DEVICE -> !d.dmaCoherent();
                case IOMMU_DEVICE -> d.iommuContext() != null
                        && d.iommuContext().kind() == IommuContext.Kind.TRANSLATED;
                case PCI_DEVICE -> d.bus() == BusType.PCI;
            };
        }

        /** Whether the case runs on {@code m} at all. */
        public boolean runs(Machine m) {
            return device(m) != null && (runsWithout || kernelHas.test(m));
        }

        /** Whether the bug bites on {@code m}, so that the buggy twin must yield its finding there. */
        public boolean bites(Machine m) {
            Device d = device(m);
            return d != null && fits(d) && kernelHas.test(m);
        }
    }

    private static final int LEN = 2048;

    /** Every case, in category order. */
    public static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        Predicate<Machine> any = m -> true;
        c.add(new Case(
                Category.INVALID_FREE,
                Need.ANY_DEVICE,
                any,
                true,
                "the error path unmaps a handle that holds DMA_MAPPING_ERROR",
                CheckCorpus::invalidFree));
        c.add(new Case(
                Category.UNMAP_NOT_MAPPED,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver unmaps virt_to_phys() of a buffer it never mapped",
                CheckCorpus::unmapNotMapped));
        c.add(new Case(
                Category.DOUBLE_UNMAP,
                Need.ANY_DEVICE,
                any,
                true,
                "the completion and the timeout path both unmap the same buffer",
                CheckCorpus::doubleUnmap));
        c.add(new Case(
                Category.UNMAP_WRONG_SIZE,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver unmaps with the received length instead of the mapped one",
                CheckCorpus::wrongSize));
        c.add(new Case(
                Category.UNMAP_WRONG_TYPE,
                Need.ANY_DEVICE,
                any,
                true,
                "a one-entry scatterlist is released with dma_unmap_page()",
                CheckCorpus::wrongType));
        c.add(new Case(
                Category.UNMAP_WRONG_DIRECTION,
                Need.ANY_DEVICE,
                any,
                true,
                "an RX buffer mapped DMA_FROM_DEVICE is unmapped DMA_TO_DEVICE",
                CheckCorpus::wrongDirection));
        c.add(new Case(
                Category.FREE_WRONG_CPU_ADDRESS,
                Need.ANY_DEVICE,
                any,
                true,
                "dma_free_coherent() gets the address of a descriptor inside the allocation",
                CheckCorpus::freeWrongCpuAddress));
        c.add(new Case(
                Category.UNMAP_SG_WRONG_NENTS,
                Need.ANY_DEVICE,
                any,
                true,
                "dma_unmap_sg() gets one entry of a two-entry list",
                CheckCorpus::unmapSgWrongNents));
        c.add(new Case(
                Category.UNCHECKED_MAP_ERROR,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver uses a mapping without calling dma_mapping_error()",
                CheckCorpus::uncheckedMapError));
        c.add(new Case(
                Category.SYNC_NOT_MAPPED,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver syncs virt_to_phys() of a buffer it never mapped",
                CheckCorpus::syncNotMapped));
        c.add(new Case(
                Category.SYNC_OUT_OF_RANGE,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver syncs a whole page of a 2 KiB mapping",
                CheckCorpus::syncOutOfRange));
        c.add(new Case(
                Category.SYNC_WRONG_DIRECTION,
                Need.ANY_DEVICE,
                any,
                true,
                "an RX buffer is synced for the CPU with DMA_TO_DEVICE",
                CheckCorpus::syncWrongDirection));
        c.add(new Case(
                Category.SYNC_SG_WRONG_NENTS,
                Need.ANY_DEVICE,
                any,
                true,
                "dma_sync_sg_for_cpu() gets one entry of a two-entry list",
                CheckCorpus::syncSgWrongNents));
        c.add(new Case(
                Category.MAP_STACK,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver maps a local array on its stack",
                CheckCorpus::mapStack));
        c.add(new Case(
                Category.MAP_VMALLOC,
                Need.ANY_DEVICE,
                m -> m.kernel().has(Feature.MAP_SINGLE_REJECTS_VMALLOC),
                false,
                "the driver hands dma_map_single() a vmalloc buffer",
                CheckCorpus::mapVmalloc));
        c.add(new Case(
                Category.SG_SEGMENT_TOO_LONG,
                Need.ANY_DEVICE,
                any,
                true,
                "a scatterlist entry of 128 KiB for a device whose segments stop at 64 KiB",
                CheckCorpus::sgSegmentTooLong));
        c.add(new Case(
                Category.OVERLAPPING_CACHELINE,
                Need.NON_COHERENT_DEVICE,
                m -> m.kernel().has(Feature.DMA_DEBUG_EEXIST),
                true,
                "two RX buffers carved from one page start in the same cache line",
                CheckCorpus::overlappingCacheline));
        c.add(new Case(
                Category.LEAK_AT_UNBIND,
                Need.PCI_DEVICE,
                any,
                true,
                "the driver's remove() forgets to unmap its RX buffer",
                CheckCorpus::leakAtUnbind));
        c.add(new Case(
                Category.CPU_READ_DEVICE_OWNED,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver reads an RX buffer before dma_sync_single_for_cpu()",
                CheckCorpus::cpuReadDeviceOwned));
        c.add(new Case(
                Category.CPU_WRITE_DEVICE_OWNED,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver patches a TX header after mapping the buffer",
                CheckCorpus::cpuWriteDeviceOwned));
        c.add(new Case(
                Category.STALE_READ,
                Need.NON_COHERENT_DEVICE,
                // The CPU's old lines must survive the map: arm64 from 5.19 only cleans for the device; arm32 and
                // older arm64 invalidate FROM_DEVICE buffers at map, and the model has no speculative refill of
                // them during the transfer, so the skipped unmap invalidate cannot be observed there.
                m -> m.kernel().has(Feature.ARM64_CLEAN_ON_MAP) && m.kernel().arch() == ArchKind.ARM64,
                true,
                "the driver unmaps with DMA_ATTR_SKIP_CPU_SYNC and never syncs, then reads",
                CheckCorpus::staleRead));
        c.add(new Case(
                Category.LOST_DEVICE_DATA,
                Need.NON_COHERENT_DEVICE,
                any,
                true,
                "a dirty recycled buffer is mapped with DMA_ATTR_SKIP_CPU_SYNC; its lines are evicted over the data",
                CheckCorpus::lostDeviceData));
        c.add(new Case(
                Category.WILD_DMA,
                Need.ANY_DEVICE,
                any,
                true,
                "the device is programmed with a physical address instead of a DMA address",
                CheckCorpus::wildDma));
        c.add(new Case(
                Category.DEVICE_WRITE_TO_DEVICE_MAPPING,
                Need.ANY_DEVICE,
                any,
                true,
                "a buffer the device writes back into is mapped DMA_TO_DEVICE",
                CheckCorpus::deviceWriteToDevice));
        c.add(new Case(
                Category.DEVICE_WRITE_PAST_END,
                Need.ANY_DEVICE,
                any,
                true,
                "the device is told the buffer is 4 KiB, the driver mapped 2 KiB",
                CheckCorpus::deviceWritePastEnd));
        c.add(new Case(
                Category.CACHELINE_SHARING,
                Need.NON_COHERENT_DEVICE,
                any,
                true,
                "an RX buffer is embedded in a struct, next to a live field in its last cache line",
                CheckCorpus::cachelineSharing));
        c.add(new Case(
                Category.SUBPAGE_EXPOSURE,
                Need.IOMMU_DEVICE,
                any,
                true,
                "a 512-byte kmalloc buffer is mapped; its slab neighbour sits in the same IOMMU page",
                CheckCorpus::subpageExposure));
        c.add(new Case(
                Category.USE_AFTER_UNMAP,
                Need.ANY_DEVICE,
                any,
                true,
                "the driver unmaps an RX buffer before the device has finished with it",
                CheckCorpus::useAfterUnmap));
        return List.copyOf(c);
    }

    /** The buggy and fixed workload of every case. */
    public static List<Workload> workloads() {
        List<Workload> w = new ArrayList<>();
        for (Case c : cases()) {
            w.add(new CorpusWorkload(c, true));
            w.add(new CorpusWorkload(c, false));
        }
        return w;
    }

    /** A case as a workload; on a platform where it does not apply it does nothing and says so in a counter. */
    static final class CorpusWorkload implements Workload {
        private final Case c;
        private final boolean buggy;

        CorpusWorkload(Case c, boolean buggy) {
            this.c = c;
            this.buggy = buggy;
        }

        @Override
        public String name() {
            return buggy ? c.name() : c.name() + "-fixed";
        }

        @Override
        public String description() {
            return buggy ? "checker corpus: " + c.summary() : "checker corpus: the fixed twin of " + c.name();
        }

        @Override
        public void run(WorkloadContext ctx) {
            if (!c.runs(ctx.machine())) {
                ctx.count("corpus_not_applicable", 1);
                return;
            }
            Device dev = c.device(ctx.machine());
            ctx.task("dmalab-check", 600, 0);
            probe(ctx, dev);
        }

        @KernelFunction("dmalab_check_probe")
        private void probe(WorkloadContext ctx, Device dev) {
            c.body().run(ctx, dev, buggy);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private static long buffer(WorkloadContext ctx, long len) {
        return lowBuffer(ctx, len);
    }

    /**
     * A buffer in its own pages from the lowest zone that has room (ZONE_DMA, then DMA32, then NORMAL), so that
     * devices with small masks or bus windows (rpi4's 30-bit window) reach it without bouncing.
     */
    private static long lowBuffer(WorkloadContext ctx, long len) {
        IllegalStateException last = null;
        for (Zone z : new Zone[] {Zone.DMA, Zone.DMA32, Zone.NORMAL}) {
            try {
                return ctx.kmallocLike(len, 0, z);
            } catch (IllegalStateException e) {
                last = e;
            }
        }
        throw last;
    }

    private static long phys(WorkloadContext ctx, long va) {
        return ctx.machine().addressSpace().virtToPhys(va);
    }

    /** Maps {@code va} and checks the result as a careful driver does; -1 (and a failure) if the map failed. */
    private static long map(WorkloadContext ctx, Device dev, long va, int len, Direction dir, long attrs) {
        long addr = ctx.dma().mapSingleAttrs(dev, va, len, dir, attrs);
        if (ctx.dma().mappingError(dev, addr) != 0) {
            ctx.fail(dev.name() + ": dma_map_single(" + len + " bytes) failed");
            return -1;
        }
        return addr;
    }

    /** Maps {@code va} for the device to read, lets it read, unmaps: a correct transmit. */
    private static long send(WorkloadContext ctx, Device dev, long va, int len) {
        long addr = map(ctx, dev, va, len, Direction.TO_DEVICE, 0);
        if (addr < 0) {
            return addr;
        }
        deviceRead(ctx, dev, addr, len);
        ctx.dma().unmapSingleAttrs(dev, addr, len, Direction.TO_DEVICE, 0);
        return addr;
    }

    private static byte[] data(WorkloadContext ctx, int len) {
        return ctx.pattern(len);
    }

    private static void deviceWrite(WorkloadContext ctx, Device dev, long addr, byte[] data) {
        ctx.tick();
        ctx.busMaster(dev).write(addr, data, 0, data.length);
        ctx.tick();
    }

    private static void deviceRead(WorkloadContext ctx, Device dev, long addr, int len) {
        ctx.tick();
        ctx.busMaster(dev).read(addr, new byte[len], 0, len);
        ctx.tick();
    }

    /** A two-entry scatterlist over two page-sized buffers. */
    private static ScatterList twoEntryList(WorkloadContext ctx) {
        long pageBytes = ctx.machine().memory().pageSize().bytes();
        ScatterList sg = new ScatterList(2);
        for (int i = 0; i < 2; i++) {
            long va = lowBuffer(ctx, pageBytes);
            sg.add(phys(ctx, va), 0, (int) pageBytes);
        }
        return sg;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The cases

    private static void invalidFree(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuWrite(va, data(ctx, LEN));
        send(ctx, dev, va, LEN);
        // A second request's map "failed": the error path releases whatever handle it holds.
        long failed = Bits.U64_MAX;
        if (buggy) {
            ctx.dma().unmapSingleAttrs(dev, failed, LEN, Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        } else if (ctx.dma().mappingError(dev, failed) == 0) {
            ctx.dma().unmapSingleAttrs(dev, failed, LEN, Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        }
    }

    private static void unmapNotMapped(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long other = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.TO_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceRead(ctx, dev, addr, LEN);
        long handle = buggy ? phys(ctx, other) : addr;
        ctx.dma().unmapSingleAttrs(dev, handle, LEN, Direction.TO_DEVICE, 0);
        if (buggy) {
            ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.TO_DEVICE, 0);
        }
    }

    private static void doubleUnmap(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = send(ctx, dev, va, LEN);
        if (buggy && addr >= 0) {
            ctx.tick();
            ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        }
    }

    private static void wrongSize(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, 1500));
        ctx.dma().unmapSingleAttrs(dev, addr, buggy ? 1500 : LEN, Direction.FROM_DEVICE, 0);
        ctx.cpuRead(va, 1500);
    }

    private static void wrongType(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuWrite(va, data(ctx, LEN));
        ScatterList sg = new ScatterList(1);
        sg.add(phys(ctx, va), 0, LEN);
        int ents = ctx.dma().mapSgAttrs(dev, sg, 1, Direction.TO_DEVICE, 0);
        if (ents == 0) {
            ctx.fail(dev.name() + ": dma_map_sg failed");
            return;
        }
        deviceRead(ctx, dev, sg.dmaAddress(0), sg.dmaLength(0));
        if (buggy) {
            ctx.dma().unmapPageAttrs(dev, sg.dmaAddress(0), sg.dmaLength(0), Direction.TO_DEVICE, 0);
        } else {
            ctx.dma().unmapSgAttrs(dev, sg, 1, Direction.TO_DEVICE, 0);
        }
    }

    private static void wrongDirection(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, buggy ? Direction.TO_DEVICE : Direction.FROM_DEVICE, 0);
    }

    private static void freeWrongCpuAddress(WorkloadContext ctx, Device dev, boolean buggy) {
        long[] handle = new long[1];
        long pageBytes = ctx.machine().memory().pageSize().bytes();
        long va = ctx.dma().allocCoherent(dev, pageBytes, handle, Gfp.GFP_KERNEL);
        if (va == 0) {
            ctx.fail(dev.name() + ": dma_alloc_coherent failed");
            return;
        }
        ctx.cpuWrite(va + 64, data(ctx, 64)); // a descriptor at offset 64
        deviceRead(ctx, dev, handle[0] + 64, 64);
        ctx.dma().freeCoherent(dev, pageBytes, buggy ? va + 64 : va, handle[0]);
    }

    private static void unmapSgWrongNents(WorkloadContext ctx, Device dev, boolean buggy) {
        ScatterList sg = twoEntryList(ctx);
        int ents = ctx.dma().mapSgAttrs(dev, sg, 2, Direction.TO_DEVICE, 0);
        if (ents == 0) {
            ctx.fail(dev.name() + ": dma_map_sg failed");
            return;
        }
        for (int i = 0; i < ents; i++) {
            deviceRead(ctx, dev, sg.dmaAddress(i), sg.dmaLength(i));
        }
        ctx.dma().unmapSgAttrs(dev, sg, buggy ? 1 : 2, Direction.TO_DEVICE, 0);
    }

    private static void uncheckedMapError(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuWrite(va, data(ctx, LEN));
        long addr;
        if (buggy) {
            addr = ctx.dma().mapSingleAttrs(dev, va, LEN, Direction.TO_DEVICE, 0);
        } else {
            addr = map(ctx, dev, va, LEN, Direction.TO_DEVICE, 0);
            if (addr < 0) {
                return;
            }
        }
        deviceRead(ctx, dev, addr, LEN);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.TO_DEVICE, 0);
    }

    private static void syncNotMapped(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long other = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        ctx.dma().syncSingleForCpu(dev, buggy ? phys(ctx, other) : addr, LEN, Direction.FROM_DEVICE);
        if (buggy) {
            ctx.dma().syncSingleForCpu(dev, addr, LEN, Direction.FROM_DEVICE);
        }
        ctx.cpuRead(va, LEN);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    private static void syncOutOfRange(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, 2 * LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        ctx.dma().syncSingleForCpu(dev, addr, buggy ? 2 * LEN : LEN, Direction.FROM_DEVICE);
        ctx.cpuRead(va, LEN);
        ctx.dma().syncSingleForDevice(dev, addr, LEN, Direction.FROM_DEVICE);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    private static void syncWrongDirection(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        ctx.dma().syncSingleForCpu(dev, addr, LEN, buggy ? Direction.TO_DEVICE : Direction.FROM_DEVICE);
        if (buggy) {
            ctx.dma().syncSingleForCpu(dev, addr, LEN, Direction.FROM_DEVICE);
        }
        ctx.cpuRead(va, LEN);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    private static void syncSgWrongNents(WorkloadContext ctx, Device dev, boolean buggy) {
        ScatterList sg = twoEntryList(ctx);
        int ents = ctx.dma().mapSgAttrs(dev, sg, 2, Direction.FROM_DEVICE, 0);
        if (ents == 0) {
            ctx.fail(dev.name() + ": dma_map_sg failed");
            return;
        }
        for (int i = 0; i < ents; i++) {
            deviceWrite(ctx, dev, sg.dmaAddress(i), data(ctx, sg.dmaLength(i)));
        }
        ctx.dma().syncSgForCpu(dev, sg, buggy ? 1 : 2, Direction.FROM_DEVICE);
        if (buggy) {
            ctx.dma().syncSgForCpu(dev, sg, 2, Direction.FROM_DEVICE);
        }
        ctx.dma().unmapSgAttrs(dev, sg, 2, Direction.FROM_DEVICE, 0);
    }

    private static void mapStack(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buggy ? ctx.stackBuffer(64) : buffer(ctx, 64);
        ctx.cpuWrite(va, data(ctx, 64));
        send(ctx, dev, va, 64);
    }

    private static void mapVmalloc(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        if (buggy) {
            va = ctx.machine().addressSpace().vmapContiguous(phys(ctx, va), LEN, MemAttr.NORMAL_WB);
        }
        ctx.cpuWrite(va, data(ctx, LEN));
        long addr = ctx.dma().mapSingleAttrs(dev, va, LEN, Direction.TO_DEVICE, 0);
        if (ctx.dma().mappingError(dev, addr) != 0) {
            return; // 5.18+ refuses vmalloc memory: the driver's error path
        }
        deviceRead(ctx, dev, addr, LEN);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.TO_DEVICE, 0);
    }

    private static void sgSegmentTooLong(WorkloadContext ctx, Device dev, boolean buggy) {
        int seg = 64 * 1024;
        long va = lowBuffer(ctx, 2L * seg);
        ctx.cpuWrite(va, data(ctx, 2 * seg));
        ScatterList sg = new ScatterList(2);
        long pa = phys(ctx, va);
        long pageBytes = ctx.machine().memory().pageSize().bytes();
        if (buggy) {
            sg.addPhys(pa, 2 * seg, pageBytes);
        } else {
            sg.addPhys(pa, seg, pageBytes);
            sg.addPhys(pa + seg, seg, pageBytes);
        }
        int nents = sg.nents();
        int ents = ctx.dma().mapSgAttrs(dev, sg, nents, Direction.TO_DEVICE, 0);
        if (ents == 0) {
            ctx.fail(dev.name() + ": dma_map_sg failed");
            return;
        }
        for (int i = 0; i < ents; i++) {
            deviceRead(ctx, dev, sg.dmaAddress(i), sg.dmaLength(i));
        }
        ctx.dma().unmapSgAttrs(dev, sg, nents, Direction.TO_DEVICE, 0);
    }

    private static void overlappingCacheline(WorkloadContext ctx, Device dev, boolean buggy) {
        // One page carved by hand into a 32-byte status block and a 512-byte RX buffer.
        long pageBytes = ctx.machine().memory().pageSize().bytes();
        long page = lowBuffer(ctx, pageBytes);
        int line = ctx.machine().caches().geometry().lineBytes();
        long status = page;
        long rx = page + (buggy ? 32 : line);
        if (rx + 512 > page + pageBytes) {
            throw new IllegalStateException("page too small");
        }
        long a = map(ctx, dev, status, 32, Direction.FROM_DEVICE, 0);
        long b = map(ctx, dev, rx, 512, Direction.FROM_DEVICE, 0);
        if (a < 0 || b < 0) {
            return;
        }
        ctx.dma().unmapSingleAttrs(dev, b, 512, Direction.FROM_DEVICE, 0);
        ctx.dma().unmapSingleAttrs(dev, a, 32, Direction.FROM_DEVICE, 0);
    }

    private static void leakAtUnbind(WorkloadContext ctx, Device dev, boolean buggy) {
        Machine m = ctx.machine();
        DriverCore core = new DriverCore(m.kernel(), m.dma(), List.of(dev));
        long[] rx = new long[1];
        long va = buffer(ctx, LEN);
        PciDriver drv = new PciDriver("dmalab-rx") {
            @Override
            public boolean matches(Device d) {
                return d == dev;
            }

            @Override
            public int probe(Device d) {
                rx[0] = map(ctx, d, va, LEN, Direction.FROM_DEVICE, 0);
                return rx[0] < 0 ? -12 : 0;
            }

            @Override
            public void remove(Device d) {
                if (!buggy) {
                    m.dma().unmapSingleAttrs(d, rx[0], LEN, Direction.FROM_DEVICE, 0);
                }
            }
        };
        String before = dev.driverName();
        core.pciRegisterDriver(drv);
        if (rx[0] >= 0) {
            deviceWrite(ctx, dev, rx[0], data(ctx, LEN));
        }
        core.releaseDriver(dev);
        dev.setDriverName(before);
    }

    private static void cpuReadDeviceOwned(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        if (!buggy) {
            ctx.dma().syncSingleForCpu(dev, addr, LEN, Direction.FROM_DEVICE);
        }
        ctx.cpuRead(va, 64); // the completion header
        if (buggy) {
            ctx.dma().syncSingleForCpu(dev, addr, LEN, Direction.FROM_DEVICE);
        }
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    private static void cpuWriteDeviceOwned(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuWrite(va, data(ctx, LEN));
        if (!buggy) {
            ctx.cpuWrite(va, data(ctx, 16)); // the header, before the map
        }
        long addr = map(ctx, dev, va, LEN, Direction.TO_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        if (buggy) {
            ctx.cpuWrite(va, data(ctx, 16)); // the header, after the map
        }
        deviceRead(ctx, dev, addr, LEN);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.TO_DEVICE, 0);
    }

    private static void staleRead(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuRead(va, LEN); // the buffer's lines are in the cache, clean
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        if (!buggy) {
            ctx.dma().syncSingleForCpu(dev, addr, LEN, Direction.FROM_DEVICE);
        }
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        ctx.cpuRead(va, LEN);
    }

    private static void lostDeviceData(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuWrite(va, data(ctx, LEN)); // the recycled buffer's lines are dirty
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, buggy ? DmaAttrs.SKIP_CPU_SYNC : 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, LEN));
        // Other work streams through the cache and evicts the buffer's lines.
        int cacheBytes = ctx.machine().caches().geometry().sizeBytes();
        long scratch = ctx.kmallocLike(4L * cacheBytes, 0, Zone.NORMAL);
        ctx.cpuRead(scratch, 4 * cacheBytes);
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
        ctx.cpuRead(va, LEN);
    }

    private static void wildDma(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        long programmed = buggy ? phys(ctx, buffer(ctx, LEN)) : addr;
        deviceWrite(ctx, dev, programmed, data(ctx, LEN));
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    private static void deviceWriteToDevice(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        ctx.cpuWrite(va, data(ctx, LEN));
        Direction dir = buggy ? Direction.TO_DEVICE : Direction.BIDIRECTIONAL;
        long addr = map(ctx, dev, va, LEN, dir, 0);
        if (addr < 0) {
            return;
        }
        deviceRead(ctx, dev, addr, LEN);
        deviceWrite(ctx, dev, addr, data(ctx, 64)); // the device writes its status back into the buffer
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, dir, 0);
    }

    private static void deviceWritePastEnd(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, 2 * LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, buggy ? 2 * LEN : LEN));
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
    }

    private static void cachelineSharing(WorkloadContext ctx, Device dev, boolean buggy) {
        // struct rx_ctx { u8 buf[200]; u64 state; } puts the field right after the buffer; the fix gives the
        // buffer an allocation of its own (the struct keeps a pointer to it).
        long va = lowBuffer(ctx, 200);
        if (buggy) {
            ctx.liveData(va + 200, 8, "rx_ctx.state");
        } else {
            lowBuffer(ctx, 64);
        }
        long addr = map(ctx, dev, va, 200, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        deviceWrite(ctx, dev, addr, data(ctx, 200));
        ctx.dma().unmapSingleAttrs(dev, addr, 200, Direction.FROM_DEVICE, 0);
        ctx.cpuRead(va, 200);
    }

    private static void subpageExposure(WorkloadContext ctx, Device dev, boolean buggy) {
        long pageBytes = ctx.machine().memory().pageSize().bytes();
        long va = buggy ? ctx.kmalloc(512) : ctx.kmalloc(pageBytes);
        long neighbour = ctx.kmalloc(512); // another driver's object
        ctx.cpuWrite(neighbour, data(ctx, 512));
        ctx.cpuWrite(va, data(ctx, 512));
        send(ctx, dev, va, 512);
    }

    private static void useAfterUnmap(WorkloadContext ctx, Device dev, boolean buggy) {
        long va = buffer(ctx, LEN);
        long addr = map(ctx, dev, va, LEN, Direction.FROM_DEVICE, 0);
        if (addr < 0) {
            return;
        }
        byte[] packet = data(ctx, LEN);
        if (!buggy) {
            deviceWrite(ctx, dev, addr, packet);
        }
        ctx.dma().unmapSingleAttrs(dev, addr, LEN, Direction.FROM_DEVICE, 0);
        if (buggy) {
            deviceWrite(ctx, dev, addr, packet); // the device was still receiving
        }
        ctx.cpuRead(va, LEN);
    }
}
