package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.platform.Platforms;
import dev.dmalab.swiotlb.IoTlbPool;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code arch/arm/xen/mm.c}: the cache-flush requests for a buffer that starts inside one Xen frame and ends in the
 * next, in the ≤5.3 form (one request per frame, the frame number stepped) and the 5.4+ form (the address stepped
 * by each request's length, so the second request still names the first frame — the kernel's arithmetic, modelled
 * as it is); {@code xen_arch_need_swiotlb}; and {@code xen_mm_init}'s late pool on arm before 5.19.
 */
class XenMmTest {
    static final long FRAME = 0xfe000000L; // a foreign-looking bus frame (not dom0 RAM)

    static List<Xen.CacheFlush> flushesFor(String kernel, long handle, long size, Direction dir) {
        Machine m = XenTestMachines.arm64Nc("4K", KernelVersion.parse(kernel));
        m.xen().recordCacheFlushes();
        Device dev = m.device("fa000000.sata");
        XenMm mm = m.xenMm();
        if (KernelVersion.parse(kernel).has(Feature.XEN_CACHE_MAINT_SIMPLE)) {
            mm.syncForDevice(dev, handle, handle, size, dir);
        } else {
            mm.foreignMapPage50(dev, handle, size, dir, 0);
        }
        return m.xen().cacheFlushLog();
    }

    @Test
    void fiveZeroStepsTheFrameNumber() {
        assertThat(flushesFor("5.0", FRAME + 0x800, 0x1000, Direction.TO_DEVICE))
                .extracting(Xen.CacheFlush::devBusAddr, Xen.CacheFlush::offset, Xen.CacheFlush::length)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(FRAME, 0x800, 0x800),
                        org.assertj.core.groups.Tuple.tuple(FRAME + 0x1000, 0, 0x800));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.4", "6.12"})
    void fromFiveFourTheSecondRequestNamesTheFirstFrameAgain(String kernel) {
        List<Xen.CacheFlush> f = flushesFor(kernel, FRAME + 0x800, 0x1000, Direction.TO_DEVICE);
        assertThat(f)
                .extracting(Xen.CacheFlush::devBusAddr, Xen.CacheFlush::offset, Xen.CacheFlush::length)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(FRAME, 0x800, 0x800),
                        org.assertj.core.groups.Tuple.tuple(FRAME + 0x800, 0, 0x800));
        assertThat(f.get(1).devBusAddr() >>> 12)
                .as("Xen takes the frame from the address: the first frame, not the second")
                .isEqualTo(FRAME >>> 12);
        assertThat(f).allMatch(c -> c.op() == Xen.CACHE_CLEAN);
    }

    @Test
    void aFrameAlignedBufferIsMaintainedFrameByFrameInBothForms() {
        for (String k : List.of("5.0", "5.4", "6.12")) {
            assertThat(flushesFor(k, FRAME, 0x2000, Direction.FROM_DEVICE))
                    .extracting(Xen.CacheFlush::devBusAddr, Xen.CacheFlush::length, Xen.CacheFlush::op)
                    .as(k)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(FRAME, 0x1000, Xen.CACHE_INVAL),
                            org.assertj.core.groups.Tuple.tuple(FRAME + 0x1000, 0x1000, Xen.CACHE_INVAL));
        }
    }

    @Test
    void withoutTheHypercallAForeignPageOfANonCoherentDeviceBounces() {
        String yaml = XenTestMachines.arm64Nc("4K").replace("  domus:", "  cache_flush_hypercall: false\n  domus:");
        Machine m = dev.dmalab.testing.TestMachines.bootYaml("nc-noflush.yaml", yaml, KernelVersion.V5_4, "");
        assertThat(m.xenMm().hypercallCflush()).isFalse();
        var guest = m.xen().domain(1);
        long gfn = guest.p2m().tableBase();
        long local = m.gnttab().mapForeign(guest, m.xen().grantAccess(guest, m.dom0(), gfn, true), true);
        Device sata = m.device("fa000000.sata");
        long bus = m.dma().mapPageAttrs(sata, local, 0, 512, Direction.TO_DEVICE, 0);
        assertThat(m.swiotlb().findPool(sata, bus))
                .as("xen_arch_need_swiotlb: bounced")
                .isNotNull();
        // the coherent NIC needs no flush, so no bounce either
        Device nic = m.device("0000:00:01.0");
        assertThat(m.dma().mapPageAttrs(nic, local, 0, 512, Direction.TO_DEVICE, 0))
                .isEqualTo(guest.machineAddr(gfn << 12));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0", "5.4"})
    void beforeFiveNineteenArmAllocatesItsOwnPoolAndGetsFourMiB(String kernel) {
        Machine m = Machine.boot(Platforms.builtIn("juno-r2-xen-dom0"), KernelVersion.parse(kernel));
        IoTlbPool pool = m.swiotlb().defaultMem().defpool();
        assertThat(pool.nslabs()).as("order 10 of 4 KiB pages: 4 MiB").isEqualTo(2048);
        assertThat(m.kernel().printk().dmesg())
                .contains("xen:swiotlb_xen: Warning: only able to allocate 4 MB for software IO TLB")
                .contains("software IO TLB: mapped [mem " + String.format("%#010x", pool.start()));
        assertThat(m.xenMm().hypercallCflush()).isTrue();
    }

    @Test
    void fromFiveNineteenArmUsesTheGenericPool() {
        Machine m = Machine.boot(Platforms.builtIn("arm64-virt-xen-dom0"), KernelVersion.V6_12);
        IoTlbPool pool = m.swiotlb().defaultMem().defpool();
        // the capture's pool: 1 MiB per GiB of dom0 RAM at 0xfab00000, 2 areas
        assertThat(pool.start()).isEqualTo(0xfab00000L);
        assertThat(pool.nslabs()).isEqualTo(512);
        assertThat(pool.nareas()).isEqualTo(2);
        assertThat(m.kernel().printk().dmesg()).doesNotContain("swiotlb_xen");
    }

    /**
     * With a boot-time pool (here {@code swiotlb=force} makes arm64 set one up), 5.0's {@code xen_swiotlb_init}
     * allocates its own anyway and replaces it; 5.2–5.18 reuse it ("don't initialize swiotlb twice on arm64").
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.0", "5.4"})
    void aBootTimePoolIsReplacedIn50AndReusedFrom52(String kernel) {
        Machine m = Machine.boot(
                Platforms.builtIn("juno-r2-xen-dom0"),
                KernelVersion.parse(kernel),
                Machine.BootOptions.DEFAULT.withCmdline("swiotlb=force"));
        IoTlbPool pool = m.swiotlb().defaultMem().defpool();
        String dmesg = m.kernel().printk().dmesg();
        assertThat(dmesg).contains("software IO TLB: mapped [mem 0xbbfff000-0xbffff000] (64MB)");
        if (kernel.equals("5.0")) {
            assertThat(pool.nslabs()).isEqualTo(2048);
            assertThat(dmesg).contains("only able to allocate 4 MB");
        } else {
            assertThat(pool.start()).isEqualTo(0xbbfff000L);
            assertThat(pool.nslabs()).isEqualTo(32768);
            assertThat(dmesg).doesNotContain("swiotlb_xen");
        }
    }
}
