package dev.dmalab.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The address map's validation and queries, and the small value types of the package. */
class PhysicalMemoryMapTest {
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;

    @Test
    void banksAreSortedAndQueried() {
        PhysicalMemoryMap map = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(4 * GIB, GIB, "high")
                .ram(0x1000, 0x9e000)
                .ram(MIB, GIB - MIB)
                .mmio(0xfec0_0000L, 0x400, "IOAPIC")
                .reserved(MIB, MIB, "kernel")
                .build();
        assertThat(map.ramBanks()).extracting(MemoryRegion::start).containsExactly(0x1000L, MIB, 4 * GIB);
        assertThat(map.startOfDram()).isEqualTo(0x1000);
        assertThat(map.endOfDram()).isEqualTo(5 * GIB);
        assertThat(map.maxPfn()).isEqualTo(5 * GIB >> 12);
        assertThat(map.totalRamBytes()).isEqualTo(0x9e000 + GIB - MIB + GIB);
        assertThat(map.isRam(0)).isFalse();
        assertThat(map.isRam(0x1000)).isTrue();
        assertThat(map.isRam(0x9f000)).isFalse(); // the hole below 1 MiB
        assertThat(map.isRam(GIB - 1)).isTrue();
        assertThat(map.isRam(GIB)).isFalse();
        assertThat(map.isRam(MIB, GIB - MIB)).isTrue();
        assertThat(map.isRam(MIB, GIB - MIB + 1)).isFalse();
        assertThat(map.isRam(0x9e000, 0x2000)).isFalse(); // crosses into the hole
        assertThat(map.isRam(GIB - 0x1000, 4 * GIB)).isFalse(); // two banks with a hole between
        assertThat(map.isRam(MIB, -1)).isFalse();
        assertThat(map.isMmio(0xfec0_0000L)).isTrue();
        assertThat(map.isMmio(0xfec0_0400L)).isFalse();
        assertThat(map.isBacked(0xfec0_03ffL)).isTrue();
        assertThat(map.isBacked(0xfed0_0000L)).isFalse();
        assertThat(map.pfnValid(MIB >> 12)).isTrue(); // reserved RAM has a struct page
        assertThat(map.pfnValid(0)).isFalse();
        assertThat(map.pfnValid(0xfec00)).isFalse(); // MMIO
        assertThat(map.pfnValid(-1)).isFalse();
        assertThat(map.pfnValid(Long.MAX_VALUE)).isFalse();
        assertThat(map.reservedRegions()).hasSize(1);
        assertThat(map.mmioRegions()).hasSize(1);
        assertThat(map.pageSize()).isEqualTo(PageSize.SIZE_4K);
        assertThat(map.toString()).contains("3 bank(s)");
    }

    @Test
    void validationNamesTheOffendingRegion() {
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_4K).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no RAM bank");
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                        .ram(0x800, 0x1000)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not aligned to the 4K page size");
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_64K)
                        .ram(0x1000, 0x10000)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("64K");
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                        .ram(0, 2 * MIB)
                        .ram(MIB, 2 * MIB, "second")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("RAM banks overlap")
                .hasMessageContaining("second");
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                        .ram(0, 2 * MIB)
                        .mmio(MIB, 0x1000, "BAR0")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MMIO range")
                .hasMessageContaining("BAR0");
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                        .ram(0, MIB)
                        .mmio(GIB, 0x2000, "a")
                        .mmio(GIB + 0x1000, 0x1000, "b")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MMIO ranges overlap");
        assertThatThrownBy(() -> PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                        .ram(0, MIB)
                        .ram(2 * MIB, MIB)
                        .reserved(MIB - 0x1000, 0x2000, "straddler")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not inside one RAM bank")
                .hasMessageContaining("straddler");
        // Adjacent banks are fine; a reservation must still lie inside one of them.
        assertThat(PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                        .ram(0, MIB)
                        .ram(MIB, MIB)
                        .build()
                        .totalRamBytes())
                .isEqualTo(2 * MIB);
    }

    @Test
    void regionsRejectEmptyAndOverflowingRanges() {
        assertThatThrownBy(() -> new MemoryRegion(0, 0, MemoryRegion.Kind.RAM, "empty"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> new MemoryRegion(-4096, 4096, MemoryRegion.Kind.RAM, "neg"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MemoryRegion(Long.MAX_VALUE - 10, 100, MemoryRegion.Kind.MMIO, "wrap"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("63-bit");
        MemoryRegion r = new MemoryRegion(0x1000, 0x2000, MemoryRegion.Kind.RESERVED, "r");
        assertThat(r.end()).isEqualTo(0x3000);
        assertThat(r.contains(0x2fff)).isTrue();
        assertThat(r.contains(0x3000)).isFalse();
        assertThat(r.contains(0x1000, 0x2000)).isTrue();
        assertThat(r.contains(0x1000, 0x2001)).isFalse();
        assertThat(r.overlaps(new MemoryRegion(0x2fff, 1, MemoryRegion.Kind.RAM, "x")))
                .isTrue();
        assertThat(r.overlaps(new MemoryRegion(0x3000, 1, MemoryRegion.Kind.RAM, "x")))
                .isFalse();
        assertThat(r.toString()).isEqualTo("0x1000-0x2fff RESERVED r");
    }

    @Test
    void zonesOfAnAddress() {
        ZoneLayout x86 = new ZoneLayout(16 * MIB, 4 * GIB, true, true);
        assertThat(x86.zoneOf(0)).isEqualTo(Zone.DMA);
        assertThat(x86.zoneOf(16 * MIB - 1)).isEqualTo(Zone.DMA);
        assertThat(x86.zoneOf(16 * MIB)).isEqualTo(Zone.DMA32);
        assertThat(x86.zoneOf(4 * GIB)).isEqualTo(Zone.NORMAL);
        assertThat(x86.startOf(Zone.DMA32)).isEqualTo(16 * MIB);
        assertThat(x86.endOf(Zone.DMA32)).isEqualTo(4 * GIB);
        assertThat(x86.endOf(Zone.NORMAL)).isEqualTo(Long.MAX_VALUE);
        ZoneLayout noDma = new ZoneLayout(0, 4 * GIB, false, true);
        assertThat(noDma.exists(Zone.DMA)).isFalse();
        assertThat(noDma.zoneOf(0)).isEqualTo(Zone.DMA32);
        assertThatThrownBy(() -> new ZoneLayout(2 * GIB, GIB, true, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("out of order");
        assertThatThrownBy(() -> new ZoneLayout(-1, GIB, true, true)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pageSizes() {
        assertThat(PageSize.SIZE_16K.bytes()).isEqualTo(16384);
        assertThat(PageSize.SIZE_64K.shift()).isEqualTo(16);
        assertThat(PageSize.SIZE_4K.pageMask()).isEqualTo(0xffff_ffff_ffff_f000L);
        assertThat(PageSize.SIZE_4K.offsetInPage(0x1234_5678L)).isEqualTo(0x678);
        assertThat(PageSize.SIZE_16K.pfnDown(0x1_0000_3fffL)).isEqualTo(0x4_0000);
        assertThat(PageSize.SIZE_64K.pfnPhys(3)).isEqualTo(0x3_0000);
        assertThat(PageSize.SIZE_4K.pfnDown(-1L)).isEqualTo(0xf_ffff_ffff_ffffL); // unsigned shift
        assertThat(PageSize.SIZE_4K.defaultMaxOrder()).isEqualTo(10);
        assertThat(PageSize.SIZE_16K.defaultMaxOrder()).isEqualTo(11);
        assertThat(PageSize.SIZE_64K.defaultMaxOrder()).isEqualTo(13);
        assertThat(PageSize.ofBytes(65536)).isEqualTo(PageSize.SIZE_64K);
        assertThatThrownBy(() -> PageSize.ofBytes(8192))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8192");
        assertThat(PageSize.SIZE_16K.toString()).isEqualTo("16K");
    }
}
