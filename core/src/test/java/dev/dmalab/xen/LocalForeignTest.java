package dev.dmalab.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How swiotlb-xen tells dom0's own pages from foreign ones, with 4 KiB and 64 KiB Linux pages: the ≤5.3 map hook
 * tests whether the bus frame lies within the page's own Xen frames (its compound page counted), the unmap and sync
 * hooks — and from 5.4 all of them — whether {@code pfn_valid} holds for the bus frame. A foreign page's cache
 * maintenance is Xen's ({@code GNTTABOP_cache_flush}); a local one's is the kernel's.
 */
class LocalForeignTest {
    static Machine machine(String pageSize, String kernel) {
        Machine m = XenTestMachines.arm64Nc(pageSize, KernelVersion.parse(kernel));
        m.xen().recordCacheFlushes();
        return m;
    }

    @ParameterizedTest(name = "{0} pages, {1}")
    @CsvSource({"4K,4.20", "4K,5.0", "4K,5.4", "4K,6.12", "64K,5.0", "64K,5.4"})
    void aGrantedGuestPageIsForeignAndFlushedByXen(String pageSize, String kernel) {
        Machine m = machine(pageSize, kernel);
        Device dev = m.device("fa000000.sata");
        Domain guest = m.xen().domain(1);
        long gfn = guest.p2m().tableBase() + 3;
        long frame = guest.machineAddr(gfn << 12);
        byte[] poison = TestMachines.filled(512, 0x11);
        m.caches().cpuWrite(1, frame, poison, 0, 512, MemAttr.NORMAL_WB); // dirty on the guest's CPU
        long local = m.gnttab().mapForeign(guest, m.xen().grantAccess(guest, m.dom0(), gfn, false), false);
        assertThat(m.xenMm().p2m().isForeign(local >>> 12)).isTrue();

        long bus = m.dma().mapPageAttrs(dev, local, 0, 512, Direction.FROM_DEVICE, 0);
        assertThat(bus).isEqualTo(frame);
        assertThat(m.xen().cacheFlushLog())
                .as("the guest's dirty lines are invalidated before the device writes")
                .containsExactly(new Xen.CacheFlush(frame, 0, 512, Xen.CACHE_INVAL, 0));
        byte[] data = TestMachines.pattern(512, 7);
        TestMachines.deviceWrite(m, dev, bus, data);
        m.dma().unmapPageAttrs(dev, bus, 512, Direction.FROM_DEVICE, 0);
        assertThat(m.xen().cacheFlushLog()).hasSize(2);
        byte[] seen = new byte[512];
        m.caches().cpuRead(1, frame, seen, 0, 512, MemAttr.NORMAL_WB);
        assertThat(seen).as("the guest reads what the device wrote").isEqualTo(data);
        // dom0's CPU reaches the same bytes through its own mapping of the grant (stage 2)
        assertThat(TestMachines.cpuReadPhys(m, local, 512)).isEqualTo(data);
    }

    /**
     * 64 KiB pages: a grant is mapped at the first 4 KiB frame of a dom0 page, so a page-aligned buffer on a foreign
     * frame is 64 KiB-aligned in dom0 but not in machine memory. 6.12.y maps it in place and maintains it by
     * hypercall (6.12.0–6.12.15 bounced it: 9f40ec84a797's alignment test, moved to the coherent allocator in
     * 6.12.16).
     */
    @org.junit.jupiter.api.Test
    void sixTwelveMapsAForeignFrameUnderA64KPageInPlace() {
        Machine m = machine("64K", "6.12");
        m.xen().recordCacheFlushes();
        Device dev = m.device("fa000000.sata");
        Domain guest = m.xen().domain(1);
        long gfn = guest.p2m().tableBase() + 3;
        long frame = guest.machineAddr(gfn << 12);
        assertThat(frame & 0xffff).as("not 64 KiB-aligned in machine memory").isNotZero();
        long local = m.gnttab().mapForeign(guest, m.xen().grantAccess(guest, m.dom0(), gfn, false), false);
        assertThat(m.xenMm().address().rangeRequiresAlignment(local, 512)).isTrue();
        long bus = m.dma().mapPageAttrs(dev, local, 0, 512, Direction.FROM_DEVICE, 0);
        assertThat(bus).as("the guest's frame itself").isEqualTo(frame);
        assertThat(m.swiotlb().bouncedMaps()).isZero();
        byte[] data = TestMachines.pattern(512, 9);
        TestMachines.deviceWrite(m, dev, bus, data);
        m.dma().unmapPageAttrs(dev, bus, 512, Direction.FROM_DEVICE, 0);
        byte[] seen = new byte[512];
        m.caches().cpuRead(1, frame, seen, 0, 512, MemAttr.NORMAL_WB);
        assertThat(seen).as("written by the device into the guest's frame").isEqualTo(data);
        assertThat(m.xen().cacheFlushLog())
                .as("maintained by GNTTABOP_cache_flush, not by dom0's own cache operations")
                .isNotEmpty()
                .allSatisfy(f -> assertThat(f.devBusAddr() & ~0xfffL).isEqualTo(frame));
    }

    @ParameterizedTest(name = "{0} pages, {1}")
    @CsvSource({"4K,4.20", "4K,5.0", "4K,5.4", "4K,6.12", "64K,5.0", "64K,6.12"})
    void dom0sOwnPageIsLocalAndNeedsNoHypercall(String pageSize, String kernel) {
        Machine m = machine(pageSize, kernel);
        Device dev = m.device("fa000000.sata");
        long page = m.allocKernelPages(0, Zone.NORMAL);
        byte[] data = TestMachines.pattern(300, 3);
        TestMachines.cpuWritePhys(m, page + 0x9000 % m.memory().pageSize().bytes(), data);
        long off = 0x9000 % m.memory().pageSize().bytes();
        long bus = m.dma().mapPageAttrs(dev, page, off, 300, Direction.TO_DEVICE, 0);
        assertThat(bus).isEqualTo(page + off);
        assertThat(TestMachines.deviceRead(m, dev, bus, 300)).isEqualTo(data);
        m.dma().unmapPageAttrs(dev, bus, 300, Direction.TO_DEVICE, 0);
        assertThat(m.xen().cacheFlushLog()).isEmpty();
    }

    /**
     * ≤ 5.3: the map hook's local test counts the compound page: an offset into the second page of a compound
     * allocation is local; the same offset into a non-compound two-page allocation is taken for a foreign page and
     * maintained by hypercall (Xen accepts it: dom0 owns the frame).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"4.20", "5.0"})
    void theCompoundPageDecidesTheMapHooksLocalTest(String kernel) {
        Machine m = machine("4K", kernel);
        Device dev = m.device("fa000000.sata");
        long compound = m.allocKernelPages(1, Zone.NORMAL); // __GFP_COMP
        m.dma().mapPageAttrs(dev, compound, 4096 + 16, 64, Direction.TO_DEVICE, 0);
        assertThat(m.xen().cacheFlushLog()).isEmpty();

        long plain = m.memory().pages().alloc(1, Zone.NORMAL, false) << 12;
        long bus = m.dma().mapPageAttrs(dev, plain, 4096 + 16, 64, Direction.TO_DEVICE, 0);
        assertThat(bus).isEqualTo(plain + 4096 + 16);
        assertThat(m.xen().cacheFlushLog())
                .containsExactly(new Xen.CacheFlush(plain + 4096, 16, 64, Xen.CACHE_CLEAN, 0));
    }

    /** From 5.4 the same buffer is local: pfn_valid everywhere. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.4", "6.12"})
    void fromFiveFourPfnValidDecidesEverywhere(String kernel) {
        Machine m = machine("4K", kernel);
        Device dev = m.device("fa000000.sata");
        long plain = m.memory().pages().alloc(1, Zone.NORMAL, false) << 12;
        m.dma().mapPageAttrs(dev, plain, 4096 + 16, 64, Direction.TO_DEVICE, 0);
        assertThat(m.xen().cacheFlushLog()).isEmpty();
    }

    /** A coherent device never needs the hypercall, foreign page or not. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"5.0", "6.12"})
    void aCoherentDeviceNeedsNoCacheMaintenance(String kernel) {
        Machine m = machine("4K", kernel);
        Device nic = m.device("0000:00:01.0");
        Domain guest = m.xen().domain(1);
        long gfn = guest.p2m().tableBase();
        long local = m.gnttab().mapForeign(guest, m.xen().grantAccess(guest, m.dom0(), gfn, true), true);
        long bus = m.dma().mapPageAttrs(nic, local, 0, 4096, Direction.TO_DEVICE, 0);
        assertThat(bus).isEqualTo(guest.machineAddr(gfn << 12));
        m.dma().unmapPageAttrs(nic, bus, 4096, Direction.TO_DEVICE, 0);
        assertThat(m.xen().cacheFlushLog()).isEmpty();
    }
}
