package dev.dmalab.memory;

import dev.dmalab.util.LongLongMap;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * A deterministic buddy allocator of page frames: models {@code mm/page_alloc.c} ({@code alloc_pages}, {@code
 * __free_pages}, compound pages) at the level DMA allocation needs.
 *
 * <h2>Model</h2>
 *
 * Free memory is kept per zone and per order as blocks of {@code 2^order} pages, each naturally aligned in pfn
 * space, never straddling a zone boundary. An allocation of order {@code n} with highest allowed zone {@code z}
 * tries {@code z} and then each lower zone (the kernel's zonelist fallback: NORMAL → DMA32 → DMA); within a zone
 * it takes the smallest order {@code >= n} that has a free block, and splits it, returning the upper halves to the
 * free lists. A freed block merges with its buddy while the buddy is free, in the same zone, and below {@code
 * MAX_PAGE_ORDER}.
 *
 * <h2>Deliberate differences from Linux</h2>
 *
 * <ul>
 *   <li>Free lists are ordered by address and the lowest block is taken, where Linux takes the head of a LIFO
 *       list. The kernel's choice depends on every allocation since boot and cannot be predicted anyway; trace
 *       replay takes coherent buffers' addresses from the trace. Address order makes dmalab runs reproducible and
 *       easy to read.
 *   <li>No per-CPU page lists, migrate types, watermarks, reclaim, compaction or NUMA nodes.
 * </ul>
 */
public final class PageAllocator {
    private static final long FLAG_COMPOUND = 1L << 8;
    private static final long ORDER_MASK = 0xff;

    private final PageSize pageSize;
    private final int maxOrder;
    private final ZoneLayout zones;
    private final List<List<TreeSet<Long>>> free = new ArrayList<>(); // [zone][order]
    private final long[] freePages = new long[Zone.values().length];
    private final long[] managedPages = new long[Zone.values().length];
    private final LongLongMap allocated = new LongLongMap(1024, -1); // head pfn -> order | flags

    public PageAllocator(PageSize pageSize, int maxOrder, ZoneLayout zones) {
        if (maxOrder < 0 || maxOrder > 20) {
            throw new IllegalArgumentException("MAX_PAGE_ORDER out of range: " + maxOrder);
        }
        this.pageSize = pageSize;
        this.maxOrder = maxOrder;
        this.zones = zones;
        for (int z = 0; z < Zone.values().length; z++) {
            List<TreeSet<Long>> orders = new ArrayList<>();
            for (int o = 0; o <= maxOrder; o++) {
                orders.add(new TreeSet<>());
            }
            free.add(orders);
        }
    }

    public PageSize pageSize() {
        return pageSize;
    }

    /** {@code MAX_PAGE_ORDER}: the largest block is {@code 2^maxOrder} pages. */
    public int maxOrder() {
        return maxOrder;
    }

    public ZoneLayout zones() {
        return zones;
    }

    /** Hands the free physical ranges (byte addresses, page aligned inward) to the allocator at boot. */
    void seed(List<long[]> ranges) {
        long page = pageSize.bytes();
        for (long[] r : ranges) {
            long startPfn = pageSize.pfnDown(r[0] + page - 1);
            long endPfn = pageSize.pfnDown(r[1]);
            for (Zone z : Zone.values()) {
                long zs = Math.max(startPfn, pageSize.pfnDown(zones.startOf(z) + page - 1));
                long zeRaw = zones.endOf(z);
                long ze = Math.min(endPfn, zeRaw == Long.MAX_VALUE ? Long.MAX_VALUE : pageSize.pfnDown(zeRaw));
                long pfn = zs;
                while (pfn < ze) {
                    int order = maxOrder;
                    while (order > 0 && ((pfn & ((1L << order) - 1)) != 0 || pfn + (1L << order) > ze)) {
                        order--;
                    }
                    managedPages[z.ordinal()] += 1L << order;
                    freeBlock(pfn, order);
                    pfn += 1L << order;
                }
            }
        }
    }

    /**
     * {@code alloc_pages(gfp, order)}: allocates {@code 2^order} contiguous pages from {@code highestZone} or a
     * lower zone.
     *
     * @param compound {@code __GFP_COMP}: the block is one compound page whose head records the order
     * @return the first pfn, or -1 if no zone can satisfy the request
     */
    public long alloc(int order, Zone highestZone, boolean compound) {
        if (order < 0 || order > maxOrder) {
            return -1;
        }
        for (int z = highestZone.ordinal(); z >= 0; z--) {
            if (!zones.exists(Zone.values()[z])) {
                continue;
            }
            long pfn = allocFromZone(z, order);
            if (pfn >= 0) {
                allocated.put(pfn, order | (compound ? FLAG_COMPOUND : 0));
                return pfn;
            }
        }
        return -1;
    }

    /** Allocation restricted to exactly one zone (for callers that walk zones themselves). */
    public long allocInZone(int order, Zone zone, boolean compound) {
        if (order < 0 || order > maxOrder || !zones.exists(zone)) {
            return -1;
        }
        long pfn = allocFromZone(zone.ordinal(), order);
        if (pfn >= 0) {
            allocated.put(pfn, order | (compound ? FLAG_COMPOUND : 0));
        }
        return pfn;
    }

    private long allocFromZone(int z, int order) {
        List<TreeSet<Long>> orders = free.get(z);
        for (int o = order; o <= maxOrder; o++) {
            TreeSet<Long> list = orders.get(o);
            if (list.isEmpty()) {
                continue;
            }
            long pfn = list.pollFirst();
            // Split: keep the lower half, return upper halves.
            for (int split = o; split > order; split--) {
                long buddy = pfn + (1L << (split - 1));
                orders.get(split - 1).add(buddy);
            }
            freePages[z] -= 1L << order;
            return pfn;
        }
        return -1;
    }

    /**
     * {@code __free_pages(page, order)}: returns a block obtained from {@link #alloc}.
     *
     * @throws IllegalStateException if {@code pfn} is not the head of a live allocation of that order — a model
     *     bug or a modelled driver's double free, which the caller must have detected first
     */
    public void free(long pfn, int order) {
        long rec = allocated.get(pfn);
        if (rec < 0) {
            throw new IllegalStateException("free of pfn " + Long.toHexString(pfn) + " which is not allocated");
        }
        if ((rec & ORDER_MASK) != order) {
            throw new IllegalStateException("free of pfn " + Long.toHexString(pfn) + " with order " + order
                    + " but it was allocated with order " + (rec & ORDER_MASK));
        }
        allocated.remove(pfn);
        freeBlock(pfn, order);
    }

    private void freeBlock(long pfn, int order) {
        Zone zone = zones.zoneOf(pageSize.pfnPhys(pfn));
        int z = zone.ordinal();
        freePages[z] += 1L << order;
        List<TreeSet<Long>> orders = free.get(z);
        while (order < maxOrder) {
            long buddy = pfn ^ (1L << order);
            if (zones.zoneOf(pageSize.pfnPhys(buddy)) != zone
                    || !orders.get(order).remove(buddy)) {
                break;
            }
            pfn = Math.min(pfn, buddy);
            order++;
        }
        orders.get(order).add(pfn);
    }

    /** Whether {@code pfn} is the head of a live allocation. */
    public boolean isAllocatedHead(long pfn) {
        return allocated.containsKey(pfn);
    }

    /** The order of the live allocation headed by {@code pfn}, or -1. */
    public int allocationOrder(long pfn) {
        long rec = allocated.get(pfn);
        return rec < 0 ? -1 : (int) (rec & ORDER_MASK);
    }

    /**
     * {@code compound_order(page)}: the order of the compound page whose head is {@code pfn}; 0 for a page that is
     * not the head of a compound page (a tail page, an order-0 page, or a non-compound multi-page allocation).
     */
    public int compoundOrder(long pfn) {
        long rec = allocated.get(pfn);
        if (rec < 0 || (rec & FLAG_COMPOUND) == 0) {
            return 0;
        }
        return (int) (rec & ORDER_MASK);
    }

    /** Whether {@code pfn} is inside any live allocation. */
    public boolean isAllocated(long pfn) {
        return allocationHead(pfn) >= 0;
    }

    /** The head pfn of the live allocation containing {@code pfn}, or -1. */
    public long allocationHead(long pfn) {
        for (int o = 0; o <= maxOrder; o++) {
            long head = pfn & -(1L << o);
            long rec = allocated.get(head);
            if (rec >= 0 && (rec & ORDER_MASK) >= o) {
                return head;
            }
        }
        return -1;
    }

    public long freePages(Zone zone) {
        return freePages[zone.ordinal()];
    }

    public long managedPages(Zone zone) {
        return managedPages[zone.ordinal()];
    }

    public long totalFreePages() {
        long total = 0;
        for (long f : freePages) {
            total += f;
        }
        return total;
    }

    /**
     * Checks the allocator's invariants: free blocks are aligned, in their zone, disjoint, unmerged with a free
     * buddy, disjoint from allocations, and the free counts add up. For tests; O(free blocks × log).
     */
    public void checkInvariants() {
        TreeSet<Long> seen = new TreeSet<>();
        for (Zone zone : Zone.values()) {
            long count = 0;
            List<TreeSet<Long>> orders = free.get(zone.ordinal());
            for (int o = 0; o <= maxOrder; o++) {
                for (long pfn : orders.get(o)) {
                    if ((pfn & ((1L << o) - 1)) != 0) {
                        throw new IllegalStateException("misaligned free block " + pfn + " order " + o);
                    }
                    long last = pfn + (1L << o) - 1;
                    if (zones.zoneOf(pageSize.pfnPhys(pfn)) != zone || zones.zoneOf(pageSize.pfnPhys(last)) != zone) {
                        throw new IllegalStateException("free block " + pfn + " order " + o + " outside " + zone);
                    }
                    Long overlap = seen.ceiling(pfn);
                    if (overlap != null && overlap <= last) {
                        throw new IllegalStateException("free blocks overlap at pfn " + overlap);
                    }
                    for (long p = pfn; p <= last; p += Math.max(1, (1L << o) / 64)) {
                        if (allocationHead(p) >= 0) {
                            throw new IllegalStateException("free block " + pfn + " overlaps an allocation");
                        }
                    }
                    seen.add(pfn);
                    seen.add(last);
                    if (o < maxOrder) {
                        long buddy = pfn ^ (1L << o);
                        if (orders.get(o).contains(buddy) && zones.zoneOf(pageSize.pfnPhys(buddy)) == zone) {
                            throw new IllegalStateException("free buddies not merged: " + pfn + " and " + buddy);
                        }
                    }
                    count += 1L << o;
                }
            }
            if (count != freePages[zone.ordinal()]) {
                throw new IllegalStateException(
                        "free page count of " + zone + " is " + freePages[zone.ordinal()] + " but lists hold " + count);
            }
        }
    }
}
