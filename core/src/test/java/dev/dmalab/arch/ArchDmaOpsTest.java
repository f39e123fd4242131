package dev.dmalab.arch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.device.DmaOps;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.InputException;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code get_arch_dma_ops()} and the ops {@code arch_setup_dma_ops} installs, per arch and kernel version. */
class ArchDmaOpsTest {
    private static String symbol(DmaOps ops) {
        return ops == null ? null : ops.symbol();
    }

    private static Device orphan() {
        return new Device("ffff0000.orphan", BusType.PLATFORM);
    }

    @Test
    void x86In420HandsOutTheGlobalDmaOps() {
        Machine plain = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        Machine forced = TestMachines.boot("x86-q35", KernelVersion.V4_20, "swiotlb=force");
        // 2 GiB of RAM: no swiotlb, dma_ops = &dma_direct_ops; swiotlb=force: pci_swiotlb_detect installs
        // swiotlb_dma_ops.
        assertThat(plain.arch().get(orphan())).isSameAs(plain.direct());
        assertThat(symbol(plain.arch().get(orphan()))).isEqualTo("dma_direct_ops");
        assertThat(symbol(forced.arch().get(orphan()))).isEqualTo("swiotlb_dma_ops");
        assertThat(plain.device("0000:00:04.0").dmaOps())
                .as("x86 leaves dev->dma_ops NULL")
                .isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.0-rc2", "5.0", "5.4", "6.12"})
    void x86From50HasNoArchOps(String version) {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.parse(version), "swiotlb=force");
        assertThat(m.arch().get(orphan())).isNull();
        assertThat(m.device("0000:00:04.0").dmaOps()).isNull();
    }

    @Test
    void arm64In420HandsOutDummyOpsButSetsUpSwiotlbOps() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
        assertThat(symbol(m.arch().get(orphan()))).isEqualTo("dummy_dma_ops");
        assertThat(symbol(m.arch().get(null))).as("get_arch_dma_ops(NULL)").isEqualTo("dummy_dma_ops");
        assertThat(symbol(m.device("fa000000.sata").dmaOps())).isEqualTo("swiotlb_dma_ops");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.0-rc2", "5.0", "5.4", "6.12"})
    void arm64From50rc1IsNull(String version) {
        // The model follows the seed here: NULL from 5.0-rc1 (fact sheet: the arm64 header kept dummy_dma_ops
        // until 9ab91e7c5c51 in the 5.4 window).
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        assertThat(m.arch().get(orphan())).isNull();
        assertThat(m.device("fa000000.sata").dmaOps()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0-rc2", "5.0", "5.4"})
    void arm32WithoutLpaeUsesItsOwnOps(String version) {
        Machine m = TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, KernelVersion.parse(version), "");
        assertThat(symbol(m.arch().get(orphan()))).isEqualTo("arm_dma_ops");
        assertThat(symbol(m.device("10040000.dma").dmaOps())).isEqualTo("arm_dma_ops");
        assertThat(symbol(m.device("10080000.cdma").dmaOps())).isEqualTo("arm_coherent_dma_ops");
        assertThat(m.device("10080000.cdma").dmaCoherent()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.4", "6.12"})
    void arm32WithLpaeUsesDmaDirectFrom53(String version) {
        Machine m = TestMachines.bootYaml(
                "arm32-lpae-test", TestMachines.ARM32_LPAE_YAML, KernelVersion.parse(version), "");
        assertThat(m.arch().get(orphan())).isNull();
        assertThat(m.device("10040000.dma").dmaOps()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0"})
    void arm32WithLpaeUsesArmDmaOpsBefore53(String version) {
        // Before ad3c7b18c5b3 (5.3) an LPAE kernel is no different: arm_dma_ops for the non-coherent device.
        Machine m = TestMachines.bootYaml(
                "arm32-lpae-test", TestMachines.ARM32_LPAE_YAML, KernelVersion.parse(version), "");
        assertThat(((DmaMapOps) m.device("10040000.dma").dmaOps()).symbol()).isEqualTo("arm_dma_ops");
    }

    @Test
    void arm32From519UsesDmaDirect() {
        Machine m = TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, KernelVersion.V6_12, "");
        assertThat(m.arch().get(orphan())).isNull();
        assertThat(m.device("10040000.dma").dmaOps()).isNull();
        assertThat(m.device("10040000.dma").dmaCoherent()).isFalse();
    }

    @Test
    void armDmaOpsMapWithoutAnyAddressCheck() {
        // arm_dma_map_page returns pfn_to_dma + offset whatever the mask: a 24-bit device is handed an address
        // it cannot drive (and arm_dma_ops has no ->mapping_error failure to report it).
        Machine m = TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, KernelVersion.V5_0, "");
        Device dev = m.device("10040000.dma");
        dev.setDmaMask(0xffffffL);
        DmaMapOps ops = (DmaMapOps) dev.dmaOps();
        assertThat(ops.mapPage(dev, 0x62000000L, 0x10, 64, Direction.TO_DEVICE, 0))
                .isEqualTo(0x62000010L);
        // __dma_supported: the mask must reach the last RAM page (0x7ffff000).
        assertThat(ops.dmaSupported(dev, 0x7fffffffL)).isEqualTo(1);
        assertThat(ops.dmaSupported(dev, 0x7ffeffffL)).isZero();
    }

    @Test
    void x86RefusesNonCoherentDevices() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        assertThatThrownBy(() -> m.arch().setupDmaOps(orphan(), false, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("x86_64 has no non-coherent DMA")
                .hasMessageContaining("ffff0000.orphan");
        assertThatThrownBy(() -> m.arch().syncDmaForDevice(0x1000000, 64, Direction.TO_DEVICE))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> TestMachines.profile(
                        "bad",
                        String.join(
                                "\n",
                                "name: bad",
                                "arch: x86_64",
                                "memory:",
                                "  ram: [{start: 0x0, size: 1G}]",
                                "devices:",
                                "  - {name: \"0000:00:01.0\", dma_mask: 64, coherent: false}",
                                "")))
                .isInstanceOf(InputException.class)
                .hasMessageContaining("x86 devices are always cache coherent");
    }

    @Test
    void setupKeepsOpsAlreadyInstalled() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
        Device dev = orphan();
        DmaMapOps own = (DmaMapOps) m.device("fa000000.sata").dmaOps();
        dev.setDmaOps(m.direct());
        m.arch().setupDmaOps(dev, true, own);
        assertThat(dev.dmaOps()).as("an IOMMU driver's ops are not replaced").isSameAs(m.direct());
        assertThat(dev.dmaCoherent()).isTrue();
    }
}
