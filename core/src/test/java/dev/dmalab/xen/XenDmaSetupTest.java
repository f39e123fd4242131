package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import org.junit.jupiter.api.Test;

/**
 * The Xen part of {@code arch_setup_dma_ops}, and the check Stefano Stabellini proposed in the seed thread: a device
 * that the Xen wrappers treat as dma-direct must not have {@code dma_ops} of its own.
 */
class XenDmaSetupTest {
    /** A device whose ops were set before Xen's (as an IOMMU would set its own). */
    static Device withOwnOps(Machine m) {
        Device d = new Device("0000:00:1f.0", BusType.PCI);
        d.setDmaOps(m.direct()); // any table that is not the arch default stands for an IOMMU's
        return d;
    }

    @Test
    void fromTheFixADeviceWithItsOwnOpsIsAFinding() {
        Machine m = Machine.boot(Platforms.builtIn("juno-r2-xen-dom0"), KernelVersion.V5_0);
        XenDmaSetup setup = new XenDmaSetup(m.kernel(), m.xenOps(), true, false);
        Device d = withOwnOps(m);
        setup.setup(d, null);
        assertThat(d.dmaOps()).isSameAs(m.xenOps());
        assertThat(m.kernel().findings()).singleElement().satisfies(f -> {
            assertThat(f.check()).isEqualTo(XenDmaSetup.CHECK);
            assertThat(f.device()).isEqualTo("0000:00:1f.0");
            assertThat(f.message()).contains("xen_swiotlb_dma_ops replaces them");
        });
    }

    @Test
    void beforeTheFixTheOpsAreSavedAndUsedSoNothingIsReported() {
        Machine m = Machine.boot(Platforms.builtIn("juno-r2-xen-dom0"), KernelVersion.V4_20);
        XenDmaSetup setup = new XenDmaSetup(m.kernel(), m.xenOps(), true, false);
        Device d = withOwnOps(m);
        setup.setup(d, null);
        assertThat(d.archdataDevDmaOps()).isSameAs(m.direct());
        assertThat(m.kernel().findings()).isEmpty();
    }

    @Test
    void theArchsOwnDefaultTableIsNotAFinding() {
        Machine m = Machine.boot(Platforms.builtIn("arm32-xen-dom0"), KernelVersion.V5_4);
        assertThat(m.kernel().findings())
                .as("arm_dma_ops was set, then replaced: expected")
                .isEmpty();
        assertThat(m.device("0000:01:00.0").dmaOps().symbol()).isEqualTo("xen_swiotlb_dma_ops");
    }

    @Test
    void fiveThirteenInstallsTheOpsOnlyWhereSwiotlbXenIsDetected() {
        Machine m = Machine.boot(Platforms.builtIn("arm64-virt-xen-dom0"), KernelVersion.V6_12);
        XenDmaSetup domU = new XenDmaSetup(m.kernel(), m.xenOps(), false, false);
        assertThat(domU.swiotlbDetect()).isFalse();
        Device d = new Device("0000:00:09.0", BusType.PCI);
        domU.setup(d, null);
        assertThat(d.dmaOps())
                .as("a guest that is not direct-mapped keeps dma-direct")
                .isNull();
        XenDmaSetup direct = new XenDmaSetup(m.kernel(), m.xenOps(), false, true);
        assertThat(direct.swiotlbDetect()).isTrue();
    }
}
