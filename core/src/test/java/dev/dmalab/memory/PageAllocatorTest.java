package dev.dmalab.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The buddy allocator's deterministic behaviour: lowest block first, split into upper halves, merge with free
 * buddies in the same zone, zone fallback NORMAL -> DMA32 -> DMA, compound order records, and boot seeding of
 * unaligned ranges.
 */
class PageAllocatorTest {
    static final long MIB = 1L << 20;

    /** DMA [0, 1 MiB), DMA32 [1, 2 MiB), NORMAL from 2 MiB; 256 pages each with MAX_PAGE_ORDER 4 (16 pages). */
    static PageAllocator threeZones() {
        PageAllocator a = new PageAllocator(PageSize.SIZE_4K, 4, new ZoneLayout(MIB, 2 * MIB, true, true));
        a.seed(List.of(new long[] {0, 3 * MIB}));
        return a;
    }

    @Test
    void seedingSplitsRangesIntoAlignedBlocksPerZone() {
        PageAllocator a = threeZones();
        for (Zone z : Zone.values()) {
            assertThat(a.managedPages(z)).as("%s", z).isEqualTo(256);
            assertThat(a.freePages(z)).as("%s", z).isEqualTo(256);
        }
        assertThat(a.totalFreePages()).isEqualTo(768);
        a.checkInvariants();
    }

    @Test
    void anUnalignedRangeYieldsOnlyNaturallyAlignedBlocks() {
        // x86's first bank, pfns 1..0x9e (158 pages): blocks 1 (o0), 2 (o1), 4 (o2), 8 (o3), 16 (o4), 32 (o5),
        // 64 (o6), 128 (o4), 144 (o3), 152 (o2), 156 (o1), 158 (o0).
        PageAllocator a = new PageAllocator(PageSize.SIZE_4K, 10, new ZoneLayout(16 * MIB, 4096 * MIB, true, true));
        a.seed(List.of(new long[] {0x1000, 0x9f000}));
        assertThat(a.managedPages(Zone.DMA)).isEqualTo(158);
        assertThat(a.alloc(7, Zone.DMA, false)).isEqualTo(-1); // no aligned 128-page block exists
        assertThat(a.alloc(6, Zone.DMA, false)).isEqualTo(64);
        assertThat(a.alloc(5, Zone.DMA, false)).isEqualTo(32);
        assertThat(a.alloc(4, Zone.DMA, false)).isEqualTo(16);
        assertThat(a.alloc(4, Zone.DMA, false)).isEqualTo(128);
        assertThat(a.alloc(0, Zone.DMA, false)).isEqualTo(1);
        assertThat(a.alloc(0, Zone.DMA, false)).isEqualTo(158);
        a.checkInvariants();
    }

    @Test
    void aRangeAcrossAZoneBoundaryIsSplitAtTheBoundary() {
        // [15 MiB, 17 MiB) across the 16 MiB DMA limit: 256 pages on each side; no block straddles.
        PageAllocator a = new PageAllocator(PageSize.SIZE_4K, 10, new ZoneLayout(16 * MIB, 4096 * MIB, true, true));
        a.seed(List.of(new long[] {15 * MIB, 17 * MIB}));
        assertThat(a.managedPages(Zone.DMA)).isEqualTo(256);
        assertThat(a.managedPages(Zone.DMA32)).isEqualTo(256);
        assertThat(a.alloc(9, Zone.DMA32, false)).isEqualTo(-1);
        assertThat(a.alloc(8, Zone.DMA32, false)).isEqualTo(16 * MIB >> 12);
        assertThat(a.alloc(8, Zone.DMA32, false)).isEqualTo(15 * MIB >> 12);
        a.checkInvariants();
    }

    @Test
    void buddiesOnBothSidesOfAnUnalignedZoneBoundaryNeverMerge() {
        // DMA ends at pfn 24 (96 KiB), MAX_PAGE_ORDER 4: DMA holds 0 (o4) and 16 (o3); DMA32 holds 24 (o3), 32 and
        // 48 (o4). 16 and 24 are order-3 buddies but in different zones.
        PageAllocator a = new PageAllocator(PageSize.SIZE_4K, 4, new ZoneLayout(0x18000, MIB, true, true));
        a.seed(List.of(new long[] {0, 0x40000}));
        assertThat(a.managedPages(Zone.DMA)).isEqualTo(24);
        assertThat(a.managedPages(Zone.DMA32)).isEqualTo(40);
        assertThat(a.alloc(3, Zone.DMA, false)).isEqualTo(16);
        a.free(16, 3);
        a.checkInvariants();
        assertThat(a.alloc(4, Zone.DMA, false)).isZero();
        assertThat(a.alloc(4, Zone.DMA, false)).isEqualTo(-1);
        assertThat(a.alloc(3, Zone.DMA, false)).isEqualTo(16);
        assertThat(a.alloc(3, Zone.DMA32, false)).isEqualTo(24);
        assertThat(a.alloc(4, Zone.DMA32, false)).isEqualTo(32);
    }

    @Test
    void theLowestBlockIsTakenAndSplitIntoUpperHalves() {
        PageAllocator a = threeZones();
        long base = 2 * MIB >> 12; // 0x200, first NORMAL pfn
        // Order 0 from a zone of order-4 blocks: split 0x200 -> keep 0x200, free 0x208 (o3), 0x204 (o2), 0x202
        // (o1), 0x201 (o0).
        assertThat(a.alloc(0, Zone.NORMAL, false)).isEqualTo(base);
        assertThat(a.alloc(0, Zone.NORMAL, false)).isEqualTo(base + 1);
        assertThat(a.alloc(1, Zone.NORMAL, false)).isEqualTo(base + 2);
        // Order 0 again: o0 and o1 are empty, o2 has 0x204 -> split to 0x204, free 0x206 (o1), 0x205 (o0).
        assertThat(a.alloc(0, Zone.NORMAL, false)).isEqualTo(base + 4);
        assertThat(a.alloc(0, Zone.NORMAL, false)).isEqualTo(base + 5);
        assertThat(a.alloc(1, Zone.NORMAL, false)).isEqualTo(base + 6);
        assertThat(a.alloc(3, Zone.NORMAL, false)).isEqualTo(base + 8);
        assertThat(a.freePages(Zone.NORMAL)).isEqualTo(256 - 16);
        a.checkInvariants();
        // Freeing merges back: 0x200 + 0x201 -> o1; + 0x202 -> o2; 0x204.. -> o3; + 0x208 -> o4.
        a.free(base, 0);
        a.free(base + 1, 0);
        a.free(base + 2, 1);
        a.free(base + 4, 0);
        a.free(base + 5, 0);
        a.free(base + 6, 1);
        a.checkInvariants();
        a.free(base + 8, 3);
        assertThat(a.freePages(Zone.NORMAL)).isEqualTo(256);
        a.checkInvariants();
        // Fully merged: the first order-4 allocation is the lowest block again.
        assertThat(a.alloc(4, Zone.NORMAL, false)).isEqualTo(base);
    }

    @Test
    void fallbackLadderGoesNormalThenDma32ThenDma() {
        PageAllocator a = threeZones();
        List<Long> pfns = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
            pfns.add(a.alloc(4, Zone.NORMAL, false));
        }
        // 16 blocks from NORMAL (0x200..), then DMA32 (0x100..), then DMA (0x0..).
        for (int i = 0; i < 16; i++) {
            assertThat(pfns.get(i)).isEqualTo(0x200 + 16L * i);
            assertThat(pfns.get(16 + i)).isEqualTo(0x100 + 16L * i);
            assertThat(pfns.get(32 + i)).isEqualTo(16L * i);
        }
        assertThat(a.alloc(0, Zone.NORMAL, false)).isEqualTo(-1);
        assertThat(a.totalFreePages()).isZero();
        a.checkInvariants();
    }

    @Test
    void aRestrictedRequestNeverGoesUpTheLadder() {
        PageAllocator a = threeZones();
        for (int i = 0; i < 16; i++) {
            assertThat(a.alloc(4, Zone.DMA32, false)).isEqualTo(0x100 + 16L * i);
        }
        for (int i = 0; i < 16; i++) {
            assertThat(a.alloc(4, Zone.DMA32, false)).isEqualTo(16L * i);
        }
        // NORMAL still holds 256 free pages, but a DMA32 request may not use them.
        assertThat(a.alloc(0, Zone.DMA32, false)).isEqualTo(-1);
        assertThat(a.alloc(0, Zone.DMA, false)).isEqualTo(-1);
        assertThat(a.freePages(Zone.NORMAL)).isEqualTo(256);
        // allocInZone does not fall back at all.
        PageAllocator b = threeZones();
        for (int i = 0; i < 16; i++) {
            b.allocInZone(4, Zone.DMA32, false);
        }
        assertThat(b.allocInZone(0, Zone.DMA32, false)).isEqualTo(-1);
        assertThat(b.allocInZone(0, Zone.DMA, false)).isZero();
    }

    @Test
    void aZoneTheKernelDoesNotHaveIsSkipped() {
        // arm32 without ZONE_DMA and without ZONE_DMA32: everything is NORMAL.
        PageAllocator a = new PageAllocator(PageSize.SIZE_4K, 4, new ZoneLayout(0, 0, false, false));
        a.seed(List.of(new long[] {0, MIB}));
        assertThat(a.managedPages(Zone.NORMAL)).isEqualTo(256);
        assertThat(a.alloc(0, Zone.DMA, false)).isEqualTo(-1);
        assertThat(a.alloc(0, Zone.DMA32, false)).isEqualTo(-1);
        assertThat(a.allocInZone(0, Zone.DMA, false)).isEqualTo(-1);
        assertThat(a.alloc(0, Zone.NORMAL, false)).isZero();
    }

    @Test
    void compoundPagesRecordTheirOrderOnTheHeadOnly() {
        PageAllocator a = threeZones();
        long head = a.alloc(2, Zone.NORMAL, true);
        assertThat(a.compoundOrder(head)).isEqualTo(2);
        assertThat(a.allocationOrder(head)).isEqualTo(2);
        assertThat(a.isAllocatedHead(head)).isTrue();
        for (long tail = head + 1; tail < head + 4; tail++) {
            assertThat(a.compoundOrder(tail)).isZero();
            assertThat(a.isAllocatedHead(tail)).isFalse();
            assertThat(a.allocationHead(tail)).isEqualTo(head);
            assertThat(a.isAllocated(tail)).isTrue();
        }
        assertThat(a.isAllocated(head + 4)).isFalse();
        assertThat(a.allocationHead(head + 4)).isEqualTo(-1);
        long plain = a.alloc(2, Zone.NORMAL, false);
        assertThat(plain).isEqualTo(head + 4);
        assertThat(a.compoundOrder(plain)).isZero();
        assertThat(a.allocationOrder(plain)).isEqualTo(2);
        long single = a.alloc(0, Zone.NORMAL, true);
        assertThat(a.compoundOrder(single)).isZero(); // order 0
        assertThat(a.allocationOrder(single)).isZero();
        a.free(head, 2);
        assertThat(a.compoundOrder(head)).isZero();
        assertThat(a.allocationOrder(head)).isEqualTo(-1);
        assertThat(a.isAllocated(head + 1)).isFalse();
    }

    @Test
    void freeingWhatWasNotAllocatedIsAModelBug() {
        PageAllocator a = threeZones();
        long pfn = a.alloc(1, Zone.NORMAL, false);
        assertThatThrownBy(() -> a.free(pfn, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("allocated with order 1");
        assertThatThrownBy(() -> a.free(pfn + 1, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not allocated");
        a.free(pfn, 1);
        assertThatThrownBy(() -> a.free(pfn, 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not allocated");
        a.checkInvariants();
    }

    @Test
    void ordersOutsideTheRangeFail() {
        PageAllocator a = threeZones();
        assertThat(a.alloc(5, Zone.NORMAL, false)).isEqualTo(-1);
        assertThat(a.alloc(-1, Zone.NORMAL, false)).isEqualTo(-1);
        assertThat(a.allocInZone(5, Zone.NORMAL, false)).isEqualTo(-1);
        assertThat(a.maxOrder()).isEqualTo(4);
        assertThat(a.pageSize()).isEqualTo(PageSize.SIZE_4K);
        assertThatThrownBy(() -> new PageAllocator(PageSize.SIZE_4K, -1, new ZoneLayout(0, 0, false, false)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PageAllocator(PageSize.SIZE_4K, 21, new ZoneLayout(0, 0, false, false)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void physicalMemoryHandsOnlyMemblocksFreeRangesToTheAllocator() {
        PhysicalMemoryMap map = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0, 4 * MIB)
                .reserved(MIB, MIB, "kernel")
                .build();
        PhysicalMemory pm = new PhysicalMemory(map, new ZoneLayout(2 * MIB, 4 * MIB, true, true), 4);
        assertThat(pm.booted()).isFalse();
        assertThatThrownBy(pm::pages).isInstanceOf(IllegalStateException.class);
        long early = pm.memblock().allocTopDown(MIB, 4096, 4 * MIB);
        assertThat(early).isEqualTo(3 * MIB);
        pm.finishBoot();
        assertThat(pm.booted()).isTrue();
        assertThatThrownBy(pm::memblock).isInstanceOf(IllegalStateException.class);
        PageAllocator a = pm.pages();
        // Free: [0, 1 MiB) in DMA and [2, 3 MiB) in DMA32.
        assertThat(a.managedPages(Zone.DMA)).isEqualTo(256);
        assertThat(a.managedPages(Zone.DMA32)).isEqualTo(256);
        long pfn;
        while ((pfn = a.alloc(0, Zone.NORMAL, false)) >= 0) {
            long pa = pfn << 12;
            assertThat(pa < MIB || (pa >= 2 * MIB && pa < 3 * MIB))
                    .as("pa %x", pa)
                    .isTrue();
        }
        assertThat(pm.pfnValid(MIB >> 12)).isTrue(); // reserved RAM still has a struct page
        assertThat(pm.pfnValid(4 * MIB >> 12)).isFalse();
        assertThat(pm.pageSize()).isEqualTo(PageSize.SIZE_4K);
        assertThat(pm.map()).isSameAs(map);
    }
}
