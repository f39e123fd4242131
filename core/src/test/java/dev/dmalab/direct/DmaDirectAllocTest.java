package dev.dmalab.direct;

import static dev.dmalab.testing.TestMachines.assertBytes;
import static dev.dmalab.testing.TestMachines.cpuRead;
import static dev.dmalab.testing.TestMachines.cpuWritePhys;
import static dev.dmalab.testing.TestMachines.deviceRead;
import static dev.dmalab.testing.TestMachines.deviceWrite;
import static dev.dmalab.testing.TestMachines.dram;
import static dev.dmalab.testing.TestMachines.evictAllCaches;
import static dev.dmalab.testing.TestMachines.filled;
import static dev.dmalab.testing.TestMachines.pattern;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.cache.LineState;
import dev.dmalab.cache.MemAttr;
import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * dma-direct's coherent allocations: the zone chosen from the coherent mask, the DMA32-then-DMA retry ladder, the
 * non-cacheable remap of non-coherent devices' buffers (with the cacheable alias cleaned first), the atomic pools
 * and DMA_ATTR_NO_KERNEL_MAPPING.
 */
class DmaDirectAllocTest {
    /**
     * x86 with the q35 memory map (kernel image reserved at 16-60 MiB) and a device behind a bridge that forwards
     * only the first 32 MiB ({@code bus_dma_limit} 0x1ffffff).
     */
    private static final String LADDER_YAML = String.join(
            "\n",
            "name: x86-ladder",
            "arch: x86_64",
            "cpus: 1",
            "memory:",
            "  ram:",
            "    - {start: 0x1000, size: 0x9e000}",
            "    - {start: 0x100000, size: 0x7fed1000}",
            "  reserved:",
            "    - {start: 0x1000000, size: 0x2c00000, name: kernel}",
            "devices:",
            "  - {name: \"0000:00:07.0\", driver: legacy, dma_mask: 32, bus_dma_limit: 0x1ffffff}",
            "");

    private static long alloc(Machine m, Device dev, long size, int gfp, long attrs, long[] handle) {
        return m.dma().allocAttrs(dev, size, handle, gfp, attrs);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Zones

    @Test
    void a30BitCoherentMaskOnRpi4GetsZoneDma() {
        // GENET has no dma-ranges. phys_limit = 0x3fffffff <= zone_dma_limit (first GiB) -> GFP_DMA.
        Machine m = TestMachines.boot("rpi4", KernelVersion.V6_12);
        Device eth = m.device("fd580000.ethernet");
        assertThat(m.dma().setCoherentMask(eth, Bits.dmaBitMask(30))).isZero();
        long[] h = new long[1];

        long va = alloc(m, eth, 16384, Gfp.GFP_KERNEL, 0, h);

        assertThat(va).isNotZero();
        assertThat(h[0] + 16383).isLessThanOrEqualTo(0x3fffffffL);
        assertThat(m.memory().zones().zoneOf(h[0])).isEqualTo(Zone.DMA);
    }

    @Test
    void a32BitCoherentMaskOnRpi4GetsZoneDma32() {
        // phys_limit 0xffffffff > zone_dma_limit and <= 4 GiB - 1 -> GFP_DMA32; ZONE_DMA32 is [1 GiB, 2 GiB).
        Machine m = TestMachines.boot("rpi4", KernelVersion.V6_12);
        Device eth = m.device("fd580000.ethernet");
        assertThat(m.dma().setCoherentMask(eth, Bits.dmaBitMask(32))).isZero();
        long[] h = new long[1];

        alloc(m, eth, 4096, Gfp.GFP_KERNEL, 0, h);

        assertThat(m.memory().zones().zoneOf(h[0])).isEqualTo(Zone.DMA32);
    }

    @Test
    void theDmaRangeOffsetIsUndoneBeforeChoosingTheZone() {
        // emmc2: coherent mask 0xffffffff is a *bus* limit; dma_to_phys(0xffffffff) = 0x3fffffff -> GFP_DMA.
        // The handle is the bus address: phys + 0xc0000000.
        Machine m = TestMachines.boot("rpi4", KernelVersion.V6_12);
        Device mmc = m.device("fe340000.mmc");
        long[] h = new long[1];

        long va = alloc(m, mmc, 8192, Gfp.GFP_KERNEL, 0, h);

        long phys = m.addressSpace().virtToPhys(va);
        assertThat(m.memory().zones().zoneOf(phys)).isEqualTo(Zone.DMA);
        assertThat(h[0]).isEqualTo(phys + 0xc0000000L);
        deviceWrite(m, mmc, h[0], pattern(8192, 1));
        assertBytes(cpuRead(m, va, 8192), pattern(8192, 1), "CPU view of the device's write");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.0", "6.12"})
    void anUnreachableDma32PageSendsTheAllocationDownToZoneDma(String version) {
        // dma_limit = min_not_zero(0xffffffff, 0x1ffffff) = 0x1ffffff > 16 MiB -> GFP_DMA32. The lowest free
        // DMA32 block is above the kernel image (>= 0x3c00000 > 0x1ffffff): dma_coherent_ok fails, the page is
        // freed, GFP_DMA32 is already set, so the ladder's last step replaces it with GFP_DMA (5.0 only when
        // phys_limit < DMA_BIT_MASK(32), which 0x1ffffff is).
        Machine m = TestMachines.bootYaml("x86-ladder", LADDER_YAML, KernelVersion.parse(version), "");
        Device dev = m.device("0000:00:07.0");
        long freeBefore = m.memory().pages().totalFreePages();
        long[] h = new long[1];

        long va = alloc(m, dev, 4096, Gfp.GFP_KERNEL, 0, h);

        assertThat(va).isNotZero();
        assertThat(h[0]).isLessThan(16L << 20);
        assertThat(m.memory().zones().zoneOf(h[0])).isEqualTo(Zone.DMA);
        assertThat(m.memory().pages().totalFreePages())
                .as("the rejected DMA32 page was freed")
                .isEqualTo(freeBefore - 1);
        // x86 is coherent: no remap, the linear address.
        assertThat(va).isEqualTo(m.addressSpace().physToVirt(h[0]));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Non-coherent arm64: remap

    @ParameterizedTest
    @ValueSource(strings = {"5.0", "5.4", "6.12"})
    void aNonCoherentBufferIsRemappedNonCacheableAndItsAliasCleaned(String version) {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long[] h = new long[1];
        long size = 8192;
        long first = alloc(m, dev, size, Gfp.GFP_KERNEL, 0, h);
        long phys = h[0];
        m.dma().freeAttrs(dev, size, first, phys, 0);
        // Earlier users of these pages left dirty lines on the cacheable linear alias.
        cpuWritePhys(m, phys, filled((int) size, 0xee));

        long va = alloc(m, dev, size, Gfp.GFP_KERNEL, 0, h);

        assertThat(h[0]).isEqualTo(phys);
        assertThat(m.addressSpace().isVmalloc(va)).isTrue();
        assertThat(m.addressSpace().attrOf(va)).isEqualTo(MemAttr.NORMAL_NC);
        assertThat(m.addressSpace().virtToPhys(va)).isEqualTo(phys);
        // arch_dma_prep_coherent: 6.12 cleans (the alias lines stay, clean); 5.x clean+invalidates (gone).
        LineState expected = version.equals("6.12") ? LineState.CLEAN : LineState.INVALID;
        for (long off = 0; off < size; off += 64) {
            assertThat(m.caches().lineState(phys + off))
                    .as("alias line +%d", off)
                    .isEqualTo(expected);
        }
        assertBytes(dram(m, phys, (int) size), new byte[(int) size], "zeroed through the NC mapping");

        deviceWrite(m, dev, h[0], pattern((int) size, 2));
        evictAllCaches(m); // a dirty alias line would be written back over the device's data now
        assertBytes(cpuRead(m, va, (int) size), pattern((int) size, 2), "CPU view through the remap");
        m.dma().freeAttrs(dev, size, va, h[0], 0);
        assertThat(m.addressSpace().vmapAreaSize(va)).isEqualTo(-1);
    }

    @Test
    void coherentDevicesGetTheLinearMapping() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        long[] h = new long[1];
        long va = alloc(m, m.device("0000:00:03.0"), 4096, Gfp.GFP_KERNEL, 0, h);
        assertThat(va).isEqualTo(m.addressSpace().physToVirt(h[0]));
        assertThat(m.addressSpace().attrOf(va)).isEqualTo(MemAttr.NORMAL_WB);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Atomic pools

    @Test
    void gfpAtomicOnANonCoherentDeviceComesFromTheAtomicPool() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long freePages = m.memory().pages().totalFreePages();
        long[] h = new long[1];

        long va = alloc(m, dev, 4096, Gfp.GFP_ATOMIC, 0, h);

        // A remap cannot be made without sleeping: the block comes from a pool preallocated (and remapped
        // non-cacheable) at boot, so the page allocator is not touched.
        assertThat(va).isNotZero();
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(freePages);
        assertThat(m.addressSpace().attrOf(va)).isEqualTo(MemAttr.NORMAL_NC);
        assertThat(h[0] + 4095).isLessThanOrEqualTo(0xffffffffL);
        assertBytes(cpuRead(m, va, 4096), new byte[4096], "zeroed");
        deviceWrite(m, dev, h[0], pattern(4096, 3));
        assertBytes(cpuRead(m, va, 4096), pattern(4096, 3), "shared without syncs");

        m.dma().freeAttrs(dev, 4096, va, h[0], 0);
        long[] h2 = new long[1];
        assertThat(alloc(m, dev, 4096, Gfp.GFP_ATOMIC, 0, h2))
                .as("first fit reuses the freed block")
                .isEqualTo(va);
        assertThat(h2[0]).isEqualTo(h[0]);
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(freePages);
    }

    @ParameterizedTest
    @ValueSource(strings = {"5.0", "5.4"})
    void before58TheSingleAtomicPoolComesFromTheLowestZone(String version) {
        // Before the per-zone pools of 5.8 there is one 256 KiB pool, allocated from the lowest zone so that it
        // suits any device (arm64 5.0: dma_atomic_pool_init(GFP_DMA32, ...); 5.2-5.7: dma_atomic_pool_gfp()).
        // arm64 before 5.5 has no ZONE_DMA, so it sits in ZONE_DMA32, below 4 GiB, where a 32-bit device reaches it.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.parse(version));
        Device dev = m.device("fa000000.sata");
        long freePages = m.memory().pages().totalFreePages();
        long[] h = new long[1];

        long va = alloc(m, dev, 4096, Gfp.GFP_ATOMIC, 0, h);

        assertThat(va).isNotZero();
        assertThat(h[0] + 4095).isLessThanOrEqualTo(0xffffffffL);
        assertThat(m.addressSpace().attrOf(va)).isEqualTo(MemAttr.NORMAL_NC);
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(freePages);
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains("DMA: preallocated 256 KiB pool for atomic allocations");
    }

    @Test
    void anExhaustedAtomicPoolFailsRatherThanSleeping() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        // Each 6.12 pool is 512 KiB here (128 KiB per GiB of RAM, 4 GiB): 1 MiB fits in none of them.
        assertThat(alloc(m, dev, 1 << 20, Gfp.GFP_ATOMIC, 0, new long[1])).isZero();
        assertThat(alloc(m, dev, 1 << 20, Gfp.GFP_KERNEL, 0, new long[1]))
                .as("blocking: remap allowed")
                .isNotZero();
    }

    @Test
    void zoneFlagsFromTheDriverAreIgnored() {
        // dma_alloc_attrs strips __GFP_DMA/__GFP_DMA32/__GFP_HIGHMEM: "let the implementation decide".
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        long[] h = new long[1];
        alloc(m, m.device("0000:00:03.0"), 4096, Gfp.GFP_KERNEL | Gfp.DMA, 0, h);
        assertThat(m.memory().zones().zoneOf(h[0])).isEqualTo(Zone.DMA32);
    }

    @Test
    void gfpAtomicOnACoherentDeviceNeedsNoPool() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        long freePages = m.memory().pages().totalFreePages();
        long[] h = new long[1];
        long va = alloc(m, m.device("0000:00:03.0"), 4096, Gfp.GFP_ATOMIC, 0, h);
        assertThat(va).isEqualTo(m.addressSpace().physToVirt(h[0]));
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(freePages - 1);
    }

    // ---------------------------------------------------------------------------------------------------------
    // DMA_ATTR_NO_KERNEL_MAPPING

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0-rc2", "5.0", "5.4", "6.12"})
    void noKernelMappingOnACoherentDevice(String version) {
        // dma-direct handles DMA_ATTR_NO_KERNEL_MAPPING itself only from 5.3 (d98849aff879): before, a coherent
        // device's allocation ignores the attribute and gets zeroed linear memory like any other.
        Machine m = TestMachines.boot("x86-q35", KernelVersion.parse(version));
        Device dev = m.device("0000:00:03.0");
        long[] h = new long[1];
        long first = alloc(m, dev, 4096, Gfp.GFP_KERNEL, 0, h);
        long phys = h[0];
        m.dma().freeAttrs(dev, 4096, first, phys, 0);
        cpuWritePhys(m, phys, filled(4096, 0x33));

        long cookie = alloc(m, dev, 4096, Gfp.GFP_KERNEL, DmaAttrs.NO_KERNEL_MAPPING, h);

        assertThat(h[0]).isEqualTo(phys);
        boolean zeroed = !version.equals("5.4") && !version.equals("6.12");
        assertBytes(deviceRead(m, dev, h[0], 4096), zeroed ? new byte[4096] : filled(4096, 0x33), "memory behind it");
        m.dma().freeAttrs(dev, 4096, cookie, h[0], DmaAttrs.NO_KERNEL_MAPPING);
        assertThat(m.memory().pages().isAllocated(m.memory().pageSize().pfnDown(phys)))
                .isFalse();
    }

    @Test
    void noKernelMappingSkipsTheRemapAndTheZeroingButStillCleansTheAlias() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        long[] h = new long[1];
        long first = alloc(m, dev, 4096, Gfp.GFP_KERNEL, 0, h);
        long phys = h[0];
        m.dma().freeAttrs(dev, 4096, first, phys, 0);
        cpuWritePhys(m, phys, filled(4096, 0x77)); // dirty on the alias

        long cookie = alloc(m, dev, 4096, Gfp.GFP_KERNEL, DmaAttrs.NO_KERNEL_MAPPING, h);

        assertThat(h[0]).isEqualTo(phys);
        assertThat(m.addressSpace().isVmalloc(cookie)).as("no vmap").isFalse();
        assertThat(m.caches().lineState(phys))
                .as("arch_dma_prep_coherent cleaned the alias")
                .isEqualTo(LineState.CLEAN);
        // The page is allocated without __GFP_ZERO and never memset: the device sees the old contents.
        assertBytes(deviceRead(m, dev, h[0], 4096), filled(4096, 0x77), "not zeroed");
        m.dma().freeAttrs(dev, 4096, cookie, h[0], DmaAttrs.NO_KERNEL_MAPPING);
        assertThat(m.memory().pages().isAllocated(m.memory().pageSize().pfnDown(phys)))
                .isFalse();
    }
}
