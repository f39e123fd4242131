package dev.dmalab.scenario;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.driver.Blkback;
import dev.dmalab.driver.DriverCore;
import dev.dmalab.driver.KernelInit;
import dev.dmalab.driver.Libata;
import dev.dmalab.driver.Sil24;
import dev.dmalab.driver.Sil3132;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The seed's machine room, for the {@code initcalls}, {@code sata_io} and {@code blkback_io} steps of the
 * {@code xen-dom0-boot} scenario: the first kernel thread runs the initcalls and {@code sata_sil24} probes every
 * SiI3124/3132 (on a Xen dom0 through {@code xen_swiotlb_dma_ops}, which in 5.0-rc2 on arm64 dereferences NULL
 * native ops in {@code xen_swiotlb_alloc_coherent}); then each probed controller's first port does I/O whose bytes
 * are checked on both sides — from dom0's own pages, and, on a Xen machine with a guest, from a guest's granted
 * pages through a blkback, the guest's CPU writing and reading them through the caches as it would.
 */
final class SataRig {
    /** Sectors of each modelled disk (1 GiB). */
    static final long DISK_SECTORS = 1L << 21;

    private final WorkloadContext ctx;
    private final Map<String, Sil3132> controllers = new LinkedHashMap<>();
    private Sil24 sil24;

    SataRig(WorkloadContext ctx) {
        this.ctx = ctx;
    }

    /** {@code ret_from_fork → kernel_init → do_initcalls}: sata_sil24's initcall registers it and probes. */
    void boot() {
        Machine m = ctx.machine();
        DriverCore core = new DriverCore(m.kernel(), m.dma(), m.devices());
        Libata libata = new Libata(m.dma());
        sil24 = new Sil24(m.kernel(), m.dma(), m.cpu(), libata, core, this::hardware);
        new KernelInit(List.of(sil24::driverInit)).retFromFork();
        if (ports().isEmpty()) {
            // the seed's boot is about this controller: without one it does not apply
            ctx.unsupported("no SiI3124/3132 controller (driver sata_sil24) on "
                    + m.profile().name());
        }
    }

    private Sil3132 hardware(Device dev) {
        return controllers.computeIfAbsent(
                dev.name(), n -> new Sil3132(dev, ctx.machine().busMaster(dev), portsOf(dev), DISK_SECTORS));
    }

    /** The first port of every probed controller, in device order. */
    private List<Libata.AtaPort> ports() {
        List<Libata.AtaPort> out = new java.util.ArrayList<>();
        for (Device dev : ctx.machine().devices()) {
            Libata.AtaHost host = sil24.host(dev);
            if (host != null) {
                out.add(host.ports().get(0));
            }
        }
        return out;
    }

    /** Every probed controller writes two pages of dom0's memory at {@code lba} and reads them back. */
    void localIo(long lba) {
        for (Libata.AtaPort port : ports()) {
            localIo(port, hardware(port.host().dev()), lba);
        }
    }

    /**
     * On a Xen machine with a guest, every probed controller writes a granted guest page at {@code lba} and reads
     * {@code readLba} into another; elsewhere it does nothing.
     */
    void guestIo(long lba, long readLba) {
        Machine m = ctx.machine();
        if (m.xen() == null || m.xen().domains().stream().allMatch(d -> d.id() == 0)) {
            return;
        }
        for (Libata.AtaPort port : ports()) {
            guestIo(port, hardware(port.host().dev()), lba, readLba);
        }
    }

    /** The counters of the run: SATA commands per controller, and Xen's hypercalls. */
    void count() {
        for (Sil3132 hw : controllers.values()) {
            ctx.count("sata_commands", hw.commands());
        }
        Machine m = ctx.machine();
        if (m.xen() != null) {
            ctx.count("xen_cache_flush_hypercalls", m.xen().cacheFlushCalls());
            ctx.count("xen_exchanged_frames", m.xen().exchangedFrames());
        }
    }

    private static int portsOf(Device dev) {
        return switch (dev.pciId()) {
            case "1095:3124", "8086:3124" -> 4;
            case "1095:3131", "1095:3531" -> 1;
            default -> 2;
        };
    }

    /** Two pages of dom0's memory written to the disk and read back into two other pages. */
    private void localIo(Libata.AtaPort port, Sil3132 hw, long lba) {
        Machine m = ctx.machine();
        Device dev = port.host().dev();
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long page2 = m.allocKernelPages(0, Zone.NORMAL);
        byte[] data = ctx.pattern(8192);
        m.cpu().writePhys(page, data, 0, 4096);
        m.cpu().writePhys(page2, data, 4096, 4096);
        ScatterList sg = new ScatterList(2).add(page, 0, 4096).add(page2, 0, 4096);
        int err = sil24.readWrite(port, true, lba, sg);
        if (err != 0) {
            ctx.fail(dev.name() + ": the 8 KiB write from dom0's pages failed (SiI3132 error " + hw.lastError() + ")");
            return;
        }
        int bad = WorkloadContext.differing(data, hw.disk(port.portNo(), lba, 8192));
        if (bad != 0) {
            ctx.fail(dev.name() + ": the disk received " + bad + " of 8192 bytes wrong from dom0's pages");
        }
        ctx.count("bytes_checked", 8192);
        long back = m.allocKernelPages(0, Zone.NORMAL);
        long back2 = m.allocKernelPages(0, Zone.NORMAL);
        byte[] poison = new byte[4096];
        java.util.Arrays.fill(poison, (byte) 0xaa);
        m.cpu().writePhys(back, poison, 0, 4096);
        m.cpu().writePhys(back2, poison, 0, 4096);
        ScatterList rsg = new ScatterList(2).add(back, 0, 4096).add(back2, 0, 4096);
        err = sil24.readWrite(port, false, lba, rsg);
        if (err != 0) {
            ctx.fail(dev.name() + ": the 8 KiB read into dom0's pages failed (SiI3132 error " + hw.lastError() + ")");
            return;
        }
        byte[] seen = new byte[8192];
        m.cpu().readPhys(back, seen, 0, 4096);
        m.cpu().readPhys(back2, seen, 4096, 4096);
        bad = WorkloadContext.differing(data, seen);
        if (bad != 0) {
            ctx.count("stale_bytes", bad);
            ctx.fail(dev.name() + ": the CPU read " + bad + " of 8192 bytes wrong after reading them back from disk");
        }
        ctx.count("bytes_checked", 8192);
    }

    /**
     * A guest page written to disk and another read from it, by a blkback in dom0 mapping the guest's grants. The
     * guest's vCPU runs on the last CPU and reaches its frames through the caches by machine address.
     */
    private void guestIo(Libata.AtaPort port, Sil3132 hw, long lba, long readLba) {
        Machine m = ctx.machine();
        Xen xen = m.xen();
        Domain guest =
                xen.domains().stream().filter(d -> d.id() != 0).findFirst().orElseThrow();
        Device dev = port.host().dev();
        int guestCpu = m.kernel().context().cpus() - 1;
        long gfn = guest.p2m().tableBase();
        long frame = guest.machineAddr(gfn << 12);
        byte[] data = ctx.pattern(4096);
        m.caches().cpuWrite(guestCpu, frame, data, 0, 4096, MemAttr.NORMAL_WB);
        Blkback blkback = new Blkback(m.gnttab(), sil24);
        int ref = xen.grantAccess(guest, m.dom0(), gfn, true);
        ctx.task("blkback.1.xvda", 200, 0);
        int err = blkback.serve(port, guest, ref, true, lba);
        ctx.count("foreign_pages_mapped", 1);
        if (err != 0) {
            ctx.fail(dev.name() + ": the write of " + guest.name() + "'s granted page failed (SiI3132 error "
                    + hw.lastError() + ")");
        } else {
            int bad = WorkloadContext.differing(data, hw.disk(port.portNo(), lba, 4096));
            if (bad != 0) {
                ctx.fail(dev.name() + ": the disk received " + bad + " of 4096 bytes wrong from " + guest.name()
                        + "'s granted page (its CPU's writes had not reached memory)");
            }
            ctx.count("bytes_checked", 4096);
        }

        long frame2 = guest.machineAddr((gfn + 1) << 12);
        byte[] poison = new byte[4096];
        java.util.Arrays.fill(poison, (byte) 0x5a);
        m.caches().cpuWrite(guestCpu, frame2, poison, 0, 4096, MemAttr.NORMAL_WB);
        int ref2 = xen.grantAccess(guest, m.dom0(), gfn + 1, false);
        err = blkback.serve(port, guest, ref2, false, readLba);
        ctx.count("foreign_pages_mapped", 1);
        if (err != 0) {
            ctx.fail(dev.name() + ": the read into " + guest.name() + "'s granted page failed (SiI3132 error "
                    + hw.lastError() + ")");
            return;
        }
        byte[] expected = hw.disk(port.portNo(), readLba, 4096);
        byte[] seen = new byte[4096];
        m.caches().cpuRead(guestCpu, frame2, seen, 0, 4096, MemAttr.NORMAL_WB);
        int bad = WorkloadContext.differing(expected, seen);
        if (bad != 0) {
            ctx.count("stale_bytes", bad);
            ctx.fail(dev.name() + ": " + guest.name() + "'s CPU read " + bad + " of 4096 bytes stale from the page"
                    + " dom0 read the disk into");
        }
        ctx.count("bytes_checked", 4096);
    }
}
