package dev.dmalab.iommu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.testing.Seeds;
import dev.dmalab.util.SeededRandom;
import dev.dmalab.util.SimClock;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random allocations and frees (sizes 1–80 granules, 32-bit and 39-bit limits, several CPUs, time passing so the
 * depot work runs, occasional reservations and flushes): no two live ranges overlap, every range is aligned to the
 * power of two its size rounds to and lies under its limit, the rcache never hands out a live range, and {@link
 * IovaDomain#checkInvariants()} holds throughout. The seed is printed and in every message; replay with {@code
 * -Ddmalab.seed=N}.
 */
class IovaDomainRandomizedTest {
    static Stream<Long> seeds() {
        return Seeds.seeds().stream();
    }

    private record Live(long pfn, long size) {}

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void liveRangesNeverOverlapAndRespectAlignmentAndLimits(long seed) {
        SeededRandom rnd = Seeds.random("IovaDomainRandomizedTest", seed);
        int cpus = 1 + rnd.nextInt(3);
        SimClock clock = new SimClock();
        IovaDomain d = new IovaDomain(12, 1, cpus, TimerModel.jiffies(250), clock);
        d.reserve(0xfee00, 0xfeeff); // an MSI window in the middle of the 32-bit space
        TreeMap<Long, Live> live = new TreeMap<>();
        List<Long> order = new ArrayList<>();
        String at = "seed=" + seed;
        for (int step = 0; step < 20_000; step++) {
            clock.advanceNs(rnd.nextInt(2_000_000));
            d.runWorkUntil(clock.nowNs());
            int cpu = rnd.nextInt(cpus);
            if (live.size() < 3_000 && (order.isEmpty() || rnd.nextInt(100) < 55)) {
                long size = rnd.nextInt(10) == 0 ? 33 + rnd.nextInt(48) : 1 + rnd.nextInt(32);
                boolean low = rnd.nextBoolean();
                long limitPfn = low ? 0xfffffL : (1L << 27) - 1;
                long pfn = d.allocFast(size, limitPfn, true, cpu);
                String what = at + " step " + step + " size " + size + " pfn 0x" + Long.toHexString(pfn);
                assertThat(pfn).as(what).isPositive();
                long rounded = IovaDomain.roundForCache(size);
                long align = Long.highestOneBit(rounded) == rounded ? rounded : Long.highestOneBit(rounded) << 1;
                assertThat(pfn % align).as(what + ": natural alignment").isZero();
                assertThat(pfn + rounded - 1).as(what + ": under the limit").isLessThanOrEqualTo(limitPfn);
                assertThat(pfn + rounded - 1 < 0xfee00 || pfn > 0xfeeff)
                        .as(what + ": not in the reservation")
                        .isTrue();
                var below = live.floorEntry(pfn + rounded - 1);
                if (below != null) {
                    Live b = below.getValue();
                    assertThat(b.pfn() + IovaDomain.roundForCache(b.size()) - 1 < pfn)
                            .as(what + ": overlaps the live range at 0x" + Long.toHexString(b.pfn()))
                            .isTrue();
                }
                live.put(pfn, new Live(pfn, size));
                order.add(pfn);
            } else {
                long pfn = order.remove(rnd.nextInt(order.size()));
                Live l = live.remove(pfn);
                d.freeFast(pfn, l.size(), cpu);
            }
            if (rnd.nextInt(5_000) == 0) {
                d.flushRcaches();
            }
            if (step % 997 == 0) {
                d.checkInvariants();
                for (int cls = 0; cls < IovaDomain.RANGE_CACHE_MAX_SIZE; cls++) {
                    for (long cached : d.cached(cls)) {
                        assertThat(live)
                                .as(at + ": cached pfn 0x" + Long.toHexString(cached) + " is live")
                                .doesNotContainKey(cached);
                    }
                }
            }
        }
        d.checkInvariants();
        // every live range is a node of the tree
        List<Long> nodes = d.ranges().stream().map(IovaDomain.Range::pfnLo).toList();
        assertThat(nodes).as(at).containsAll(live.keySet());
    }
}
