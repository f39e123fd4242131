package dev.dmalab.swiotlb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.dmalab.testing.Seeds;
import dev.dmalab.util.Bits;
import dev.dmalab.util.SeededRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Randomized maps and unmaps of {@link IoTlbPool} in both generations, each step checked against the pool's own
 * invariants, an independent reference allocator and the kernel's placement rules:
 *
 * <ul>
 *   <li>{@link IoTlbPool#checkInvariants()};
 *   <li>the slot chosen equals the reference's. The reference ({@link Ref612}, {@link Ref50}) is written from the
 *       kernel's rules over a plain {@code boolean[]} of used slots (a run fits when its slots are free and inside
 *       one segment), so it shares nothing with the model's {@code list} encoding;
 *   <li>{@code list} is exactly the canonical encoding of the used set; counts and cursors agree;
 *   <li>no two live mappings overlap; each respects its alignment (page rule, alloc_align_mask, min_align_mask
 *       bits of the original), never crosses a 128-slot segment or a boundary-mask window;
 *   <li>after freeing everything the pool equals a fresh one except for the cursors.
 * </ul>
 *
 * The seed is printed and is in every assertion message; replay a failure with {@code -Ddmalab.seed=N}.
 */
class IoTlbPoolRandomizedTest {
    static final int STEPS = 2500;

    /** Pool geometries per seed. */
    static final int ROUNDS = 4;

    static Stream<Long> seeds() {
        return Seeds.seeds().stream();
    }

    /** A live mapping as the test remembers it. */
    record Live(long tlb, int first, int nslots, long orig, long minAlign, long mappingSize) {}

    // -------------------------------------------------------------------------------------------------------------
    // 6.12

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void modernSearchKeepsInvariantsAndMatchesTheReference(long seed) {
        SeededRandom rnd = Seeds.random("IoTlbPoolRandomizedTest.modern", seed);
        for (int round = 0; round < ROUNDS; round++) {
            modernRound(seed, round, rnd);
        }
    }

    private static void modernRound(long seed, int round, SeededRandom rnd) {
        int nslabs = 128 << rnd.nextInt(5); // 128 .. 2048
        int maxAreaShift = Integer.numberOfTrailingZeros(nslabs / 128);
        int nareas = 1 << rnd.nextInt(maxAreaShift + 1);
        long pageSize = pick(rnd, 4096L, 4096L, 4096L, 16384L, 65536L);
        long boundary = pick(rnd, Bits.U64_MAX, 0xffff_ffffL, 0xf_ffffL, 0x3_ffffL, 0xffffL);
        long start = poolStart(rnd, nslabs, pageSize);
        String geometry = String.format(
                "seed=%d round=%d nslabs=%d nareas=%d page=%d boundary=%s start=%s",
                seed, round, nslabs, nareas, pageSize, Bits.hex0x(boundary), Bits.hex0x(start));
        System.out.println("[dmalab]   " + geometry);

        IoTlbPool pool = new IoTlbPool(start, nslabs, nareas);
        IoTlbPool fresh = new IoTlbPool(start, nslabs, nareas);
        TlbMapper m = new TlbMapper(pool, boundary, pageSize);
        Ref612 ref = new Ref612(nslabs, nareas, m.tblDma, boundary, pageSize);
        List<Live> live = new ArrayList<>();
        int maps = 0;
        int failures = 0;

        for (int step = 0; step < STEPS; step++) {
            boolean doMap = live.isEmpty() || rnd.nextInt(100) < 58;
            if (rnd.nextInt(1000) == 0) {
                freeAll(pool, live, ref, geometry + " step=" + step);
                continue;
            }
            if (doMap) {
                int cpu = rnd.nextInt(16);
                long minAlign = pick(rnd, 0L, 0L, 0L, 0xfffL, 0xfffL, 0x3fffL, 0x7ffL);
                long allocAlign = rnd.nextInt(100) < 75 ? 0 : pick(rnd, 0xfffL, 0x1fffL, 0x3fffL);
                long orig = rnd.nextInt(20) == 0 ? 0 : rnd.nextLong(1, 1L << 40);
                long mappingSize = mappingSize(rnd);
                String ctx = geometry + " step=" + step + " map cpu=" + cpu + " minAlign=" + Bits.hex0x(minAlign)
                        + " allocAlign=" + Bits.hex0x(allocAlign) + " orig=" + Bits.hex0x(orig) + " size="
                        + mappingSize;

                long offset = orig & minAlign & (allocAlign | 2047);
                long size = Bits.alignUp(mappingSize + offset, allocAlign + 1);
                int nslots = (int) IoTlbPool.nrSlots(size);
                int expected = ref.find(cpu, minAlign, orig, size, allocAlign);
                long tlb = m.map(cpu, minAlign, orig, mappingSize, allocAlign);
                if (expected < 0) {
                    assertThat(tlb).as(ctx + ": reference found no slot").isEqualTo(-1);
                    failures++;
                } else {
                    int pad = (int) (offset >>> 11);
                    assertThat(tlb)
                            .as(ctx + ": reference chose slot " + expected)
                            .isEqualTo(pool.slotAddr(expected + pad) + (offset & 2047));
                    checkPlacement(pool, m, ref, expected, nslots, orig, minAlign, allocAlign, size, ctx);
                    ref.take(expected, nslots);
                    live.add(new Live(tlb, expected, nslots, orig, minAlign, mappingSize));
                    maps++;
                }
                checkState(pool, ref, live, ctx);
            } else {
                Live l = live.remove(rnd.nextInt(live.size()));
                String ctx = geometry + " step=" + step + " unmap " + l;
                assertThat(pool.release(l.tlb(), l.minAlign()))
                        .as(ctx + ": slots freed")
                        .isEqualTo(l.nslots());
                ref.free(l.first(), l.nslots());
                checkState(pool, ref, live, ctx);
            }
        }
        freeAll(pool, live, ref, geometry + " end");
        assertFreshExceptCursors(pool, fresh, geometry);
        System.out.println("[dmalab]   " + maps + " maps, " + failures + " refused");
        assertThat(maps).as(geometry + ": the run must exercise the allocator").isGreaterThan(STEPS / 4);
    }

    private static void checkPlacement(
            IoTlbPool pool,
            TlbMapper m,
            Ref612 ref,
            int first,
            int nslots,
            long orig,
            long minAlign,
            long allocAlign,
            long size,
            String ctx) {
        int last = first + nslots - 1;
        for (int s = first; s <= last; s++) {
            assertThat(ref.used[s])
                    .as(ctx + ": slot " + s + " is already mapped (overlap)")
                    .isFalse();
        }
        assertThat(first / 128)
                .as(ctx + ": run " + first + ".." + last + " crosses a segment")
                .isEqualTo(last / 128);
        long maxSlots = (m.boundaryMask >>> 11) + 1;
        long window = (IoTlbPool.nrSlots(m.tblDma) + first) & (maxSlots - 1);
        assertThat(window + nslots)
                .as(ctx + ": run at " + first + " crosses a boundary window")
                .isLessThanOrEqualTo(maxSlots);
        long t = m.tblDma + ((long) first << 11);
        long aam = allocAlign;
        if (aam == 0 && minAlign == 0 && size >= m.pageSize) {
            aam = m.pageSize - 1;
        }
        aam |= 2047;
        assertThat(t & aam)
                .as(ctx + ": slot " + first + " violates alloc alignment " + Bits.hex0x(aam))
                .isZero();
        if (orig != 0) {
            long iam = minAlign & ~aam;
            assertThat(t & iam)
                    .as(ctx + ": slot " + first + " does not carry orig's min_align bits")
                    .isEqualTo(orig & iam);
            long pad = (orig & minAlign & (allocAlign | 2047)) >>> 11;
            long tlbDma = t + (pad << 11) + (orig & minAlign & 2047);
            assertThat(tlbDma & minAlign)
                    .as(ctx + ": bounce address keeps orig & min_align_mask")
                    .isEqualTo(orig & minAlign);
        }
        long pad = (orig & minAlign & (allocAlign | 2047)) >>> 11;
        assertThat(pool.origAddr(first + (int) pad))
                .as(ctx + ": recorded original")
                .isEqualTo(orig);
        assertThat(pool.allocSize(first))
                .as(ctx + ": alloc_size of the first slot")
                .isEqualTo(size - (orig & minAlign & 2047));
        assertThat(pool.padSlots(first + (int) pad)).as(ctx + ": pad_slots").isEqualTo((int) pad);
    }

    private static void checkState(IoTlbPool pool, Ref612 ref, List<Live> live, String ctx) {
        assertThatCode(pool::checkInvariants).as(ctx).doesNotThrowAnyException();
        assertListIsCanonical(pool, ref.used, ctx);
        long total = 0;
        for (Live l : live) {
            total += l.nslots();
        }
        assertThat(pool.used()).as(ctx + ": used slots").isEqualTo(total);
        for (int a = 0; a < pool.nareas(); a++) {
            assertThat(pool.areaUsed(a)).as(ctx + ": area " + a + " used").isEqualTo(ref.areaUsed[a]);
            assertThat(pool.areaIndex(a)).as(ctx + ": area " + a + " cursor").isEqualTo(ref.cursor[a]);
        }
    }

    private static void freeAll(IoTlbPool pool, List<Live> live, Ref612 ref, String ctx) {
        for (Live l : live) {
            assertThat(pool.release(l.tlb(), l.minAlign()))
                    .as(ctx + " free-all " + l)
                    .isEqualTo(l.nslots());
            ref.free(l.first(), l.nslots());
        }
        live.clear();
        checkState(pool, ref, live, ctx + " after free-all");
    }

    /**
     * The 6.12 search from the kernel's rules (validated-swiotlb §3, fact sheet B.4/B.5) over a used-slot array: areas
     * from {@code cpu & (nareas - 1)} round-robin; per area an early exit, then a walk from the unrounded cursor
     * that steps 1 over misaligned slots and {@code stride} over aligned ones that do not fit, wrapping to 0 and
     * giving up after {@code area_nslabs} counted slots.
     */
    static final class Ref612 {
        final boolean[] used;
        final int nareas;
        final int areaNslabs;
        final int[] cursor;
        final long[] areaUsed;
        final long tbl;
        final long boundary;
        final long pageSize;

        Ref612(int nslabs, int nareas, long tbl, long boundary, long pageSize) {
            this.used = new boolean[nslabs];
            this.nareas = nareas;
            this.areaNslabs = nslabs / nareas;
            this.cursor = new int[nareas];
            this.areaUsed = new long[nareas];
            this.tbl = tbl;
            this.boundary = boundary;
            this.pageSize = pageSize;
        }

        int find(int cpu, long minAlign, long orig, long size, long allocAlign) {
            int startArea = cpu & (nareas - 1);
            for (int k = 0; k < nareas; k++) {
                int area = (startArea + k) % nareas;
                int slot = search(area, minAlign, orig, size, allocAlign);
                if (slot >= 0) {
                    return slot;
                }
            }
            return -1;
        }

        private int search(int area, long minAlign, long orig, long size, long allocAlign) {
            int n = (int) ((size + 2047) / 2048);
            long aam = allocAlign;
            if (aam == 0 && minAlign == 0 && size >= pageSize) {
                aam = pageSize - 1;
            }
            aam |= 2047;
            long iam = minAlign & ~aam;
            int stride = (int) (Math.max(aam, iam) / 2048) + 1;
            if (n > areaNslabs - areaUsed[area]) {
                return -1;
            }
            int index = cursor[area];
            int checked = 0;
            while (checked < areaNslabs) {
                int slot = area * areaNslabs + index;
                long t = tbl + slot * 2048L;
                boolean misaligned = (t & aam) != 0 || (orig != 0 && (t & iam) != (orig & iam));
                int step = misaligned ? 1 : stride;
                if (!misaligned && !crosses(slot, n) && fits(slot, n)) {
                    int next = index + n;
                    cursor[area] = next >= areaNslabs ? 0 : next;
                    return slot;
                }
                index += step;
                if (index >= areaNslabs) {
                    index = 0;
                }
                checked += step;
            }
            return -1;
        }

        private boolean crosses(int slot, int n) {
            long windowSlots = (boundary >>> 11) + 1;
            long offset = (tbl + 2047) / 2048;
            return ((offset + slot) % windowSlots) + n > windowSlots;
        }

        /** [slot, slot + n) is free and inside one 128-slot segment. */
        boolean fits(int slot, int n) {
            if (slot % 128 + n > 128 || slot + n > used.length) {
                return false;
            }
            for (int s = slot; s < slot + n; s++) {
                if (used[s]) {
                    return false;
                }
            }
            return true;
        }

        void take(int first, int n) {
            for (int s = first; s < first + n; s++) {
                used[s] = true;
            }
            areaUsed[first / areaNslabs] += n;
        }

        void free(int first, int n) {
            for (int s = first; s < first + n; s++) {
                used[s] = false;
            }
            areaUsed[first / areaNslabs] -= n;
        }
    }

    // -------------------------------------------------------------------------------------------------------------
    // 5.0

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void globalSearchKeepsInvariantsAndMatchesTheReference(long seed) {
        SeededRandom rnd = Seeds.random("IoTlbPoolRandomizedTest.global50", seed);
        for (int round = 0; round < ROUNDS; round++) {
            globalRound(seed, round, rnd);
        }
    }

    private static void globalRound(long seed, int round, SeededRandom rnd) {
        int nslabs = 128 << rnd.nextInt(5);
        long boundary = pick(rnd, 0xffff_ffffL, 0xffff_ffffL, 0x3_ffffL, 0xffffL, Bits.U64_MAX);
        boolean earlyExit = rnd.nextBoolean();
        long start = poolStart(rnd, nslabs, 4096);
        String geometry = String.format(
                "seed=%d round=%d nslabs=%d boundary=%s start=%s earlyExit=%b",
                seed, round, nslabs, Bits.hex0x(boundary), Bits.hex0x(start), earlyExit);
        System.out.println("[dmalab]   " + geometry);

        IoTlbPool pool = new IoTlbPool(start, nslabs, 1);
        IoTlbPool fresh = new IoTlbPool(start, nslabs, 1);
        Ref50 ref = new Ref50(nslabs, start, boundary);
        List<Live> live = new ArrayList<>();
        int maps = 0;
        for (int step = 0; step < STEPS; step++) {
            if (live.isEmpty() || rnd.nextInt(100) < 58) {
                long orig = rnd.nextLong(1, 1L << 40);
                long size = Math.min(mappingSize(rnd), 128 * 2048 + rnd.nextInt(4));
                String ctx = geometry + " step=" + step + " map orig=" + Bits.hex0x(orig) + " size=" + size;
                int expected = ref.find(size, earlyExit);
                int slot = pool.searchGlobal(start, boundary, size, 4096, earlyExit);
                assertThat(slot).as(ctx + ": slot (reference " + expected + ")").isEqualTo(expected);
                if (slot >= 0) {
                    int n = (int) IoTlbPool.nrSlots(size);
                    for (int s = slot; s < slot + n; s++) {
                        assertThat(ref.used[s]).as(ctx + ": overlap at " + s).isFalse();
                    }
                    assertThat(slot / 128).as(ctx + ": segment").isEqualTo((slot + n - 1) / 128);
                    if (size >= 4096) {
                        assertThat(slot % 2)
                                .as(ctx + ": page-sized maps start at even indexes")
                                .isZero();
                    }
                    assertThat(ref.crosses(slot, n))
                            .as(ctx + ": boundary window")
                            .isFalse();
                    pool.recordOrig50(slot, orig, size);
                    ref.take(slot, n);
                    live.add(new Live(pool.slotAddr(slot), slot, n, orig, 0, size));
                    maps++;
                }
                check50(pool, ref, live, ctx);
            } else {
                Live l = live.remove(rnd.nextInt(live.size()));
                String ctx = geometry + " step=" + step + " unmap " + l;
                assertThat(pool.release50(l.tlb(), l.mappingSize())).as(ctx).isEqualTo(l.nslots());
                ref.free(l.first(), l.nslots());
                check50(pool, ref, live, ctx);
            }
        }
        for (Live l : live) {
            pool.release50(l.tlb(), l.mappingSize());
            ref.free(l.first(), l.nslots());
        }
        live.clear();
        check50(pool, ref, live, geometry + " end");
        assertFreshExceptCursors(pool, fresh, geometry);
        System.out.println("[dmalab]   " + maps + " maps");
        assertThat(maps).as(geometry).isGreaterThan(STEPS / 4);
    }

    private static void check50(IoTlbPool pool, Ref50 ref, List<Live> live, String ctx) {
        assertThatCode(pool::checkInvariants).as(ctx).doesNotThrowAnyException();
        assertListIsCanonical(pool, ref.used, ctx);
        assertThat(pool.used()).as(ctx + ": used").isEqualTo(ref.usedCount);
        assertThat(pool.areaIndex(0)).as(ctx + ": io_tlb_index").isEqualTo(ref.index);
        long total = 0;
        for (Live l : live) {
            total += l.nslots();
        }
        assertThat(ref.usedCount).as(ctx).isEqualTo(total);
    }

    /**
     * The 5.0 search from the kernel's rules (spec §3.5, fact sheet A.3) over a used-slot array: start at
     * roundup(index, stride), stride 2 for page-sized requests, skip positions whose run crosses the boundary
     * window, stop when the walk returns to its start; index = found + nslots, or 0 at the end.
     */
    static final class Ref50 {
        final boolean[] used;
        final long offsetSlots;
        final long maxSlots;
        int index;
        long usedCount;

        Ref50(int nslabs, long tblDma, long boundary) {
            this.used = new boolean[nslabs];
            long tbl = tblDma & boundary;
            this.offsetSlots = (tbl + 2047) / 2048;
            this.maxSlots = boundary == Bits.U64_MAX ? 1L << 53 : (boundary + 1 + 2047) / 2048;
        }

        boolean crosses(int i, int n) {
            return ((offsetSlots + i) % maxSlots) + n > maxSlots;
        }

        int find(long size, boolean earlyExit) {
            int nslabs = used.length;
            int n = (int) ((size + 2047) / 2048);
            int stride = size >= 4096 ? 2 : 1;
            if (earlyExit && n > nslabs - usedCount) {
                return -1;
            }
            int i = (index + stride - 1) / stride * stride;
            if (i >= nslabs) {
                i = 0;
            }
            int wrap = i;
            do {
                while (crosses(i, n)) {
                    i = (i + stride >= nslabs) ? 0 : i + stride;
                    if (i == wrap) {
                        return -1;
                    }
                }
                if (i % 128 + n <= 128 && allFree(i, n)) {
                    index = i + n < nslabs ? i + n : 0;
                    return i;
                }
                i = (i + stride >= nslabs) ? 0 : i + stride;
            } while (i != wrap);
            return -1;
        }

        private boolean allFree(int i, int n) {
            for (int s = i; s < i + n; s++) {
                if (used[s]) {
                    return false;
                }
            }
            return true;
        }

        void take(int first, int n) {
            for (int s = first; s < first + n; s++) {
                used[s] = true;
            }
            usedCount += n;
        }

        void free(int first, int n) {
            for (int s = first; s < first + n; s++) {
                used[s] = false;
            }
            usedCount -= n;
        }
    }

    // -------------------------------------------------------------------------------------------------------------

    /** {@code list} must be the canonical free-run encoding of {@code used}. */
    static void assertListIsCanonical(IoTlbPool pool, boolean[] used, String ctx) {
        int n = used.length;
        int next = 0;
        for (int s = n - 1; s >= 0; s--) {
            int expect;
            if (used[s]) {
                expect = 0;
            } else if (s % 128 == 127 || s == n - 1) {
                expect = 1;
            } else {
                expect = next == 0 ? 1 : next + 1;
            }
            if (pool.list(s) != expect) {
                assertThat(pool.list(s)).as(ctx + ": list[" + s + "]").isEqualTo(expect);
            }
            next = expect;
        }
    }

    /** Everything but the cursors equals a fresh pool's state. */
    static void assertFreshExceptCursors(IoTlbPool pool, IoTlbPool fresh, String ctx) {
        for (int s = 0; s < pool.nslabs(); s++) {
            if (pool.list(s) != fresh.list(s)
                    || pool.origAddr(s) != fresh.origAddr(s)
                    || pool.allocSize(s) != fresh.allocSize(s)
                    || pool.padSlots(s) != fresh.padSlots(s)) {
                assertThat(new long[] {pool.list(s), pool.origAddr(s), pool.allocSize(s), pool.padSlots(s)})
                        .as(ctx + ": slot " + s + " after freeing everything")
                        .containsExactly(fresh.list(s), fresh.origAddr(s), fresh.allocSize(s), fresh.padSlots(s));
            }
        }
        for (int a = 0; a < pool.nareas(); a++) {
            assertThat(pool.areaUsed(a))
                    .as(ctx + ": area " + a + " used after freeing everything")
                    .isZero();
        }
        assertThat(pool.used()).as(ctx).isZero();
    }

    /** Sizes: mostly small, some medium, some near the 256 KiB maximum (and a few just above it). */
    static long mappingSize(SeededRandom rnd) {
        int r = rnd.nextInt(100);
        if (r < 50) {
            return rnd.nextLong(1, 2049);
        }
        if (r < 75) {
            return rnd.nextLong(2049, 16385);
        }
        if (r < 95) {
            return rnd.nextLong(16385, 200_000);
        }
        return rnd.nextLong(240_000, 262_200);
    }

    /** A page-aligned pool start: anywhere low, straddling 4 GiB, or (rarely) at an odd 2 KiB boundary. */
    static long poolStart(SeededRandom rnd, int nslabs, long pageSize) {
        long bytes = (long) nslabs << 11;
        int r = rnd.nextInt(10);
        long start;
        if (r < 4) {
            start = (1L << 32) - Bits.alignUp(rnd.nextLong(pageSize, bytes), pageSize);
        } else {
            start = Bits.alignDown(rnd.nextLong(1L << 20, 1L << 34), pageSize);
        }
        if (r == 9) {
            start += 2048;
        }
        return start;
    }

    @SafeVarargs
    static <T> T pick(SeededRandom rnd, T... options) {
        return options[rnd.nextInt(options.length)];
    }
}
