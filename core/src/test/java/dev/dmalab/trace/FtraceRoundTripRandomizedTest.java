package dev.dmalab.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.util.SeededRandom;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * parse(write(events)) == events for random events of every kind the 6.12 writer prints, beyond what the captures
 * happen to contain: failed maps, resources, every direction and attribute, scatterlists up to and past the 128
 * entries the tracepoint prints, sync of scatterlists, coherent and page allocations, swiotlb_bounced, markers with
 * odd text, and task names with dashes, slashes and spaces. The whole trace goes through {@link FtraceWriter#writeTo}
 * (header included) and back through the streaming {@link FtraceParser}.
 *
 * <p>What the format cannot carry is left out of the comparison, each for its reason: timestamps are printed in
 * microseconds (events are generated on whole microseconds), the CPU entries' lengths of {@code dma_map_sg} are not
 * printed, past 128 entries only the first 128 are, and {@code dma_alloc} prints no physical address. Seeded: the seed is printed, and {@code
 * -Ddmalab.seed=N} replays one.
 */
class FtraceRoundTripRandomizedTest {
    private static final String[] COMMS = {
        "kworker/u8:2", "dma-map-bench", "irq/35-nvme0q1", "swapper/0", "fio", "ksoftirqd/1", "a b", "x"
    };
    private static final String[] DEVICES = {"0000:00:03.0", "0000:01:00.0", "fa000000.sata", "fe300000.mmc"};
    private static final String[] FLAGS = {".....", "d..1.", "dNh2.", "..s1.", "d.H3."};
    private static final long[] ATTRS = {
        DmaAttrs.WRITE_BARRIER,
        DmaAttrs.WEAK_ORDERING,
        DmaAttrs.WRITE_COMBINE,
        DmaAttrs.NO_KERNEL_MAPPING,
        DmaAttrs.SKIP_CPU_SYNC,
        DmaAttrs.FORCE_CONTIGUOUS,
        DmaAttrs.ALLOC_SINGLE_PAGES,
        DmaAttrs.NO_WARN,
        DmaAttrs.PRIVILEGED
    };
    private static final int[] GFPS = {
        Gfp.GFP_KERNEL, Gfp.GFP_ATOMIC, Gfp.GFP_KERNEL | Gfp.ZERO, Gfp.GFP_NOWAIT, Gfp.GFP_KERNEL | Gfp.DMA32
    };

    private final List<Device> devices = new ArrayList<>();
    private SeededRandom rnd;
    private long timeNs;

    @Test
    void everyEventComesBackAsItWasWritten() {
        long seed = Long.getLong("dmalab.seed", System.nanoTime());
        System.out.println("FtraceRoundTripRandomizedTest seed " + seed + " (replay: -Ddmalab.seed=" + seed + ")");
        rnd = new SeededRandom(seed);
        for (String d : DEVICES) {
            devices.add(new Device(d, d.startsWith("0000") ? BusType.PCI : BusType.PLATFORM));
        }
        FtraceWriter writer = new FtraceWriter(KernelVersion.V6_12, 4);
        List<DmaEvent> events = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            DmaEvent e = randomEvent();
            events.add(e);
            writer.onEvent(e);
        }
        StringWriter text = new StringWriter();
        writer.writeTo(text);
        CaptureLines.Rebuilder rebuilder = new CaptureLines.Rebuilder();
        try (FtraceParser parser = new FtraceParser("random.txt", new StringReader(text.toString()), true)) {
            for (int i = 0; i < events.size(); i++) {
                TraceRecord r = parser.next();
                assertThat(r).as("seed " + seed + ": event " + i + " was read").isNotNull();
                assertSame(
                        seed,
                        i,
                        events.get(i),
                        rebuilder.rebuild(r),
                        writer.lines().get(i));
            }
            assertThat(parser.next()).isNull();
            assertThat(parser.malformedLines()).isZero();
        }
    }

    private void assertSame(long seed, int i, DmaEvent want, DmaEvent got, String line) {
        String where = "seed " + seed + ", event " + i + ": " + line;
        assertThat(got).as(where).isNotNull();
        assertThat(got.getClass()).as(where).isEqualTo(want.getClass());
        assertThat(got.stamp()).as(where).isEqualTo(want.stamp());
        if (!(want instanceof DmaEvent.Marker)) {
            assertThat(got.device().name()).as(where).isEqualTo(want.device().name());
        }
        if (want instanceof DmaEvent.MapSg w) {
            DmaEvent.MapSg g = (DmaEvent.MapSg) got;
            int shownPhys = Math.min(w.nents(), FtraceWriter.SG_TRACE_MAX);
            int shownDma = Math.min(w.ents(), FtraceWriter.SG_TRACE_MAX);
            assertThat(g.nents()).as(where).isEqualTo(w.nents());
            assertThat(g.ents()).as(where).isEqualTo(w.ents());
            assertThat(g.dir()).as(where).isEqualTo(w.dir());
            assertThat(g.attrs()).as(where).isEqualTo(w.attrs());
            assertThat(Arrays.copyOf(g.phys(), shownPhys)).as(where).isEqualTo(Arrays.copyOf(w.phys(), shownPhys));
            assertThat(Arrays.copyOf(g.dmaAddrs(), shownDma))
                    .as(where)
                    .isEqualTo(Arrays.copyOf(w.dmaAddrs(), shownDma));
            assertThat(Arrays.copyOf(g.dmaLengths(), shownDma))
                    .as(where)
                    .isEqualTo(Arrays.copyOf(w.dmaLengths(), shownDma));
            return;
        }
        assertThat(got)
                .as(where)
                .usingRecursiveComparison()
                // dma_alloc prints the virtual address, not the physical one
                .ignoringFields(
                        want instanceof DmaEvent.Alloc ? new String[] {"device", "phys"} : new String[] {"device"})
                .isEqualTo(want);
    }

    private DmaEvent randomEvent() {
        timeNs += 1000L * rnd.nextInt(5000);
        DmaEvent.Stamp s = new DmaEvent.Stamp(
                timeNs,
                rnd.nextInt(4),
                COMMS[rnd.nextInt(COMMS.length)],
                1 + rnd.nextInt(99_999),
                FLAGS[rnd.nextInt(FLAGS.length)]);
        Device d = devices.get(rnd.nextInt(devices.size()));
        Direction dir = Direction.values()[rnd.nextInt(Direction.values().length)];
        switch (rnd.nextInt(12)) {
            case 0:
            case 1:
                return new DmaEvent.Map(
                        s,
                        d,
                        true,
                        rnd.nextInt(5) == 0 ? DmaEvent.MapKind.RESOURCE : DmaEvent.MapKind.PAGE,
                        dir,
                        rnd.nextInt(10) == 0 ? -1L : addr(),
                        size(),
                        addr(),
                        attrs());
            case 2:
                return new DmaEvent.Unmap(
                        s,
                        d,
                        true,
                        rnd.nextInt(5) == 0 ? DmaEvent.MapKind.RESOURCE : DmaEvent.MapKind.PAGE,
                        dir,
                        addr(),
                        size(),
                        attrs());
            case 3: {
                int nents = 1 + (rnd.nextInt(8) == 0 ? rnd.nextInt(300) : rnd.nextInt(16));
                int ents = 1 + rnd.nextInt(nents);
                return new DmaEvent.MapSg(
                        s,
                        d,
                        true,
                        dir,
                        nents,
                        ents,
                        addrs(nents),
                        new int[nents],
                        addrs(ents),
                        lengths(ents),
                        attrs());
            }
            case 4:
                return new DmaEvent.MapSgErr(
                        s, d, true, dir, addrs(1 + rnd.nextInt(8)), -(1 + rnd.nextInt(12)), attrs());
            case 5: {
                long[] phys = addrs(1 + rnd.nextInt(20));
                return new DmaEvent.UnmapSg(s, d, true, dir, phys, phys.length, attrs());
            }
            case 6:
                return new DmaEvent.SyncSingle(s, d, true, rnd.nextBoolean(), dir, addr(), size());
            case 7: {
                int n = 1 + rnd.nextInt(10);
                return new DmaEvent.SyncSg(s, d, true, rnd.nextBoolean(), dir, addrs(n), lengths(n));
            }
            case 8:
                return new DmaEvent.Alloc(
                        s,
                        d,
                        true,
                        rnd.nextInt(4) == 0 ? DmaEvent.AllocKind.PAGES : DmaEvent.AllocKind.COHERENT,
                        dir,
                        addr(),
                        size(),
                        rnd.nextInt(10) == 0 ? 0 : 0xffff800000000000L | addr(),
                        addr(),
                        GFPS[rnd.nextInt(GFPS.length)],
                        attrs());
            case 9:
                return new DmaEvent.Free(
                        s,
                        d,
                        true,
                        rnd.nextInt(4) == 0 ? DmaEvent.AllocKind.PAGES : DmaEvent.AllocKind.COHERENT,
                        dir,
                        addr(),
                        size(),
                        0xffff800000000000L | addr(),
                        attrs());
            case 10:
                return new DmaEvent.SwiotlbBounced(
                        s, d, true, (1L << (24 + rnd.nextInt(41))) - 1, addr(), size(), rnd.nextBoolean());
            default:
                return new DmaEvent.Marker(
                        s, null, true, "ROUNDTRIP " + d.name() + " step=" + rnd.nextInt(1000) + " a=b {x} dir=NONE");
        }
    }

    private long addr() {
        return rnd.nextLong() >>> (16 + rnd.nextInt(30));
    }

    private long size() {
        return 1 + rnd.nextInt(1 << (1 + rnd.nextInt(22)));
    }

    private long attrs() {
        long a = 0;
        for (long bit : ATTRS) {
            if (rnd.nextInt(6) == 0) {
                a |= bit;
            }
        }
        return a;
    }

    private long[] addrs(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = addr();
        }
        return a;
    }

    private int[] lengths(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = (int) size();
        }
        return a;
    }
}
