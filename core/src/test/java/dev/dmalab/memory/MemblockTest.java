package dev.dmalab.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Early allocator: free ranges from the RAM banks minus reservations; top-down, aligned placement below a limit. */
class MemblockTest {
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;

    /** q35-like: low bank, 2 GiB bank with the kernel image reserved. */
    static PhysicalMemoryMap map() {
        return PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x1000, 0x9e000)
                .ram(0x10_0000, 2 * GIB - 0x10_0000)
                .reserved(0x100_0000, 0x2c0_0000, "Kernel")
                .build();
    }

    static List<String> ranges(Memblock mb) {
        return mb.freeRanges().stream()
                .map(r -> Long.toHexString(r[0]) + "-" + Long.toHexString(r[1]))
                .toList();
    }

    @Test
    void startsWithTheRamBanksMinusTheReservations() {
        Memblock mb = new Memblock(map());
        assertThat(ranges(mb)).containsExactly("1000-9f000", "100000-1000000", "3c00000-80000000");
        assertThat(mb.isFree(0x100_0000, 1)).isFalse();
        assertThat(mb.isFree(0x3c0_0000, 0x1000)).isTrue();
        assertThat(mb.isFree(0x9f000 - 0x1000, 0x1000)).isTrue();
        assertThat(mb.isFree(0x9f000 - 0x1000, 0x2000)).isFalse(); // runs into the hole
        assertThat(mb.isFree(0xff_f000, 0x2000)).isFalse(); // spans a free range and the reservation
    }

    @Test
    void anInclusiveLimitInsideRamLeavesTheLastPageFree() {
        // arm64 with RAM across 4 GiB: memblock_alloc_low passes ARCH_LOW_ADDRESS_LIMIT = 0xffffffff, so a 64 MiB
        // pool ends at 0xffffffff rounded down: [0xfbfff000, 0xfffff000), the line real arm64 boots print.
        PhysicalMemoryMap wide = PhysicalMemoryMap.builder(PageSize.SIZE_4K)
                .ram(0x8000_0000L, 4 * GIB)
                .build();
        Memblock mb = new Memblock(wide);
        assertThat(mb.allocTopDown(64 * MIB, 4096, 0xffff_ffffL)).isEqualTo(0xfbff_f000L);
        assertThat(mb.isFree(0xffff_f000L, 0x1000))
                .as("the page below 4 GiB stays free")
                .isTrue();
    }

    @Test
    void allocationIsTopDownBelowTheLimitAndAligned() {
        Memblock mb = new Memblock(map());
        // Highest 1 MiB below 4 GiB: the top of the 2 GiB bank.
        assertThat(mb.allocTopDown(MIB, 4096, 1L << 32)).isEqualTo(2 * GIB - MIB);
        assertThat(mb.allocTopDown(MIB, 4096, 1L << 32)).isEqualTo(2 * GIB - 2 * MIB);
        // Below 1 GiB: the highest range starting under the limit, clipped to it.
        assertThat(mb.allocTopDown(MIB, 4096, GIB)).isEqualTo(GIB - MIB);
        // Alignment rounds the start down: 12 KiB aligned to 64 KiB below 0x7fff8000 -> 0x7fff8000 - 0x3000 =
        // 0x7fff5000 -> 0x7fff0000. (That range is already taken: the second allocation ended at 2 GiB - 2 MiB.)
        Memblock fresh = new Memblock(map());
        assertThat(fresh.allocTopDown(0x3000, 0x1_0000, 0x7fff_8000L)).isEqualTo(0x7fff_0000L);
        assertThat(ranges(fresh)).contains("3c00000-7fff0000", "7fff3000-80000000");
    }

    @Test
    void aRangeTooSmallBelowTheLimitIsSkippedForALowerOne() {
        Memblock mb = new Memblock(map());
        // Limit just above the kernel image: the top range offers only 64 KiB below it, so 1 MiB goes into the
        // range below the image (ending at 16 MiB).
        assertThat(mb.allocTopDown(MIB, 4096, 0x3c1_0000L)).isEqualTo(0x100_0000 - MIB);
        // Nothing fits: -1 and nothing reserved.
        List<String> before = ranges(mb);
        assertThat(mb.allocTopDown(4 * GIB, 4096, 1L << 40)).isEqualTo(-1);
        assertThat(mb.allocTopDown(MIB, 4096, 0x1000)).isEqualTo(-1);
        assertThat(ranges(mb)).isEqualTo(before);
    }

    @Test
    void reserveSplitsTrimsAndIgnoresWhatIsAlreadyReserved() {
        Memblock mb = new Memblock(map());
        mb.reserve(0x5000_0000L, MIB); // middle: split
        mb.reserve(0x3b0_0000, 0x20_0000); // overlaps the kernel reservation's end: trims the range start
        mb.reserve(0x120_0000, MIB); // entirely inside the kernel reservation: no change
        mb.reserve(0x80, 0x1000); // partly below the first bank: trims its start
        assertThat(ranges(mb)).containsExactly("1080-9f000", "100000-1000000", "3d00000-50000000", "50100000-80000000");
        assertThat(mb.isFree(0x5000_0000L, 1)).isFalse();
        assertThat(mb.isFree(0x5010_0000L, 1)).isTrue();
    }

    @Test
    void freeRangesAreCopies() {
        Memblock mb = new Memblock(map());
        List<long[]> r = mb.freeRanges();
        r.get(0)[0] = 0;
        r.clear();
        assertThat(ranges(mb)).hasSize(3);
        assertThat(mb.freeRanges().get(0)[0]).isEqualTo(0x1000);
    }
}
