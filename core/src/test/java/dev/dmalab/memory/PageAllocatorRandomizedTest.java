package dev.dmalab.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.dmalab.testing.Seeds;
import dev.dmalab.util.SeededRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random allocations (random order, highest zone, compound flag) and frees, checked after every step: the
 * allocator's own invariants, no overlap between live blocks, natural alignment, the zone restriction and the
 * fallback ladder (a lower zone only when every allowed higher zone has no block of that order), the recorded
 * order; and at the end, after freeing everything, the same free counts and the same free blocks as a fresh
 * allocator. The seed is printed and in every message; replay with {@code -Ddmalab.seed=N}.
 */
class PageAllocatorRandomizedTest {
    static final long MIB = 1L << 20;
    static final int STEPS = 2500;
    static final int MAX_ORDER = 8;

    static Stream<Long> seeds() {
        return Seeds.seeds().stream();
    }

    /** DMA below 16 MiB, DMA32 below 40 MiB; RAM with a hole (a reservation) and an unaligned first bank. */
    static PageAllocator fresh() {
        PageAllocator a =
                new PageAllocator(PageSize.SIZE_4K, MAX_ORDER, new ZoneLayout(16 * MIB, 40 * MIB, true, true));
        a.seed(List.of(new long[] {0x1000, 0x9f000}, new long[] {MIB, 16 * MIB + 0x3000}, new long[] {
            20 * MIB, 48 * MIB - 0x5000
        }));
        return a;
    }

    record Block(long pfn, int order, boolean compound) {}

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void randomAllocAndFreeKeepTheBuddyInvariants(long seed) {
        SeededRandom rnd = Seeds.random("PageAllocatorRandomizedTest", seed);
        PageAllocator a = fresh();
        long[] initialFree = new long[Zone.values().length];
        for (Zone z : Zone.values()) {
            initialFree[z.ordinal()] = a.freePages(z);
        }
        long initialTotal = a.totalFreePages();
        TreeMap<Long, Block> live = new TreeMap<>();
        List<Long> heads = new ArrayList<>();
        int allocs = 0;
        int refused = 0;
        for (int step = 0; step < STEPS; step++) {
            String ctx = "seed=" + seed + " step=" + step;
            if (heads.isEmpty() || rnd.nextInt(100) < 60) {
                int order = rnd.nextInt(100) < 70 ? rnd.nextInt(3) : rnd.nextInt(MAX_ORDER + 2);
                Zone highest = Zone.values()[rnd.nextInt(3)];
                boolean compound = rnd.nextBoolean();
                ctx += " alloc order=" + order + " zone=" + highest + " compound=" + compound;
                long pfn = a.alloc(order, highest, compound);
                if (pfn < 0) {
                    refused++;
                    for (int z = highest.ordinal(); z >= 0; z--) {
                        assertThat(a.allocInZone(order, Zone.values()[z], false))
                                .as(ctx + ": alloc failed but zone " + Zone.values()[z] + " has a block")
                                .isEqualTo(-1);
                    }
                } else {
                    allocs++;
                    checkBlock(a, live, pfn, order, highest, ctx);
                    assertThat(a.allocationOrder(pfn)).as(ctx).isEqualTo(order);
                    assertThat(a.compoundOrder(pfn)).as(ctx).isEqualTo(compound ? order : 0);
                    live.put(pfn, new Block(pfn, order, compound));
                    heads.add(pfn);
                }
            } else {
                long pfn = heads.remove(rnd.nextInt(heads.size()));
                Block b = live.remove(pfn);
                ctx += " free " + b;
                a.free(pfn, b.order());
                assertThat(a.isAllocated(pfn)).as(ctx).isFalse();
            }
            final String c = ctx;
            assertThatCode(a::checkInvariants).as(c).doesNotThrowAnyException();
            long liveTotal = 0;
            for (Block b : live.values()) {
                liveTotal += 1L << b.order();
            }
            assertThat(a.totalFreePages() + liveTotal)
                    .as(ctx + ": pages are conserved")
                    .isEqualTo(initialTotal);
        }
        for (long pfn : heads) {
            a.free(pfn, live.get(pfn).order());
        }
        String end = "seed=" + seed + " after freeing everything";
        assertThatCode(a::checkInvariants).as(end).doesNotThrowAnyException();
        for (Zone z : Zone.values()) {
            assertThat(a.freePages(z)).as(end + " " + z).isEqualTo(initialFree[z.ordinal()]);
        }
        assertThat(drain(a)).as(end + ": free blocks equal a fresh allocator's").isEqualTo(drain(fresh()));
        System.out.println("[dmalab]   " + allocs + " allocations, " + refused + " refused");
        assertThat(allocs).as("seed=" + seed).isGreaterThan(STEPS / 3);
        assertThat(refused)
                .as("seed=" + seed + ": the run must also exhaust zones")
                .isPositive();
    }

    private static void checkBlock(
            PageAllocator a, TreeMap<Long, Block> live, long pfn, int order, Zone highest, String ctx) {
        ZoneLayout zones = a.zones();
        long last = pfn + (1L << order) - 1;
        assertThat(pfn & ((1L << order) - 1)).as(ctx + ": alignment of " + pfn).isZero();
        Zone zone = zones.zoneOf(pfn << 12);
        assertThat(zones.zoneOf(last << 12))
                .as(ctx + ": block straddles a zone boundary")
                .isEqualTo(zone);
        assertThat(zone.ordinal())
                .as(ctx + ": zone " + zone + " above " + highest)
                .isLessThanOrEqualTo(highest.ordinal());
        for (int z = highest.ordinal(); z > zone.ordinal(); z--) {
            assertThat(a.allocInZone(order, Zone.values()[z], false))
                    .as(ctx + ": fell back to " + zone + " although " + Zone.values()[z] + " had a block")
                    .isEqualTo(-1);
        }
        Map.Entry<Long, Block> below = live.floorEntry(last);
        if (below != null) {
            long belowEnd = below.getKey() + (1L << below.getValue().order());
            assertThat(belowEnd).as(ctx + ": overlaps " + below.getValue()).isLessThanOrEqualTo(pfn);
        }
    }

    /** Takes every free block, largest order first, lowest address first within a zone: the free-block set. */
    static List<String> drain(PageAllocator a) {
        List<String> out = new ArrayList<>();
        for (Zone z : Zone.values()) {
            for (int o = a.maxOrder(); o >= 0; o--) {
                long pfn;
                while ((pfn = a.allocInZone(o, z, false)) >= 0) {
                    out.add(z + ":" + o + ":" + pfn);
                }
            }
        }
        return out;
    }
}
