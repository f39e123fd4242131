package dev.dmalab.iommu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.util.SimClock;
import org.junit.jupiter.api.Test;

/** Golden values of the 6.12 IOVA allocator, worked out by hand from {@code iova.c}'s rules (validated-iova §5–§7). */
class IovaDomainTest {
    private static final long LIMIT32 = 0xfffffL; // DMA_BIT_MASK(32) >> 12, the kernel's inclusive limit_pfn

    private final SimClock clock = new SimClock();

    private IovaDomain domain(int cpus) {
        return new IovaDomain(12, 1, cpus, TimerModel.fixed(), clock);
    }

    @Test
    void topDownFirstFitWithNaturalAlignment() {
        IovaDomain d = domain(1);
        assertThat(d.allocFast(1, LIMIT32, true, 0)).isEqualTo(0xfffffL);
        // 23 granules round to 32 and align to 32, below the cached node 0xfffff
        assertThat(d.allocFast(23, LIMIT32, true, 0)).isEqualTo(0xfffc0L);
        // 2 granules align to 2: the hole 0xfffe0..0xffffe between them takes it from the top
        assertThat(d.allocFast(2, LIMIT32, true, 0)).isEqualTo(0xfffbeL);
        d.checkInvariants();
        assertThat(d.ranges()).extracting(IovaDomain.Range::pfnLo).containsExactly(0xfffbeL, 0xfffc0L, 0xfffffL);
    }

    @Test
    void aFirstLargeAllocationTakesTheTopAlignedSlot() {
        IovaDomain d = domain(1);
        // the AHCI domain's first dma_alloc of 91392 bytes in the VT-d capture: dma_addr=fffe0000
        assertThat(d.allocFast(23, LIMIT32, true, 0) << 12).isEqualTo(0xfffe0000L);
        // 32 granules and more are aligned to the next power of two but not padded: 33 → aligned to 64
        assertThat(d.allocFast(33, LIMIT32, true, 0)).isEqualTo(0xfff80L);
        assertThat(d.ranges().get(0).pfnHi()).isEqualTo(0xfff80L + 32);
    }

    @Test
    void freedSizesOfThirtyTwoOrLessComeBackFromTheRcacheWithoutTheTree() {
        IovaDomain d = domain(1);
        long a = d.allocFast(1, LIMIT32, true, 0);
        long b = d.allocFast(1, LIMIT32, true, 0);
        assertThat(b).isEqualTo(0xffffeL);
        d.freeFast(a, 1, 0);
        d.freeFast(b, 1, 0);
        assertThat(d.cached(0)).containsExactly(b, a); // top of the magazine first
        long treeAllocs = d.treeAllocs();
        assertThat(d.allocFast(1, LIMIT32, true, 0)).as("LIFO").isEqualTo(b);
        assertThat(d.lastFromRcache()).isTrue();
        assertThat(d.treeAllocs()).isEqualTo(treeAllocs);
        assertThat(d.ranges()).hasSize(2); // a cached pfn stays a node of the tree
        // a free of 23 granules lands in class order_base_2(23) = 5, the class of the rounded 32
        long c = d.allocFast(23, LIMIT32, true, 0);
        d.freeFast(c, 23, 0);
        assertThat(d.cached(5)).containsExactly(c);
        assertThat(d.allocFast(32, LIMIT32, true, 0)).isEqualTo(c);
        // 33 granules are not cached: straight back to the tree
        long big = d.allocFast(33, LIMIT32, true, 0);
        d.freeFast(big, 33, 0);
        assertThat(d.ranges()).extracting(IovaDomain.Range::pfnLo).doesNotContain(big);
        d.checkInvariants();
    }

    @Test
    void aPopTakesTheTopmostPfnUnderTheLimitAndSwapsTheTopIntoItsPlace() {
        IovaDomain d = domain(1);
        long high = d.allocFast(1, LIMIT32, true, 0); // 0xfffff
        long[] low = new long[3];
        d.reserve(0x80000, 0xffffe); // leave 0xfffff and the space below 2 GiB
        for (int i = 0; i < 3; i++) {
            low[i] = d.allocFast(1, 0x7ffffL, true, 0);
        }
        assertThat(low).containsExactly(0x7ffffL, 0x7fffeL, 0x7fffdL);
        d.freeFast(low[0], 1, 0);
        d.freeFast(high, 1, 0);
        d.freeFast(low[1], 1, 0);
        assertThat(d.cached(0)).containsExactly(low[1], high, low[0]);
        // a 31-bit limit skips the top (low[1] fits: it is the topmost entry) ...
        assertThat(d.allocFast(1, 0x7ffffL, true, 0)).isEqualTo(low[1]);
        // ... then the top is 0xfffff, above the limit: the scan goes down to low[0], whose slot takes the top entry
        assertThat(d.allocFast(1, 0x7ffffL, true, 0)).isEqualTo(low[0]);
        assertThat(d.cached(0)).containsExactly(high);
        d.checkInvariants();
    }

    @Test
    void aFailureUnderFourGiBSetsMax32AllocSizeUntilATreeFreeBelowFourGiB() {
        IovaDomain d = domain(1);
        d.reserve(1, 0xffff0); // 15 free pfns: 0xffff1..0xfffff
        assertThat(d.allocFast(16, LIMIT32, false, 0)).isZero();
        assertThat(d.max32AllocSize()).isEqualTo(16);
        assertThat(d.allocFast(8, LIMIT32, false, 0)).isEqualTo(0xffff8L);
        assertThat(d.allocFast(16, LIMIT32, false, 0)).as("fails fast").isZero();
        long one = d.allocFast(1, LIMIT32, false, 0);
        d.freeFast(one, 1, 0); // into the rcache: no reset
        assertThat(d.max32AllocSize()).isEqualTo(16);
        assertThat(d.freeTree(0xffff8L)).isTrue();
        assertThat(d.max32AllocSize()).as("reset by a tree free below 4 GiB").isEqualTo(0x100000L);
        d.checkInvariants();
    }

    @Test
    void aTreeFailureFlushesTheRcachesAndRetriesOnceWhenAllowed() {
        IovaDomain d = domain(2);
        d.reserve(1, 0xffff7); // 8 free pfns
        long[] got = new long[8];
        for (int i = 0; i < 8; i++) {
            got[i] = d.allocFast(1, LIMIT32, true, i % 2);
        }
        for (int i = 0; i < 8; i++) {
            d.freeFast(got[i], 1, i % 2); // cached on both CPUs, still nodes of the tree
        }
        assertThat(d.allocFast(2, LIMIT32, false, 0)).as("no flush allowed").isZero();
        assertThat(d.allocFast(2, LIMIT32, true, 0)).isEqualTo(0xffffeL);
        assertThat(d.rcacheFlushes()).isEqualTo(1);
        assertThat(d.cached(0)).isEmpty();
        d.checkInvariants();
    }

    @Test
    void reservationsWidenOverlappingNodesAndNeverMoveTheCache() {
        IovaDomain d = domain(1);
        d.reserve(0xa0, 0xbf);
        d.reserve(0x0, 0xfff); // the floppy region over the VGA window: widened below, the rest inserted above
        assertThat(d.ranges())
                .containsExactly(new IovaDomain.Range(0x0, 0xbf, true), new IovaDomain.Range(0xc0, 0xfff, true));
        d.reserve(0x100, 0x200); // inside: nothing new
        assertThat(d.ranges()).hasSize(2);
        assertThat(d.cached32NodePfn()).isEqualTo(IovaDomain.ANCHOR_PFN);
        d.checkInvariants();
    }

    @Test
    void theQ35WindowsLeaveTheCapturesThirtyTwoBitSpace() {
        IovaDomain d = domain(1);
        // host bridge windows and the MSI window of the capture (validated-iova §1)
        d.reserve(0xa0, 0xbf);
        d.reserve(0x80000, 0xaffff);
        d.reserve(0xc0000, 0xfebff);
        d.reserve(0x100000, 0x8fffff);
        d.reserve(0xfee00, 0xfeeff);
        // the top: [0xfef00000, 0xffffffff] is 0x1100 pfns = 17 MiB; then [0xfec00000, 0xfedfffff]
        long top = d.allocFast(0x800, LIMIT32, true, 0); // 8 MiB, aligned to 8 MiB
        assertThat(top).isEqualTo(0xff800L);
        assertThat(d.allocFast(0x800, LIMIT32, true, 0)).isEqualTo(0xff000L);
        // no 8 MiB-aligned 8 MiB fits in what is left above the windows: it lands in the ECAM hole
        assertThat(d.allocFast(0x800, LIMIT32, true, 0)).isEqualTo(0xbf800L);
        d.checkInvariants();
    }

    @Test
    void theDepotKeepsOneMagazinePerCpuAndTrimsTheRestEvery100ms() {
        IovaDomain d = domain(1);
        int n = 2 * IovaDomain.MAG_SIZE + 1;
        long[] pfn = new long[n];
        for (int i = 0; i < n; i++) {
            pfn[i] = d.allocFast(1, LIMIT32, true, 0);
        }
        for (int i = 0; i < n; i++) {
            d.freeFast(pfn[i], 1, 0);
        }
        // loaded and prev full (254): the 255th pushes loaded onto the depot and arms the work
        assertThat(d.depotSize(0)).isEqualTo(1);
        assertThat(d.nextWorkDueNs()).isEqualTo(100_000_000L);
        d.runWorkUntil(200_000_000L);
        assertThat(d.depotSize(0)).as("one CPU online: one magazine kept").isEqualTo(1);
        assertThat(d.depotTrims()).isZero();
        for (int i = 0; i < IovaDomain.MAG_SIZE; i++) {
            d.freeFast(d.allocFast(64, LIMIT32, true, 0), 64, 0); // uncached sizes do not touch the depot
        }
        long[] more = new long[IovaDomain.MAG_SIZE];
        for (int i = 0; i < more.length; i++) {
            more[i] = d.allocFast(1, 0xfffL, true, 0); // below 16 MiB: misses the cache (limit), from the tree
        }
        clock.advanceTo(300_000_000L);
        for (long p : more) {
            d.freeFast(p, 1, 0);
        }
        assertThat(d.depotSize(0)).isEqualTo(2);
        int nodes = d.ranges().size();
        d.runWorkUntil(Long.MAX_VALUE - 1);
        assertThat(d.depotSize(0)).isEqualTo(1);
        assertThat(d.depotTrims()).isEqualTo(1);
        assertThat(d.ranges()).hasSize(nodes - IovaDomain.MAG_SIZE);
        assertThat(d.nextWorkDueNs()).isEqualTo(Long.MAX_VALUE);
        d.checkInvariants();
    }

    @Test
    void roundingAndSizeClasses() {
        assertThat(IovaDomain.roundForCache(1)).isEqualTo(1);
        assertThat(IovaDomain.roundForCache(3)).isEqualTo(4);
        assertThat(IovaDomain.roundForCache(23)).isEqualTo(32);
        assertThat(IovaDomain.roundForCache(31)).isEqualTo(32);
        assertThat(IovaDomain.roundForCache(32)).isEqualTo(32);
        assertThat(IovaDomain.roundForCache(33)).isEqualTo(33);
        assertThat(IovaDomain.orderBase2(1)).isZero();
        assertThat(IovaDomain.orderBase2(23)).isEqualTo(5);
        assertThat(IovaDomain.orderBase2(33)).isEqualTo(6);
    }

    /**
     * One-step replay adopts the kernel's pfns out of any magazine, the depot's included, which the kernel never does:
     * a depot magazine emptied that way must not be loaded and popped (it was, and threw), and must leave the depot.
     */
    @Test
    void adoptingEveryPfnOfADepotMagazineLeavesNoEmptyMagazineBehind() {
        IovaDomain d = domain(1);
        long[] pfns = new long[255];
        for (int i = 0; i < pfns.length; i++) {
            pfns[i] = d.allocFast(1, LIMIT32, true, 0);
        }
        for (long pfn : pfns) {
            d.freeFast(pfn, 1, 0); // 127 fill the loaded magazine, 127 the next, which goes to the depot with the 255th
        }
        for (int i = 127; i < 254; i++) {
            assertThat(d.adopt(pfns[i], 1)).isTrue(); // the depot magazine's pfns, taken as the kernel's
        }
        for (int i = 0; i < 128; i++) {
            assertThat(d.allocFast(1, LIMIT32, true, 0)).isNotZero(); // the loaded and previous magazines' 128
        }
        long fromTree = d.allocFast(1, LIMIT32, true, 0);
        assertThat(d.lastFromRcache()).isFalse();
        assertThat(fromTree).isNotZero();
        d.checkInvariants();
    }
}
