package dev.dmalab.dma;

import static dev.dmalab.testing.TestMachines.cpuRead;
import static dev.dmalab.testing.TestMachines.cpuWrite;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.deviceWrite;
import static dev.dmalab.testing.TestMachines.filled;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code dma_alloc_attrs} / {@code dma_free_attrs} in the core: per-device coherent pools ({@code
 * kernel/dma/coherent.c}), the managed {@code dmam_*} API and the 6.12 tracepoints around them.
 */
class DmaApiCoherentTest {
    /**
     * arm64 with 2 GiB at 0x40000000 and two non-coherent devices with 64 KiB (16-page) pools: one declared with a
     * device base ({@code dma_declare_coherent_memory}), one from a {@code shared-dma-pool} node (no device base:
     * handles are {@code phys_to_dma} of the pool, here through dma-ranges cpu 0x40000000 -> bus 0).
     */
    private static final String POOLS_YAML = String.join(
            "\n",
            "name: pools",
            "arch: arm64",
            "cpus: 2",
            "memory:",
            "  ram:",
            "    - {start: 0x40000000, size: 2G}",
            "  reserved:",
            "    - {start: 0x40200000, size: 0x2000000, name: kernel}",
            "devices:",
            "  - {name: \"a000000.vpu\", bus: platform, driver: vpu, dma_mask: 32, coherent: false,",
            "     coherent_pool: {phys: 0x50000000, size: 64K, device_base: 0x10000000}}",
            "  - {name: \"a100000.isp\", bus: platform, driver: isp, dma_mask: 32, coherent: false,",
            "     dma_ranges: [{cpu: 0x40000000, dma: 0x0, size: 2G}],",
            "     coherent_pool: {phys: 0x58000000, size: 64K}}",
            "");

    private static Machine pools(KernelVersion v) {
        return TestMachines.bootYaml("pools", POOLS_YAML, v, "");
    }

    @Test
    void aDevicePoolIsFirstFitWithNaturalAlignmentFromPageZero() {
        Machine m = pools(KernelVersion.V6_12);
        Device vpu = m.device("a000000.vpu");
        long[] h = new long[1];
        long base = vpu.dmaMem().virtBase();

        // bitmap_find_free_region(bitmap, 16, order): the first free run of 2^order pages at a multiple of 2^order.
        //   4K -> 0; 8K (order 1) -> 0-1 busy, 2-3; 4K -> 1; 12K (order 2) -> 4-7; 4K -> 8;
        //   16K (order 2) -> 8-11 busy, 12-15; 4K -> 9.          Used: 0-9, 12-15.
        long[] sizes = {4096, 8192, 4096, 12288, 4096, 16384, 4096};
        long[] expectedPage = {0, 2, 1, 4, 8, 12, 9};
        for (int i = 0; i < sizes.length; i++) {
            long va = m.dma().allocCoherent(vpu, sizes[i], h, Gfp.GFP_KERNEL);
            assertThat(va).as("allocation %d", i).isEqualTo(base + expectedPage[i] * 4096);
            assertThat(h[0])
                    .as("handle %d = device_base + page offset", i)
                    .isEqualTo(0x10000000L + expectedPage[i] * 4096);
        }
        assertThat(vpu.dmaMem().usedPages()).isEqualTo(14);
        m.dma().freeCoherent(vpu, 4096, base + 9 * 4096, 0x10009000L); // bitmap_release_region(9, order 0)
        // Free: 9, 10, 11. Order 1 needs an aligned pair: 8-9 is half busy, 10-11 is free.
        assertThat(m.dma().allocCoherent(vpu, 8192, h, Gfp.GFP_KERNEL)).isEqualTo(base + 10 * 4096);
        // Page 9 is free but pairs only with busy page 8: no order-1 block is left.
        assertThat(m.dma().allocCoherent(vpu, 8192, h, Gfp.GFP_KERNEL)).isZero();
        assertThat(m.dma().allocCoherent(vpu, 4096, h, Gfp.GFP_KERNEL)).isEqualTo(base + 9 * 4096);
        assertThat(vpu.dmaMem().usedPages()).isEqualTo(16);
    }

    @Test
    void aDevicePoolNeverFallsBackToNormalAllocation() {
        Machine m = pools(KernelVersion.V6_12);
        Device vpu = m.device("a000000.vpu");
        long freePages = m.memory().pages().totalFreePages();
        long[] h = {0};

        assertThat(m.dma().allocCoherent(vpu, 128 * 1024, h, Gfp.GFP_KERNEL)).isZero();
        assertThat(m.dma().allocCoherent(vpu, 64 * 1024, h, Gfp.GFP_KERNEL)).isNotZero(); // exactly the pool
        assertThat(m.dma().allocCoherent(vpu, 4096, h, Gfp.GFP_KERNEL)).isZero(); // full: NULL, no fallback
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(freePages);
    }

    @Test
    void withoutADeviceBaseTheHandleIsPhysToDmaOfThePool() {
        Machine m = pools(KernelVersion.V6_12);
        Device isp = m.device("a100000.isp");
        long[] h = new long[1];

        m.dma().allocCoherent(isp, 4096, h, Gfp.GFP_KERNEL);
        long second = m.dma().allocCoherent(isp, 4096, h, Gfp.GFP_KERNEL);

        // use_dev_dma_pfn_offset: phys_to_dma(dev, 0x58000000) = 0x58000000 - 0x40000000, plus page 1.
        assertThat(h[0]).isEqualTo(0x18001000L);
        assertThat(m.addressSpace().virtToPhys(second)).isEqualTo(0x58001000L);
    }

    @Test
    void poolMemoryIsZeroedForTheRequestedSizeAndSharedWithoutSyncs() {
        Machine m = pools(KernelVersion.V6_12);
        Device isp = m.device("a100000.isp"); // its bus reaches the pool through dma-ranges
        long[] h = new long[1];
        long va = m.dma().allocCoherent(isp, 4096, h, Gfp.GFP_KERNEL);
        assertThat(m.addressSpace().attrOf(va)).as("memremap'd pool").isEqualTo(MemAttr.NORMAL_NC);
        cpuWrite(m, va, filled(4096, 0x5a));
        m.dma().freeCoherent(isp, 4096, va, h[0]);

        long again = m.dma().allocCoherent(isp, 100, h, Gfp.GFP_KERNEL);

        assertThat(again).isEqualTo(va);
        byte[] expected = filled(4096, 0x5a);
        Arrays.fill(expected, 0, 100, (byte) 0); // memset(cpu, 0, size): the requested 100 bytes, not the page
        assertThat(cpuRead(m, again, 4096)).isEqualTo(expected);
        assertThat(deviceRead(m, isp, h[0], 4096)).isEqualTo(expected);
        deviceWrite(m, isp, h[0], pattern(100, 3));
        assertThat(cpuRead(m, again, 100)).isEqualTo(pattern(100, 3));
        cpuWrite(m, again, pattern(100, 4));
        assertThat(deviceRead(m, isp, h[0], 100)).isEqualTo(pattern(100, 4));
    }

    @Test
    void mmapOfPoolMemoryMapsThePoolsPagesNotTheBusAddress() {
        // dma_direct_mmap asks dma_mmap_from_dev_coherent first: pfn = pfn_base + page + vm_pgoff. The handle is
        // the device's view (device_base 0x10000000), which says nothing about where the pool is in RAM.
        Machine m = pools(KernelVersion.V6_12);
        Device vpu = m.device("a000000.vpu");
        long[] h = new long[1];
        m.dma().allocCoherent(vpu, 8192, h, Gfp.GFP_KERNEL); // pages 0-1
        long va = m.dma().allocCoherent(vpu, 8192, h, Gfp.GFP_KERNEL); // pages 2-3
        assertThat(h[0]).isEqualTo(0x10002000L);

        Vma vma = new Vma(0x7f0000000000L, 0x7f0000001000L, 1);
        assertThat(m.dma().mmapAttrs(vpu, vma, va, h[0], 8192, 0)).isZero();

        assertThat(vma.mappedPfn()).isEqualTo((0x50000000L >>> 12) + 2 + 1);
        assertThat(vma.mappedPages()).isEqualTo(1);
        assertThat(m.dma().mmapAttrs(vpu, new Vma(0x7f0000000000L, 0x7f0000002000L, 1), va, h[0], 8192, 0))
                .as("past the end of the allocation")
                .isEqualTo(-Errno.ENXIO);
    }

    @Test
    void poolAllocationsAreTracedIn612yButTheirFreesAreNot() {
        Machine m = pools(KernelVersion.V6_12);
        Device vpu = m.device("a000000.vpu");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        long[] h = new long[1];

        long va = m.dma().allocCoherent(vpu, 4096, h, Gfp.GFP_KERNEL);
        m.dma().freeCoherent(vpu, 4096, va, h[0]);

        // dma_release_from_dev_coherent() returns before trace_dma_free().
        assertThat(events).singleElement().isInstanceOfSatisfying(DmaEvent.Alloc.class, a -> {
            assertThat(a.traced()).isTrue();
            assertThat(a.dmaAddr()).isEqualTo(0x10000000L);
            assertThat(a.phys()).isEqualTo(0x50000000L);
        });
    }

    @Test
    void dmamAllocationsAreReleasedNewestFirstOnDetach() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        long freePages = m.memory().pages().totalFreePages();
        long[] h = new long[1];
        long a = m.dma().dmamAllocCoherent(dev, 4096, h, Gfp.GFP_KERNEL);
        long b = m.dma().dmamAllocCoherent(dev, 8192, h, Gfp.GFP_KERNEL);
        long c = m.dma().dmamAllocCoherent(dev, 12288, h, Gfp.GFP_KERNEL);
        assertThat(m.dma().devres().recordsOf(dev))
                .extracting(Devres.Record::vaddr)
                .containsExactly(c, b, a);
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);

        assertThat(m.dma().devresReleaseAll(dev)).isEqualTo(3);

        assertThat(events)
                .filteredOn(e -> e instanceof DmaEvent.Free)
                .extracting(e -> ((DmaEvent.Free) e).cpuAddr())
                .containsExactly(c, b, a);
        assertThat(events)
                .filteredOn(e -> e instanceof DmaEvent.Free)
                .extracting(e -> ((DmaEvent.Free) e).size())
                .containsExactly(12288L, 8192L, 4096L);
        assertThat(m.dma().devres().recordsOf(dev)).isEmpty();
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(freePages);
        assertThat(m.dma().devresReleaseAll(dev)).isZero();
    }

    @Test
    void dmamFreeCoherentDestroysTheRecordAndWarnsOnAMismatch() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        long[] h = new long[1];
        long a = m.dma().dmamAllocCoherent(dev, 4096, h, Gfp.GFP_KERNEL);
        long ha = h[0];
        long b = m.dma().dmamAllocCoherent(dev, 4096, h, Gfp.GFP_KERNEL);
        long hb = h[0];

        m.dma().dmamFreeCoherent(dev, 4096, a, ha);
        assertThat(m.dma().devres().recordsOf(dev))
                .extracting(Devres.Record::vaddr)
                .containsExactly(b);
        m.dma().dmamFreeCoherent(dev, 4000, b, hb); // wrong size (same order): matched by vaddr, then WARNs
        long unmanaged = m.dma().allocCoherent(dev, 4096, h, Gfp.GFP_KERNEL);
        m.dma().dmamFreeCoherent(dev, 4096, unmanaged, h[0]); // not from dmam_*: devres_destroy finds no record

        assertThat(m.dma().devres().recordsOf(dev)).isEmpty();
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .anyMatch(t -> t.endsWith(" at kernel/dma/mapping.c dmam_match"))
                .anyMatch(t -> t.endsWith(" at kernel/dma/mapping.c dmam_free_coherent"));
    }

    @Test
    void aFailedDmamAllocationRegistersNothing() {
        Machine m = pools(KernelVersion.V6_12);
        Device vpu = m.device("a000000.vpu");
        assertThat(m.dma().dmamAllocCoherent(vpu, 1 << 20, new long[1], Gfp.GFP_KERNEL))
                .isZero();
        assertThat(m.dma().devres().recordsOf(vpu)).isEmpty();
    }

    @Test
    void in612DmaFreeIsTracedBeforeTheNullCheck() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);

        m.dma().freeCoherent(dev, 4096, 0, 0);

        assertThat(events).singleElement().isInstanceOfSatisfying(DmaEvent.Free.class, f -> {
            assertThat(f.traced()).isTrue();
            assertThat(f.cpuAddr()).isZero();
        });
    }

    @Test
    void in54FreeingNullEmitsNothing() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V5_4);
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);

        m.dma().freeCoherent(dev, 4096, 0, 0);
        long[] h = new long[1];
        long va = m.dma().allocCoherent(dev, 4096, h, Gfp.GFP_KERNEL);
        m.dma().freeCoherent(dev, 4096, va, h[0]);

        assertThat(events).hasSize(2).allSatisfy(e -> assertThat(e.traced())
                .as("no dma:* events in 5.4")
                .isFalse());
    }

    @Test
    void freeingWithInterruptsDisabledWarns() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        long[] h = new long[1];
        long va = m.dma().allocCoherent(dev, 4096, h, Gfp.GFP_KERNEL);
        m.kernel().context().flags("d....");

        m.dma().freeCoherent(dev, 4096, va, h[0]);

        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .anyMatch(t -> t.startsWith("WARNING: CPU: ") && t.endsWith(" at kernel/dma/mapping.c dma_free_attrs"));
    }

    @Test
    void gfpCompIsRefusedFrom62() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        assertThat(m.dma().allocCoherent(dev, 8192, new long[1], Gfp.GFP_KERNEL | Gfp.COMP))
                .isZero();
        Machine old = TestMachines.boot("arm64-virt", KernelVersion.V5_4);
        assertThat(old.dma().allocCoherent(old.device("0000:00:03.0"), 8192, new long[1], Gfp.GFP_KERNEL | Gfp.COMP))
                .isNotZero();
    }
}
