package dev.dmalab.swiotlb;

import static dev.dmalab.swiotlb.TlbMapper.descending;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden tests of the 4.20–5.x slot search ({@code swiotlb_tbl_map_single} of 5.0 with its single {@code
 * io_tlb_index}) and release ({@code swiotlb_tbl_unmap_single}), worked out by hand from the rules of spec §3.5 and
 * the fact sheet A.3 / C.1. Notation as in {@link IoTlbPoolSearch612Test}; "index" is {@code io_tlb_index}.
 */
class IoTlbPoolSearch50Test {
    static final long S = IoTlbPoolSearch612Test.S;
    static final long PCI_BOUNDARY = 0xffff_ffffL;

    /** {@code swiotlb_tbl_map_single} (5.0) on a pool whose bus address is its start: the tlb, or -1. */
    static long map(IoTlbPool pool, long boundary, long orig, long size, boolean earlyExit) {
        int index = pool.searchGlobal(pool.start(), boundary, size, 4096, earlyExit);
        if (index < 0) {
            return -1;
        }
        pool.recordOrig50(index, orig, size);
        return pool.slotAddr(index);
    }

    static long map(IoTlbPool pool, long orig, long size) {
        return map(pool, PCI_BOUNDARY, orig, size, false);
    }

    static int[] lists(IoTlbPool pool, int from, int to) {
        return new TlbMapper(pool).lists(from, to);
    }

    @Test
    void startIndexIsRoundedUpToTheStride() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        // 512 bytes: nslots 1, stride 1, index 0 -> found 0; index = 0 + 1 = 1.
        assertThat(map(pool, 0x1000, 512)).isEqualTo(S);
        assertThat(pool.areaIndex(0)).isEqualTo(1);
        // 4096 bytes: stride PAGE_SIZE / 2048 = 2; index = roundup(1, 2) = 2; list[2] = 126 -> found 2; index 4.
        assertThat(map(pool, 0x2000, 4096)).isEqualTo(S + 2 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(4);
        // 512 bytes: roundup(4, 1) = 4 -> found 4; index 5. Slot 1 stays free.
        assertThat(map(pool, 0x3000, 512)).isEqualTo(S + 4 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(5);
        // 4096 bytes again: roundup(5, 2) = 6 -> found 6; index 8.
        assertThat(map(pool, 0x4000, 4096)).isEqualTo(S + 6 * 2048);
        assertThat(lists(pool, 0, 9)).containsExactly(0, 1, 0, 0, 0, 1, 0, 0, 120);
        pool.checkInvariants();
    }

    @Test
    void theStrideIsRelativeToThePoolIndexNotTheDmaAddressAndNoOffsetIsKept() {
        // 5.0 steps by 2 from index 0 whatever the address: on a pool starting at an odd 2 KiB boundary a page-sized
        // map lands on slot 0, which is not page aligned (6.12 would take slot 1, see the 6.12 test).
        IoTlbPool pool = new IoTlbPool(0x7bdc_e800L, 256, 1);
        assertThat(map(pool, 0x1234, 4096)).isEqualTo(0x7bdc_e800L);
        // The original's low bits (0x234) are not carried: the bounce address is always slot aligned.
        assertThat(map(pool, 0x9f0, 512) % 2048).isZero();
    }

    @Test
    void pageSizedMapsOnlyTryEvenIndexes() {
        IoTlbPool pool = new IoTlbPool(S, 128, 1);
        long[] tlb = new long[128];
        for (int s = 0; s < 128; s++) {
            tlb[s] = map(pool, 0x100000 + s * 2048L, 512);
        }
        // The last one (slot 127): 127 + 1 = 128 is not < nslabs -> index 0.
        assertThat(pool.areaIndex(0)).isZero();
        pool.release50(tlb[3], 512);
        pool.release50(tlb[4], 512);
        assertThat(lists(pool, 2, 6)).containsExactly(0, 2, 1, 0);
        // 4096 bytes (nslots 2, stride 2) from index 0: 0, 2 (list 0), 4 (list 1 < 2), 6, ..., 126, then 128 -> 0
        // == wrap -> not found, although slots 3-4 are a free pair.
        assertThat(map(pool, 0x800000, 4096)).isEqualTo(-1);
        // 3000 bytes: also 2 slots but stride 1: 0, 1, 2 used, 3: list 2 >= 2 -> found 3; index 5.
        assertThat(map(pool, 0x900000, 3000)).isEqualTo(S + 3 * 2048);
        assertThat(pool.areaIndex(0)).isEqualTo(5);
        pool.checkInvariants();
    }

    @Test
    void runsSkipPositionsThatCrossTheBoundaryWindow() {
        // Pool at 0xffff0000 with the 5.0 default boundary 0xffffffff: offset_slots = ALIGN(0xffff0000, 2048) >> 11
        // = 0x1fffe0, max_slots = ALIGN(2^32, 2048) >> 11 = 2^21; a run crosses iff ((0x1fffe0 + i) mod 2^21) + n
        // > 2^21, i.e. for i < 32 iff i + n > 32.
        IoTlbPool pool = new IoTlbPool(0xffff_0000L, 256, 1);
        // 16 slots at index 0: 0 + 16 <= 32 -> found 0; index 16.
        assertThat(map(pool, 0x1000, 32 * 1024)).isEqualTo(0xffff_0000L);
        // 32 slots (stride 2): 16, 18, ..., 30 cross -> skipped; 32: offset 0 -> no crossing, list[32] = 96 ->
        // found 32 (4 GiB exactly); index 64.
        assertThat(map(pool, 0x100000, 64 * 1024)).isEqualTo(0x1_0000_0000L);
        assertThat(pool.areaIndex(0)).isEqualTo(64);
        assertThat(lists(pool, 16, 32)).containsExactly(descending(16));
        pool.checkInvariants();
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theBoundarySkipLoopDetectsTheWrapAndGivesUp() {
        // Boundary 0xffff: max_slots 32. A 33-slot request crosses at every index: the inner skip loop steps by 2
        // from index 0 until it comes back to wrap (0) -> not found instead of looping forever.
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        assertThat(map(pool, 0xffff, 0x1000, 33 * 2048, false)).isEqualTo(-1);
        // A 32-slot request fits the first window: index 0, 0 + 32 <= 32.
        assertThat(map(pool, 0xffff, 0x1000, 32 * 2048, false)).isEqualTo(S);
        // From index 32 (a window start) 32 slots again fit at 32.
        assertThat(map(pool, 0xffff, 0x1000, 32 * 2048, false)).isEqualTo(S + 32 * 2048);
        // With index 64, a 4-slot map at 62 would cross: after 30 one-slot maps (64..93), a 4-slot map starts at
        // roundup(94, 2) = 94: (94 mod 32) = 30, 30 + 4 > 32 -> skip to 96 -> found 96.
        for (int i = 0; i < 30; i++) {
            map(pool, 0xffff, 0x2000, 512, false);
        }
        assertThat(pool.areaIndex(0)).isEqualTo(94);
        assertThat(map(pool, 0xffff, 0x3000, 8192, false)).isEqualTo(S + 96 * 2048);
        pool.checkInvariants();
    }

    @Test
    void indexIsFoundPlusNslotsAndZeroAtTheEnd() {
        IoTlbPool pool = new IoTlbPool(S, 128, 1);
        // 126 slots: index 126. Then 4096 at roundup(126, 2) = 126, list[126] = 2 -> found; 128 is not < 128 -> 0.
        assertThat(map(pool, 0x1000, 126 * 2048)).isEqualTo(S);
        assertThat(pool.areaIndex(0)).isEqualTo(126);
        assertThat(map(pool, 0x2000, 4096)).isEqualTo(S + 126 * 2048);
        assertThat(pool.areaIndex(0)).isZero();
        // Full: a walk from 0 around the whole pool finds nothing.
        assertThat(map(pool, 0x3000, 512)).isEqualTo(-1);
        assertThat(pool.areaIndex(0)).isZero();
    }

    @ParameterizedTest(name = "earlyExit={0}")
    @ValueSource(booleans = {false, true})
    void exactlyEnoughFreeSlotsSucceedAndOneTooFewFails(boolean earlyExit) {
        // 5.1+ fails at once when nslots > nslabs - used; 5.0 walks. Either way a request for exactly the free
        // count succeeds when those slots form one run, and one more fails.
        IoTlbPool pool = new IoTlbPool(S, 128, 1);
        assertThat(map(pool, PCI_BOUNDARY, 0x1000, 124 * 2048, earlyExit)).isEqualTo(S);
        // 4 free slots (124..127), index 124.
        assertThat(map(pool, PCI_BOUNDARY, 0x2000, 5 * 2048, earlyExit)).isEqualTo(-1);
        assertThat(map(pool, PCI_BOUNDARY, 0x2000, 4 * 2048, earlyExit)).isEqualTo(S + 124 * 2048);
        assertThat(pool.used()).isEqualTo(128);
        assertThat(map(pool, PCI_BOUNDARY, 0x3000, 1, earlyExit)).isEqualTo(-1);
    }

    @Test
    void releaseFreesTheCallersSizeNotTheMappedOne() {
        IoTlbPool pool = new IoTlbPool(S, 128, 1);
        // 5000 bytes: 3 slots (0..2), stride 2.
        long tlb = map(pool, 0x1000, 5000);
        assertThat(tlb).isEqualTo(S);
        assertThat(new long[] {pool.origAddr(0), pool.origAddr(1), pool.origAddr(2)})
                .containsExactly(0x1000, 0x1000 + 2048, 0x1000 + 4096);
        // Unmap with 2048 bytes: nslots 1 -> count = list[1] = 0 -> list[0] = 1; slots 1-2 stay used (a leak).
        assertThat(pool.release50(tlb, 2048)).isEqualTo(1);
        assertThat(lists(pool, 0, 4)).containsExactly(1, 0, 0, 125);
        assertThat(pool.used()).isEqualTo(2);
        // Unmap the rest at slot 1 with 4096 bytes: count = list[3] = 125 -> 126, 127; then slot 0 (list 1) -> 128.
        assertThat(pool.release50(S + 2048, 4096)).isEqualTo(2);
        assertThat(lists(pool, 0, 128)).containsExactly(descending(128));
        assertThat(pool.used()).isZero();
        pool.checkInvariants();
    }

    @Test
    void releaseMergesAfterInTheSameSegmentAndRenumbersBefore() {
        IoTlbPool pool = new IoTlbPool(S, 256, 1);
        long a = map(pool, 0x1000, 120 * 2048); // 0..119
        long b = map(pool, 0x2000, 8 * 2048); // 120..127
        long c = map(pool, 0x3000, 512); // 128
        assertThat(new long[] {a, b, c}).containsExactly(S, S + 120 * 2048, S + 128 * 2048);
        // Free c (slot 128): count = list[129] = 127 -> 128; slot 127 is at offset 127 -> no walk back.
        pool.release50(c, 512);
        assertThat(pool.list(128)).isEqualTo(128);
        // Free b (120..127): 128 is not < ALIGN(121, 128) = 128 -> count 0 -> 8..1; slot 119 used.
        pool.release50(b, 8 * 2048);
        assertThat(lists(pool, 118, 129)).containsExactly(0, 0, 8, 7, 6, 5, 4, 3, 2, 1, 128);
        // Free a: count = list[120] = 8 -> 9..128.
        pool.release50(a, 120 * 2048);
        assertThat(lists(pool, 0, 128)).containsExactly(descending(128));
        assertThat(pool.origAddr(0)).isEqualTo(IoTlbPool.INVALID_PHYS_ADDR);
        pool.checkInvariants();
    }

    @Test
    void aZeroSizeIsABug() {
        IoTlbPool pool = new IoTlbPool(S, 128, 1);
        assertThatThrownBy(() -> pool.searchGlobal(S, PCI_BOUNDARY, 0, 4096, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BUG_ON");
    }

    @Test
    void anAllOnesBoundaryHasNoWindow() {
        // mask + 1 == 0 -> max_slots = 2^(64 - 11): the pool straddling 4 GiB is one window.
        IoTlbPool pool = new IoTlbPool(0xffff_0000L, 256, 1);
        assertThat(map(pool, -1L, 0x1000, 32 * 1024, false)).isEqualTo(0xffff_0000L);
        assertThat(map(pool, -1L, 0x2000, 64 * 1024, false)).isEqualTo(0xffff_0000L + 16 * 2048);
    }
}
