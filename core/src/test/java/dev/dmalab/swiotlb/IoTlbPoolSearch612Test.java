package dev.dmalab.swiotlb;

import static dev.dmalab.swiotlb.TlbMapper.countingDown;
import static dev.dmalab.swiotlb.TlbMapper.descending;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dmalab.util.Bits;
import org.junit.jupiter.api.Test;

/**
 * Golden tests of the 6.12 slot allocator ({@code swiotlb_search_pool_area}, {@code swiotlb_find_slots}, {@code
 * swiotlb_release_slots}). Every expectation was worked out by hand from the kernel's rules (validated-swiotlb.md
 * §3 and checklist, swiotlb fact sheet B.3–B.6); the derivation is the comment above it.
 *
 * <p>Notation in the comments: S = pool start, "slot k" = S + k*2048, aam = alloc_align_mask after the page rule
 * and {@code |= 2047}, iam = min_align_mask & ~aam, stride = (max(aam, iam) >> 11) + 1, "checked" = slots_checked.
 */
class IoTlbPoolSearch612Test {
    /** Page aligned (its 4 KiB page number is even, bits 0-13 clear), so slot k's DMA address is S + k*2048. */
    static final long S = 0x7d70_0000L;

    static final long NVME_MIN_ALIGN = 0xfff;

    @Test
    void workedExampleOfTheClassJavadoc() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // Fresh: list = 128..1 | 128..1, cursor 0.
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        assertThat(m.lists(128, 256)).containsExactly(descending(128));

        // 4096 bytes, no masks: nslots 2; size >= PAGE_SIZE and both masks 0 -> aam = 4095, stride 2.
        // Cursor 0: slot 0 (S, page aligned) is a candidate, list[0] = 128 >= 2 -> found 0; cursor 0 + 2 = 2.
        long first = m.map(0x1000, 4096);
        assertThat(first).isEqualTo(S);
        assertThat(pool.areaIndex(0)).isEqualTo(2);
        assertThat(m.lists(0, 3)).containsExactly(0, 0, 126);

        // 512 bytes: nslots 1, aam 2047, every slot a candidate. Cursor 2: list[2] = 126 -> found 2; cursor 3.
        long second = m.map(0x5000, 512);
        assertThat(second).isEqualTo(S + 2 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(3);

        // Unmap the first (slots 0..1): slot 2 is used so the count starts at 0: list[1] = 1, list[0] = 2.
        assertThat(m.unmap(first)).isEqualTo(2);
        assertThat(m.lists(0, 4)).containsExactly(2, 1, 0, 125);

        // Unmap the second (slot 2): count = list[3] = 125 -> list[2] = 126, then list[1] = 127, list[0] = 128.
        // The segment is whole again; the cursor stays at 3.
        assertThat(m.unmap(second)).isEqualTo(1);
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        assertThat(pool.areaIndex(0)).isEqualTo(3);
        assertThat(pool.used()).isZero();
        pool.checkInvariants();
    }

    @Test
    void searchStartsAtTheCursorItselfNotTheCursorRoundedToTheStride() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // A 512-byte map takes slot 0 and leaves the cursor at 1.
        assertThat(m.map(0x40000, 512)).isEqualTo(S);
        assertThat(pool.areaIndex(0)).isEqualTo(1);

        // NVMe (min_align 0xfff), orig 0x2bad9f0: bit 11 set, low 11 bits 0x1f0.
        // offset = 0x1f0, size = 512 + 0x1f0 = 1008 -> nslots 1. iam = 0xfff & ~0x7ff = 0x800, aam = 0x7ff
        // (no page rule: min_align != 0), stride = (0x800 >> 11) + 1 = 2.
        // Cursor 1 (not rounded): slot 1 = S+0x800, (t & 0x7ff) == 0, (t & 0x800) == (orig & 0x800) -> candidate,
        // list[1] = 127 -> found 1. tlb = S + 0x800 + 0x1f0. A cursor rounded up to the stride (2) would have
        // started at the misaligned slot 2 and returned slot 3 (S + 0x19f0).
        long tlb = m.map(0, NVME_MIN_ALIGN, 0x2bad9f0L, 512);
        assertThat(tlb).isEqualTo(S + 0x9f0);
        assertThat(pool.areaIndex(0)).isEqualTo(2);
        pool.checkInvariants();
    }

    @Test
    void nvmeExampleOfTheValidatedFileMatchesBit11AndCarriesTheLow11Bits() {
        // validated-swiotlb §4 / spec §10.6: phys 0x2bad9f0 size 512 -> dma 0x7aaa69f0 on a pool at 0x7aaa6000.
        // Fresh pool, cursor 0: slot 0 = 0x7aaa6000 has bit 11 clear, orig has it set -> misaligned, +1;
        // slot 1 = 0x7aaa6800 matches -> found. tlb = 0x7aaa6800 + (0x2bad9f0 & 0x7ff = 0x1f0) = 0x7aaa69f0.
        IoTlbPool pool = new IoTlbPool(0x7aaa_6000L, 512, 1);
        TlbMapper m = new TlbMapper(pool, Bits.dmaBitMask(32), 4096);
        long tlb = m.map(0, NVME_MIN_ALIGN, 0x2bad9f0L, 512);
        assertThat(tlb).isEqualTo(0x7aaa_69f0L);
        // alloc_size[1] = size - offset = 1008 - 0x1f0 = 512; the slot remembers the original address.
        assertThat(pool.allocSize(1)).isEqualTo(512);
        assertThat(pool.origAddr(1)).isEqualTo(0x2bad9f0L);
        assertThat(pool.list(0)).isEqualTo(1); // the free slot before, renumbered
        // Release: offset = tlb & 0xfff & 0x7ff = 0x1f0, index = 1, nslots = nr_slots(512 + 0x1f0) = 1.
        assertThat(m.unmap(tlb, NVME_MIN_ALIGN)).isEqualTo(1);
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        pool.checkInvariants();
    }

    @Test
    void nvmeFourKibMapAtPageOffset0x200TakesThreeSlotsAndIsReleasedFromTheStoredSize() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // orig 0x3000200: bit 11 clear, low 11 bits 0x200. offset 0x200, size = 4096 + 0x200 = 4608 -> 3 slots.
        // Cursor 0: slot 0 (bit 11 clear) matches -> found 0. tlb = S + 0x200; cursor 3.
        long orig = 0x300_0200L;
        long tlb = m.map(0, NVME_MIN_ALIGN, orig, 4096);
        assertThat(tlb).isEqualTo(S + 0x200);
        assertThat(pool.areaIndex(0)).isEqualTo(3);
        assertThat(m.lists(0, 4)).containsExactly(0, 0, 0, 125);
        // alloc_size[j] = size - offset - j*2048: 4096, 2048, 0. orig_addr[j] = orig + j*2048 for all 3 slots.
        assertThat(new long[] {pool.allocSize(0), pool.allocSize(1), pool.allocSize(2)})
                .containsExactly(4096, 2048, 0);
        assertThat(new long[] {pool.origAddr(0), pool.origAddr(1), pool.origAddr(2)})
                .containsExactly(orig, orig + 2048, orig + 4096);
        assertThat(pool.used()).isEqualTo(3);
        // Release: offset 0x200, index 0, nslots = nr_slots(alloc_size[0] + 0x200) = nr_slots(4608) = 3.
        assertThat(m.unmap(tlb, NVME_MIN_ALIGN)).isEqualTo(3);
        assertThat(pool.origAddr(0)).isEqualTo(IoTlbPool.INVALID_PHYS_ADDR);
        assertThat(pool.allocSize(0)).isZero();
        assertThat(pool.used()).isZero();
        pool.checkInvariants();
    }

    @Test
    void pageAlignmentOnlyForPageSizedMapsWithoutAnyMask() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        assertThat(m.map(0x40000, 512)).isEqualTo(S); // slot 0, cursor 1

        // 4095 bytes: nslots 2 but size < PAGE_SIZE -> aam 0x7ff, stride 1. Cursor 1: list[1] = 127 -> found 1.
        assertThat(m.map(0x50000, 4095)).isEqualTo(S + 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(3);

        // 4096 bytes, no masks: aam 0xfff, stride 2. Cursor 3: slot 3 = S+0x1800 misaligned -> +1;
        // slot 4 = S+0x2000 aligned, list[4] = 124 -> found 4; cursor 6.
        assertThat(m.map(0x60000, 4096)).isEqualTo(S + 4 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(6);

        // 4096 bytes for NVMe, orig 0x10800 (bit 11 set, low 11 bits 0): offset 0, size 4096, but min_align != 0
        // -> no page rule: aam 0x7ff, iam 0x800, stride 2. Cursor 6: slot 6 = S+0x3000 bit 11 clear -> +1;
        // slot 7 = S+0x3800 bit 11 set -> found 7. The bounce is NOT page aligned.
        long nvme = m.map(0, NVME_MIN_ALIGN, 0x10800L, 4096);
        assertThat(nvme).isEqualTo(S + 7 * 2048);
        assertThat(nvme % 4096).isEqualTo(2048);
        assertThat(pool.areaIndex(0)).isEqualTo(9);

        // 4096 bytes with an explicit alloc_align_mask of 0x7ff: the page rule needs alloc_align_mask == 0, so
        // aam stays 0x7ff, stride 1. Cursor 9 (odd): candidate, list[9] = 119 -> found 9.
        assertThat(m.map(0, 0, 0x70000, 4096, 0x7ff)).isEqualTo(S + 9 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(11);
        pool.checkInvariants();
    }

    @Test
    void pageAlignmentIsTestedOnTheSlotsDmaAddressSoAnOddHalfPagePoolStartShiftsTheParity() {
        // Pool start at an odd 2 KiB boundary: slot 0 = 0x7bdce800 is not page aligned, slot 1 = 0x7bdcf000 is.
        // A 4096-byte map from cursor 0: slot 0 misaligned -> +1; slot 1 aligned, list[1] = 127 -> found 1.
        IoTlbPool shifted = new IoTlbPool(0x7bdc_e800L, 256, 1);
        TlbMapper m = new TlbMapper(shifted);
        assertThat(m.map(0x1000, 4096)).isEqualTo(0x7bdc_f000L);
        assertThat(shifted.areaIndex(0)).isEqualTo(3);

        // The same test with a page-aligned physical pool whose DMA address is offset by 2 KiB (tbl_dma_addr =
        // S + 0x800): slot 0's DMA address S+0x800 is misaligned, slot 1's (S+0x1000) aligned -> slot 1, whose
        // physical address S+0x800 is not page aligned. The DMA address decides, not the physical one.
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        int slot = pool.findSlots(0, S + 0x800, Bits.U64_MAX, 0, 0x1000, 4096, 0, 4096);
        assertThat(slot).isEqualTo(1);
        assertThat(pool.slotAddr(slot)).isEqualTo(S + 0x800);
    }

    @Test
    void cursorWrapsToZeroNotModuloSoTheLastCandidateBeforeTheCursorIsNotReached() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        long[] tlb = new long[256];
        // 256 one-slot maps fill the area in order; the last one (slot 255) moves the cursor to 256 -> wrap to 0.
        for (int s = 0; s < 256; s++) {
            tlb[s] = m.map(0x100000 + s * 2048L, 512);
            assertThat(tlb[s]).isEqualTo(S + s * 2048L);
        }
        assertThat(pool.areaIndex(0)).isZero();

        // Free slot 19; a one-slot map from cursor 0 steps by 1 over 0..18 (list 0) and finds 19; cursor 20.
        m.unmap(tlb[19]);
        long again = m.map(0x900000, 512);
        assertThat(again).isEqualTo(S + 19 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(20);
        // Free slots 19 and 20: list[19] = 2, list[20] = 1; 254 used; the cursor stays at 20.
        m.unmap(again);
        m.unmap(tlb[20]);
        assertThat(m.lists(19, 21)).containsExactly(2, 1);
        assertThat(pool.areaUsed(0)).isEqualTo(254);

        // NVMe map, orig 0x2bad9f0 (bit 11 set), 3000 bytes: offset 0x1f0, size 3496 -> nslots 2; iam 0x800,
        // aam 0x7ff, stride 2; candidates are the odd slots. Slots 19-20 would fit (19 is odd, list[19] = 2).
        // Walk: slot 20 even -> +1 (checked 1). Odd slots 21..255 (118 candidates) are used -> +2 each
        // (checked 1 + 236 = 237); 255 + 2 = 257 >= 256 -> index 0 (not 257 mod 256 = 1).
        // Slot 0 even -> +1 (checked 238). Odd slot 2m+1 is examined at checked 238 + 2m: slot 17 at 254,
        // slot 19 would be at 256, but the loop stops when checked reaches area_nslabs = 256 -> not found.
        // (With a modulo wrap slot 1 is examined at 237 and slot 19 at 255, and the map would succeed.)
        long nvme = m.map(0, NVME_MIN_ALIGN, 0x2bad9f0L, 3000);
        assertThat(nvme).isEqualTo(-1);
        // A failed search leaves the cursor and the counts alone.
        assertThat(pool.areaIndex(0)).isEqualTo(20);
        assertThat(pool.areaUsed(0)).isEqualTo(254);
        pool.checkInvariants();
    }

    @Test
    void anUnfitCandidateCostsAWholeStrideOfTheSearchBudget() {
        IoTlbPool pool = new IoTlbPool(S, 128, 1);
        TlbMapper m = new TlbMapper(pool);
        long[] tlb = new long[128];
        for (int s = 0; s < 128; s++) {
            tlb[s] = m.map(0x100000 + s * 2048L, 512);
        }
        // Free slot 7, take it back from cursor 0 (cursor 8), then free slots 6 and 7: the only free pair, cursor 8.
        m.unmap(tlb[7]);
        long seven = m.map(0x900000, 512);
        assertThat(seven).isEqualTo(S + 7 * 2048);
        m.unmap(seven);
        m.unmap(tlb[6]);
        assertThat(pool.areaIndex(0)).isEqualTo(8);
        assertThat(m.lists(6, 8)).containsExactly(2, 1);

        // alloc_align 0xfff, min_align 0x3fff, orig 0x12347a00: size 4096 (2 slots), aam 0xfff, iam 0x3000,
        // stride 7; candidates are the slots k with k mod 8 == 6 (6, 14, ..., 126), and slots 6-7 would fit.
        // Walk from 8: 8..13 misaligned (checked 6). Candidates 14..118 are used: each costs 7 (stride) + 1
        // (the misaligned slot before the next candidate), so 14 of them bring checked to 118 at slot 126.
        // 126 is used: 126 + 7 = 133 -> 0, checked 125. Slots 0, 1, 2 are misaligned: checked 126, 127, 128 ->
        // the budget (area_nslabs = 128) runs out before slot 6 -> not found.
        // (Stepping by 1 past unfit candidates, or wrapping modulo, would reach slot 6 with budget left.)
        assertThat(m.map(0, 0x3fff, 0x1234_7a00L, 1000, 0xfff)).isEqualTo(-1);
        assertThat(pool.areaIndex(0)).isEqualTo(8);
        pool.checkInvariants();
    }

    @Test
    void cursorAfterARunEndingAtTheAreaEndIsZero() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // 254 slots in two maps (128 at 0, then 126 at 128 -> cursor 254), then a 4096 map: cursor 254 even,
        // list[254] = 2 -> found 254, cursor = 254 + 2 = 256 >= area_nslabs -> 0.
        assertThat(m.map(0x100000, 128 * 2048)).isEqualTo(S);
        assertThat(m.map(0x200000, 126 * 2048)).isEqualTo(S + 128 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(254);
        assertThat(m.map(0x300000, 4096)).isEqualTo(S + 254 * 2048);
        assertThat(pool.areaIndex(0)).isZero();
    }

    @Test
    void earlyExitWhenTheAreaHasFewerFreeSlotsThanRequested() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // 128 slots at 0 (cursor 128), then 127 slots (260096 bytes, page rule, cursor 128 aligned, list[128] =
        // 128 >= 127) at 128 -> cursor 255; 255 used, one free slot (255).
        assertThat(m.map(0x100000, 128 * 2048)).isEqualTo(S);
        assertThat(m.map(0x200000, 127 * 2048)).isEqualTo(S + 128 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(255);
        assertThat(pool.areaUsed(0)).isEqualTo(255);
        // 2 slots: 2 > 256 - 255 -> -1 at once.
        assertThat(m.map(0x300000, 4096)).isEqualTo(-1);
        // 1 slot: 1 > 1 is false -> walk: slot 255, list 1 >= 1 -> found; cursor 256 -> 0.
        assertThat(m.map(0x300000, 512)).isEqualTo(S + 255 * 2048);
        assertThat(pool.areaIndex(0)).isZero();
        // Full: 1 > 0 -> -1.
        assertThat(m.map(0x400000, 1)).isEqualTo(-1);
        assertThat(pool.used()).isEqualTo(256);
        pool.checkInvariants();
    }

    @Test
    void areaIsCpuMaskedThenTheOthersRoundRobin() {
        // 512 slots, 4 areas of 128: area a = slots [128a, 128a + 128).
        IoTlbPool pool = new IoTlbPool(S, 512, 4);
        TlbMapper m = new TlbMapper(pool);
        // CPU 5: 5 & 3 = 1 -> area 1, its cursor 0 -> slot 128; area 1's cursor 1.
        assertThat(m.map(5, 0, 0x1000, 512)).isEqualTo(S + 128 * 2048);
        assertThat(pool.areaIndex(1)).isEqualTo(1);
        // CPU 6 -> area 2 -> slot 256.
        assertThat(m.map(6, 0, 0x2000, 512)).isEqualTo(S + 256 * 2048);
        // CPU 3 -> area 3: 128 slots (page rule, slot 384 = S + 0xc0000 aligned) -> slot 384; cursor 128 -> 0.
        assertThat(m.map(3, 0, 0x3000, 128 * 2048)).isEqualTo(S + 384 * 2048);
        assertThat(pool.areaIndex(3)).isZero();
        assertThat(pool.areaUsed(3)).isEqualTo(128);
        // CPU 7 -> area 3 is full (early exit) -> next area 4 >= nareas -> 0: area 0's cursor 0 -> slot 0.
        assertThat(m.map(7, 0, 0x4000, 512)).isEqualTo(S);
        assertThat(pool.areaIndex(0)).isEqualTo(1);
        // CPU 2, 128 slots: area 2 has 127 free (early exit), area 3 none, area 0 and area 1 127 each -> -1,
        // although 381 slots are free in the pool.
        assertThat(m.map(2, 0, 0x5000, 128 * 2048)).isEqualTo(-1);
        assertThat(pool.used()).isEqualTo(131);
        // CPU 2, 126 slots (page rule): area 2, cursor 1: slot 257 odd -> +1; slot 258, list 126 -> found.
        assertThat(m.map(2, 0, 0x6000, 126 * 2048)).isEqualTo(S + 258 * 2048);
        // Area-relative cursor 2 + 126 = 128 -> wrap to 0.
        assertThat(pool.areaIndex(2)).isZero();
        assertThat(new long[] {pool.areaUsed(0), pool.areaUsed(1), pool.areaUsed(2), pool.areaUsed(3)})
                .containsExactly(1, 1, 127, 128);
        pool.checkInvariants();
    }

    @Test
    void aRunNeverCrossesA128SlotSegment() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        for (int s = 0; s < 100; s++) {
            m.map(0x100000 + s * 2048L, 512);
        }
        assertThat(pool.areaIndex(0)).isEqualTo(100);
        // 40 slots (81920 bytes, page rule, stride 2). Cursor 100 aligned: list[100] = 28 < 40 -> +2 ... slot 126:
        // list 2 -> +2 -> slot 128: list 128 >= 40 -> found 128 (the 28 free slots 100..127 are skipped: a run
        // counts only up to its segment's end). Cursor 168.
        assertThat(m.map(0x800000, 40 * 2048)).isEqualTo(S + 128 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(168);
        // Renumbering the free run before slot 128 stops at the segment boundary (offset 127): slots 100..127 keep
        // 28..1, the new run 168..255 reads 88..1.
        assertThat(m.lists(100, 128)).containsExactly(descending(28));
        assertThat(m.lists(168, 256)).containsExactly(descending(88));
        pool.checkInvariants();
    }

    @Test
    void takingSlotsRenumbersTheFreeRunBeforeThemInTheSameSegment() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        long[] tlb = new long[10];
        for (int s = 0; s < 10; s++) {
            tlb[s] = m.map(0x100000 + s * 2048L, 512);
        }
        for (long t : tlb) {
            m.unmap(t);
        }
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        assertThat(pool.areaIndex(0)).isEqualTo(10);
        // 6000 bytes: 3 slots, page rule. Cursor 10 aligned, list[10] = 118 -> found 10. Slots 10..12 get list 0;
        // the free slots before them (9 down to 0, same segment) now end at 10: 1, 2, ..., 10.
        assertThat(m.map(0x200000, 6000)).isEqualTo(S + 10 * 2048);
        assertThat(m.lists(0, 14)).containsExactly(10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 115);
        pool.checkInvariants();
    }

    @Test
    void boundaryMaskWindowsAreNeverCrossedForAPoolStraddlingFourGib() {
        // Pool at 0xffff0000 (32 slots below 4 GiB), PCI segment boundary 0xffffffff:
        // tbl = 0xffff0000, offset_slots = 0xffff0000 / 2048 = 0x1fffe0, max_slots = (0xffffffff >> 11) + 1 = 2^21.
        // A run [s, s+n) crosses iff ((0x1fffe0 + s) mod 2^21) + n > 2^21, i.e. for s < 32 iff s + n > 32.
        long p = 0xffff_0000L;
        IoTlbPool pool = new IoTlbPool(p, 256, 1);
        TlbMapper m = new TlbMapper(pool, 0xffff_ffffL, 4096);
        // 16 slots (32 KiB): cursor 0, 0 + 16 <= 32 -> found 0; cursor 16.
        assertThat(m.map(0x1000, 32 * 1024)).isEqualTo(p);
        // 32 slots (64 KiB, stride 2): s = 16, 18, ..., 30 all cross (s + 32 > 32); s = 32: offset wraps to 0,
        // 0 + 32 <= 2^21, list[32] = 96 >= 32 -> found 32, the first slot above 4 GiB. Cursor 64.
        assertThat(m.map(0x100000, 64 * 1024)).isEqualTo(0x1_0000_0000L);
        assertThat(pool.areaIndex(0)).isEqualTo(64);
        // The skipped slots 16..31 are still free.
        assertThat(m.lists(16, 32)).containsExactly(descending(16));

        // Without a boundary (all ones, max_slots 2^53) the same two maps are contiguous: 0 and 16.
        IoTlbPool free = new IoTlbPool(p, 256, 1);
        TlbMapper n = new TlbMapper(free);
        assertThat(n.map(0x1000, 32 * 1024)).isEqualTo(p);
        assertThat(n.map(0x100000, 64 * 1024)).isEqualTo(p + 16 * 2048);
        pool.checkInvariants();
        free.checkInvariants();
    }

    @Test
    void aSmallBoundaryWindowIsRespectedRelativeToDmaSpace() {
        // Boundary 0xffff: 64 KiB windows = 32 slots; S & 0xffff = 0 -> offset_slots 0; windows are slots
        // [32k, 32k + 32).
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool, 0xffff, 4096);
        for (int s = 0; s < 30; s++) {
            m.map(0x100000 + s * 2048L, 512);
        }
        // 4 slots (8192, stride 2) from cursor 30: 30 + 4 > 32 crosses -> +2 -> slot 32: 0 + 4 <= 32 -> found 32.
        assertThat(m.map(0x200000, 8192)).isEqualTo(S + 32 * 2048);
        // 33 slots can never fit a 32-slot window: every candidate crosses -> -1 after area_nslabs checks.
        assertThat(m.map(0x300000, 33 * 2048)).isEqualTo(-1);
        pool.checkInvariants();
    }

    @Test
    void releaseMergesWithTheRunAfterOnlyInsideTheSameSegment() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // 120 slots at 0 (cursor 120), then 8 slots (16 KiB; cursor 120 aligned, list[120] = 8) at 120-127.
        long big = m.map(0x100000, 120 * 2048);
        long tail = m.map(0x200000, 8 * 2048);
        assertThat(tail).isEqualTo(S + 120 * 2048);
        assertThat(pool.list(128)).isEqualTo(128);
        // Free 120..127: index + nslots = 128 is not < ALIGN(121, 128) = 128 -> count starts at 0, so the run
        // reads 8..1 and does not continue into the free segment at 128 (list[128] = 128). Slot 119 is used:
        // nothing before is renumbered.
        assertThat(m.unmap(tail)).isEqualTo(8);
        assertThat(m.lists(120, 128)).containsExactly(descending(8));
        assertThat(pool.list(119)).isZero();
        // Free 0..119: count = list[120] = 8 -> 9, 10, ..., 128: the whole segment is one run again.
        assertThat(m.unmap(big)).isEqualTo(120);
        assertThat(m.lists(0, 128)).containsExactly(descending(128));

        // Slots 128..135 (cursor 128, list[128] = 128 >= 8): taking them leaves segment 0 untouched.
        long next = m.map(0x300000, 8 * 2048);
        assertThat(next).isEqualTo(S + 128 * 2048);
        // Free them: count = list[136] = 120 -> slots 135..128 read 121..128. The walk backwards starts at slot
        // 127, whose offset in its segment is 127: it stops at once, so the free run 0..127 keeps 128..1 and is
        // not renumbered 256..129.
        assertThat(m.unmap(next)).isEqualTo(8);
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        assertThat(m.lists(128, 256)).containsExactly(descending(128));
        pool.checkInvariants();
    }

    @Test
    void releaseRenumbersTheFreeRunBeforeIt() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        long a = m.map(0x100000, 10 * 2048); // slots 0..9, cursor 10
        long b = m.map(0x200000, 6044); // 3 slots, page rule, cursor 10 aligned -> 10..12, cursor 13
        long c = m.map(0x300000, 512); // slot 13, cursor 14
        assertThat(new long[] {a, b, c}).containsExactly(S, S + 10 * 2048, S + 13 * 2048);
        // Free a: count = list[10] = 0 -> 10..1.
        m.unmap(a);
        assertThat(m.lists(0, 10)).containsExactly(descending(10));
        // Free c: count = list[14] = 114 -> list[13] = 115; slot 12 is used -> stop.
        m.unmap(c);
        assertThat(m.lists(12, 15)).containsExactly(0, 115, 114);
        assertThat(m.lists(0, 10)).containsExactly(descending(10));
        // Free b: count = list[13] = 115 -> 116, 117, 118 for slots 12, 11, 10; then slots 9..0 (list != 0, same
        // segment) are renumbered 119..128.
        assertThat(m.unmap(b)).isEqualTo(3);
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        pool.checkInvariants();
    }

    @Test
    void padSlotsWhenAllocAlignExceedsASlotAndMinAlignHasBitsAboveBit11() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // dma-iommu-like: alloc_align_mask 0xfff (4 KiB granule), min_align 0x3fff, orig 0x12347a00.
        // offset = orig & 0x3fff & (0xfff | 0x7ff) = 0xa00; size = ALIGN(1000 + 0xa00, 0x1000) = 4096 -> 2 slots.
        // Search: aam 0xfff (already set: no page rule), iam = 0x3fff & ~0xfff = 0x3000, stride = (0x3000 >> 11)
        // + 1 = 7. Candidates: (S + k*2048) & 0xfff == 0 and & 0x3000 == orig & 0x3000 = 0x3000, i.e. k even and
        // k*2048 mod 16 KiB == 12 KiB -> k mod 8 == 6. From cursor 0: slots 0..5 misaligned (+1 each), slot 6
        // fits (list 122) -> found 6; cursor 8.
        // Bookkeeping offset = orig & 0x3fff & 0x7ff = 0x200: alloc_size[6] = 4096 - 0x200 = 3584,
        // alloc_size[7] = 3584 - 2048 = 1536. pad = 0xa00 >> 11 = 1 -> data slot 7, pad_slots[7] = 1,
        // orig_addr[7] = orig (nr_slots(4096) - 1 = 1 data slot); slot 6 keeps no original.
        // tlb = S + 7*2048 + (0xa00 & 0x7ff) = S + 0x3a00, whose low 14 bits equal orig's (0x3a00).
        long orig = 0x1234_7a00L;
        long tlb = m.map(0, 0x3fff, orig, 1000, 0xfff);
        assertThat(tlb).isEqualTo(S + 0x3a00);
        assertThat(tlb & 0x3fff).isEqualTo(orig & 0x3fff);
        assertThat(pool.areaIndex(0)).isEqualTo(8);
        assertThat(pool.padSlots(7)).isEqualTo(1);
        assertThat(pool.padSlots(6)).isZero();
        assertThat(pool.origAddr(6)).isEqualTo(IoTlbPool.INVALID_PHYS_ADDR);
        assertThat(pool.origAddr(7)).isEqualTo(orig);
        assertThat(new long[] {pool.allocSize(6), pool.allocSize(7)}).containsExactly(3584, 1536);
        assertThat(m.lists(0, 9)).containsExactly(6, 5, 4, 3, 2, 1, 0, 0, 120);
        pool.checkInvariants(); // a used pad slot without an original is legal

        // Release: offset = tlb & 0x3fff & 0x7ff = 0x200, index = (0x3a00 - 0x200) >> 11 = 7, minus pad_slots[7]
        // -> 6, nslots = nr_slots(alloc_size[6] + 0x200) = nr_slots(4096) = 2: both slots come back.
        assertThat(m.unmap(tlb, 0x3fff)).isEqualTo(2);
        assertThat(pool.padSlots(7)).isZero();
        assertThat(m.lists(0, 128)).containsExactly(descending(128));
        assertThat(pool.used()).isZero();
        pool.checkInvariants();
    }

    @Test
    void padSlotFromBit11OfTheOffsetWithA4KibGranule() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        // min_align 0xfff, alloc_align 0xfff, orig 0x12345a00: offset = orig & 0xfff = 0xa00 (bit 11 set),
        // size = ALIGN(1000 + 0xa00, 4096) = 4096 -> 2 slots. iam = 0xfff & ~0xfff = 0, aam 0xfff, stride 2.
        // Cursor 0 aligned, list 128 -> found 0. pad 1 -> data slot 1, tlb = S + 2048 + 0x200 = S + 0xa00.
        long tlb = m.map(0, 0xfff, 0x1234_5a00L, 1000, 0xfff);
        assertThat(tlb).isEqualTo(S + 0xa00);
        assertThat(pool.padSlots(1)).isEqualTo(1);
        assertThat(new long[] {pool.allocSize(0), pool.allocSize(1)}).containsExactly(3584, 1536);
        assertThat(m.unmap(tlb, 0xfff)).isEqualTo(2);
        pool.checkInvariants();
    }

    @Test
    void anOriginalOfZeroSkipsTheMinAlignTest() {
        // swiotlb_alloc passes orig 0: only the alloc-alignment test applies. NVMe mask, 4096 bytes: iam 0x800,
        // no page rule, aam 0x7ff. Cursor 1 (after a 512-byte map): slot 1 has bit 11 set, orig 0 has not, but
        // the orig test is skipped -> found 1.
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        m.map(0x40000, 512);
        int slot = pool.findSlots(0, S, Bits.U64_MAX, NVME_MIN_ALIGN, 0, 4096, 0, 4096);
        assertThat(slot).isEqualTo(1);
        // With a non-zero orig whose bit 11 is clear the same request must skip the odd slot 3 (cursor 3).
        int next = pool.findSlots(0, S, Bits.U64_MAX, NVME_MIN_ALIGN, 0x10000, 4096, 0, 4096);
        assertThat(next).isEqualTo(4);
    }

    @Test
    void sixtyFourKibPagesAlignPageSizedMapsTo32Slots() {
        // PAGE_SIZE 64 KiB: the page rule applies from 64 KiB and aligns to 32 slots.
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool, Bits.U64_MAX, 65536);
        m.map(0x40000, 512);
        // 4096 bytes is below PAGE_SIZE there: no page rule, stride 1 -> slot 1 (slots 1-2), cursor 3.
        assertThat(m.map(0x200000, 4096)).isEqualTo(S + 2048);
        // 64 KiB: aam 0xffff, stride 32. Cursor 3: slots 3..31 misaligned (+1 each), slot 32 = S + 0x10000 (S is
        // 64 KiB aligned), list[32] = 96 -> found 32.
        assertThat(m.map(0x100000, 65536)).isEqualTo(S + 0x10000);
        assertThat(pool.areaIndex(0)).isEqualTo(64);
    }

    @Test
    void constructorValidatesGeometryAndInitialisesTheFreeList() {
        assertThatThrownBy(() -> new IoTlbPool(S, 100, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("multiple of 128");
        assertThatThrownBy(() -> new IoTlbPool(S, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new IoTlbPool(S, 384, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> new IoTlbPool(S, 128, 256)).isInstanceOf(IllegalArgumentException.class);
        IoTlbPool one = new IoTlbPool(S, 1, 1); // 5.0 swiotlb=noforce
        assertThat(one.list(0)).isEqualTo(1);
        assertThat(one.end()).isEqualTo(S + 2048);

        IoTlbPool pool = new IoTlbPool(S, 512, 4);
        assertThat(pool.areaNslabs()).isEqualTo(128);
        assertThat(pool.nareas()).isEqualTo(4);
        assertThat(pool.end()).isEqualTo(S + 512 * 2048);
        assertThat(pool.contains(S)).isTrue();
        assertThat(pool.contains(S - 1)).isFalse();
        assertThat(pool.contains(pool.end() - 1)).isTrue();
        assertThat(pool.contains(pool.end())).isFalse();
        assertThat(pool.contains(Bits.U64_MAX)).isFalse();
        assertThat(pool.slotOf(S + 5 * 2048 + 77)).isEqualTo(5);
        assertThat(pool.slotAddr(5)).isEqualTo(S + 5 * 2048);
        for (int seg = 0; seg < 4; seg++) {
            assertThat(new TlbMapper(pool).lists(seg * 128, seg * 128 + 128)).containsExactly(descending(128));
        }
        for (int s = 0; s < 512; s++) {
            assertThat(pool.origAddr(s)).isEqualTo(IoTlbPool.INVALID_PHYS_ADDR);
        }
        assertThat(countingDown(5, 3)).containsExactly(5, 4, 3); // helper sanity
    }

    @Test
    void nrSlotsAndSpanBoundaryHelpers() {
        assertThat(IoTlbPool.nrSlots(0)).isZero();
        assertThat(IoTlbPool.nrSlots(1)).isEqualTo(1);
        assertThat(IoTlbPool.nrSlots(2048)).isEqualTo(1);
        assertThat(IoTlbPool.nrSlots(2049)).isEqualTo(2);
        assertThat(IoTlbPool.nrSlots(0xffff_0000L)).isEqualTo(0x1f_ffe0L);
        // (shift + index) & (size - 1), then + nr > size.
        assertThat(IoTlbPool.spanBoundary(30, 2, 0, 32)).isFalse(); // 30 + 2 = 32
        assertThat(IoTlbPool.spanBoundary(30, 3, 0, 32)).isTrue();
        assertThat(IoTlbPool.spanBoundary(0, 32, 0x1f_ffe0L, 1L << 21)).isFalse();
        assertThat(IoTlbPool.spanBoundary(0, 33, 0x1f_ffe0L, 1L << 21)).isTrue();
        assertThat(IoTlbPool.spanBoundary(32, 128, 0x1f_ffe0L, 1L << 21)).isFalse();
    }

    @Test
    void aZeroSlotRequestOrABadAreaIsABug() {
        IoTlbPool pool = new IoTlbPool(S, 256, 2);
        assertThatThrownBy(() -> pool.searchArea(0, S, Bits.U64_MAX, 0, 0x1000, 0, 0, 4096))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BUG_ON");
        assertThatThrownBy(() -> pool.searchArea(2, S, Bits.U64_MAX, 0, 0x1000, 512, 0, 4096))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSecondReleaseOfAPlainMappingFreesNothingBecauseItsAllocSizeWasCleared() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        TlbMapper m = new TlbMapper(pool);
        long tlb = m.map(0x1000, 512);
        assertThat(m.unmap(tlb)).isEqualTo(1);
        // alloc_size[0] is 0 now and the offset is 0: nslots = nr_slots(0) = 0.
        assertThat(m.unmap(tlb)).isZero();
        assertThat(pool.used()).isZero();
        pool.checkInvariants();
    }

    @Test
    void checkInvariantsCatchesADoubleReleaseAndAMissingOriginal() {
        // 5.0's release takes nslots from the caller, so a double unmap drives the used count negative.
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        int slot = pool.searchGlobal(S, 0xffff_ffffL, 512, 4096, false);
        pool.recordOrig50(slot, 0x1000, 512);
        pool.release50(S, 512);
        pool.release50(S, 512);
        assertThatThrownBy(pool::checkInvariants)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("area 0");

        IoTlbPool other = new IoTlbPool(S, 256, 1);
        other.findSlots(0, S, Bits.U64_MAX, 0, 0x1000, 512, 0, 4096); // taken but never recorded
        assertThatThrownBy(other::checkInvariants)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no original address");
    }
}
