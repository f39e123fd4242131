package dev.dmalab.dma;

import static dev.dmalab.testing.TestMachines.cpuReadPhys;
import static dev.dmalab.testing.TestMachines.deviceWrite;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code dev->dma_skip_sync} (6.11+): {@code dma_set_mask} sets it on coherent dma-direct devices, so the inline
 * sync wrappers return before the out-of-line function that traces; swiotlb clears it on the device's first
 * bounce.
 */
class DmaApiSyncTest {
    private static List<DmaEvent.SyncSingle> syncs(List<DmaEvent> events) {
        List<DmaEvent.SyncSingle> out = new ArrayList<>();
        for (DmaEvent e : events) {
            if (e instanceof DmaEvent.SyncSingle s) {
                out.add(s);
            }
        }
        return out;
    }

    @Test
    void coherentDirectDevicesSkipSyncsAfterDmaSetMask() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:04.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long page = m.allocKernelPages(0, Zone.DMA32);

        // The platform's probe ran dma_set_mask_and_coherent(); dma_setup_need_sync() saw a coherent direct device.
        assertThat(dev.dmaSkipSync()).isTrue();
        assertThat(m.dma().devNeedSync(dev)).isFalse();
        long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.FROM_DEVICE, 0);
        m.dma().syncSingleForCpu(dev, dma, 4096, Direction.FROM_DEVICE);
        m.dma().syncSingleForDevice(dev, dma, 4096, Direction.FROM_DEVICE);

        assertThat(syncs(events)).hasSize(2).allSatisfy(s -> assertThat(s.traced())
                .isFalse());
        assertThat(m.dma().needSync(dev, dma)).isFalse();
    }

    @Test
    void nonCoherentDevicesNeverSkip() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long page = m.allocKernelPages(0, Zone.DMA32);

        assertThat(dev.dmaSkipSync()).isFalse();
        long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.FROM_DEVICE, 0);
        deviceWrite(m, dev, dma, pattern(4096, 1));
        m.dma().syncSingleForCpu(dev, dma, 4096, Direction.FROM_DEVICE);

        assertThat(syncs(events)).singleElement().satisfies(s -> {
            assertThat(s.traced()).isTrue();
            assertThat(s.forCpu()).isTrue();
            assertThat(s.dmaAddr()).isEqualTo(page);
        });
        assertThat(cpuReadPhys(m, page, 4096)).isEqualTo(pattern(4096, 1));
        assertThat(m.dma().needSync(dev, dma)).isTrue();
    }

    @Test
    void theFirstBounceClearsSkipSyncAndLaterSyncsCopy() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12, "swiotlb=force");
        Device dev = m.device("0000:00:04.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long page = m.allocKernelPages(0, Zone.DMA32);

        assertThat(dev.dmaSkipSync()).isTrue();
        m.dma().syncSingleForCpu(dev, page, 64, Direction.FROM_DEVICE); // elided, untraced
        long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, Direction.FROM_DEVICE, 0);
        assertThat(dma).as("bounced").isNotEqualTo(page);
        assertThat(dev.dmaSkipSync())
                .as("dma_reset_need_sync on the first bounce")
                .isFalse();

        deviceWrite(m, dev, dma, pattern(4096, 2));
        long before = m.swiotlb().bytesFromBounce();
        m.dma().syncSingleForCpu(dev, dma, 4096, Direction.FROM_DEVICE);

        assertThat(m.swiotlb().bytesFromBounce() - before).isEqualTo(4096);
        assertThat(cpuReadPhys(m, page, 4096)).isEqualTo(pattern(4096, 2));
        assertThat(syncs(events)).extracting(DmaEvent.SyncSingle::traced).containsExactly(false, true);
        assertThat(m.dma().needSync(dev, dma)).isTrue();
        m.dma().unmapPageAttrs(dev, dma, 4096, Direction.FROM_DEVICE, 0);
    }

    @Test
    void dmaApiDebugKeepsEverySync() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:04.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        m.dma().setDmaApiDebug(true);

        m.dma().syncSingleForDevice(dev, 0x1000000, 64, Direction.TO_DEVICE);

        assertThat(syncs(events)).singleElement().satisfies(s -> assertThat(s.traced())
                .isTrue());
    }

    @Test
    void dmaSetCoherentMaskLeavesSkipSyncAlone() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:04.0");
        dev.setDmaSkipSync(false);
        assertThat(m.dma().setCoherentMask(dev, dev.coherentDmaMask())).isZero();
        assertThat(dev.dmaSkipSync()).isFalse();
        assertThat(m.dma().setMask(dev, dev.dmaMask())).isZero();
        assertThat(dev.dmaSkipSync()).isTrue();
    }

    @Test
    void before611ThereIsNoSkipSync() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V5_4);
        Device dev = m.device("0000:00:04.0");
        assertThat(dev.dmaSkipSync()).isFalse();
        assertThat(m.dma().devNeedSync(dev)).isTrue();
    }
}
