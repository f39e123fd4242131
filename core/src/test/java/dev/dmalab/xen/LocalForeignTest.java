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
     * 6.12's alignment check (9f40ec84a797) in {@code range_straddles_page_boundary}: a buffer aligned to its
     * allocation order must sit on a machine frame with that alignment. With 64 KiB pages a grant is mapped at the
     * first 4 KiB frame of a page, so a page-aligned buffer on a foreign frame "straddles" and is bounced — the
     * device never sees the guest's frame, and no hypercall is needed.
     */
    @org.junit.jupiter.api.Test
    void sixTwelveBouncesAForeignFrameUnderA64KPage() {
        Machine m = machine("64K", "6.12");
        Device dev = m.device("fa000000.sata");
        Domain guest = m.xen().domain(1);
        long gfn = guest.p2m().tableBase() + 3;
        long frame = guest.machineAddr(gfn << 12);
        long local = m.gnttab().mapForeign(guest, m.xen().grantAccess(guest, m.dom0(), gfn, false), false);
        long bus = m.dma().mapPageAttrs(dev, local, 0, 512, Direction.FROM_DEVICE, 0);
        assertThat(bus).isNotEqualTo(frame);
        assertThat(m.swiotlb().findPool(dev, bus)).as("a swiotlb slot").isNotNull();
        byte[] data = TestMachines.pattern(512, 9);
        TestMachines.deviceWrite(m, dev, bus, data);
        m.dma().unmapPageAttrs(dev, bus, 512, Direction.FROM_DEVICE, 0);
        byte[] seen = new byte[512];
        m.caches().cpuRead(1, frame, seen, 0, 512, MemAttr.NORMAL_WB);
        assertThat(seen).as("copied back into the guest's frame by dom0's CPU").isEqualTo(data);
        assertThat(m.xen().cacheFlushLog()).isEmpty();
        // 4 KiB pages: the same buffer is aligned on its frame too, and is not bounced
        Machine small = machine("4K", "6.12");
        Domain g4 = small.xen().domain(1);
        long l4 = small.gnttab().mapForeign(g4, small.xen().grantAccess(g4, small.dom0(), gfn, false), false);
        assertThat(small.dma().mapPageAttrs(small.device("fa000000.sata"), l4, 0, 512, Direction.FROM_DEVICE, 0))
                .isEqualTo(g4.machineAddr(gfn << 12));
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
