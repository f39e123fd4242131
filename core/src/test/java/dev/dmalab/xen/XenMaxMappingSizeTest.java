package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.util.Bits;
import org.junit.jupiter.api.Test;

/**
 * 6.7+ {@code xen_swiotlb_dma_ops.max_mapping_size = swiotlb_max_mapping_size}: in dom0 every device is capped at one
 * swiotlb segment (128 slots of 2 KiB) even when nothing bounces, less NVMe's {@code min_align_mask} rounded up to a
 * slot — the capture README's {@code max_segment_size=262144} for virtio-blk and {@code max_hw_sectors_kb=252} for
 * NVMe; natively (no bounce forced) there is no cap.
 */
class XenMaxMappingSizeTest {
    private static Machine boot(String platform) {
        return Machine.boot(Platforms.builtIn(platform), KernelVersion.parse("6.12"));
    }

    @Test
    void domZeroCapsEveryDeviceAtOneSwiotlbSegment() {
        Machine dom0 = boot("arm64-virt-xen-dom0");
        assertThat(dom0.dma().maxMappingSize(dom0.device("0000:00:02.0"))).isEqualTo(262144);
        assertThat(dom0.dma().maxMappingSize(dom0.device("0000:00:03.0"))).isEqualTo(252 * 1024);
    }

    @Test
    void theNativeMachineHasNoCap() {
        Machine virt = boot("arm64-virt");
        virt.devices()
                .forEach(d ->
                        assertThat(virt.dma().maxMappingSize(d)).as(d.name()).isEqualTo(Bits.U64_MAX));
    }

    @Test
    void beforeSixSevenSwiotlbXenHadNoMaxMappingSize() {
        Machine dom0 = Machine.boot(Platforms.builtIn("arm64-virt-xen-dom0"), KernelVersion.parse("5.4"));
        assertThat(dom0.dma().maxMappingSize(dom0.device("0000:00:02.0"))).isEqualTo(Bits.U64_MAX);
    }
}
