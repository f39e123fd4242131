package dev.dmalab.direct;

import static dev.dmalab.testing.TestMachines.assertBytes;
import static dev.dmalab.testing.TestMachines.cpuReadPhys;
import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.deviceWrite;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * dma-direct's streaming side: when it maps in place, when it bounces (addressing, {@code swiotlb=force}, the
 * 6.5+ kmalloc rule), how it fails without swiotlb, and the 5.x copy-back and sg-sync quirks.
 */
class DmaDirectMapTest {
    private static List<String> log(Machine m) {
        List<String> out = new ArrayList<>();
        for (Printk.Line l : m.kernel().printk().lines()) {
            out.add(l.text());
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // dma_kmalloc_needs_bounce (6.5+, arm64 CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC)

    /**
     * A non-coherent device's FROM_DEVICE/BIDIRECTIONAL map bounces iff size < 2 * ARCH_DMA_MINALIGN (256) and
     * kmalloc_size_roundup(size) is not a multiple of ARCH_DMA_MINALIGN (128). With ARCH_KMALLOC_MINALIGN 8 the
     * kmalloc classes below 256 are 8, 16, 32, 64, 96, 128, 192, 256: sizes rounding to 128 or 256 are safe.
     * (So 100 bytes, which kmalloc serves from kmalloc-128, does not bounce; 96 does.)
     */
    @ParameterizedTest(name = "{0} bytes -> kmalloc-{1}, bounce {2}")
    @CsvSource({
        "1, 8, true",
        "8, 8, true",
        "9, 16, true",
        "33, 64, true",
        "64, 64, true",
        "65, 96, true",
        "96, 96, true",
        "97, 128, false",
        "100, 128, false",
        "128, 128, false",
        "129, 192, true",
        "192, 192, true",
        "193, 256, false",
        "255, 256, false",
        "256, 256, false",
        "4096, 4096, false"
    })
    void arm64612BouncesSmallUnalignedKmallocSizes(int size, int kmallocClass, boolean bounce) {
        if (size < 256) {
            assertThat(DmaDirect.kmallocSizeRoundup(size)).isEqualTo(kmallocClass);
        }
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.DMA32); // below 4 GiB: capable, so only the kmalloc rule can bounce
        for (Direction dir : List.of(Direction.FROM_DEVICE, Direction.BIDIRECTIONAL, Direction.TO_DEVICE)) {
            long dma = m.dma().mapPageAttrs(dev, page, 0, size, dir, 0);
            boolean bounced = dma != page;
            assertThat(bounced).as("%s", dir).isEqualTo(bounce && dir != Direction.TO_DEVICE);
            m.dma().unmapPageAttrs(dev, dma, size, dir, 0);
        }
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @Test
    void aBouncedSmallBufferStillCarriesTheDevicesData() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.DMA32);
        byte[] neighbour = pattern(64, 1);
        cpuWritePhys(m, page + 96, neighbour); // other kmalloc-96 objects share the cache line

        long dma = m.dma().mapPageAttrs(dev, page, 0, 96, Direction.FROM_DEVICE, 0);
        assertThat(m.swiotlb().findPool(dev, dma)).isNotNull();
        deviceWrite(m, dev, dma, pattern(96, 2));
        cpuWritePhys(m, page + 100, new byte[] {42}); // the neighbour keeps being used during the DMA
        m.dma().unmapPageAttrs(dev, dma, 96, Direction.FROM_DEVICE, 0);

        assertThat(cpuReadPhys(m, page, 96)).isEqualTo(pattern(96, 2));
        byte[] expected = neighbour.clone();
        expected[4] = 42;
        assertThat(cpuReadPhys(m, page + 96, 64)).isEqualTo(expected);
    }

    @Test
    void coherentDevicesAndOlderKernelsNeverKmallocBounce() {
        Machine virt = TestMachines.boot("arm64-virt", KernelVersion.V6_12); // coherent PCIe
        long p1 = virt.allocKernelPages(0, Zone.NORMAL);
        assertThat(virt.dma().mapPageAttrs(virt.device("0000:00:03.0"), p1, 0, 96, Direction.FROM_DEVICE, 0))
                .isEqualTo(p1);
        Machine old = TestMachines.boot("arm64-noncoherent", KernelVersion.V5_4);
        long p2 = old.allocKernelPages(0, Zone.DMA32);
        assertThat(old.dma().mapPageAttrs(old.device("fa000000.sata"), p2, 0, 96, Direction.FROM_DEVICE, 0))
                .isEqualTo(p2);
    }

    @Test
    void aKmallocBounceWithoutSwiotlbFailsEvenForAnAddressableBuffer() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12, "swiotlb=noforce");
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.DMA32);

        assertThat(m.dma().mapPageAttrs(dev, page, 0, 96, Direction.FROM_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(log(m))
                .contains("ahci fa000000.sata: DMA addr " + Bits.hex16(page)
                        + "+96 overflow (mask ffffffff, bus limit 0).");
        assertThat(m.dma().mapPageAttrs(dev, page, 0, 128, Direction.FROM_DEVICE, 0))
                .isEqualTo(page);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Addressing: swiotlb fallback, and the WARN without it

    @Test
    void a32BitDeviceBouncesMemoryAbove4GiB() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long high = m.allocKernelPages(0, Zone.NORMAL);
        assertThat(high).isGreaterThanOrEqualTo(0x880000000L);
        cpuWritePhys(m, high, pattern(4096, 3));

        long dma = m.dma().mapPageAttrs(dev, high, 0, 4096, Direction.TO_DEVICE, 0);

        long pool = m.swiotlb().defaultMem().defpool().start();
        assertThat(dma).isBetween(pool, m.swiotlb().defaultMem().defpool().end() - 4096);
        assertThat(dma + 4095).isLessThanOrEqualTo(0xffffffffL);
        assertThat(deviceRead(m, dev, dma, 4096)).isEqualTo(pattern(4096, 3));
        assertThat(events.get(0)).isInstanceOfSatisfying(DmaEvent.SwiotlbBounced.class, b -> {
            assertThat(b.devAddr()).isEqualTo(high);
            assertThat(b.force()).isFalse();
            assertThat(b.dmaMask()).isEqualTo(0xffffffffL);
        });
        assertThat(events.get(1)).isInstanceOfSatisfying(DmaEvent.Map.class, e -> {
            assertThat(e.phys()).isEqualTo(high);
            assertThat(e.dmaAddr()).isEqualTo(dma);
        });
        m.dma().unmapPageAttrs(dev, dma, 4096, Direction.TO_DEVICE, 0);
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @Test
    void withoutSwiotlbAnUnreachableBufferWarnsOncePerCallSite() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12, "swiotlb=noforce");
        assertThat(m.swiotlb().defaultMem().defpool()).isNull();
        Device sata = m.device("fa000000.sata");
        Device mmc = m.device("ff160000.mmc");
        long high = m.allocKernelPages(0, Zone.NORMAL);

        assertThat(m.dma().mapPageAttrs(sata, high, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().mapPageAttrs(sata, high, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().mapPageAttrs(mmc, high, 0, 512, Direction.FROM_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);

        // dev_WARN_ONCE: one flag for the call site, whichever device comes first.
        assertThat(log(m))
                .filteredOn(t -> t.contains("DMA addr"))
                .containsExactly("ahci fa000000.sata: DMA addr " + Bits.hex16(high)
                        + "+4096 overflow (mask ffffffff, bus limit 0).");
    }

    @Test
    void in420DmaDirectOpsHasNoFallbackAndReportsEveryFailure() {
        // 4.20 check_addr: dev_err (not once), no WARN, the caller's name in the text, printed only when the mask
        // is at least 32 bits or there is a bus mask.
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        Device dev = m.device("0000:00:05.0");
        dev.setBusDmaLimit(0xffffffL); // an upstream bridge that only forwards 24 bits
        long page = m.allocKernelPages(0, Zone.DMA32);

        assertThat(m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);

        String line = "e1000 0000:00:05.0: dma_direct_map_page: overflow " + Bits.hex16(page)
                + "+4096 of device mask ffffffff bus mask ffffff";
        assertThat(log(m)).filteredOn(t -> t.contains("overflow")).containsExactly(line, line);
        assertThat(log(m)).noneMatch(t -> t.startsWith("WARNING"));
    }

    @Test
    void in420ANarrowMaskFailsSilently() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        Device dev = m.device("0000:00:05.0");
        assertThat(m.dma().setMask(dev, 0xffffffL)).isZero();
        long page = m.allocKernelPages(0, Zone.DMA32); // above 16 MiB

        assertThat(m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().mappingError(dev, Bits.U64_MAX)).isNegative();
        assertThat(log(m)).noneMatch(t -> t.contains("overflow"));
    }

    @Test
    void skipCpuSyncLeavesTheCleanToTheDriver() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.DMA32);
        cpuWritePhys(m, page, pattern(4096, 4)); // dirty in the CPU cache only

        long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, DmaAttrs.SKIP_CPU_SYNC);
        assertThat(deviceRead(m, dev, dma, 4096)).as("not cleaned yet").isNotEqualTo(pattern(4096, 4));
        m.dma().syncSingleForDevice(dev, dma, 4096, Direction.TO_DEVICE);
        assertThat(deviceRead(m, dev, dma, 4096)).isEqualTo(pattern(4096, 4));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Copy-back on unmap: twice in 5.x (caller's attrs passed to swiotlb_tbl_unmap_single), once from 5.16

    @ParameterizedTest
    @CsvSource({
        "5.0-rc2, FROM_DEVICE, 8192",
        "5.0, FROM_DEVICE, 8192",
        "5.4, FROM_DEVICE, 8192",
        "6.12, FROM_DEVICE, 4096",
        "5.4, BIDIRECTIONAL, 8192",
        "6.12, BIDIRECTIONAL, 4096",
        "5.4, TO_DEVICE, 0",
        "6.12, TO_DEVICE, 0"
    })
    void unmapCopiesABounceBack(String version, Direction dir, long expectedBytes) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long high = m.allocKernelPages(0, Zone.NORMAL);
        long dma = m.dma().mapPageAttrs(dev, high, 0, 4096, dir, 0);
        deviceWrite(m, dev, dma, pattern(4096, 5));
        long before = m.swiotlb().bytesFromBounce();

        m.dma().unmapPageAttrs(dev, dma, 4096, dir, 0);

        assertThat(m.swiotlb().bytesFromBounce() - before).isEqualTo(expectedBytes);
        if (dir.deviceWrites()) {
            assertThat(cpuReadPhys(m, high, 4096)).isEqualTo(pattern(4096, 5));
        }
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.4", "6.12"})
    void skipCpuSyncOnUnmapCopiesNothingBack(String version) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long high = m.allocKernelPages(0, Zone.NORMAL);
        long dma = m.dma().mapPageAttrs(dev, high, 0, 4096, Direction.FROM_DEVICE, 0);

        m.dma().unmapPageAttrs(dev, dma, 4096, Direction.FROM_DEVICE, DmaAttrs.SKIP_CPU_SYNC);

        assertThat(m.swiotlb().bytesFromBounce()).isZero();
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------
    // 5.0: dma_direct_sync_sg_* use sg_phys(), so bounced entries are neither copied nor cleaned

    @ParameterizedTest
    @CsvSource({"5.0-rc2, false", "5.0, false", "5.4, true", "6.12, true"})
    void sgSyncForCpuOfABouncedEntry(String version, boolean copies) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long high = m.allocKernelPages(0, Zone.NORMAL);
        cpuWritePhys(m, high, pattern(2048, 6));
        ScatterList sg = new ScatterList(1).add(high, 0, 2048);
        assertThat(m.dma().mapSgAttrs(dev, sg, 1, Direction.FROM_DEVICE, 0)).isEqualTo(1);
        assertThat(sg.dmaAddress(0)).as("bounced").isNotEqualTo(high);
        deviceWrite(m, dev, sg.dmaAddress(0), pattern(2048, 7));
        long before = m.swiotlb().bytesFromBounce();

        m.dma().syncSgForCpu(dev, sg, 1, Direction.FROM_DEVICE);

        assertThat(m.swiotlb().bytesFromBounce() - before).isEqualTo(copies ? 2048 : 0);
        // 5.0 neither copies the bounce back nor even leaves the CPU's own data: the arch invalidate is applied to
        // sg_phys (the original buffer), discarding the CPU's dirty lines, so the CPU reads what DRAM held before
        // (never-written memory: zeros).
        assertBytes(cpuReadPhys(m, high, 2048), copies ? pattern(2048, 7) : new byte[2048], "after sync_sg_for_cpu");
        m.dma().unmapSgAttrs(dev, sg, 1, Direction.FROM_DEVICE, 0);
        assertBytes(cpuReadPhys(m, high, 2048), pattern(2048, 7), "unmap copies back in every version");
    }

    @ParameterizedTest
    @CsvSource({"5.0, false", "5.4, true", "6.12, true"})
    void sgSyncForDeviceOfABouncedEntry(String version, boolean copies) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long high = m.allocKernelPages(0, Zone.NORMAL);
        cpuWritePhys(m, high, pattern(2048, 8));
        ScatterList sg = new ScatterList(1).add(high, 0, 2048);
        m.dma().mapSgAttrs(dev, sg, 1, Direction.TO_DEVICE, 0);
        cpuWritePhys(m, high, pattern(2048, 9)); // the driver refills the buffer and hands it over again

        m.dma().syncSgForDevice(dev, sg, 1, Direction.TO_DEVICE);

        assertBytes(
                deviceRead(m, dev, sg.dmaAddress(0), 2048),
                copies ? pattern(2048, 9) : pattern(2048, 8),
                "device view after sync_sg_for_device");
    }

    @Test
    void swiotlbForceBouncesEvenCapableBuffers() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12, "swiotlb=force");
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long page = m.allocKernelPages(0, Zone.NORMAL);

        long dma = m.dma().mapPageAttrs(dev, page, 0x100, 1000, Direction.TO_DEVICE, 0);

        assertThat(m.swiotlb().findPool(dev, dma)).isNotNull();
        // NVMe's min_align_mask 0xfff keeps the low 12 bits of the original address in the bounce address.
        assertThat(dma & 0xfff).isEqualTo(0x100);
        assertThat(((DmaEvent.SwiotlbBounced) events.get(0)).force()).isTrue();
    }
}
