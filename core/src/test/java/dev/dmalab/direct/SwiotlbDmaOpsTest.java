package dev.dmalab.direct;

import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.ScatterList;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 4.20's generic {@code swiotlb_dma_ops} (arm64's native table, x86's global one under swiotlb). */
class SwiotlbDmaOpsTest {
    @Test
    void itExistsOnlyIn420() {
        assertThat(SwiotlbDmaOps.exists(
                        TestMachines.boot("x86-q35", KernelVersion.V4_20).kernel()))
                .isTrue();
        assertThat(SwiotlbDmaOps.exists(
                        TestMachines.boot("x86-q35", KernelVersion.V5_0_RC2).kernel()))
                .isFalse();
    }

    @Test
    void coherentAllocationsNeverDipIntoTheBouncePool() {
        // fafadcd16595 ("swiotlb: don't dip into swiotlb pool for coherent allocations", in the same 4.20 series
        // as 886643b76632 "arm64: use the generic swiotlb_dma_ops"): ->alloc is dma-direct's and nothing else,
        // so when ZONE_DMA32 is exhausted the allocation fails instead of eating bounce slots.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
        Device dev = m.device("fa000000.sata");
        PageAllocator pages = m.memory().pages();
        for (int order = pages.maxOrder(); order >= 0; order--) {
            while (pages.alloc(order, Zone.DMA32, false) >= 0) {
                // exhaust everything a 32-bit coherent mask can use
            }
        }

        long va = m.dma().allocCoherent(dev, 4096, new long[1], Gfp.GFP_KERNEL);

        assertThat(va).isZero();
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @Test
    void aFailedScatterlistUnmapsWhatItMappedAndZeroesTheFirstLength() {
        // swiotlb_map_sg_attrs: on a failed entry, unmap the first i with SKIP_CPU_SYNC, sg_dma_len(sgl) = 0,
        // return 0.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
        Device dev = m.device("fa000000.sata");
        // The pool sits top-down below ARCH_LOW_ADDRESS_LIMIT (0xffffffff), one page short of 4 GiB as on real
        // arm64 boots: [0xfbfff000, 0xfffff000). A bus limit just below it puts the pool out of reach; low RAM is not.
        long pool = m.swiotlb().defaultMem().defpool().start();
        assertThat(pool).isEqualTo(0xfbfff000L);
        dev.setBusDmaLimit(pool - 1);
        long low = m.allocKernelPages(0, Zone.DMA32);
        long high = m.allocKernelPages(0, Zone.NORMAL);
        ScatterList sg = new ScatterList(2).add(low, 0, 4096).add(high, 0, 4096);

        assertThat(m.dma().mapSgAttrs(dev, sg, 2, Direction.TO_DEVICE, 0)).isZero();

        assertThat(sg.dmaLength(0)).isZero();
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }

    @Test
    void mapBouncesOnlyWhatTheDeviceCannotReach() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
        Device dev = m.device("fa000000.sata");
        DmaMapOps ops = (DmaMapOps) dev.dmaOps();
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long low = m.allocKernelPages(0, Zone.DMA32);
        long high = m.allocKernelPages(0, Zone.NORMAL);
        cpuWritePhys(m, high, pattern(4096, 1));

        assertThat(ops.mapPage(dev, low, 0, 4096, Direction.TO_DEVICE, 0)).isEqualTo(low);
        long bounced = ops.mapPage(dev, high, 0, 4096, Direction.TO_DEVICE, 0);

        assertThat(m.swiotlb().findPool(dev, bounced)).isNotNull();
        assertThat(deviceRead(m, dev, bounced, 4096)).isEqualTo(pattern(4096, 1));
        assertThat(events).singleElement().isInstanceOfSatisfying(DmaEvent.SwiotlbBounced.class, b -> assertThat(
                        b.devAddr())
                .isEqualTo(high));
        // 4.20 swiotlb: the bounce is filled on map only for TO_DEVICE/BIDIRECTIONAL; 2 slots of 2 KiB in use.
        assertThat(m.swiotlb().bytesToBounce()).isEqualTo(4096);
        assertThat(m.swiotlb().defaultMem().used()).isEqualTo(2);
        ops.unmapPage(dev, bounced, 4096, Direction.TO_DEVICE, 0);
        assertThat(m.swiotlb().defaultMem().used()).isZero();
    }
}
