package dev.dmalab.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.dma.DmaCallListener;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two ways events reach a listener ({@code DmaEvents}): records for every listener that is not a {@link
 * DmaCallListener}, plain-argument calls for those that are. Both must carry the same facts, in the same order, and
 * the checker must judge the same whichever way it is fed.
 */
class CheckerFeedTest {
    private static final String NVME = "0000:00:03.0";

    /** A driver with bugs on the per-packet path: an unchecked map, a wrong-size unmap, a sync of nothing. */
    private static void buggyDriver(Machine m) {
        DmaApi dma = m.dma();
        Device dev = m.device(NVME);
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long a = dma.mapPageAttrs(dev, page, 0, 4096, Direction.FROM_DEVICE, 0);
        dma.syncSingleForCpu(dev, a, 4096, Direction.FROM_DEVICE);
        dma.unmapPageAttrs(dev, a, 2048, Direction.FROM_DEVICE, 0);
        dma.syncSingleForDevice(dev, a, 64, Direction.FROM_DEVICE);
        long b = dma.mapPageAttrs(dev, page, 128, 512, Direction.TO_DEVICE, 0);
        assertThat(dma.mappingError(dev, b)).isZero();
        dma.unmapPageAttrs(dev, b, 512, Direction.BIDIRECTIONAL, 0);
    }

    private static List<String> describe(List<DmaFinding> findings) {
        List<String> out = new ArrayList<>();
        for (DmaFinding f : findings) {
            out.add(f.category() + " " + f.call() + " " + f.dmaAddr() + " " + f.size() + " " + f.timeNs() + " "
                    + f.cpu() + " " + f.message());
        }
        return out;
    }

    @Test
    void theCheckerJudgesRecordsAsItJudgesCalls() {
        for (String cmdline : new String[] {"", "swiotlb=force"}) {
            Machine attached = Machine.boot(
                    Platforms.builtIn("x86-q35"),
                    KernelVersion.V6_12,
                    Machine.BootOptions.DEFAULT.withCmdline(cmdline));
            DmaChecker viaCalls = attached.attachChecker(CheckOptions.DEFAULT.withAllErrors(true));
            buggyDriver(attached);

            Machine fed = Machine.boot(
                    Platforms.builtIn("x86-q35"),
                    KernelVersion.V6_12,
                    Machine.BootOptions.DEFAULT.withCmdline(cmdline));
            DmaChecker viaRecords = new DmaChecker(
                    fed.kernel(),
                    fed.caches(),
                    fed.cpu(),
                    fed.kernel().objects(),
                    fed.caches().geometry().lineBytes(),
                    CheckOptions.DEFAULT.withAllErrors(true));
            fed.events().addListener(viaRecords::onEvent); // a lambda is a record listener
            buggyDriver(fed);

            assertThat(describe(viaCalls.findings()))
                    .as("swiotlb: %s", cmdline)
                    .hasSize(4)
                    .isEqualTo(describe(viaRecords.findings()));
            assertThat(viaRecords.errorCount()).isEqualTo(viaCalls.errorCount());
        }
    }

    /** Records go to record listeners and calls to call listeners, in the order the listeners were added. */
    @Test
    void mixedListenersSeeTheSameCallsInOrder() {
        Machine m = Machine.boot(
                Platforms.builtIn("x86-q35"),
                KernelVersion.V6_12,
                Machine.BootOptions.DEFAULT.withCmdline("swiotlb=force"));
        List<String> seen = new ArrayList<>();
        m.events().addListener(e -> seen.add("A " + asText(e)));
        m.events().addListener(new CallRecorder("B", seen));
        m.events().addListener(e -> seen.add("C " + asText(e)));

        DmaApi dma = m.dma();
        Device dev = m.device(NVME);
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long a = dma.mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0);
        dma.mappingError(dev, a);
        dma.syncSingleForDevice(dev, a, 4096, Direction.TO_DEVICE);
        dma.unmapPageAttrs(dev, a, 4096, Direction.TO_DEVICE, 0);

        List<String> expected = new ArrayList<>();
        String[] calls = {
            "bounced " + NVME + " true " + dev.dmaMask() + " " + page + " 4096 true",
            "map " + NVME + " true PAGE TO_DEVICE " + a + " 4096 " + page + " 0",
            "error " + NVME + " " + a,
            "sync " + NVME + " true false TO_DEVICE " + a + " 4096",
            "unmap " + NVME + " true PAGE TO_DEVICE " + a + " 4096 0"
        };
        for (String c : calls) {
            expected.add("A " + c);
            expected.add("B " + c);
            expected.add("C " + c);
        }
        assertThat(seen).isEqualTo(expected);
    }

    /** A call listener that writes what it is told into {@code seen}, prefixed by its tag. */
    private static final class CallRecorder implements DmaCallListener {
        private final String tag;
        private final List<String> seen;

        CallRecorder(String tag, List<String> seen) {
            this.tag = tag;
            this.seen = seen;
        }

        @Override
        public void onEvent(DmaEvent event) {
            seen.add(tag + " " + asText(event));
        }

        @Override
        public void onMap(
                Device dev,
                boolean traced,
                DmaEvent.MapKind kind,
                Direction dir,
                long dmaAddr,
                long size,
                long phys,
                long attrs) {
            seen.add(tag + " map " + dev.name() + " " + traced + " " + kind + " " + dir + " " + dmaAddr + " " + size
                    + " " + phys + " " + attrs);
        }

        @Override
        public void onUnmap(
                Device dev, boolean traced, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size, long attrs) {
            seen.add(tag + " unmap " + dev.name() + " " + traced + " " + kind + " " + dir + " " + dmaAddr + " " + size
                    + " " + attrs);
        }

        @Override
        public void onSyncSingle(Device dev, boolean traced, boolean forCpu, Direction dir, long dmaAddr, long size) {
            seen.add(
                    tag + " sync " + dev.name() + " " + traced + " " + forCpu + " " + dir + " " + dmaAddr + " " + size);
        }

        @Override
        public void onMappingErrorCheck(Device dev, long dmaAddr) {
            seen.add(tag + " error " + dev.name() + " " + dmaAddr);
        }

        @Override
        public void onSwiotlbBounced(Device dev, boolean traced, long dmaMask, long devAddr, long size, boolean force) {
            seen.add(tag + " bounced " + dev.name() + " " + traced + " " + dmaMask + " " + devAddr + " " + size + " "
                    + force);
        }
    }

    /** Two call listeners and no record listener: each gets every call, in the order they were added. */
    @Test
    void callListenersAloneAreCalledInOrder() {
        Machine m = Machine.boot(
                Platforms.builtIn("x86-q35"),
                KernelVersion.V6_12,
                Machine.BootOptions.DEFAULT.withCmdline("swiotlb=force"));
        List<String> seen = new ArrayList<>();
        m.events().addListener(new CallRecorder("B", seen));
        m.events().addListener(new CallRecorder("D", seen));
        DmaApi dma = m.dma();
        Device dev = m.device(NVME);
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long a = dma.mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0);
        dma.mappingError(dev, a);
        dma.syncSingleForDevice(dev, a, 4096, Direction.TO_DEVICE);
        dma.unmapPageAttrs(dev, a, 4096, Direction.TO_DEVICE, 0);
        assertThat(seen)
                .extracting(l -> l.substring(0, l.indexOf(' ', 2)))
                .containsExactly(
                        "B bounced",
                        "D bounced",
                        "B map",
                        "D map",
                        "B error",
                        "D error",
                        "B sync",
                        "D sync",
                        "B unmap",
                        "D unmap");
    }

    /** The same facts as the call listener prints, read from a record. */
    private static String asText(DmaEvent e) {
        String dev = e.device() == null ? "NULL" : e.device().name();
        if (e instanceof DmaEvent.Map m) {
            return "map " + dev + " " + m.traced() + " " + m.kind() + " " + m.dir() + " " + m.dmaAddr() + " " + m.size()
                    + " " + m.phys() + " " + m.attrs();
        } else if (e instanceof DmaEvent.Unmap u) {
            return "unmap " + dev + " " + u.traced() + " " + u.kind() + " " + u.dir() + " " + u.dmaAddr() + " "
                    + u.size() + " " + u.attrs();
        } else if (e instanceof DmaEvent.SyncSingle s) {
            return "sync " + dev + " " + s.traced() + " " + s.forCpu() + " " + s.dir() + " " + s.dmaAddr() + " "
                    + s.size();
        } else if (e instanceof DmaEvent.MappingErrorCheck c) {
            return "error " + dev + " " + c.dmaAddr();
        } else if (e instanceof DmaEvent.SwiotlbBounced b) {
            return "bounced " + dev + " " + b.traced() + " " + b.dmaMask() + " " + b.devAddr() + " " + b.size() + " "
                    + b.force();
        }
        return e.getClass().getSimpleName();
    }
}
