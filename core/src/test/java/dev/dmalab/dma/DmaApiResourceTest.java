package dev.dmalab.dma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.kernel.Printk;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code dma_map_resource}: 4.20–5.0 {@code BUG_ON(pfn_valid())} in the header and hand direct devices the raw
 * physical address; 5.1–5.14 WARN and fail on RAM; 6.12 checks nothing about RAM and only asks {@code
 * dma_capable()} of the untranslated address.
 */
class DmaApiResourceTest {
    private static final long SOC_MMIO = 0x10000000L; // arm64-noncoherent "SoC peripherals"
    private static final long PCIE_WINDOW = 0x4000000000L; // arm64-noncoherent "PCIe window", above 32 bits

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0-rc2", "5.0"})
    void upTo50RamIsABugAndMmioIsTheRawPhysicalAddress(String version) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");

        KernelOops oops = catchThrowableOfType(
                () -> m.dma().mapResource(dev, 0x90000000L, 4096, Direction.BIDIRECTIONAL, 0), KernelOops.class);
        assertThat(oops.report().kind()).isEqualTo(OopsReport.Kind.BUG);
        assertThat(oops.report().bugSite()).isEqualTo("include/linux/dma-mapping.h");

        // No translation and no capability check, even above the device's 32-bit mask.
        assertThat(m.dma().mapResource(dev, SOC_MMIO, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(SOC_MMIO);
        assertThat(m.dma().mapResource(dev, PCIE_WINDOW, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(PCIE_WINDOW);
    }

    @Test
    void in50ADmaRangeOffsetIsNotAppliedToResources() {
        // rpi4 emmc2 has dma-ranges cpu 0x0 -> bus 0xc0000000 (5.0: dma_pfn_offset); phys_to_dma would add
        // 0xc0000000, but the 5.0 header returns phys as is.
        Machine m = TestMachines.boot("rpi4", KernelVersion.V5_0);
        Device mmc = m.device("fe340000.mmc");
        assertThat(DmaAddress.physToDma(mmc, 0xfc000000L)).isEqualTo(0x1bc000000L);
        assertThat(m.dma().mapResource(mmc, 0xfc000000L, 0x100, Direction.FROM_DEVICE, 0))
                .isEqualTo(0xfc000000L);
    }

    @Test
    void in54RamWarnsAndFails() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V5_4);
        Device dev = m.device("fa000000.sata");

        assertThat(m.dma().mapResource(dev, 0x90000000L, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains("WARNING: CPU: 0 PID: 1 at kernel/dma/mapping.c dma_map_resource");
        assertThat(m.dma().mapResource(dev, SOC_MMIO, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(SOC_MMIO);
    }

    @Test
    void in612OnlyTheCapabilityOfTheUntranslatedAddressCounts() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device sata = m.device("fa000000.sata"); // 32-bit mask
        Device eth = m.device("ff0e0000.ethernet"); // 40-bit mask
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);

        // RAM is not refused any more: below 4 GiB it is simply capable.
        assertThat(m.dma().mapResource(sata, 0x90000000L, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(0x90000000L);
        assertThat(m.dma().mapResource(sata, SOC_MMIO, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(SOC_MMIO);
        // 0x4000000000 + 4095 > 0xffffffff: not capable for the 32-bit device, fine for the 40-bit one.
        assertThat(m.dma().mapResource(sata, PCIE_WINDOW, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().mapResource(eth, PCIE_WINDOW, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(PCIE_WINDOW);
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains(
                        "ahci fa000000.sata: DMA addr 0x0000004000000000+4096 overflow (mask ffffffff, bus limit 0).");
        // Traced even when it failed (dma_map_resource fires the tracepoint with the error cookie).
        assertThat(events).filteredOn(e -> e instanceof DmaEvent.Map).hasSize(4).allSatisfy(e -> {
            DmaEvent.Map map = (DmaEvent.Map) e;
            assertThat(map.kind()).isEqualTo(DmaEvent.MapKind.RESOURCE);
            assertThat(map.traced()).isTrue();
        });

        m.dma().unmapResource(sata, SOC_MMIO, 4096, Direction.TO_DEVICE, 0); // direct: nothing to undo
        assertThat(events.get(events.size() - 1)).isInstanceOf(DmaEvent.Unmap.class);
    }

    @Test
    void in612ADmaRangeOffsetIsNotAppliedEither() {
        Machine m = TestMachines.boot("rpi4", KernelVersion.V6_12);
        Device mmc = m.device("fe340000.mmc");
        // dma_direct_map_resource: dma = paddr; 0xfc000000 + 0xff <= 0xffffffff is capable.
        assertThat(m.dma().mapResource(mmc, 0xfc000000L, 0x100, Direction.FROM_DEVICE, 0))
                .isEqualTo(0xfc000000L);
    }
}
