package dev.dmalab.bench;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@code dma_map_page} + {@code dma_unmap_page} pair of a 4 KiB TO_DEVICE buffer, per path, with no event
 * listener attached (the model's hot path), beside {@code System.arraycopy} of 4 KiB measured in the same run.
 *
 * <ul>
 *   <li>{@code directPair}: x86-q35, Linux 6.12, the NVMe device (64-bit, coherent): dma-direct, no bounce.
 *   <li>{@code swiotlbPair}: the same machine booted with {@code swiotlb=force} (64 MiB pool) or {@code
 *       swiotlb=128,force} (256 KiB): every map bounces the 4 KiB (real bytes) into a slot and the unmap frees it
 *       (TO_DEVICE: no copy back).
 *   <li>{@code iommuPair}: x86-q35-vtd (strict) and x86-q35-vtd-lazy, the same device behind VT-d: an IOVA from the
 *       rcache, page-table entries set and cleared, the IOTLB invalidated (strict) or the IOVA queued (lazy).
 *   <li>{@code xenPair}: Xen dom0 (arm64 1:1 and x86 PV), one of dom0's own pages or a guest's grant-mapped page,
 *       through {@code xen_swiotlb_dma_ops} without a bounce.
 *   <li>{@code copy4k}: {@code System.arraycopy} of 4096 bytes between the same two arrays (both stay in L1).
 *   <li>{@code copy4kCycling}: the same copy into the next of as many 4 KiB arrays as the pool holds: what the bounce
 *       copy alone costs when, as in the kernel, each map writes the next slot of the pool.
 * </ul>
 *
 * The buffer is written before the run: never-written memory is sparse in the model, and bouncing it would copy
 * nothing. Run with {@code mvn -B -Pbench verify -pl bench -am -DskipTests -Djacoco.skip=true
 * -Dspotless.check.skip=true} (JMH options in {@code -Djmh.args=...}, default {@code -prof gc}); the recorded
 * numbers and their reading are in docs/PERFORMANCE.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MapUnmapBench {
    /** A booted machine and a device, ready to map. */
    @State(Scope.Thread)
    public static class Path {
        Machine machine;
        DmaApi dma;
        Device dev;
        long page;

        void boot(String cmdline) {
            boot("x86-q35", cmdline);
        }

        void boot(String platform, String cmdline) {
            boot(platform, cmdline, "0000:00:03.0");
        }

        void boot(String platform, String cmdline, String device) {
            Machine m = Machine.boot(
                    Platforms.builtIn(platform), KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
            machine = m;
            dma = m.dma();
            dev = m.device(device);
            page = m.allocKernelPages(0, Zone.NORMAL);
            // Fill the buffer so that the bounce copies materialised bytes (never-written memory is sparse and
            // would make the copy a cheaper zero fill).
            byte[] data = new byte[4096];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + 7);
            }
            m.cpu().writePhys(page, data, 0, data.length);
        }
    }

    /** The direct path. */
    public static class Direct extends Path {
        @Setup(Level.Trial)
        public void setup() {
            boot("");
        }
    }

    /**
     * The swiotlb path. The default 64 MiB pool is what a kernel booted with {@code swiotlb=force} has: the 6.12
     * search moves on by two slots per 4 KiB map, so successive bounces land in successive 4 KiB of the pool and the
     * copy always writes memory no CPU cache holds, as in the kernel. The 256 KiB pool keeps the bounce buffers
     * cache-resident and so shows the model's own cost.
     */
    public static class Bounce extends Path {
        @Param({"swiotlb=force", "swiotlb=128,force"})
        public String cmdline;

        @Setup(Level.Trial)
        public void setup() {
            boot(cmdline);
        }
    }

    /**
     * The dma-iommu path on the q35 + VT-d model: strict (the IOVA back to the rcache and a page-selective IOTLB
     * invalidation per unmap) and lazy (the IOVA queued; every 255 unmaps the flush queue is full, the domain's IOTLB
     * is flushed and the batch goes back to the rcache).
     */
    public static class Iommu extends Path {
        @Param({"x86-q35-vtd", "x86-q35-vtd-lazy"})
        public String platform;

        @Setup(Level.Trial)
        public void setup() {
            boot(platform, "");
        }
    }

    /**
     * Xen dom0 on the two kinds of dom0 the model has, Linux 6.12, every device behind {@code xen_swiotlb_dma_ops}:
     * juno-r2-xen-dom0 (arm64, dom0 mapped 1:1, the SiI3132 on coherent PCIe) and x86-xen-pv-dom0 (x86 PV: dom0's
     * machine frames lie above 4 GiB in reversed 2 MiB chunks, the NVMe has a 64-bit mask). {@code foreign=false}
     * maps one of dom0's own pages ({@code xen_phys_to_dma} through the p2m, no bounce); {@code foreign=true} maps a
     * page of domU1 that dom0 has grant-mapped ({@code gnttab_map_refs}), as blkback does, so the device is given the
     * guest's machine frame. The set-up fails the trial if the first pair bounces or, for the foreign page, does not
     * give the guest's frame.
     */
    public static class Xen extends Path {
        @Param({"juno-r2-xen-dom0", "x86-xen-pv-dom0"})
        public String platform;

        @Param({"false", "true"})
        public boolean foreign;

        @Setup(Level.Trial)
        public void setup() {
            bootXen(this, platform, foreign);
        }
    }

    /** Boots a Xen dom0 platform and points {@code s.page} at a local or a grant-mapped foreign page. */
    static void bootXen(Path s, String platform, boolean foreign) {
        s.boot(platform, "", platform.startsWith("juno") ? "0000:03:00.0" : "0000:00:03.0");
        long expected = -1;
        if (foreign) {
            Domain guest = s.machine.xen().domain(1);
            long gfn = guest.p2m().tableBase() + 3;
            int ref = s.machine.xen().grantAccess(guest, s.machine.dom0(), gfn, true);
            s.page = s.machine.gnttab().mapForeign(guest, ref, true);
            expected = guest.machineAddr(gfn << 12);
        }
        long addr = s.dma.mapPageAttrs(s.dev, s.page, 0, 4096, Direction.TO_DEVICE, 0);
        s.dma.unmapPageAttrs(s.dev, addr, 4096, Direction.TO_DEVICE, 0);
        if (s.machine.swiotlb().bouncedMaps() != 0 || (foreign && addr != expected)) {
            throw new IllegalStateException(platform + (foreign ? " foreign" : " local") + ": the pair bounced or"
                    + " missed the guest's frame (got 0x" + Long.toHexString(addr) + ", expected 0x"
                    + Long.toHexString(expected) + ")");
        }
    }

    /** Two 4 KiB arrays. */
    @State(Scope.Thread)
    public static class Arrays4k {
        final byte[] src = new byte[4096];
        final byte[] dst = new byte[4096];
    }

    /**
     * A 4 KiB source and destinations cycling through separate 4 KiB arrays, as the model's sparse memory holds a
     * pool of the given size: the cost of the copy alone when each bounce writes the next 4 KiB of the pool.
     */
    @State(Scope.Thread)
    public static class Cycling {
        @Param({"65536", "256"})
        public int poolKib;

        final byte[] src = new byte[4096];
        byte[][] dst;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            dst = new byte[poolKib / 4][4096];
            for (int i = 0; i < src.length; i++) {
                src[i] = (byte) (i * 31 + 7);
            }
        }
    }

    /** One map+unmap of the 4 KiB TO_DEVICE buffer on the path {@code s} booted. */
    private static long pair(Path s) {
        long addr = s.dma.mapPageAttrs(s.dev, s.page, 0, 4096, Direction.TO_DEVICE, 0);
        s.dma.unmapPageAttrs(s.dev, addr, 4096, Direction.TO_DEVICE, 0);
        return addr;
    }

    @Benchmark
    public long directPair(Direct s) {
        return pair(s);
    }

    @Benchmark
    public long swiotlbPair(Bounce s) {
        return pair(s);
    }

    @Benchmark
    public long iommuPair(Iommu s) {
        return pair(s);
    }

    @Benchmark
    public long xenPair(Xen s) {
        return pair(s);
    }

    @Benchmark
    public byte copy4k(Arrays4k a) {
        System.arraycopy(a.src, 0, a.dst, 0, 4096);
        return a.dst[4095];
    }

    @Benchmark
    public byte copy4kCycling(Cycling c) {
        byte[] d = c.dst[c.next];
        c.next = c.next + 1 == c.dst.length ? 0 : c.next + 1;
        System.arraycopy(c.src, 0, d, 0, 4096);
        return d[4095];
    }
}
