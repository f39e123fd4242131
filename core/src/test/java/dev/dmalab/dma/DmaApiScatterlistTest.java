package dev.dmalab.dma;

import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.device.Device;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code dma_map_sg_attrs} / {@code dma_map_sgtable}: mapping every entry, and the unwinding when one entry fails
 * (dma-direct unmaps the entries already mapped with SKIP_CPU_SYNC and reports -EIO from 5.10, 0 before).
 */
class DmaApiScatterlistTest {
    private static final int ENTRY = 256 * 1024; // IO_TLB_SEGSIZE (128) slots of 2 KiB: the largest bounce

    /**
     * Five 256 KiB entries under swiotlb=force with a pool of 512 slots in one area: each entry takes one whole
     * 128-slot segment, so four fit exactly and the fifth finds the pool full.
     */
    private static ScatterList fiveFullSegments(Machine m) {
        ScatterList sg = new ScatterList(5);
        for (int i = 0; i < 5; i++) {
            long page = m.allocKernelPages(6, Zone.DMA32); // 2^6 pages = 256 KiB
            cpuWritePhys(m, page, pattern(64, i));
            sg.add(page, 0, ENTRY);
        }
        return sg;
    }

    @Test
    void in612AFailingEntryUnwindsTheOthersAndMapSgtableReturnsEio() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12, "swiotlb=512,1,force");
        Device dev = m.device("fa000000.sata");
        assertThat(m.swiotlb().defaultMem().nslabs()).isEqualTo(512);
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        SgTable sgt = new SgTable(fiveFullSegments(m));

        int rc = m.dma().mapSgtable(dev, sgt, Direction.FROM_DEVICE, 0);

        assertThat(rc).isEqualTo(-Errno.EIO);
        assertThat(sgt.nents()).as("sgt->nents is only set on success").isZero();
        assertThat(m.swiotlb().defaultMem().used())
                .as("the four bounced entries were unmapped")
                .isZero();
        assertThat(m.swiotlb().bytesFromBounce())
                .as("unwinding passes SKIP_CPU_SYNC")
                .isZero();
        assertThat(m.swiotlb().failedMaps()).isEqualTo(1);
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains("ahci fa000000.sata: swiotlb buffer is full (sz: 262144 bytes), total 512 (slots), used 512"
                        + " (slots)")
                .noneMatch(t -> t.contains("overflow")); // the force path returns swiotlb_map()'s result as is
        assertThat(events)
                .filteredOn(e -> e instanceof DmaEvent.MapSgErr)
                .singleElement()
                .satisfies(e -> {
                    DmaEvent.MapSgErr err = (DmaEvent.MapSgErr) e;
                    assertThat(err.err()).isEqualTo(-Errno.EIO);
                    assertThat(err.traced())
                            .as("dma_map_sg_err exists in 6.12.y")
                            .isTrue();
                    assertThat(err.phys()).hasSize(5);
                });
        assertThat(events).noneMatch(e -> e instanceof DmaEvent.MapSg);
    }

    @Test
    void in612MapSgAttrsTurnsTheErrnoIntoZero() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12, "swiotlb=512,1,force");
        Device dev = m.device("fa000000.sata");
        ScatterList sg = fiveFullSegments(m);

        assertThat(m.dma().mapSgAttrs(dev, sg, 5, Direction.TO_DEVICE, 0)).isZero();
        assertThat(m.swiotlb().defaultMem().used()).isZero();
        // Four entries fit: the same list minus its last entry maps completely.
        assertThat(m.dma().mapSgAttrs(dev, sg, 4, Direction.TO_DEVICE, 0)).isEqualTo(4);
        assertThat(m.swiotlb().defaultMem().used()).isEqualTo(512);
        for (int i = 0; i < 4; i++) {
            assertThat(deviceRead(m, dev, sg.dmaAddress(i), 64)).isEqualTo(pattern(64, i));
        }
        m.dma().unmapSgAttrs(dev, sg, 4, Direction.TO_DEVICE, 0);
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.0-rc2", "5.0", "5.4"})
    void in5xAFailingEntryUnwindsAndMapSgReturnsZero(String version) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version), "swiotlb=512,force");
        Device dev = m.device("fa000000.sata");
        assertThat(m.swiotlb().defaultMem().nslabs()).isEqualTo(512);
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        ScatterList sg = fiveFullSegments(m);

        assertThat(m.dma().mapSgAttrs(dev, sg, 5, Direction.BIDIRECTIONAL, 0)).isZero();

        assertThat(m.swiotlb().defaultMem().used()).isZero();
        assertThat(m.swiotlb().bytesFromBounce()).isZero();
        // 5.x reports the failed entry through report_addr: *dma_mask >= DMA_BIT_MASK(32), so dev_err_once
        // prints the overflow text (with the entry's own bus address: a full pool leaves dma_addr untouched),
        // then WARN_ON_ONCE(1).
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains(
                        "ahci fa000000.sata: overflow " + Bits.hex16(sg.phys(4))
                                + "+262144 of DMA mask ffffffff bus mask 0",
                        "WARNING: CPU: 0 PID: 1 at kernel/dma/direct.c report_addr");
        assertThat(events).noneMatch(e -> e instanceof DmaEvent.MapSg || e instanceof DmaEvent.MapSgErr);
        assertThatThrownBy(() -> m.dma().mapSgtable(dev, new SgTable(sg), Direction.TO_DEVICE, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dma_map_sgtable does not exist");
    }

    @Test
    void in612ASuccessfulSgtableMapSetsNentsAndTracesEveryEntry() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long a = m.allocKernelPages(0, Zone.DMA32);
        long b = m.allocKernelPages(1, Zone.DMA32);
        SgTable sgt =
                new SgTable(new ScatterList(3).add(a, 128, 1000).add(b, 0, 8192).add(a, 2048, 512));

        assertThat(m.dma().mapSgtable(dev, sgt, Direction.TO_DEVICE, 0)).isZero();

        assertThat(sgt.nents()).isEqualTo(3);
        // dma-direct never merges: one segment per entry, at the entry's own address (coherent, 64-bit mask).
        assertThat(sgt.sgl().dmaAddress(0)).isEqualTo(a + 128);
        assertThat(sgt.sgl().dmaAddress(1)).isEqualTo(b);
        assertThat(sgt.sgl().dmaAddress(2)).isEqualTo(a + 2048);
        DmaEvent.MapSg ev = (DmaEvent.MapSg) events.get(0);
        assertThat(ev.traced()).isTrue();
        assertThat(ev.nents()).isEqualTo(3);
        assertThat(ev.ents()).isEqualTo(3);
        assertThat(ev.dmaAddrs()).containsExactly(a + 128, b, a + 2048);
        assertThat(ev.dmaLengths()).containsExactly(1000, 8192, 512);

        m.dma().unmapSgtable(dev, sgt, Direction.TO_DEVICE, 0);
        assertThat(events.get(1)).isInstanceOf(DmaEvent.UnmapSg.class);
        assertThat(((DmaEvent.UnmapSg) events.get(1)).nents()).isEqualTo(3);
    }

    @Test
    void nentsBeyondTheListIsMisuseOfDmalab() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        ScatterList sg = new ScatterList(2).add(0x1000000, 0, 64);
        assertThatThrownBy(() -> m.dma().mapSgAttrs(m.device("0000:00:03.0"), sg, 2, Direction.TO_DEVICE, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
