package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaMapOps;
import dev.dmalab.dma.Gfp;
import dev.dmalab.dma.SgTable;
import dev.dmalab.dma.Vma;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The four states of swiotlb-xen's page-coherent hooks (spec §7.8) on the machines that show them: (a) native ops
 * saved in {@code archdata} (arm64 4.20, arm32 until 5.3), (b) the seed regression (arm64 5.0-rc2: NULL native
 * ops, every hook oopses at its member's offset), (c) arm64's dma-direct header (5.0–5.3), (d) the 5.4 rework
 * (swiotlb-xen's own cache maintenance).
 */
class PageCoherentStatesTest {
    static final String SATA = "0000:03:00.0";

    static Machine juno(KernelVersion v) {
        return Machine.boot(dev.dmalab.platform.Platforms.builtIn("juno-r2-xen-dom0"), v);
    }

    static long faultOf(Runnable r) {
        try {
            r.run();
        } catch (KernelOops o) {
            return o.report().faultAddress();
        }
        throw new AssertionError("no Oops");
    }

    @Test
    void stateA_arm64_420_savesSwiotlbDmaOpsAndUsesThem() {
        Machine m = juno(KernelVersion.V4_20);
        Device dev = m.device(SATA);
        assertThat(dev.dmaOps().symbol()).isEqualTo("xen_swiotlb_dma_ops");
        assertThat(dev.archdataDevDmaOps().symbol()).isEqualTo("swiotlb_dma_ops");
        assertThat(m.xenOps().pageCoherent()).isInstanceOf(NativeOpsPageCoherent.class);
        long[] h = new long[1];
        long va = m.dma().allocAttrs(dev, 8192, h, Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        assertThat(h[0])
                .as("1:1: the bus address is the physical one")
                .isEqualTo(m.addressSpace().virtToPhys(va));
        assertThat(TestMachines.cpuRead(m, va, 8192)).containsOnly((byte) 0);
    }

    @Test
    void stateB_arm64_50rc2_everyHookReadsANullTable() {
        Machine m = juno(KernelVersion.V5_0_RC2);
        Device dev = m.device(SATA);
        assertThat(dev.archdataDevDmaOps())
                .as("the NULL of a dma-direct device, saved")
                .isNull();
        assertThat(m.arch().get(null)).as("get_arch_dma_ops(NULL)").isNull();
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long[] h = new long[1];
        // struct dma_map_ops of 5.0: alloc 0, free 1, mmap 2, get_sgtable 3, map_page 4, unmap_page 5, ...,
        // sync_single_for_cpu 10, sync_single_for_device 11 (8 bytes each)
        assertThat(faultOf(() -> m.dma().allocAttrs(dev, 4096, h, Gfp.GFP_KERNEL, 0)))
                .isEqualTo(0);
        assertThat(faultOf(() -> m.dma().mapPageAttrs(dev, page, 0, 64, Direction.TO_DEVICE, 0)))
                .isEqualTo(4 * 8);
        assertThat(faultOf(() -> m.dma().unmapPageAttrs(dev, page, 64, Direction.TO_DEVICE, 0)))
                .isEqualTo(5 * 8);
        assertThat(faultOf(() -> m.dma().syncSingleForCpu(dev, page, 64, Direction.FROM_DEVICE)))
                .isEqualTo(10 * 8);
        assertThat(faultOf(() -> m.dma().syncSingleForDevice(dev, page, 64, Direction.TO_DEVICE)))
                .isEqualTo(11 * 8);
        long va = m.addressSpace().physToVirt(page);
        assertThat(faultOf(() -> m.dma().mmapAttrs(dev, new Vma(0x1000_0000L, 0x1000_1000L, 0), va, page, 4096, 0)))
                .as("5.0-rc2 forwards mmap to the native ops on arm64 too")
                .isEqualTo(2 * 8);
        assertThat(faultOf(() -> m.dma()
                        .getSgtableAttrs(dev, new SgTable(new dev.dmalab.dma.ScatterList(1)), va, page, 4096, 0)))
                .isEqualTo(3 * 8);
    }

    @Test
    void stateC_arm64_50_callsDmaDirectAndSavesNothing() {
        Machine m = juno(KernelVersion.V5_0);
        Device dev = m.device(SATA);
        assertThat(dev.archdataDevDmaOps()).isNull();
        assertThat(m.xenOps().pageCoherent()).isInstanceOf(DirectPageCoherent.class);
        long[] h = new long[1];
        long va = m.dma().allocAttrs(dev, 8192, h, Gfp.GFP_KERNEL, 0);
        assertThat(va).isNotZero();
        assertThat(h[0]).isEqualTo(m.addressSpace().virtToPhys(va));
        long page = m.allocKernelPages(0, Zone.NORMAL);
        assertThat(m.dma().mapPageAttrs(dev, page, 16, 64, Direction.TO_DEVICE, 0))
                .isEqualTo(page + 16);
        m.dma().unmapPageAttrs(dev, page + 16, 64, Direction.TO_DEVICE, 0);
        assertThat(m.kernel().findings()).isEmpty();
    }

    @Test
    void stateD_54_localPagesGetArchMaintenanceAndForeignOnesAHypercall() {
        Machine m = XenTestMachines.arm64Nc("4K", KernelVersion.V5_4);
        m.xen().recordCacheFlushes();
        Device dev = m.device("fa000000.sata");
        assertThat(m.xenOps().pageCoherent()).isInstanceOf(DirectPageCoherent.class);
        // local: the CPU's dirty lines are cleaned by arch_sync_dma_for_device, no hypercall
        long page = m.allocKernelPages(0, Zone.NORMAL);
        byte[] data = TestMachines.pattern(256, 1);
        TestMachines.cpuWritePhys(m, page, data);
        long bus = m.dma().mapPageAttrs(dev, page, 0, 256, Direction.TO_DEVICE, 0);
        assertThat(bus).isEqualTo(page);
        assertThat(TestMachines.deviceRead(m, dev, bus, 256)).isEqualTo(data);
        assertThat(m.xen().cacheFlushLog()).isEmpty();
        // foreign: the guest's dirty lines (on its CPU) are cleaned by Xen, by bus address
        Domain guest = m.xen().domain(1);
        long gfn = guest.p2m().tableBase();
        long frame = guest.machineAddr(gfn << 12);
        byte[] guestData = TestMachines.pattern(256, 2);
        m.caches().cpuWrite(1, frame, guestData, 0, 256, MemAttr.NORMAL_WB);
        int ref = m.xen().grantAccess(guest, m.dom0(), gfn, true);
        long local = m.gnttab().mapForeign(guest, ref, true);
        long fbus = m.dma().mapPageAttrs(dev, local, 0, 256, Direction.TO_DEVICE, 0);
        assertThat(fbus).as("the device is given the guest's machine frame").isEqualTo(frame);
        assertThat(m.xen().cacheFlushLog()).containsExactly(new Xen.CacheFlush(frame, 0, 256, Xen.CACHE_CLEAN, 0));
        assertThat(TestMachines.deviceRead(m, dev, fbus, 256)).isEqualTo(guestData);
        m.dma().unmapPageAttrs(dev, fbus, 256, Direction.TO_DEVICE, 0);
        assertThat(m.xen().cacheFlushLog())
                .as("TO_DEVICE: nothing to invalidate on unmap")
                .hasSize(1);
        m.gnttab().unmapForeign(local);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0-rc2", "5.0"})
    void arm32KeepsItsArmDmaOpsUnderXenUntil53(String kernel) {
        Machine m = Machine.boot(dev.dmalab.platform.Platforms.builtIn("arm32-xen-dom0"), KernelVersion.parse(kernel));
        Device dev = m.device("0000:01:00.0");
        assertThat(dev.archdataDevDmaOps().symbol()).isEqualTo("arm_dma_ops");
        long[] h = new long[1];
        assertThat(m.dma().allocAttrs(dev, 4096, h, Gfp.GFP_KERNEL, 0)).isNotZero();
        String coherentYaml = TestMachines.ARM32_YAML.replace("name: arm32-test", "name: arm32-xen-test")
                + String.join("\n", "xen:", "  machine_ram:", "    - {start: 0x60000000, size: 512M}", "");
        Machine c = TestMachines.bootYaml("arm32-xen-test.yaml", coherentYaml, KernelVersion.parse(kernel), "");
        assertThat(c.device("10080000.cdma").archdataDevDmaOps().symbol()).isEqualTo("arm_coherent_dma_ops");
        assertThat(c.device("10040000.dma").archdataDevDmaOps().symbol()).isEqualTo("arm_dma_ops");
    }

    @Test
    void fromFiveFourNoArchdataIsSaved() {
        for (KernelVersion v : List.of(KernelVersion.V5_4, KernelVersion.V6_12)) {
            Machine m = Machine.boot(dev.dmalab.platform.Platforms.builtIn("arm32-xen-dom0"), v);
            assertThat(m.device("0000:01:00.0").archdataDevDmaOps()).isNull();
            assertThat(m.device("0000:01:00.0").dmaOps().symbol()).isEqualTo("xen_swiotlb_dma_ops");
        }
    }

    @Test
    void theSavedNativeTableServesUnmapAndDmaNoneStillBugs() {
        Machine m = juno(KernelVersion.V4_20);
        Device dev = m.device(SATA);
        DmaMapOps saved = (DmaMapOps) dev.archdataDevDmaOps();
        assertThat(saved.implementsOp(DmaMapOps.Op.UNMAP_PAGE)).isTrue();
        long page = m.allocKernelPages(0, Zone.NORMAL);
        long bus = m.dma().mapPageAttrs(dev, page, 0, 64, Direction.FROM_DEVICE, 0);
        m.dma().unmapPageAttrs(dev, bus, 64, Direction.FROM_DEVICE, 0);
        assertThatThrownBy(() -> m.dma().mapPageAttrs(dev, page, 0, 64, Direction.NONE, 0))
                .isInstanceOf(KernelOops.class);
    }
}
