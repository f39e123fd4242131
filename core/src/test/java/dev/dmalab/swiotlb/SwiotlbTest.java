package dev.dmalab.swiotlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Swiotlb} on a booted x86 q35 machine with {@code swiotlb=512,force}: one area of 512 slots at 0x7d700000
 * (1 MiB, top-down below the profile's early reservations), coherent PCI devices with the 0xffffffff segment
 * boundary, NVMe with min_align_mask 0xfff. Covers the bounce copy directions per version (spec §3.8), the full
 * message and its rate limit, the overflow WARN, the counters and the mapping size limit.
 */
class SwiotlbTest {
    static final long POOL = 0x7d70_0000L;
    static final String VIRTIO = "0000:00:02.0";
    static final String NVME = "0000:00:03.0";
    static final String E1000 = "0000:00:05.0";

    static Machine boot(KernelVersion v, String cmdline) {
        return Machine.boot(Platforms.builtIn("x86-q35"), v, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
    }

    static Machine boot612() {
        return boot(KernelVersion.V6_12, "swiotlb=512,force");
    }

    static byte[] pattern(int n, int salt) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + salt * 7 + 1);
        }
        return b;
    }

    static void write(Machine m, long pa, byte[] b) {
        m.cpu().writePhys(pa, b, 0, b.length);
    }

    static byte[] read(Machine m, long pa, int n) {
        byte[] b = new byte[n];
        m.cpu().readPhys(pa, b, 0, n);
        return b;
    }

    /** A driver buffer of 2^order pages in DMA32 (all RAM of the q35 profile is below 4 GiB). */
    static long buffer(Machine m, int order) {
        return m.allocKernelPages(order, Zone.DMA32);
    }

    static List<String> log(Machine m) {
        return m.kernel().printk().lines().stream().map(Printk.Line::text).toList();
    }

    static List<String> fullLines(Machine m) {
        return log(m).stream().filter(t -> t.contains("swiotlb buffer is full")).toList();
    }

    /** A 5.x map through the bool {@code swiotlb_map}: the bounce phys, or -1. */
    static long map50(Machine m, Device dev, long pa, long size, Direction dir, long attrs) {
        long[] physDma = {pa, pa};
        return m.swiotlb().map50(dev, physDma, POOL, size, dir, attrs) ? physDma[0] : -1;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Geometry and limits

    @Test
    void theForcedPoolIsWhereTheProfilePutsIt() {
        Machine m = boot612();
        IoTlbMem mem = m.swiotlb().defaultMem();
        assertThat(mem.defpool().start()).isEqualTo(POOL);
        assertThat(mem.nslabs()).isEqualTo(512);
        assertThat(mem.defpool().nareas()).isEqualTo(1);
        assertThat(mem.forceBounce()).isTrue();
        Device virtio = m.device(VIRTIO);
        assertThat(m.swiotlb().isForceBounce(virtio)).isTrue();
        assertThat(m.swiotlb().isActive(virtio)).isTrue();
        assertThat(m.swiotlb().findPool(virtio, POOL)).isSameAs(mem.defpool());
        assertThat(m.swiotlb().findPool(virtio, POOL + 512 * 2048)).isNull();
        assertThat(m.swiotlb().findPool(virtio, POOL - 1)).isNull();
    }

    @Test
    void maxMappingSizeIs256KibLessTheRoundedMinAlignMask() {
        Machine m = boot612();
        assertThat(m.swiotlb().maxMappingSize(m.device(VIRTIO))).isEqualTo(262144);
        // 262144 - roundup(0xfff, 2048) = 262144 - 4096.
        assertThat(m.swiotlb().maxMappingSize(m.device(NVME))).isEqualTo(258048);
        // 5.0 has no min_align_mask: NVMe gets the full 256 KiB.
        Machine old = boot(KernelVersion.V5_0, "swiotlb=512,force");
        assertThat(old.swiotlb().maxMappingSize(old.device(NVME))).isEqualTo(262144);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Copies on map

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Direction.class,
            names = {"TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"})
    void sixTwelveFillsTheBounceOnMapForEveryDirectionEvenWithSkipCpuSync(Direction dir) {
        Machine m = boot612();
        Device dev = m.device(VIRTIO);
        long pa = buffer(m, 1);
        byte[] data = pattern(6000, dir.ordinal());
        write(m, pa, data);
        for (long attrs : new long[] {DmaAttrs.NONE, DmaAttrs.SKIP_CPU_SYNC}) {
            long dma = m.swiotlb().map(dev, pa, data.length, dir, attrs);
            assertThat(m.swiotlb().findPool(dev, dma)).as("attrs %d", attrs).isNotNull();
            assertThat(read(m, dma, data.length)).as("attrs %d", attrs).isEqualTo(data);
            m.swiotlb().tblUnmapSingle(dev, dma, data.length, dir, DmaAttrs.SKIP_CPU_SYNC);
        }
        assertThat(m.swiotlb().bytesToBounce()).isEqualTo(2L * data.length);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.0", "5.4"})
    void olderKernelsFillTheBounceOnlyForDeviceReadsWithoutSkipCpuSync(String version) {
        Machine m = boot(KernelVersion.parse(version), "swiotlb=512,force");
        Device dev = m.device(VIRTIO);
        long pa = buffer(m, 1);
        byte[] data = pattern(5000, 3);
        write(m, pa, data);
        byte[] zeros = new byte[data.length];
        Object[][] cases = {
            {Direction.TO_DEVICE, DmaAttrs.NONE, true},
            {Direction.BIDIRECTIONAL, DmaAttrs.NONE, true},
            {Direction.FROM_DEVICE, DmaAttrs.NONE, false},
            {Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC, false},
            {Direction.BIDIRECTIONAL, DmaAttrs.SKIP_CPU_SYNC, false},
        };
        for (Object[] c : cases) {
            Direction dir = (Direction) c[0];
            long attrs = (long) c[1];
            // Every map takes fresh slots (the index moves on), whose bytes were never written: zeros unless copied.
            long tlb = map50(m, dev, pa, data.length, dir, attrs);
            assertThat(tlb).as("%s attrs %d", dir, attrs).isNotEqualTo(-1);
            assertThat(tlb % 2048).isZero();
            assertThat(read(m, tlb, data.length))
                    .as("%s %s attrs %d", version, dir, attrs)
                    .isEqualTo((boolean) c[2] ? data : zeros);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Copies on unmap and sync

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"6.12", "5.0"})
    void unmapCopiesBackForDeviceWritesUnlessSkipCpuSync(String version) {
        KernelVersion v = KernelVersion.parse(version);
        Machine m = boot(v, "swiotlb=512,force");
        Device dev = m.device(VIRTIO);
        Object[][] cases = {
            {Direction.FROM_DEVICE, DmaAttrs.NONE, true},
            {Direction.BIDIRECTIONAL, DmaAttrs.NONE, true},
            {Direction.TO_DEVICE, DmaAttrs.NONE, false},
            {Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC, false},
            {Direction.BIDIRECTIONAL, DmaAttrs.SKIP_CPU_SYNC, false},
        };
        int salt = 0;
        for (Object[] c : cases) {
            Direction dir = (Direction) c[0];
            long attrs = (long) c[1];
            long pa = buffer(m, 1);
            byte[] cpuData = pattern(3000, ++salt);
            byte[] deviceData = pattern(3000, 100 + salt);
            write(m, pa, cpuData);
            long tlb = v.equals(KernelVersion.V6_12)
                    ? m.swiotlb().map(dev, pa, 3000, dir, DmaAttrs.NONE)
                    : map50(m, dev, pa, 3000, dir, DmaAttrs.NONE);
            write(m, tlb, deviceData); // the device writes the bounce buffer
            long usedBefore = m.swiotlb().defaultMem().used();
            m.swiotlb().tblUnmapSingle(dev, tlb, 3000, dir, attrs);
            assertThat(read(m, pa, 3000))
                    .as("%s %s attrs %d", version, dir, attrs)
                    .isEqualTo((boolean) c[2] ? deviceData : cpuData);
            assertThat(m.swiotlb().defaultMem().used()).isEqualTo(usedBefore - 2);
        }
        assertThat(m.swiotlb().defaultMem().used()).isZero();
        m.swiotlb().defaultMem().defpool().checkInvariants();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"6.12", "5.0"})
    void syncForDeviceRefillsOnlyForDeviceReads(String version) {
        KernelVersion v = KernelVersion.parse(version);
        Machine m = boot(v, "swiotlb=512,force");
        Device dev = m.device(VIRTIO);
        for (Direction dir : new Direction[] {Direction.TO_DEVICE, Direction.BIDIRECTIONAL, Direction.FROM_DEVICE}) {
            long pa = buffer(m, 0);
            byte[] first = pattern(1500, dir.ordinal());
            byte[] second = pattern(1500, 50 + dir.ordinal());
            write(m, pa, first);
            long tlb = v.equals(KernelVersion.V6_12)
                    ? m.swiotlb().map(dev, pa, 1500, dir, DmaAttrs.NONE)
                    : map50(m, dev, pa, 1500, dir, DmaAttrs.NONE);
            byte[] before = read(m, tlb, 1500);
            write(m, pa, second); // the CPU changes the buffer, then hands it to the device again
            m.swiotlb().syncSingleForDevice(dev, tlb, 1500, dir);
            assertThat(read(m, tlb, 1500)).as("%s %s", version, dir).isEqualTo(dir.deviceReads() ? second : before);
        }
        long pa = buffer(m, 0);
        long tlb = v.equals(KernelVersion.V6_12)
                ? m.swiotlb().map(dev, pa, 64, Direction.TO_DEVICE, DmaAttrs.NONE)
                : map50(m, dev, pa, 64, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThatThrownBy(() -> m.swiotlb().syncSingleForDevice(dev, tlb, 64, Direction.NONE))
                .isInstanceOf(KernelOops.class);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"6.12", "5.0"})
    void syncForCpuCopiesBackOnlyForDeviceWrites(String version) {
        KernelVersion v = KernelVersion.parse(version);
        Machine m = boot(v, "swiotlb=512,force");
        Device dev = m.device(VIRTIO);
        for (Direction dir : new Direction[] {Direction.FROM_DEVICE, Direction.BIDIRECTIONAL, Direction.TO_DEVICE}) {
            long pa = buffer(m, 0);
            byte[] cpuData = pattern(1500, dir.ordinal());
            byte[] deviceData = pattern(1500, 60 + dir.ordinal());
            write(m, pa, cpuData);
            long tlb = v.equals(KernelVersion.V6_12)
                    ? m.swiotlb().map(dev, pa, 1500, dir, DmaAttrs.NONE)
                    : map50(m, dev, pa, 1500, dir, DmaAttrs.NONE);
            write(m, tlb, deviceData);
            m.swiotlb().syncSingleForCpu(dev, tlb, 1500, dir);
            assertThat(read(m, pa, 1500))
                    .as("%s %s", version, dir)
                    .isEqualTo(dir.deviceWrites() ? deviceData : cpuData);
        }
        long pa = buffer(m, 0);
        long tlb = v.equals(KernelVersion.V6_12)
                ? m.swiotlb().map(dev, pa, 64, Direction.FROM_DEVICE, DmaAttrs.NONE)
                : map50(m, dev, pa, 64, Direction.FROM_DEVICE, DmaAttrs.NONE);
        assertThatThrownBy(() -> m.swiotlb().syncSingleForCpu(dev, tlb, 64, Direction.NONE))
                .isInstanceOf(KernelOops.class);
    }

    @Test
    void partialSyncsLocateTheOriginalFromTheSlotAndTheMinAlignOffset() {
        Machine m = boot612();
        Device nvme = m.device(NVME);
        // NVMe map of 3000 bytes at page offset 0x9f0: bit 11 set -> slot 1 of the fresh pool, offset 0x1f0,
        // tlb = pool + 0x9f0; data slots 1 and 2 hold orig and orig + 2048. A sync of 200 bytes at tlb + 2100 =
        // pool + 0x1224 lands in slot 2 at 0x224; that slot's orig_addr is orig + 2048, whose min-align offset is
        // 0x1f0, so tlb_offset = 0x224 - 0x1f0 = 52 and the copy goes to orig + 2048 + 52 = orig + 2100.
        long page = buffer(m, 1);
        long orig = page + 0x9f0;
        write(m, orig, pattern(3000, 1));
        long tlb = m.swiotlb().map(nvme, orig, 3000, Direction.FROM_DEVICE, DmaAttrs.NONE);
        assertThat(tlb).isEqualTo(POOL + 0x9f0);
        byte[] dev = pattern(3000, 2);
        write(m, tlb, dev);
        m.swiotlb().syncSingleForCpu(nvme, tlb + 2100, 200, Direction.FROM_DEVICE);
        byte[] expect = pattern(3000, 1);
        System.arraycopy(dev, 2100, expect, 2100, 200);
        assertThat(read(m, orig, 3000)).isEqualTo(expect);

        // 5.0 keeps no offset: the bounce of the same buffer is slot aligned, and a sync at tlb + 2148 (slot 1 of
        // the mapping, whose orig_addr is orig + 2048) copies orig + 2048 + 100 ... for 100 bytes.
        Machine old = boot(KernelVersion.V5_0, "swiotlb=512,force");
        Device oldNvme = old.device(NVME);
        long opage = buffer(old, 1);
        long oorig = opage + 0x9f0;
        write(old, oorig, pattern(3000, 1));
        long otlb = map50(old, oldNvme, oorig, 3000, Direction.FROM_DEVICE, DmaAttrs.NONE);
        assertThat(otlb).isEqualTo(POOL);
        write(old, otlb, dev);
        old.swiotlb().syncSingleForCpu(oldNvme, otlb + 2148, 100, Direction.FROM_DEVICE);
        byte[] oexpect = pattern(3000, 1);
        System.arraycopy(dev, 2148, oexpect, 2148, 100);
        assertThat(read(old, oorig, 3000)).isEqualTo(oexpect);
    }

    @Test
    void anOverlongBounceIsClippedToTheAllocationWithAOneTimeWarning() {
        Machine m = boot612();
        Device dev = m.device(VIRTIO);
        long pa = buffer(m, 1);
        byte[] cpuData = pattern(3000, 1);
        write(m, pa, cpuData);
        long tlb = m.swiotlb().map(dev, pa, 1000, Direction.BIDIRECTIONAL, DmaAttrs.NONE);
        byte[] deviceData = pattern(3000, 9);
        write(m, tlb, deviceData);
        // sync_for_cpu of 3000 bytes on a 1000-byte mapping: alloc_size of the slot is 1000 -> WARN, copy 1000.
        m.swiotlb().syncSingleForCpu(dev, tlb, 3000, Direction.BIDIRECTIONAL);
        byte[] expect = cpuData.clone();
        System.arraycopy(deviceData, 0, expect, 0, 1000);
        assertThat(read(m, pa, 3000)).isEqualTo(expect);
        String warning =
                "virtio-pci 0000:00:02.0: Buffer overflow detected. Allocation size: 1000. Mapping size: 3000.";
        assertThat(log(m)).containsOnlyOnce(warning);
        // WARN_ONCE: a second overflow copies (clipped) but prints nothing new.
        int lines = log(m).size();
        m.swiotlb().syncSingleForCpu(dev, tlb + 100, 2000, Direction.BIDIRECTIONAL);
        assertThat(log(m)).hasSize(lines);
        assertThat(log(m).stream()
                        .filter(t -> t.contains("Buffer overflow detected"))
                        .count())
                .isEqualTo(1);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failures and messages

    /** Fills the 512-slot pool with four 256 KiB maps of {@code dev}. */
    static long[] fill(Machine m, Device dev) {
        long pa = buffer(m, 6);
        long[] tlbs = new long[4];
        for (int i = 0; i < 4; i++) {
            tlbs[i] = m.swiotlb().map(dev, pa, 256 * 1024, Direction.TO_DEVICE, DmaAttrs.NONE);
            assertThat(tlbs[i]).isEqualTo(POOL + i * 256 * 1024L);
        }
        assertThat(m.swiotlb().defaultMem().used()).isEqualTo(512);
        return tlbs;
    }

    @Test
    void aFullPoolPrintsTheMessageWithTheRoundedSizeAndTheCounts() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        long[] tlbs = fill(m, virtio);
        long pa = buffer(m, 1);
        assertThat(m.swiotlb().map(virtio, pa, 4096, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(Bits.U64_MAX);
        // NVMe at page offset 0x200: sz is mapping_size + offset = 4608.
        assertThat(m.swiotlb().map(m.device(NVME), pa + 0x200, 4096, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(Bits.U64_MAX);
        assertThat(fullLines(m))
                .containsExactly(
                        "virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 4096 bytes), total 512 (slots), used 512"
                                + " (slots)",
                        "nvme 0000:00:03.0: swiotlb buffer is full (sz: 4608 bytes), total 512 (slots), used 512"
                                + " (slots)");
        assertThat(m.kernel().printk().lines().stream()
                        .filter(l -> l.text().contains("buffer is full"))
                        .map(Printk.Line::level))
                .containsOnly(Printk.Level.WARNING);
        assertThat(m.swiotlb().failedMaps()).isEqualTo(2);
        assertThat(m.swiotlb().bouncedMaps()).isEqualTo(4);
        // Free one: "used" in the next message follows the counter.
        m.swiotlb().tblUnmapSingle(virtio, tlbs[0], 256 * 1024, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(m.swiotlb().map(virtio, pa, 256 * 1024 + 1, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(Bits.U64_MAX);
        assertThat(fullLines(m).get(2)).endsWith("(sz: 262145 bytes), total 512 (slots), used 384 (slots)");
    }

    @Test
    void noWarnSuppressesTheMessageWithoutUsingTheRateLimit() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        fill(m, virtio);
        long pa = buffer(m, 0);
        for (int i = 0; i < 20; i++) {
            assertThat(m.swiotlb().map(virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NO_WARN))
                    .isEqualTo(Bits.U64_MAX);
        }
        assertThat(fullLines(m)).isEmpty();
        assertThat(m.kernel().printk().suppressed()).isZero();
        assertThat(m.swiotlb().failedMaps()).isEqualTo(20);
        // The budget is untouched: the next warning prints.
        m.swiotlb().map(virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(fullLines(m)).hasSize(1);
    }

    @Test
    void theMessageIsRateLimitedToTenPerFiveSeconds() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        fill(m, virtio);
        long pa = buffer(m, 0);
        for (int i = 0; i < 15; i++) {
            m.swiotlb().map(virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE);
        }
        assertThat(fullLines(m)).hasSize(10);
        assertThat(m.kernel().printk().suppressed()).isEqualTo(5);
        m.kernel().clock().advanceNs(4_000_000_000L);
        m.swiotlb().map(m.device(NVME), pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(fullLines(m)).hasSize(10); // one call site for every device
        m.kernel().clock().advanceNs(1_000_000_001L);
        m.swiotlb().map(virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(fullLines(m)).hasSize(11);
        assertThat(m.swiotlb().failedMaps()).isEqualTo(17);
    }

    @Test
    void fiveZeroPrintsTheShortMessageAndFiveFourAddsTheCounts() {
        Machine m50 = boot(KernelVersion.V5_0, "swiotlb=512,force");
        Device d50 = m50.device(VIRTIO);
        long pa = buffer(m50, 6);
        for (int i = 0; i < 4; i++) {
            assertThat(map50(m50, d50, pa, 256 * 1024, Direction.TO_DEVICE, DmaAttrs.NONE))
                    .isEqualTo(POOL + i * 262144L);
        }
        assertThat(map50(m50, d50, pa, 4096, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(-1);
        assertThat(fullLines(m50)).containsExactly("virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 4096 bytes)");
        // 5.0's printk_ratelimit() is also 10 per 5 s.
        for (int i = 0; i < 12; i++) {
            map50(m50, d50, pa, 4096, Direction.TO_DEVICE, DmaAttrs.NONE);
        }
        assertThat(fullLines(m50)).hasSize(10);

        Machine m54 = boot(KernelVersion.V5_4, "swiotlb=512,force");
        Device d54 = m54.device(VIRTIO);
        long pa54 = buffer(m54, 6);
        for (int i = 0; i < 4; i++) {
            map50(m54, d54, pa54, 256 * 1024, Direction.TO_DEVICE, DmaAttrs.NONE);
        }
        assertThat(map50(m54, d54, pa54, 4096, Direction.TO_DEVICE, DmaAttrs.NO_WARN))
                .isEqualTo(-1);
        assertThat(map50(m54, d54, pa54, 4096, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(-1);
        assertThat(fullLines(m54))
                .containsExactly(
                        "virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 4096 bytes), total 512 (slots), used 512"
                                + " (slots)");
    }

    @Test
    void aBounceTheDeviceCannotReachIsReleasedAndWarnedOnce() {
        Machine m = boot612();
        Device e1000 = m.device(E1000);
        e1000.setDmaMask(Bits.dmaBitMask(24)); // 16 MiB: the pool at 0x7d700000 is out of reach
        long pa = buffer(m, 0);
        assertThat(m.swiotlb().map(e1000, pa, 4096, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.swiotlb().defaultMem().used()).isZero();
        assertThat(m.swiotlb().defaultMem().usedHiwater()).isEqualTo(2);
        assertThat(log(m))
                .contains("e1000 0000:00:05.0: swiotlb addr 0x000000007d700000+4096 overflow (mask ffffff, bus limit"
                        + " 0).");
        m.swiotlb().map(e1000, pa, 4096, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(log(m).stream().filter(t -> t.contains("overflow (mask")).count())
                .isEqualTo(1);
        m.swiotlb().defaultMem().defpool().checkInvariants();
    }

    @Test
    void usedAndHiwaterFollowMapsAndUnmaps() {
        Machine m = boot612();
        IoTlbMem mem = m.swiotlb().defaultMem();
        Device virtio = m.device(VIRTIO);
        long pa = buffer(m, 2);
        long a = m.swiotlb().map(virtio, pa, 4096, Direction.TO_DEVICE, DmaAttrs.NONE); // 2 slots
        long b = m.swiotlb().map(m.device(NVME), pa + 0x200, 4096, Direction.TO_DEVICE, DmaAttrs.NONE); // 3 slots
        long c = m.swiotlb().map(virtio, pa, 10000, Direction.TO_DEVICE, DmaAttrs.NONE); // 5 slots
        assertThat(mem.used()).isEqualTo(10);
        assertThat(mem.defpool().used()).isEqualTo(10);
        assertThat(mem.usedHiwater()).isEqualTo(10);
        m.swiotlb().tblUnmapSingle(m.device(NVME), b, 4096, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(mem.used()).isEqualTo(7);
        assertThat(mem.usedHiwater()).isEqualTo(10);
        mem.resetHiwater(); // echo 0 > io_tlb_used_hiwater
        assertThat(mem.usedHiwater()).isZero();
        m.swiotlb().tblUnmapSingle(virtio, a, 4096, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(mem.usedHiwater()).isZero();
        m.swiotlb().map(virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(mem.used()).isEqualTo(6);
        assertThat(mem.usedHiwater()).isEqualTo(6);
        m.swiotlb().tblUnmapSingle(virtio, c, 10000, Direction.TO_DEVICE, DmaAttrs.NONE);
        assertThat(mem.used()).isEqualTo(1);
        assertThat(m.swiotlb().bouncedMaps()).isEqualTo(4);
    }

    @Test
    void unmapOfAnAddressOutsideThePoolDoesNothing() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        long pa = buffer(m, 0);
        m.swiotlb().map(virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE);
        m.swiotlb().tblUnmapSingle(virtio, pa, 512, Direction.FROM_DEVICE, DmaAttrs.NONE);
        m.swiotlb().syncSingleForCpu(virtio, pa, 512, Direction.FROM_DEVICE);
        m.swiotlb().syncSingleForDevice(virtio, pa, 512, Direction.TO_DEVICE);
        assertThat(m.swiotlb().defaultMem().used()).isEqualTo(1);
        assertThat(m.swiotlb().bytesFromBounce()).isZero();
    }

    @Test
    void aSuccessfulBounceClearsTheDevicesSkipSyncAndAFailedOneDoesNot() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        Device nvme = m.device(NVME);
        assertThat(nvme.dmaSkipSync()).isTrue();
        fill(m, virtio);
        assertThat(virtio.dmaSkipSync()).isFalse();
        long pa = buffer(m, 0);
        assertThat(m.swiotlb().map(nvme, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(Bits.U64_MAX);
        assertThat(nvme.dmaSkipSync()).isTrue();
    }

    @Test
    void theBouncedEventFiresBeforeTheSearchSoAlsoForAFailedMap() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        List<DmaEvent.SwiotlbBounced> bounced = new ArrayList<>();
        m.events().addListener(e -> {
            if (e instanceof DmaEvent.SwiotlbBounced b) {
                bounced.add(b);
            }
        });
        fill(m, virtio);
        long pa = buffer(m, 0);
        m.swiotlb().map(virtio, pa + 16, 100, Direction.FROM_DEVICE, DmaAttrs.NO_WARN);
        assertThat(bounced).hasSize(5);
        DmaEvent.SwiotlbBounced last = bounced.get(4);
        assertThat(last.devAddr()).isEqualTo(pa + 16);
        assertThat(last.size()).isEqualTo(100);
        assertThat(last.force()).isTrue();
        assertThat(last.device()).isSameAs(virtio);
    }

    @Test
    void aDeviceWithoutSwiotlbGetsTheNoPoolWarning() {
        Machine m = boot612();
        Device orphan = new Device("orphan", BusType.PLATFORM);
        orphan.setDmaMask(Bits.U64_MAX);
        assertThat(m.swiotlb().map(orphan, 0x100_0000, 512, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(Bits.U64_MAX);
        assertThat(log(m))
                .contains("platform orphan: Can not allocate SWIOTLB buffer earlier and can't now provide you with the"
                        + " DMA bounce buffer");
        assertThat(m.swiotlb().isActive(orphan)).isFalse();
        assertThat(m.swiotlb().findPool(orphan, POOL)).isNull();
    }

    @Test
    void fiveZeroNoforceRefusesEveryBounce() {
        // swiotlb=noforce on 5.0: a one-slab pool, and the NO_FORCE mode refuses every bounce before using it.
        Machine m = boot(KernelVersion.V5_0, "swiotlb=noforce");
        Device virtio = m.device(VIRTIO);
        assertThat(m.swiotlb().defaultMem().force()).isEqualTo(IoTlbMem.ForceMode.NO_FORCE);
        long pa = buffer(m, 0);
        assertThat(map50(m, virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(-1);
        assertThat(log(m)).contains("virtio-pci 0000:00:02.0: Cannot do DMA to address " + Bits.hex16(pa));
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @Test
    void fiveZeroWithoutAnInitialisedPoolReadsTheMissingSlotTable() {
        // x86 q35 has no RAM above 4 GiB: 5.0 never calls swiotlb_init, so no_iotlb_memory stays false and the
        // mode NORMAL. A bounce then walks io_tlb_list, which was never allocated: a NULL read at offset 0.
        Machine m = boot(KernelVersion.V5_0, "");
        Device virtio = m.device(VIRTIO);
        assertThat(m.swiotlb().defaultMem().defpool()).isNull();
        assertThat(m.swiotlb().defaultMem().force()).isEqualTo(IoTlbMem.ForceMode.NORMAL);
        long pa = buffer(m, 0);
        assertThatThrownBy(() -> map50(m, virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isInstanceOf(KernelOops.class)
                .hasMessageContaining("NULL pointer dereference at virtual address 0x0 in swiotlb_tbl_map_single");
    }

    @Test
    void fiveFourWithoutAnInitialisedPoolReportsAFullBufferOfNoSlots() {
        // From 5.1 the "too few free slots" test (nslots > nslabs - used = 0) fails the search before the table
        // is read, so the same bounce is a plain mapping failure with the 5.1+ totals.
        Machine m = boot(KernelVersion.V5_4, "");
        Device virtio = m.device(VIRTIO);
        assertThat(m.swiotlb().defaultMem().defpool()).isNull();
        long pa = buffer(m, 0);
        assertThat(map50(m, virtio, pa, 512, Direction.TO_DEVICE, DmaAttrs.NONE))
                .isEqualTo(-1);
        assertThat(fullLines(m))
                .containsExactly("virtio-pci 0000:00:02.0: swiotlb buffer is full (sz: 512 bytes), total 0 (slots),"
                        + " used 0 (slots)");
        assertThat(m.swiotlb().failedMaps()).isEqualTo(1);
    }

    @Test
    void fiveZeroPanicsOnTheFirstBounceWhenThePoolCouldNotBeAllocated() {
        // swiotlb=force with 4 Mi slots (8 GiB) cannot be placed below 4 GiB: "Cannot allocate buffer" at boot sets
        // no_iotlb_memory, and the first bounce panics.
        Machine m = Machine.boot(
                Platforms.builtIn("x86-q35"),
                KernelVersion.V5_0,
                Machine.BootOptions.DEFAULT.withCmdline("swiotlb=4194304,force").withSwiotlbBase(-1));
        assertThat(m.swiotlb().defaultMem().allocationFailed()).isTrue();
        assertThat(log(m)).contains("software IO TLB: Cannot allocate buffer");
        Device virtio = m.device(VIRTIO);
        long pa = buffer(m, 0);
        assertThatThrownBy(() -> m.swiotlb().tblMapSingle50(virtio, POOL, pa, 512, Direction.TO_DEVICE, 0))
                .isInstanceOf(KernelOops.class);
        assertThat(log(m))
                .contains("Kernel panic - not syncing: Can not allocate SWIOTLB buffer earlier and can't now provide"
                        + " you with the DMA bounce buffer");
    }

    @Test
    void theModernEntryPointIsRefusedOnOldKernels() {
        Machine m = boot(KernelVersion.V5_0, "swiotlb=512,force");
        assertThatThrownBy(() -> m.swiotlb().tblMapSingle(m.device(VIRTIO), 0x100_0000, 512, 0, Direction.TO_DEVICE, 0))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void bounceBytesAreCountedByDirection() {
        Machine m = boot612();
        Device virtio = m.device(VIRTIO);
        long pa = buffer(m, 1);
        long tlb = m.swiotlb().map(virtio, pa, 5000, Direction.BIDIRECTIONAL, DmaAttrs.NONE);
        m.swiotlb().syncSingleForCpu(virtio, tlb, 5000, Direction.BIDIRECTIONAL);
        m.swiotlb().syncSingleForDevice(virtio, tlb, 1000, Direction.BIDIRECTIONAL);
        m.swiotlb().tblUnmapSingle(virtio, tlb, 5000, Direction.BIDIRECTIONAL, DmaAttrs.NONE);
        assertThat(m.swiotlb().bytesToBounce()).isEqualTo(6000);
        assertThat(m.swiotlb().bytesFromBounce()).isEqualTo(10000);
        assertThat(Arrays.equals(read(m, pa, 16), new byte[16])).isTrue();
    }
}
