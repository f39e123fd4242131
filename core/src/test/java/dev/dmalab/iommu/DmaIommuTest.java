package dev.dmalab.iommu;

import static dev.dmalab.testing.TestMachines.busMaster;
import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.BusMaster;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.iommuhw.IommuFault;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import org.junit.jupiter.api.Test;

/** dma-iommu on the q35 + VT-d platforms: translation, faults, strict and lazy invalidation, passthrough, layout. */
class DmaIommuTest {
    private static final String E1000E = "0000:00:04.0";
    private static final String E1000 = "0000:00:05.0";
    private static final String AHCI = "0000:00:1f.2";

    private static byte[] tryRead(Machine m, Device dev, long dma, int len, BusMaster.Status[] status) {
        byte[] b = new byte[len];
        status[0] = busMaster(m, dev).read(dma, b, 0, len);
        return b;
    }

    /**
     * {@code __iommu_dma_map} refuses a device whose {@code dma_get_min_align_mask()} is wider than the granule. The
     * mask only exists from 5.12 ({@code SWIOTLB_MIN_ALIGN}): a 5.4 kernel has no such field to read, so the same
     * device maps there (the model keeps the value on the device for both).
     */
    @Test
    void aMinAlignMaskWiderThanTheGranuleIsRefusedOnlyWhereTheKernelHasOne() {
        for (KernelVersion v : new KernelVersion[] {KernelVersion.V5_4, KernelVersion.V6_12}) {
            Machine m = TestMachines.boot("x86-q35-vtd", v);
            Device dev = m.device(E1000E);
            dev.setDmaParms(dev.maxSegmentSize(), dev.segmentBoundaryMask(), 0x1fff);
            long page = m.allocKernelPages(0, Zone.DMA32);
            long dma = m.dma().mapPageAttrs(dev, page, 0, 512, Direction.TO_DEVICE, 0);
            if (v.has(Feature.SWIOTLB_MIN_ALIGN)) {
                assertThat(dma).as(v.toString()).isEqualTo(Bits.U64_MAX);
                assertThat(m.kernel().printk().dmesg()).contains("Unsupported alignment constraint");
            } else {
                assertThat(dma).as(v.toString()).isNotEqualTo(Bits.U64_MAX);
                assertThat(m.kernel().printk().dmesg()).doesNotContain("Unsupported alignment constraint");
            }
        }
    }

    /**
     * arm64-smmuv3 (built in: 4 KiB granule, strict by arm64's Kconfig default, 48-bit input space) and its 64 KiB
     * granule option: IOVAs are allocated in granules, a buffer keeps its offset within the granule, and the device
     * reaches the whole granule — with 64 KiB, 60 KiB more around a 4 KiB page.
     */
    @Test
    void smmuv3MapsInItsGranule() throws Exception {
        for (String granule : new String[] {"4K", "64K"}) {
            String yaml;
            try (java.io.InputStream in = getClass().getResourceAsStream("/platforms/arm64-smmuv3.yaml")) {
                yaml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                        .replace("  granule: 4K", "  granule: " + granule);
            }
            Machine m = TestMachines.bootYaml("arm64-smmuv3-" + granule, yaml, KernelVersion.V6_12, "");
            Device dev = m.device("0000:00:06.0");
            assertThat(dev.dmaIommu()).as("use_dma_iommu").isTrue();
            long g = granule.equals("4K") ? 4096 : 65536;
            DmaIommu.Domain d = m.iommu().domainOf(dev);
            assertThat(d.iovad().granule()).isEqualTo(g);
            assertThat(d.type()).as("arm64 defaults to strict").isEqualTo(DmaIommu.DomainType.DMA);
            long page = m.allocKernelPages(0, Zone.NORMAL);
            cpuWritePhys(m, page + 0x100, pattern(512, 3));
            long dma = m.dma().mapPageAttrs(dev, page, 0x100, 512, Direction.TO_DEVICE, 0);
            assertThat(dma).isNotEqualTo(Bits.U64_MAX);
            assertThat(dma & (g - 1)).as("offset in the granule kept").isEqualTo((page + 0x100) & (g - 1));
            assertThat(dma).as("PCI: 32-bit IOVA space first").isLessThan(1L << 32);
            assertThat(deviceRead(m, dev, dma, 512)).isEqualTo(pattern(512, 3));
            // the whole granule around the buffer is reachable: its first and last bytes
            long base = dma & ~(g - 1);
            assertThat(busMaster(m, dev).read(base, new byte[1], 0, 1)).isEqualTo(BusMaster.Status.OK);
            assertThat(busMaster(m, dev).read(base + g - 1, new byte[1], 0, 1)).isEqualTo(BusMaster.Status.OK);
            assertThat(busMaster(m, dev).read(base + g, new byte[1], 0, 1))
                    .as("past the granule: nothing mapped")
                    .isNotEqualTo(BusMaster.Status.OK);
            m.dma().unmapPageAttrs(dev, dma, 512, Direction.TO_DEVICE, 0);
            assertThat(busMaster(m, dev).read(base, new byte[1], 0, 1))
                    .as("strict: unmapped and invalidated at once")
                    .isNotEqualTo(BusMaster.Status.OK);
        }
    }

    @Test
    void strictUnmapInvalidatesAtOnceAndALaterAccessFaults() {
        Machine m = TestMachines.boot("x86-q35-vtd", KernelVersion.V6_12);
        Device dev = m.device(E1000E);
        long page = m.allocKernelPages(0, Zone.DMA32);
        cpuWritePhys(m, page + 0x80, pattern(512, 1));
        long dma = m.dma().mapPageAttrs(dev, page, 0x80, 512, Direction.TO_DEVICE, 0);
        assertThat(dma).as("the top of the 32-bit space, offset kept").isEqualTo(0xfffff080L);
        assertThat(deviceRead(m, dev, dma, 512)).isEqualTo(pattern(512, 1));

        BusMaster.Status[] st = new BusMaster.Status[1];
        busMaster(m, dev).write(dma, new byte[16], 0, 16);
        assertThat(m.iommu().hardware().faults()).singleElement().satisfies(f -> {
            assertThat(f.reason()).as("TO_DEVICE is read-only").isEqualTo(IommuFault.Reason.PERMISSION);
            assertThat(f.write()).isTrue();
            assertThat(f.iova()).isEqualTo(dma);
        });

        m.kernel().clock().advanceNs(5_000);
        m.dma().unmapPageAttrs(dev, dma, 512, Direction.TO_DEVICE, 0);
        tryRead(m, dev, dma, 64, st);
        assertThat(st[0]).isEqualTo(BusMaster.Status.IOMMU_FAULT);
        IommuFault last = m.iommu().hardware().faults().get(1);
        assertThat(last.reason()).isEqualTo(IommuFault.Reason.NOT_PRESENT);
        assertThat(last.timeNs()).isEqualTo(5_000);
        assertThat(m.iommu().exposureMaxNs()).as("strict: no window").isZero();
        assertThat(m.iommu().hardware().staleAccesses()).isZero();
    }

    @Test
    void lazyUnmapLeavesTheDeviceAWindowUntilTheFlushQueueTimerFires() {
        Machine m = TestMachines.boot("x86-q35-vtd-lazy", KernelVersion.V6_12);
        Device dev = m.device(E1000E);
        long page = m.allocKernelPages(0, Zone.DMA32);
        cpuWritePhys(m, page, pattern(4096, 2));
        m.kernel().clock().advanceTo(1_000_000); // 1 ms: jiffy 0 at HZ=250
        long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.BIDIRECTIONAL, 0);
        assertThat(deviceRead(m, dev, dma, 4096)).isEqualTo(pattern(4096, 2)); // the IOTLB now holds it
        m.dma().unmapPageAttrs(dev, dma, 4096, Direction.BIDIRECTIONAL, 0);

        // the tables are clear but nobody invalidated the IOTLB: the device still reaches the page
        assertThat(m.iommu().domainOf(dev).table().iovaToPhys(dma)).isEqualTo(-1);
        assertThat(deviceRead(m, dev, dma, 4096)).isEqualTo(pattern(4096, 2));
        assertThat(m.iommu().hardware().staleAccesses()).isEqualTo(1);
        // nor is the IOVA free: the next map gets another one
        long other = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0);
        assertThat(other).isNotEqualTo(dma);
        m.dma().unmapPageAttrs(dev, other, 4096, Direction.TO_DEVICE, 0);

        FlushQueue fq = m.iommu().domainOf(dev).flushQueue();
        assertThat(fq.queued(0)).isEqualTo(2);
        // msecs_to_jiffies(10) = 3 ticks of 4 ms from jiffy 0: the timer fires at 12 ms
        assertThat(fq.timerDueNs()).isEqualTo(12_000_000L);
        m.kernel().clock().advanceTo(20_000_000);
        m.iommu().runDue();
        assertThat(fq.queued(0)).isZero();
        assertThat(fq.timerFlushes()).isEqualTo(1);
        BusMaster.Status[] st = new BusMaster.Status[1];
        tryRead(m, dev, dma, 64, st);
        assertThat(st[0]).as("after the flush").isEqualTo(BusMaster.Status.IOMMU_FAULT);
        assertThat(m.iommu().exposures())
                .extracting(DmaIommu.Exposure::windowNs)
                .containsExactly(11_000_000L, 11_000_000L);
        // freed oldest first into the rcache, so the last freed comes back first
        assertThat(m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(other);
    }

    @Test
    void aFullFlushQueueFlushesAtOnce() {
        Machine m = TestMachines.boot("x86-q35-vtd-lazy", KernelVersion.V6_12);
        Device dev = m.device(E1000E);
        long page = m.allocKernelPages(0, Zone.DMA32);
        FlushQueue fq = null;
        for (int i = 0; i < 256; i++) {
            long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.TO_DEVICE, 0);
            m.dma().unmapPageAttrs(dev, dma, 4096, Direction.TO_DEVICE, 0);
            fq = m.iommu().domainOf(dev).flushQueue();
        }
        assertThat(fq.fullFlushes()).as("the 256th entry finds 255 queued").isEqualTo(1);
        assertThat(fq.queued(0)).isEqualTo(1);
        assertThat(fq.startCount()).isEqualTo(1);
        assertThat(fq.finishCount()).isEqualTo(1);
    }

    @Test
    void passthroughUsesDmaDirectAndTheIommuPassesAccessesThrough() {
        Machine m = TestMachines.boot("x86-q35-vtd-pt", KernelVersion.V6_12);
        Device dev = m.device(E1000E);
        assertThat(dev.dmaIommu()).isFalse();
        long page = m.allocKernelPages(0, Zone.DMA32);
        cpuWritePhys(m, page, pattern(100, 3));
        long dma = m.dma().mapPageAttrs(dev, page, 0, 100, Direction.TO_DEVICE, 0);
        assertThat(dma).isEqualTo(page);
        assertThat(deviceRead(m, dev, dma, 100)).isEqualTo(pattern(100, 3));
        assertThat(m.iommu().domainOf(dev).type()).isEqualTo(DmaIommu.DomainType.IDENTITY);
        assertThat(m.iommu().hardware().faults()).isEmpty();
    }

    @Test
    void forcedacSkipsTheThirtyTwoBitSpaceAndTheApertureCapsTheLimit() {
        Machine m = TestMachines.boot("x86-q35-vtd", KernelVersion.V6_12, "iommu.forcedac=1");
        long page = m.allocKernelPages(0, Zone.DMA32);
        long dma = m.dma().mapPageAttrs(m.device(E1000E), page, 0, 4096, Direction.TO_DEVICE, 0);
        assertThat(dma).as("2^39 - 4 KiB: the 39-bit aperture").isEqualTo(0x7ffffff000L);
        long low = m.dma().mapPageAttrs(m.device(E1000), page, 0, 4096, Direction.TO_DEVICE, 0);
        assertThat(low).as("a 32-bit device stays below 4 GiB").isEqualTo(0xfffff000L);
        assertThat(m.iommu().pci32bitWorkaround(m.device(E1000E))).isFalse();
    }

    @Test
    void oneDomainPerGroupInitialisedByItsFirstDevice() {
        Machine m = TestMachines.boot("x86-q35-vtd", KernelVersion.V6_12);
        DmaIommu.Domain ahci = m.iommu().domainOf(m.device(AHCI));
        assertThat(ahci.group()).isEqualTo(7);
        // the ISA bridge's floppy region (0-16 MiB), the host-bridge windows and the MSI window
        assertThat(ahci.iovad().ranges())
                .extracting(IovaDomain.Range::pfnLo)
                .contains(0x0L, 0x80000L, 0xc0000L, 0xfee00L, 0x100000L);
        assertThat(m.iommu().domainOf(m.device(E1000)).group()).isEqualTo(4);
        assertThat(m.kernel().printk().dmesg()).contains("pci 0000:00:1f.2: Adding to iommu group 7");
        assertThat(m.kernel().printk().dmesg()).contains("iommu: DMA domain TLB invalidation policy: strict mode");
    }

    @Test
    void scatterlistsGetOneIovaRangeMergedUpToTheMaxSegmentSize() {
        Machine m = TestMachines.boot("x86-q35-vtd", KernelVersion.V6_12);
        Device ahci = m.device(AHCI); // max_segment_size 64 KiB
        ScatterList sg = new ScatterList(20);
        for (int i = 0; i < 20; i++) {
            sg.add(m.allocKernelPages(0, Zone.DMA32), 0, 4096); // scattered pages, each granule-aligned
        }
        int ents = m.dma().mapSgAttrs(ahci, sg, 20, Direction.FROM_DEVICE, 0);
        assertThat(ents).isEqualTo(2);
        // 20 pages round to a 32-granule IOVA range, aligned: the top 128 KiB of the 32-bit space
        assertThat(sg.dmaAddress(0)).isEqualTo(0xfffe0000L);
        assertThat(sg.dmaLength(0)).isEqualTo(0x10000);
        assertThat(sg.dmaAddress(1)).isEqualTo(0xffff0000L);
        assertThat(sg.dmaLength(1)).isEqualTo(0x4000);
        for (int i = 0; i < 20; i++) {
            assertThat(m.iommu().domainOf(ahci).table().iovaToPhys(0xfffe0000L + i * 4096L))
                    .isEqualTo(sg.phys(i));
        }
        m.dma().unmapSgAttrs(ahci, sg, 20, Direction.FROM_DEVICE, 0);
        assertThat(m.iommu().domainOf(ahci).table().mappedGranules()).isZero();
        assertThat(m.iommu().unmapMismatches()).isZero();
        // an unaligned entry starts a new segment, and so does the one after an entry ending mid-granule
        ScatterList odd = new ScatterList(3)
                .add(m.allocKernelPages(0, Zone.DMA32), 0, 4096)
                .add(m.allocKernelPages(0, Zone.DMA32), 512, 1024)
                .add(m.allocKernelPages(0, Zone.DMA32), 0, 4096);
        assertThat(m.dma().mapSgAttrs(ahci, odd, 3, Direction.TO_DEVICE, 0)).isEqualTo(3);
        assertThat(odd.dmaAddress(1) & 0xfff).isEqualTo(512);
        assertThat(odd.dmaAddress(2) - odd.dmaAddress(0)).isEqualTo(0x2000);
    }

    @Test
    void coherentAllocationsTakeTheirIovaFromTheSameSpace() {
        Machine m = TestMachines.boot("x86-q35-vtd", KernelVersion.V6_12);
        Device ahci = m.device(AHCI);
        long[] h = new long[1];
        long va = m.dma().allocAttrs(ahci, 91392, h, dev.dmalab.dma.Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        assertThat(h[0]).as("the capture's first AHCI dma_alloc").isEqualTo(0xfffe0000L);
        m.dma().freeAttrs(ahci, 91392, va, h[0], 0);
        assertThat(m.iommu().domainOf(ahci).iovad().cached(5)).containsExactly(0xfffe0L);
        assertThat(Bits.hex0x(h[0])).isEqualTo("0xfffe0000");
    }
}
