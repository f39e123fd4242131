package dev.dmalab.dma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.OopsReport;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The core's dispatch per version ({@code include/linux/dma-mapping.h} 4.20, {@code kernel/dma/mapping.c} 5.0+):
 * 4.20 calls through {@code get_dma_ops(dev)} always; 5.0+ treats NULL ops as dma-direct; DMA_NONE is a BUG whose
 * site and call trace depend on where the entry points live in each version.
 */
class DmaApiDispatchTest {
    /**
     * A DMA API whose {@code get_arch_dma_ops()} returns NULL, on {@code m}'s kernel and memory: a device without
     * ops then has no table at all.
     */
    private static DmaApi apiWithoutArchOps(Machine m) {
        return new DmaApi(m.kernel(), m.cpu(), m.events(), m.direct(), dev -> null, pfn -> m.memory()
                .map()
                .pfnValid(pfn));
    }

    /** A driver function, so that the Oops call trace has a frame of the caller. */
    @KernelFunction("dmalab_test_xmit")
    private static long driverMap(DmaApi api, Device dev, long page, Direction dir) {
        return api.mapPageAttrs(dev, page, 0, 4096, dir, 0);
    }

    @KernelFunction("dmalab_test_rx_done")
    private static void driverSyncForCpu(DmaApi api, Device dev, long addr, Direction dir) {
        api.syncSingleForCpu(dev, addr, 4096, dir);
    }

    @KernelFunction("dmalab_test_probe")
    private static long driverAlloc(DmaApi api, Device dev) {
        return api.allocCoherent(dev, 4096, new long[1], Gfp.GFP_KERNEL);
    }

    // ---------------------------------------------------------------------------------------------------------
    // 4.20: always through the ops table

    @Test
    void in420ANullTableIsANullDereferenceAtTheMembersOffset() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        DmaApi api = apiWithoutArchOps(m);
        Device dev = m.device("0000:00:04.0");
        long page = m.allocKernelPages(0, Zone.DMA32);

        KernelOops oops = catchThrowableOfType(() -> driverMap(api, dev, page, Direction.TO_DEVICE), KernelOops.class);

        OopsReport r = oops.report();
        assertThat(r.kind()).isEqualTo(OopsReport.Kind.NULL_DEREF);
        // struct dma_map_ops (4.20): alloc, free, mmap, get_sgtable, map_page, ... 8-byte pointers: 4 * 8.
        assertThat(r.faultAddress()).isEqualTo(0x20);
        // dma_map_page_attrs is a static inline in 4.20: the fault is in the driver's function.
        assertThat(r.callTrace()).containsExactly("dmalab_test_xmit");
        assertThat(r.text())
                .contains("BUG: kernel NULL pointer dereference, address: 0000000000000020")
                .contains("RIP: 0010:dmalab_test_xmit")
                .contains("4.20.0-dmalab");
    }

    @Test
    void in420EveryCallbackIsReadThroughTheTable() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        DmaApi api = apiWithoutArchOps(m);
        Device dev = m.device("0000:00:04.0");
        ScatterList sg = new ScatterList(1).add(0x1000000, 0, 512);
        // Member index x 8: unmap_page 5, map_sg 6, unmap_sg 7, sync_single_for_cpu 10, sync_single_for_device 11,
        // mapping_error 15 (4.20 still has ->mapping_error).
        assertThat(faultOf(() -> api.unmapPageAttrs(dev, 0x1000000, 512, Direction.TO_DEVICE, 0)))
                .isEqualTo(0x28);
        assertThat(faultOf(() -> api.mapSgAttrs(dev, sg, 1, Direction.TO_DEVICE, 0)))
                .isEqualTo(0x30);
        assertThat(faultOf(() -> api.unmapSgAttrs(dev, sg, 1, Direction.TO_DEVICE, 0)))
                .isEqualTo(0x38);
        assertThat(faultOf(() -> api.syncSingleForCpu(dev, 0x1000000, 512, Direction.FROM_DEVICE)))
                .isEqualTo(0x50);
        assertThat(faultOf(() -> api.syncSingleForDevice(dev, 0x1000000, 512, Direction.TO_DEVICE)))
                .isEqualTo(0x58);
        assertThat(faultOf(() -> api.mappingError(dev, 0x1000000))).isEqualTo(0x78);
    }

    @Test
    void on32BitArmTheMemberOffsetCountsFourBytePointers() {
        Machine m = TestMachines.bootYaml("arm32-test", TestMachines.ARM32_YAML, KernelVersion.V4_20, "");
        DmaApi api = apiWithoutArchOps(m);
        Device dev = new Device("10100000.orphan", BusType.PLATFORM);
        long page = m.allocKernelPages(0, Zone.NORMAL);

        KernelOops oops = catchThrowableOfType(() -> driverMap(api, dev, page, Direction.TO_DEVICE), KernelOops.class);

        // map_page is member 4 of struct dma_map_ops; pointers are 4 bytes on arm: 0x10.
        assertThat(oops.report().faultAddress()).isEqualTo(0x10);
        assertThat(oops.report().text())
                .contains("Unable to handle kernel NULL pointer dereference at virtual address 00000010")
                .contains("PC is at dmalab_test_xmit");
    }

    @Test
    void in420AllocationWithoutOpsIsTheHeadersBugOn() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        DmaApi api = apiWithoutArchOps(m);
        Device dev = m.device("0000:00:04.0");

        KernelOops oops = catchThrowableOfType(() -> driverAlloc(api, dev), KernelOops.class);

        // 4.20's dma_alloc_attrs is a static inline in include/linux/dma-mapping.h that starts with BUG_ON(!ops).
        assertThat(oops.report().kind()).isEqualTo(OopsReport.Kind.BUG);
        assertThat(oops.report().bugSite()).isEqualTo("include/linux/dma-mapping.h");
        assertThat(oops.report().callTrace()).containsExactly("dmalab_test_probe");
        assertThatThrownBy(() -> api.freeCoherent(dev, 4096, 0xffff888001000000L, 0x1000000))
                .isInstanceOf(KernelOops.class)
                .hasMessageContaining("kernel BUG at include/linux/dma-mapping.h");
    }

    @Test
    void in420ADeviceWithoutOpsUsesTheArchTable() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V4_20);
        Device dev = m.device("0000:00:05.0");
        long page = m.allocKernelPages(0, Zone.DMA32);

        assertThat(dev.dmaOps()).isNull();
        assertThat(m.dma().getDmaOps(dev)).isSameAs(m.direct());
        assertThat(m.dma().mapPageAttrs(dev, page, 16, 100, Direction.TO_DEVICE, 0))
                .isEqualTo(page + 16);
    }

    // ---------------------------------------------------------------------------------------------------------
    // 5.0+: NULL ops = dma-direct

    @ParameterizedTest
    @ValueSource(strings = {"5.0-rc2", "5.0", "5.4", "6.12"})
    void from50NullOpsCallDmaDirect(String version) {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.parse(version));
        DmaApi api = apiWithoutArchOps(m);
        Device dev = m.device("0000:00:03.0");
        long page = m.allocKernelPages(0, Zone.NORMAL);

        assertThat(dev.dmaOps()).isNull();
        assertThat(m.dma().getDmaOps(dev)).isNull();
        // Coherent device, RAM all below 4 GiB and a 64-bit mask: dma-direct returns the physical address.
        assertThat(driverMap(api, dev, page, Direction.BIDIRECTIONAL)).isEqualTo(page);
        long[] handle = new long[1];
        long va = api.allocCoherent(dev, 4096, handle, Gfp.GFP_KERNEL);
        assertThat(va).isEqualTo(m.addressSpace().physToVirt(handle[0]));
        assertThat(api.mappingError(dev, -1L)).isEqualTo(-Errno.ENOMEM);
        assertThat(api.mappingError(dev, 0)).isZero();
    }

    // ---------------------------------------------------------------------------------------------------------
    // DMA_NONE

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0-rc2", "5.0", "5.4"})
    void dmaNoneBeforeFiveTenIsABugInTheHeader(String version) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.DMA32);

        KernelOops map = catchThrowableOfType(() -> driverMap(m.dma(), dev, page, Direction.NONE), KernelOops.class);
        KernelOops sync =
                catchThrowableOfType(() -> driverSyncForCpu(m.dma(), dev, page, Direction.NONE), KernelOops.class);

        for (KernelOops o : List.of(map, sync)) {
            assertThat(o.report().kind()).isEqualTo(OopsReport.Kind.BUG);
            assertThat(o.report().bugSite()).isEqualTo("include/linux/dma-mapping.h");
        }
        // The map and sync entry points are static inlines before 5.10: only the driver's frame shows.
        assertThat(map.report().callTrace()).containsExactly("dmalab_test_xmit");
        assertThat(sync.report().callTrace()).containsExactly("dmalab_test_rx_done");
        assertThat(map.report().text()).startsWith("kernel BUG at include/linux/dma-mapping.h!\n");
    }

    @Test
    void dmaNoneIn612IsABugInMappingC() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.DMA32);

        KernelOops map = catchThrowableOfType(() -> driverMap(m.dma(), dev, page, Direction.NONE), KernelOops.class);
        KernelOops sync =
                catchThrowableOfType(() -> driverSyncForCpu(m.dma(), dev, page, Direction.NONE), KernelOops.class);
        ScatterList sg = new ScatterList(1).add(page, 0, 64);
        KernelOops mapSg =
                catchThrowableOfType(() -> m.dma().mapSgAttrs(dev, sg, 1, Direction.NONE, 0), KernelOops.class);

        assertThat(map.report().bugSite()).isEqualTo("kernel/dma/mapping.c");
        // Out of line since 5.10: the entry point is the innermost frame, the driver below it.
        assertThat(map.report().callTrace()).containsExactly("dma_map_page_attrs", "dmalab_test_xmit");
        // dma_sync_single_for_cpu stays an inline wrapper around the out-of-line __dma_sync_single_for_cpu.
        assertThat(sync.report().callTrace()).containsExactly("__dma_sync_single_for_cpu", "dmalab_test_rx_done");
        assertThat(mapSg.report().callTrace()).startsWith("__dma_map_sg_attrs", "dma_map_sg_attrs");
        assertThat(map.report().text())
                .contains("pc : dma_map_page_attrs\nlr : dmalab_test_xmit\n")
                .contains("Call trace:\n dma_map_page_attrs\n dmalab_test_xmit\n");
    }

    @Test
    void in612ASkipSyncDeviceNeverReachesTheDirectionCheckOfASync() {
        // dma_sync_single_for_cpu() returns before __dma_sync_single_for_cpu() (which holds the BUG_ON) when
        // dma_dev_need_sync() is false: a coherent x86 device after dma_set_mask.
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:04.0");
        assertThat(dev.dmaSkipSync()).isTrue();

        m.dma().syncSingleForCpu(dev, 0x1000000, 64, Direction.NONE);

        assertThatThrownBy(() -> m.dma().mapPageAttrs(dev, 0x1000000, 0, 64, Direction.NONE, 0))
                .isInstanceOf(KernelOops.class);
    }

    @ParameterizedTest
    @EnumSource(
            value = Direction.class,
            names = {"BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE"})
    void validDirectionsNeverBug(Direction dir) {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        Device dev = m.device("0000:00:04.0");
        long page = m.allocKernelPages(0, Zone.DMA32);
        long dma = m.dma().mapPageAttrs(dev, page, 0, 4096, dir, 0);
        m.dma().syncSingleForCpu(dev, dma, 4096, dir);
        m.dma().unmapPageAttrs(dev, dma, 4096, dir, 0);
        assertThat(dma).isEqualTo(page);
    }

    private static long faultOf(Runnable call) {
        KernelOops o = catchThrowableOfType(call::run, KernelOops.class);
        assertThat(o).as("expected a NULL dereference").isNotNull();
        assertThat(o.report().kind()).isEqualTo(OopsReport.Kind.NULL_DEREF);
        return o.report().faultAddress();
    }
}
