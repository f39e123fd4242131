package dev.dmalab.direct;

import static dev.dmalab.testing.TestMachines.assertBytes;
import static dev.dmalab.testing.TestMachines.cpuReadPhys;
import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.deviceWrite;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import dev.dmalab.util.SeededRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Randomized streaming DMA through the whole stack (core, dma-direct or 4.20 ops, swiotlb, arch cache
 * maintenance, caches with next-line speculation, bus master): random sizes, offsets, directions, memory zones,
 * CPUs, interleaved live mappings, sync hand-overs and unrelated CPU reads. A correct driver's data must always
 * arrive intact, bytes next to a buffer must survive, and nothing may be left in swiotlb afterwards.
 *
 * <p>The seed is printed; replay a failure with {@code -Ddmalab.seed=N}.
 */
class StreamingRandomizedTest {
    private static final int STEPS = 300;
    private static final int PAGES_ORDER = 2; // 16 KiB per buffer: offset < 4 KiB, size <= 12 KiB

    static long baseSeed() {
        String s = System.getProperty("dmalab.seed");
        return s != null ? Long.decode(s) : 0x5eed_d1a1_2019L;
    }

    static Stream<Arguments> platforms() {
        return Stream.of(
                Arguments.of("arm64-noncoherent", "4.20", "", "fa000000.sata"),
                Arguments.of("arm64-noncoherent", "5.0", "", "fa000000.sata"),
                Arguments.of("arm64-noncoherent", "5.4", "", "fa000000.sata"),
                Arguments.of("arm64-noncoherent", "6.12", "", "fa000000.sata"),
                Arguments.of("arm64-noncoherent", "6.12", "swiotlb=force", "0000:01:00.0"),
                Arguments.of("rpi4", "6.12", "", "fe340000.mmc"),
                Arguments.of("x86-q35", "6.12", "swiotlb=force", "0000:00:03.0"),
                Arguments.of("x86-q35", "4.20", "swiotlb=force", "0000:00:03.0"));
    }

    /** One live mapping. */
    private static final class Live {
        long page;
        int offset;
        int size;
        Direction dir;
        long dma;
        byte[] cpuData;
        byte[] deviceData;
        byte[] before; // the whole 16 KiB as the CPU left it before the map
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("platforms")
    void aCorrectDriversDataAlwaysArrivesIntact(String platform, String version, String cmdline, String device) {
        long seed = baseSeed() ^ (platform + version + cmdline).hashCode();
        System.out.println("StreamingRandomizedTest " + platform + " " + version + " '" + cmdline + "': seed 0x"
                + Long.toHexString(seed) + " (replay with -Ddmalab.seed=0x" + Long.toHexString(baseSeed()) + ")");
        SeededRandom rnd = new SeededRandom(seed);
        Machine m = TestMachines.boot(platform, KernelVersion.parse(version), cmdline);
        Device dev = m.device(device);
        Zone[] zones = {Zone.DMA32, Zone.NORMAL};
        List<Live> live = new ArrayList<>();
        int cpus = m.kernel().context().cpus();

        for (int step = 0; step < STEPS; step++) {
            m.kernel().context().onCpu(rnd.nextInt(cpus));
            int action = rnd.nextInt(10);
            String where = "step " + step + " seed 0x" + Long.toHexString(seed);
            if (live.isEmpty() || (action < 4 && live.size() < 6)) {
                live.add(map(m, dev, rnd, zones[rnd.nextInt(zones.length)], where));
            } else if (action < 7) {
                unmap(m, dev, live.remove(rnd.nextInt(live.size())), where);
            } else if (action < 9) {
                handOver(m, dev, rnd, live.get(rnd.nextInt(live.size())), where);
            } else {
                // An unrelated CPU load next to a live buffer (the guard area of its pages): a prefetcher may
                // pull a buffer line in, which the unmap's invalidate must then drop.
                Live l = live.get(rnd.nextInt(live.size()));
                cpuReadPhys(m, l.page + rnd.nextInt(Math.max(1, l.offset)), 1);
            }
        }
        while (!live.isEmpty()) {
            unmap(m, dev, live.remove(live.size() - 1), "final unmap");
        }

        assertThat(m.swiotlb().defaultMem().used()).isZero();
        if (m.swiotlb().defaultMem().defpool() != null) {
            m.swiotlb().defaultMem().defpool().checkInvariants();
        }
        m.memory().pages().checkInvariants();
    }

    private static Live map(Machine m, Device dev, SeededRandom rnd, Zone zone, String where) {
        Live l = new Live();
        l.page = m.allocKernelPages(PAGES_ORDER, zone);
        l.offset = rnd.nextInt(4096);
        l.size = rnd.nextBoolean() ? rnd.nextInt(1, 300) : rnd.nextInt(1, 12289);
        l.dir = Direction.values()[rnd.nextInt(3)];
        l.before = new byte[16384];
        rnd.nextBytes(l.before);
        cpuWritePhys(m, l.page, l.before); // dirty lines all over the buffer and its neighbours
        l.cpuData = java.util.Arrays.copyOfRange(l.before, l.offset, l.offset + l.size);
        l.dma = m.dma().mapPageAttrs(dev, l.page, l.offset, l.size, l.dir, 0);
        assertThat(l.dma).as("%s: map %s %d bytes", where, l.dir, l.size).isNotEqualTo(Bits.U64_MAX);
        if (l.dir.deviceReads()) {
            assertBytes(deviceRead(m, dev, l.dma, l.size), l.cpuData, where + ": device reads the CPU's data");
        }
        if (l.dir.deviceWrites()) {
            l.deviceData = new byte[l.size];
            rnd.nextBytes(l.deviceData);
            deviceWrite(m, dev, l.dma, l.deviceData);
        }
        return l;
    }

    private static void handOver(Machine m, Device dev, SeededRandom rnd, Live l, String where) {
        m.dma().syncSingleForCpu(dev, l.dma, l.size, l.dir);
        byte[] expect = l.dir.deviceWrites() ? l.deviceData : l.cpuData;
        assertBytes(cpuReadPhys(m, l.page + l.offset, l.size), expect, where + ": CPU view after sync_for_cpu");
        if (l.dir.deviceReads()) {
            l.cpuData = new byte[l.size];
            rnd.nextBytes(l.cpuData);
            cpuWritePhys(m, l.page + l.offset, l.cpuData);
            if (l.dir == Direction.BIDIRECTIONAL) {
                l.deviceData = null;
            }
        }
        m.dma().syncSingleForDevice(dev, l.dma, l.size, l.dir);
        if (l.dir.deviceReads()) {
            assertBytes(deviceRead(m, dev, l.dma, l.size), l.cpuData, where + ": device view after sync_for_device");
        }
        if (l.dir.deviceWrites()) {
            l.deviceData = new byte[l.size];
            rnd.nextBytes(l.deviceData);
            deviceWrite(m, dev, l.dma, l.deviceData);
        }
    }

    private static void unmap(Machine m, Device dev, Live l, String where) {
        m.dma().unmapPageAttrs(dev, l.dma, l.size, l.dir, 0);
        byte[] expected = l.before.clone();
        byte[] inside = l.dir.deviceWrites() ? l.deviceData : l.cpuData;
        System.arraycopy(inside, 0, expected, l.offset, l.size);
        assertBytes(cpuReadPhys(m, l.page, 16384), expected, where + ": " + l.dir + " " + l.size + "@" + l.offset);
        m.memory().pages().free(m.memory().pageSize().pfnDown(l.page), PAGES_ORDER);
    }
}
