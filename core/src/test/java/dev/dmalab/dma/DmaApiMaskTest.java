package dev.dmalab.dma;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.device.Device;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.memory.Zone;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Masks and capabilities: {@code dma_get_required_mask}, {@code dma_supported} (through {@code dma_set_mask}),
 * {@code dma_max_mapping_size}, {@code dma_addressing_limited} and {@code dma_mapping_error}, with golden values
 * derived from each platform's memory map.
 */
class DmaApiMaskTest {
    // ---------------------------------------------------------------------------------------------------------
    // dma_get_required_mask = smallest all-ones mask covering phys_to_dma((max_pfn - 1) << PAGE_SHIFT)

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0", "5.4", "6.12"})
    void x86Q35RequiresThirtyOneBits(String version) {
        // RAM ends at 0x7ffd1000: max_pfn 0x7ffd1, last page 0x7ffd0000, fls64 = 31 -> 0x7fffffff.
        // (4.20 asks dma_direct_ops->get_required_mask, which is the same function.)
        Machine m = TestMachines.boot("x86-q35", KernelVersion.parse(version));
        assertThat(m.dma().getRequiredMask(m.device("0000:00:05.0"))).isEqualTo(0x7fffffffL);
    }

    @Test
    void arm64NoncoherentRequiresThirtySixBits() {
        // RAM ends at 0x900000000: last page 0x8fffff000, fls64 = 36 -> 0xfffffffff.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        assertThat(m.dma().getRequiredMask(m.device("fa000000.sata"))).isEqualTo(0xfffffffffL);
    }

    @Test
    void rpi4RequiredMasksFollowTheDmaRanges() {
        // Last page 0x7ffff000. GENET has no dma-ranges: fls64 = 31 -> 0x7fffffff.
        // emmc2 (6.12 dma_range_map cpu [0, 1G) -> bus 0xc0000000): the last page is outside every region, so
        // phys_to_dma gives DMA_MAPPING_ERROR, fls64 = 64 and the mask is all ones.
        // emmc2 on 5.4 (dma_pfn_offset, plain subtraction): 0x7ffff000 + 0xc0000000 = 0x13ffff000 -> 33 bits.
        Machine m612 = TestMachines.boot("rpi4", KernelVersion.V6_12);
        Machine m54 = TestMachines.boot("rpi4", KernelVersion.V5_4);
        assertThat(m612.dma().getRequiredMask(m612.device("fd580000.ethernet"))).isEqualTo(0x7fffffffL);
        assertThat(m612.dma().getRequiredMask(m612.device("fe340000.mmc"))).isEqualTo(Bits.U64_MAX);
        assertThat(m54.dma().getRequiredMask(m54.device("fe340000.mmc"))).isEqualTo(0x1ffffffffL);
    }

    @Test
    void before510TheRequiredMaskIsClampedToTheBusMask() {
        // 5.0 dma_direct_get_required_mask: d = phys_to_dma(last page) = 0x7ffd0000, then clamped to a smaller
        // bus_dma_mask 0x1ffffff -> 0x1ffffff. 6.12 has no clamp: 0x7fffffff.
        Machine m50 = TestMachines.boot("x86-q35", KernelVersion.V5_0);
        Machine m612 = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        for (Machine m : List.of(m50, m612)) {
            m.device("0000:00:05.0").setBusDmaLimit(0x1ffffffL);
        }
        assertThat(m50.dma().getRequiredMask(m50.device("0000:00:05.0"))).isEqualTo(0x1ffffffL);
        assertThat(m612.dma().getRequiredMask(m612.device("0000:00:05.0"))).isEqualTo(0x7fffffffL);
    }

    // ---------------------------------------------------------------------------------------------------------
    // dma_supported

    @ParameterizedTest
    @ValueSource(strings = {"4.20", "5.0", "6.12"})
    void onX86Q35A24BitMaskIsTheSmallestSupported(String version) {
        // x86 ZONE_DMA is the first 16 MiB, so min_mask = min(last page 0x7ffd0000, zone limit 0xffffff)
        // = 0xffffff (4.20/5.0: DMA_BIT_MASK(ARCH_ZONE_DMA_BITS = 24); 6.12: zone_dma_limit). A mask is supported
        // iff it is >= phys_to_dma(min_mask) = 0xffffff: 24 bits yes, 23 bits no. (The RAM hole below 0x1000
        // does not matter: the rule compares with the zone's limit, not its start.)
        Machine m = TestMachines.boot("x86-q35", KernelVersion.parse(version));
        Device dev = m.device("0000:00:05.0");
        assertThat(m.dma().dmaSupported(dev, Bits.dmaBitMask(24))).isTrue();
        assertThat(m.dma().dmaSupported(dev, Bits.dmaBitMask(23))).isFalse();
        assertThat(m.dma().setMask(dev, Bits.dmaBitMask(23))).isEqualTo(-Errno.EIO);
        assertThat(dev.dmaMask()).as("a refused mask is not stored").isEqualTo(Bits.dmaBitMask(32));
        assertThat(m.dma().setMask(dev, Bits.dmaBitMask(24))).isZero();
        assertThat(dev.dmaMask()).isEqualTo(0xffffffL);
    }

    @Test
    void onArm64NoncoherentNothingBelow32BitsIsSupported() {
        // 6.12: ZONE_DMA spans [2 GiB, 4 GiB), zone_dma_limit 0xffffffff; min_mask = min(0x8fffff000,
        // 0xffffffff) = 0xffffffff. 5.0 (no arm64 ZONE_DMA yet): min_mask = DMA_BIT_MASK(32). Either way 31 bits
        // are refused and 32 accepted.
        for (KernelVersion v : List.of(KernelVersion.V5_0, KernelVersion.V6_12)) {
            Machine m = TestMachines.boot("arm64-noncoherent", v);
            Device dev = m.device("fa000000.sata");
            assertThat(m.dma().dmaSupported(dev, 0x7fffffffL)).as("%s", v).isFalse();
            assertThat(m.dma().dmaSupported(dev, 0xffffffffL)).as("%s", v).isTrue();
        }
    }

    @Test
    void onArm64VirtTheTopOfRamIsTheFloor() {
        // RAM [0x40000000, 0xc0000000): last page 0xbffff000 is below every zone limit, so min_mask = 0xbffff000.
        for (KernelVersion v : List.of(KernelVersion.V5_0, KernelVersion.V6_12)) {
            Machine m = TestMachines.boot("arm64-virt", v);
            Device dev = m.device("0000:00:03.0");
            assertThat(m.dma().dmaSupported(dev, 0xbffff000L)).as("%s", v).isTrue();
            assertThat(m.dma().dmaSupported(dev, 0xbfffefffL)).as("%s", v).isFalse();
        }
    }

    @Test
    void onRpi4TheDmaRangeOffsetRaisesTheFloor() {
        // 6.12: zone_dma_limit = 0x3fffffff (ZONE_DMA = first GiB); min_mask = min(0x7ffff000, 0x3fffffff).
        // emmc2 translates it to 0x3fffffff + 0xc0000000 = 0xffffffff: a 30-bit mask is refused, 32 bits pass
        // by the ">= 32 bits" shortcut. GENET (no offset) accepts exactly 30 bits.
        Machine m = TestMachines.boot("rpi4", KernelVersion.V6_12);
        assertThat(m.dma().dmaSupported(m.device("fe340000.mmc"), Bits.dmaBitMask(30)))
                .isFalse();
        assertThat(m.dma().dmaSupported(m.device("fe340000.mmc"), Bits.dmaBitMask(32)))
                .isTrue();
        assertThat(m.dma().dmaSupported(m.device("fd580000.ethernet"), Bits.dmaBitMask(30)))
                .isTrue();
        assertThat(m.dma().dmaSupported(m.device("fd580000.ethernet"), 0x3ffffffeL))
                .isFalse();
    }

    @Test
    void onRpi4With54EvenThe32BitMaskIsRefused() {
        // 5.4 has no "mask >= 32 bits" shortcut and no arm64 ZONE_DMA: min_mask = min(DMA_BIT_MASK(32),
        // 0x7ffff000) = 0x7ffff000, and __phys_to_dma adds the 0xc0000000 offset: 0x13ffff000 > 0xffffffff.
        Machine m = TestMachines.boot("rpi4", KernelVersion.V5_4);
        assertThat(m.dma().dmaSupported(m.device("fe340000.mmc"), Bits.dmaBitMask(32)))
                .isFalse();
        assertThat(m.dma().dmaSupported(m.device("fe340000.mmc"), Bits.dmaBitMask(33)))
                .isTrue();
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .contains("sdhci-iproc fe340000.mmc: DMA mask 0xffffffff not supported (-EIO)");
    }

    @Test
    void aDeviceWithoutAMaskPointerCannotSetOneAndCannotMapIn612() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);
        dev.clearDmaMaskPointer();
        long page = m.allocKernelPages(0, Zone.NORMAL);

        assertThat(m.dma().setMask(dev, Bits.dmaBitMask(64))).isEqualTo(-Errno.EIO);
        assertThat(m.dma().getMask(dev))
                .as("dma_get_mask falls back to 32 bits")
                .isEqualTo(0xffffffffL);
        assertThat(m.dma().mapPageAttrs(dev, page, 0, 64, Direction.TO_DEVICE, 0))
                .isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().mapSgAttrs(dev, new ScatterList(1).add(page, 0, 64), 1, Direction.TO_DEVICE, 0))
                .isZero();
        assertThat(events).first().isInstanceOfSatisfying(DmaEvent.Map.class, e -> assertThat(e.dmaAddr())
                .isEqualTo(Bits.U64_MAX));

        // WARN_ON_ONCE has one flag per call site: dma_map_page_attrs and __dma_map_sg_attrs warned once each;
        // another maskless device hitting the same sites prints nothing more.
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .filteredOn(t -> t.startsWith("WARNING: CPU: ") && t.contains(" at kernel/dma/mapping.c "))
                .hasSize(2);
        Device other = m.device("0000:00:02.0");
        other.clearDmaMaskPointer();
        m.dma().mapPageAttrs(other, page, 0, 64, Direction.TO_DEVICE, 0);
        m.dma().mapPageAttrs(dev, page, 0, 64, Direction.TO_DEVICE, 0);
        assertThat(m.kernel().printk().lines())
                .extracting(Printk.Line::text)
                .filteredOn(t -> t.startsWith("WARNING: CPU: ") && t.contains(" at kernel/dma/mapping.c "))
                .hasSize(2);
    }

    // ---------------------------------------------------------------------------------------------------------
    // dma_max_mapping_size

    @Test
    void underSwiotlbForceTheLimitIsOneSegmentLessTheMinAlignRoundup() {
        // IO_TLB_SEGSIZE * IO_TLB_SIZE = 128 * 2 KiB = 262144. NVMe's min_align_mask 0xfff rounds up to 4096
        // (a multiple of IO_TLB_SIZE): 262144 - 4096 = 258048.
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12, "swiotlb=force");
        assertThat(m.dma().maxMappingSize(m.device("0000:00:04.0"))).isEqualTo(262144);
        assertThat(m.dma().maxMappingSize(m.device("0000:00:03.0"))).isEqualTo(258048);
    }

    @Test
    void withoutSwiotlbThereIsNoLimit() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        assertThat(m.dma().maxMappingSize(m.device("0000:00:03.0"))).isEqualTo(Bits.U64_MAX);
    }

    @Test
    void withAPoolOnlyAddressingLimitedDevicesAreLimited() {
        // arm64-noncoherent has a pool (RAM above the DMA zone) but no force: the 32-bit SATA cannot reach the
        // required 36 bits, the 40-bit GEM and the 64-bit NVMe can.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        assertThat(m.dma().addressingLimited(m.device("fa000000.sata"))).isTrue();
        assertThat(m.dma().maxMappingSize(m.device("fa000000.sata"))).isEqualTo(262144);
        assertThat(m.dma().addressingLimited(m.device("ff0e0000.ethernet"))).isFalse();
        assertThat(m.dma().maxMappingSize(m.device("ff0e0000.ethernet"))).isEqualTo(Bits.U64_MAX);
        assertThat(m.dma().maxMappingSize(m.device("0000:01:00.0"))).isEqualTo(Bits.U64_MAX);
    }

    @Test
    void before512TheMinAlignMaskDoesNotShrinkTheLimitAndBefore51ThereIsNoLimit() {
        Machine m54 = TestMachines.boot("x86-q35", KernelVersion.V5_4, "swiotlb=force");
        Machine m50 = TestMachines.boot("x86-q35", KernelVersion.V5_0, "swiotlb=force");
        assertThat(m54.dma().maxMappingSize(m54.device("0000:00:03.0"))).isEqualTo(262144);
        assertThat(m50.dma().maxMappingSize(m50.device("0000:00:03.0"))).isEqualTo(Bits.U64_MAX);
    }

    @Test
    void rpi4EmmcIsAddressingLimitedBecauseItsRangesMissRam() {
        Machine m = TestMachines.boot("rpi4", KernelVersion.V6_12);
        assertThat(m.dma().addressingLimited(m.device("fe340000.mmc"))).isTrue();
        assertThat(m.direct().allRamMapped(m.device("fe340000.mmc"))).isFalse();
        assertThat(m.direct().allRamMapped(m.device("fe980000.usb"))).isFalse();
        assertThat(m.dma().addressingLimited(m.device("fd580000.ethernet"))).isFalse();
    }

    // ---------------------------------------------------------------------------------------------------------
    // dma_mapping_error

    @Test
    void from50TheCookieIsAllOnesForEveryDevice() {
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V6_12);
        Device dev = m.device("fa000000.sata");
        List<DmaEvent> events = new ArrayList<>();
        m.events().addListener(events::add);

        assertThat(m.dma().mappingError(dev, Bits.U64_MAX)).isEqualTo(-Errno.ENOMEM);
        assertThat(m.dma().mappingError(dev, 0)).isZero();
        assertThat(m.dma().mappingError(dev, 0xfffffffffffffffeL)).isZero();
        assertThat(events).hasSize(3).allMatch(e -> e instanceof DmaEvent.MappingErrorCheck);
    }

    @Test
    void in420TheTableDecides() {
        // dma_direct_mapping_error and swiotlb's (which is the same function after the overflow buffer went)
        // compare with DIRECT_MAPPING_ERROR; a table without ->mapping_error could never report failure.
        Machine m = TestMachines.boot("arm64-noncoherent", KernelVersion.V4_20);
        Device dev = m.device("fa000000.sata");
        assertThat(((DmaMapOps) dev.dmaOps()).implementsOp(DmaMapOps.Op.MAPPING_ERROR))
                .isTrue();
        assertThat(m.dma().mappingError(dev, Bits.U64_MAX)).isEqualTo(-Errno.ENOMEM);
        assertThat(m.dma().mappingError(dev, 0x80000000L)).isZero();
    }
}
