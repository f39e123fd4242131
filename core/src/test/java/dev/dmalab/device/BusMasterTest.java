package dev.dmalab.device;

import static dev.dmalab.testing.TestMachines.cpuReadPhys;
import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.dram;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A device's DMA engine: 4 KiB pieces, address truncation, dma-ranges, snooping, master aborts. */
class BusMasterTest {
    private record Access(boolean write, long busAddr, long phys, int len, BusMaster.Status status) {}

    private static List<Access> observe(BusMaster bm) {
        List<Access> out = new ArrayList<>();
        bm.setObserver(
                (dev, write, busAddr, phys, len, status) -> out.add(new Access(write, busAddr, phys, len, status)));
        return out;
    }

    @Test
    void accessesAreSplitAt4KiBBoundaries() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        BusMaster bm = m.busMaster(dev);
        List<Access> seen = observe(bm);
        long page = m.allocKernelPages(2, Zone.NORMAL);

        assertThat(bm.write(page + 0xf00, pattern(6000, 1), 0, 6000)).isEqualTo(BusMaster.Status.OK);

        assertThat(seen).extracting(Access::len).containsExactly(0x100, 4096, 6000 - 0x100 - 4096);
        assertThat(seen).extracting(Access::busAddr).containsExactly(page + 0xf00, page + 0x1000, page + 0x2000);
        assertThat(bm.bytesWritten()).isEqualTo(6000);
        assertThat(cpuReadPhys(m, page + 0xf00, 6000)).isEqualTo(pattern(6000, 1));
    }

    @Test
    void aBusAddressWiderThanTheEngineIsTruncated() {
        // The 32-bit SATA engine drives 32 address lines: 0x1_8000_1000 reaches 0x8000_1000.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device sata = m.device("fa000000.sata");
        assertThat(sata.hardwareAddressBits()).isEqualTo(32);
        BusMaster bm = m.busMaster(sata);

        assertThat(bm.toPhys(0x180001000L)).isEqualTo(0x80001000L);
        bm.write(0x180001000L, pattern(64, 2), 0, 64);
        assertThat(dram(m, 0x80001000L, 64)).isEqualTo(pattern(64, 2));
    }

    @Test
    void dmaRangesTranslateBusToPhysical() {
        Machine m612 = TestMachines.boot("rpi4", KernelVersion.V6_12);
        Machine m54 = TestMachines.boot("rpi4", KernelVersion.V5_4); // dma_pfn_offset instead of a range map
        for (Machine m : List.of(m612, m54)) {
            BusMaster bm = m.busMaster(m.device("fe340000.mmc"));
            assertThat(bm.toPhys(0xc0001000L)).isEqualTo(0x1000);
            assertThat(bm.toPhys(0xfb3ff000L)).as("last page of the first bank").isEqualTo(0x3b3ff000L);
        }
        // With a range map, bus addresses outside it reach nothing.
        assertThat(m612.busMaster(m612.device("fe340000.mmc")).toPhys(0x1000)).isEqualTo(-1);
    }

    @Test
    void nothingAnsweringIsAMasterAbort() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        BusMaster bm = m.busMaster(m.device("0000:00:03.0"));
        List<Access> seen = observe(bm);
        byte[] buf = new byte[16];

        // 0x04000000 is neither RAM (from 0x40000000) nor MMIO (the GIC starts at 0x08000000) on arm64-virt.
        assertThat(bm.read(0x04000000L, buf, 0, 16)).isEqualTo(BusMaster.Status.MASTER_ABORT);
        byte[] ff = new byte[16];
        Arrays.fill(ff, (byte) 0xff);
        assertThat(buf).isEqualTo(ff);
        assertThat(bm.write(0x3eff0000L, new byte[16], 0, 16)).isEqualTo(BusMaster.Status.MASTER_ABORT);
        assertThat(bm.aborts()).isEqualTo(2);
        assertThat(seen).extracting(Access::phys).containsExactly(-1L, -1L);
        assertThat(bm.bytesRead()).isZero();
    }

    @Test
    void coherentEnginesSnoopAndNonCoherentOnesDoNot() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device sata = m.device("fa000000.sata"); // non-coherent
        long page = m.allocKernelPages(0, Zone.DMA32);
        cpuWritePhys(m, page, pattern(128, 3)); // dirty in the CPU cache

        byte[] seenByNonCoherent = new byte[128];
        m.busMaster(sata).read(page, seenByNonCoherent, 0, 128);
        assertThat(seenByNonCoherent).isEqualTo(new byte[128]);

        Device coherent = new Device("ff000000.cci", BusType.PLATFORM);
        coherent.setDmaCoherent(true);
        BusMaster snooping = new BusMaster(coherent, m.caches(), m.memory().map());
        byte[] seenByCoherent = new byte[128];
        snooping.read(page, seenByCoherent, 0, 128);
        assertThat(seenByCoherent).isEqualTo(pattern(128, 3));
    }
}
