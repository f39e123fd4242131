package dev.dmalab.dma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The three-way dispatch of 5.10+/6.12 ({@code dma_go_direct}: ops bypass, dma-iommu direct calls, ops), NULL
 * callbacks per version, and the smaller entry points: {@code dma_map_single} of vmalloc memory, {@code
 * dma_alloc_pages}, {@code dma_mmap_attrs}.
 */
class DmaApiRoutingTest {
    @Test
    void opsBypassGoesDirectOnlyWhenTheMaskCoversAllRam() {
        // arm64-noncoherent requires 36 bits (RAM to 0x8ffffffff).
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device nvme = m.device("0000:01:00.0"); // 64-bit mask
        Device sata = m.device("fa000000.sata"); // 32-bit mask
        RecordingOps ops = RecordingOps.full();
        for (Device d : List.of(nvme, sata)) {
            d.setDmaOps(ops);
            d.setDmaOpsBypass(true);
        }
        long page = m.allocKernelPages(0, Zone.DMA32);

        assertThat(m.dma().mapPageAttrs(nvme, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(page);
        assertThat(ops.calls).isEmpty();
        assertThat(m.dma().mapPageAttrs(sata, page, 0, 4096, Direction.TO_DEVICE, 0))
                .isEqualTo(RecordingOps.MAPPED);
        assertThat(ops.calls).containsExactly("MAP_PAGE");

        // Without dma_ops_bypass an ops device always calls its ops.
        nvme.setDmaOpsBypass(false);
        m.dma().mapPageAttrs(nvme, page, 0, 4096, Direction.TO_DEVICE, 0);
        assertThat(ops.calls).containsExactly("MAP_PAGE", "MAP_PAGE");
    }

    @Test
    void dmaSupportedAlwaysAsksTheOpsEvenWhenTheyAreBypassed() {
        // mapping.c (5.10+): "->dma_supported sets and clears the bypass flag, so ignore it here and always call
        // into the method if there is one" - dma_go_direct() is not consulted.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device nvme = m.device("0000:01:00.0");
        RecordingOps ops = RecordingOps.full();
        ops.supported = 0;
        nvme.setDmaOps(ops);
        nvme.setDmaOpsBypass(true);

        assertThat(m.dma().dmaSupported(nvme, -1L)).isFalse();
        assertThat(ops.calls).containsExactly("DMA_SUPPORTED");
        assertThat(m.dma().setMask(nvme, -1L)).isEqualTo(-Errno.EIO);
    }

    @Test
    void aDmaIommuDeviceWithOpsIsRefused() {
        // use_dma_iommu() with dev->dma_ops set: WARN_ON(ops), return false.
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        m.dma().setIommuBackend(RecordingOps.full());
        dev.setDmaIommu(true);
        assertThat(m.dma().dmaSupported(dev, -1L)).isTrue();
        dev.setDmaOps(RecordingOps.full());
        assertThat(m.dma().dmaSupported(dev, -1L)).isFalse();
    }

    @Test
    void in54OpsBypassDoesNotExist() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V5_4);
        Device nvme = m.device("0000:01:00.0");
        RecordingOps ops = RecordingOps.full();
        nvme.setDmaOps(ops);
        nvme.setDmaOpsBypass(true);
        m.dma().mapPageAttrs(nvme, 0x90000000L, 0, 64, Direction.TO_DEVICE, 0);
        assertThat(ops.calls).containsExactly("MAP_PAGE");
    }

    @Test
    void in612ADmaIommuDeviceCallsDmaIommuFirst() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        RecordingOps iommu = RecordingOps.full();
        RecordingOps ops = RecordingOps.full();
        m.dma().setIommuBackend(iommu);
        dev.setDmaIommu(true);
        dev.setDmaCoherent(false); // so that dma_set_mask leaves dma_skip_sync clear
        assertThat(m.dma().setMask(dev, -1L)).isZero();
        assertThat(dev.dmaSkipSync()).isFalse();
        dev.setDmaOps(ops); // a table is ignored: dma-iommu comes first

        m.dma().mapPageAttrs(dev, 0x50000000L, 0, 64, Direction.TO_DEVICE, 0);
        m.dma().syncSingleForCpu(dev, RecordingOps.MAPPED, 64, Direction.TO_DEVICE);
        m.dma().unmapPageAttrs(dev, RecordingOps.MAPPED, 64, Direction.TO_DEVICE, 0);

        assertThat(iommu.calls).containsExactly("MAP_PAGE", "SYNC_SINGLE_FOR_CPU", "UNMAP_PAGE");
        assertThat(ops.calls).isEmpty();
        // use_dma_iommu: 32 bits required (b348b6d17fd1), never addressing-limited.
        assertThat(m.dma().getRequiredMask(dev)).isEqualTo(0xffffffffL);
        assertThat(m.dma().addressingLimited(dev)).isFalse();
        assertThat(m.dma().maxMappingSize(dev)).isEqualTo(65536);
    }

    @Test
    void aDmaIommuDeviceWithoutABackendIsMisuseOfDmalab() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        dev.setDmaIommu(true);
        assertThatThrownBy(() -> m.dma().mapPageAttrs(dev, 0x50000000L, 0, 64, Direction.TO_DEVICE, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no IOMMU backend");
    }

    @Test
    void in612ANullUnmapPageIsCalledAnyway() {
        Machine m612 = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Machine m54 = TestMachines.boot("arm64-virt", KernelVersion.V5_4);
        for (Machine m : List.of(m612, m54)) {
            Device dev = m.device("0000:00:03.0");
            dev.setDmaOps(
                    new RecordingOps(EnumSet.complementOf(EnumSet.of(DmaMapOps.Op.UNMAP_PAGE, DmaMapOps.Op.UNMAP_SG))));
            ScatterList sg = new ScatterList(1).add(0x50000000L, 0, 64);
            m.dma().unmapSgAttrs(dev, sg, 1, Direction.TO_DEVICE, 0); // ->unmap_sg is still checked in 6.12
            if (m == m54) {
                m.dma().unmapPageAttrs(dev, RecordingOps.MAPPED, 64, Direction.TO_DEVICE, 0);
            }
        }
        // f69e342eec00 (6.12) dropped the NULL check on ->unmap_page.
        Device dev = m612.device("0000:00:03.0");
        KernelOops o = catchThrowableOfType(
                () -> m612.dma().unmapPageAttrs(dev, RecordingOps.MAPPED, 64, Direction.TO_DEVICE, 0),
                KernelOops.class);
        assertThat(o.report().kind()).isEqualTo(OopsReport.Kind.NULL_DEREF);
        assertThat(o.report().callTrace()).startsWith("dma_unmap_page_attrs");
    }

    @Test
    void the50rc1DmaSupportedIsInverted() {
        // 356da6d0cde3: "if (ops->dma_supported) return 1; return ops->dma_supported(...)".
        Machine rc2 = TestMachines.boot("arm64-virt", KernelVersion.V5_0_RC2);
        Machine v50 = TestMachines.boot("arm64-virt", KernelVersion.V5_0);
        for (Machine m : List.of(rc2, v50)) {
            Device dev = m.device("0000:00:03.0");
            RecordingOps refusing = RecordingOps.full();
            refusing.supported = 0;
            dev.setDmaOps(refusing);
            assertThat(m.dma().dmaSupported(dev, 0xffffffffL))
                    .as("%s, hook says no", m.version())
                    .isEqualTo(m == rc2);
            dev.setDmaOps(new RecordingOps(EnumSet.complementOf(EnumSet.of(DmaMapOps.Op.DMA_SUPPORTED))));
            if (m == v50) {
                assertThat(m.dma().dmaSupported(dev, 0xffffffffL))
                        .as("no hook: supported")
                        .isTrue();
            }
        }
        Device dev = rc2.device("0000:00:03.0");
        KernelOops o = catchThrowableOfType(() -> rc2.dma().setMask(dev, 0xffffffffL), KernelOops.class);
        assertThat(o.report().kind()).isEqualTo(OopsReport.Kind.NULL_DEREF);
        assertThat(o.report().callTrace()).startsWith("dma_supported", "dma_set_mask");
    }

    @Test
    void opsWithoutSyncHooksNeverNeedSyncsIn612() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        dev.setDmaOps(new RecordingOps(EnumSet.complementOf(EnumSet.of(
                DmaMapOps.Op.SYNC_SINGLE_FOR_CPU,
                DmaMapOps.Op.SYNC_SINGLE_FOR_DEVICE,
                DmaMapOps.Op.SYNC_SG_FOR_CPU,
                DmaMapOps.Op.SYNC_SG_FOR_DEVICE))));
        dev.setDmaSkipSync(false);
        assertThat(m.dma().setMask(dev, -1L)).isZero();
        assertThat(dev.dmaSkipSync())
                .as("dma_setup_need_sync: ops with no sync hooks")
                .isTrue();
        dev.setDmaOps(RecordingOps.full());
        assertThat(m.dma().setMask(dev, -1L)).isZero();
        assertThat(dev.dmaSkipSync()).isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    void dmaMapSingleRefusesVmallocFrom518() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long vmalloc = m.addressSpace().vmapContiguous(page, 4096, MemAttr.NORMAL_WB);

        assertThat(m.dma().mapSingleAttrs(dev, vmalloc + 16, 64, Direction.TO_DEVICE, 0))
                .isEqualTo(-1L);
        assertThat(events)
                .as("nothing reaches dma_map_page_attrs; dma-debug's hook saw the call")
                .singleElement()
                .isInstanceOf(DmaEvent.MapSingle.class);
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains("nvme 0000:00:03.0: rejecting DMA map of vmalloc memory");
        long linear = m.addressSpace().physToVirt(page);
        assertThat(m.dma().mapSingleAttrs(dev, linear + 16, 64, Direction.TO_DEVICE, 0))
                .isEqualTo(page + 16);
    }

    @Test
    void before518AVmallocAddressGivesABogusPage() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V5_4);
        Device dev = m.device("0000:00:03.0");
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long vmalloc = m.addressSpace().vmapContiguous(page, 4096, MemAttr.NORMAL_WB);
        // virt_to_page() is plain arithmetic on the linear map: va - PAGE_OFFSET + PHYS_OFFSET.
        long bogus = vmalloc - m.addressSpace().physToVirt(0);
        long dma = m.dma().mapSingleAttrs(dev, vmalloc, 64, Direction.TO_DEVICE, 0);
        assertThat(dma).isNotEqualTo(page).isEqualTo(bogus);
    }

    @Test
    void dmaAllocPagesIn612() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long[] h = new long[1];

        long page = m.dma().allocPages(dev, 5000, h, Direction.FROM_DEVICE, Gfp.GFP_KERNEL);

        assertThat(page).isNotNegative();
        assertThat(h[0]).isEqualTo(page);
        assertThat(TestMachines.dram(m, page, 8192)).isEqualTo(new byte[8192]);
        assertThat(events).singleElement().isInstanceOfSatisfying(DmaEvent.Alloc.class, a -> {
            assertThat(a.kind()).isEqualTo(DmaEvent.AllocKind.PAGES);
            assertThat(a.size()).as("page aligned").isEqualTo(8192);
            assertThat(a.dir()).isEqualTo(Direction.FROM_DEVICE);
        });
        m.dma().freePages(dev, 5000, page, h[0], Direction.FROM_DEVICE);
        assertThat(m.memory().pages().isAllocated(m.memory().pageSize().pfnDown(page)))
                .isFalse();

        assertThat(m.dma().allocPages(dev, 4096, h, Direction.TO_DEVICE, Gfp.GFP_KERNEL | Gfp.DMA32))
                .isEqualTo(-1);
        assertThat(m.dma().allocPages(dev, 8192, h, Direction.TO_DEVICE, Gfp.GFP_KERNEL | Gfp.COMP))
                .isEqualTo(-1);
        assertThatThrownBy(() -> TestMachines.boot("x86-q35", KernelVersion.V5_4)
                        .dma()
                        .allocPages(dev, 4096, h, Direction.TO_DEVICE, Gfp.GFP_KERNEL))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void dmaMmapOfADirectBuffer() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long[] h = new long[1];
        long va = m.dma().allocCoherent(dev, 3 * 4096, h, Gfp.GFP_KERNEL);

        Vma vma = new Vma(0x7f0000000000L, 0x7f0000002000L, 1); // two pages from page 1
        assertThat(m.dma().mmapAttrs(dev, vma, va, h[0], 3 * 4096, 0)).isZero();
        assertThat(vma.mappedPfn()).isEqualTo((h[0] >>> 12) + 1);
        assertThat(vma.mappedPages()).isEqualTo(2);
        assertThat(vma.prot()).as("non-coherent: pgprot_dmacoherent").isEqualTo(Vma.Prot.NONCACHED);

        Vma wc = new Vma(0x7f0000000000L, 0x7f0000001000L, 0);
        assertThat(m.dma().mmapAttrs(dev, wc, va, h[0], 3 * 4096, DmaAttrs.WRITE_COMBINE))
                .isZero();
        assertThat(wc.prot()).isEqualTo(Vma.Prot.WRITECOMBINE);

        Vma tooBig = new Vma(0x7f0000000000L, 0x7f0000003000L, 1); // 3 pages from page 1 of 3
        assertThat(m.dma().mmapAttrs(dev, tooBig, va, h[0], 3 * 4096, 0)).isEqualTo(-Errno.ENXIO);

        SgTable sgt = new SgTable(new ScatterList(1));
        assertThat(m.dma().getSgtableAttrs(dev, sgt, va, h[0], 3 * 4096, 0)).isZero();
        assertThat(sgt.sgl().phys(0)).isEqualTo(h[0]);
        assertThat(sgt.sgl().length(0)).isEqualTo(3 * 4096);
    }
}
