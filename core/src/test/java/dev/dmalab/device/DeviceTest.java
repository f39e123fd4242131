package dev.dmalab.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code struct device}'s DMA fields, {@code dma_range_map} translation and the per-device coherent pool. */
class DeviceTest {
    @Test
    void aNewDeviceHasTheDriverCoreDefaults() {
        Device d = new Device("0000:00:01.0", BusType.PCI);
        // dma_mask and coherent_dma_mask default to 32 bits; no ops (dma-direct from 5.0), no limits.
        assertThat(d.hasDmaMask()).isTrue();
        assertThat(d.dmaMask()).isEqualTo(0xffffffffL);
        assertThat(d.coherentDmaMask()).isEqualTo(0xffffffffL);
        assertThat(d.busDmaLimit()).isZero();
        assertThat(d.dmaOps()).isNull();
        assertThat(d.dmaRangeMap()).isNull();
        assertThat(d.dmaCoherent()).isFalse();
        assertThat(d.dmaSkipSync()).isFalse();
        assertThat(d.hasDmaParms()).isFalse();
        assertThat(d.hardwareAddressBits()).isEqualTo(64);
        assertThat(d.driverString()).as("the bus name when unbound").isEqualTo("pci");
        assertThat(d.logPrefix()).isEqualTo("pci 0000:00:01.0: ");
        d.setDriverName("nvme");
        assertThat(d.logPrefix()).isEqualTo("nvme 0000:00:01.0: ");
        assertThat(d).hasToString("0000:00:01.0");
    }

    @Test
    void theMaskPointerAndDmaParmsAreModelled() {
        Device d = new Device("fa000000.sata", BusType.PLATFORM);
        d.clearDmaMaskPointer();
        assertThat(d.hasDmaMask()).isFalse();
        d.setDmaMask(0xffffffffffL);
        assertThat(d.hasDmaMask()).isTrue();
        assertThatThrownBy(() -> d.setMaxSegmentSize(65536))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has no dma_parms");
        d.setDmaParms(65536, 0xffffffffL, 0);
        d.setMinAlignMask(0xfff);
        assertThat(d.minAlignMask()).isEqualTo(0xfff);
        assertThatThrownBy(() -> d.setHardwareAddressBits(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Device("", BusType.PCI)).isInstanceOf(IllegalArgumentException.class);
        assertThat(BusType.parse("amba")).isEqualTo(BusType.AMBA);
        assertThatThrownBy(() -> BusType.parse("usb")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dmaRangeMapTranslatesThroughTheFirstMatchingRegion() {
        // RPi4 emmc2: CPU [0, 1 GiB) appears at bus 0xc0000000.
        DmaRangeMap map = DmaRangeMap.single(0, 0xc0000000L, 1L << 30);
        assertThat(map.physToDma(0x1000)).isEqualTo(0xc0001000L);
        assertThat(map.physToDma(0x3fffffffL)).isEqualTo(0xffffffffL);
        assertThat(map.physToDma(0x40000000L)).as("outside every region").isEqualTo(-1L);
        assertThat(map.dmaToPhys(0xc0001000L)).isEqualTo(0x1000);
        assertThat(map.dmaToPhys(0x1000)).isEqualTo(-1L);
        assertThat(map.regions().get(0).offset()).isEqualTo(-0xc0000000L);

        DmaRangeMap two = new DmaRangeMap(List.of(
                new DmaRangeMap.Region(0x80000000L, 0x0, 0x40000000L),
                new DmaRangeMap.Region(0x880000000L, 0x40000000L, 0x40000000L)));
        assertThat(two.physToDma(0x880000010L)).isEqualTo(0x40000010L);
        assertThat(two.dmaToPhys(0x3fffffffL)).isEqualTo(0xbfffffffL);
        assertThat(two.coversPhys(0x80000000L, 0xc0000000L)).isTrue();
        assertThat(two.coversPhys(0x80000000L, 0xc0001000L)).isFalse();
        assertThat(two.coversPhys(0x880000000L, 0x8c0000000L)).isTrue();
    }

    @Test
    void dmaRangeMapValidation() {
        assertThatThrownBy(() -> new DmaRangeMap(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DmaRangeMap.Region(0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCoherentPoolAllocatesNaturallyAlignedRunsFromPageZero() {
        DmaCoherentMem pool = new DmaCoherentMem(0x50000000L, 0x10000000L, 0xffff800080000000L, 32768, 12, false);
        assertThat(pool.pages()).isEqualTo(8);
        assertThat(pool.allocPages(1)).isZero(); // get_order(1) = 0
        assertThat(pool.allocPages(4097)).as("order 1: pages 2-3").isEqualTo(2);
        assertThat(pool.allocPages(4096)).isEqualTo(1);
        assertThat(pool.allocPages(16384)).as("order 2: pages 4-7").isEqualTo(4);
        assertThat(pool.allocPages(4096)).as("full").isEqualTo(-1);
        assertThat(pool.usedPages()).isEqualTo(8);
        pool.releasePages(2, 8192);
        assertThat(pool.allocPages(4096)).isEqualTo(2);
        assertThat(pool.allocPages(65536)).as("larger than the pool").isEqualTo(-1);
        assertThat(pool.containsVirt(0xffff800080000000L + 32767)).isTrue();
        assertThat(pool.containsVirt(0xffff800080000000L + 32768)).isFalse();
        assertThat(pool.containsVirt(0xffff800080000000L - 1)).isFalse();
        assertThat(pool.sizeBytes()).isEqualTo(32768);
        assertThatThrownBy(() -> new DmaCoherentMem(0x50000800L, 0, 0, 4096, 12, false))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
