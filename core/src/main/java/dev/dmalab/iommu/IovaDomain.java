package dev.dmalab.iommu;

import dev.dmalab.util.SimClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.TreeMap;

/**
 * The IOVA allocator of one DMA domain: models {@code struct iova_domain} and the functions of {@code
 * drivers/iommu/iova.c} as Linux 6.12 runs them ({@code init_iova_domain}, {@code reserve_iova}, {@code alloc_iova},
 * {@code __alloc_and_insert_iova_range}, {@code iova_find_limit}, {@code free_iova}, {@code remove_iova}, {@code
 * alloc_iova_fast}, {@code free_iova_fast} and the rcache: {@code iova_rcache_get/insert}, the magazines, the depot
 * and {@code iova_depot_work_func}), with the corrections of {@code validated-iova.md} §5–§7.
 *
 * <h2>Notation</h2>
 *
 * All quantities are in granules ("pfns" of IOVA space, {@code granule = 2^shift} bytes). A <em>node</em> is an
 * allocated or reserved range {@code [pfnLo, pfnHi]}; nodes never overlap. The <em>anchor</em> is a node at {@code
 * [~0, ~0]} above everything. {@code limit} is an exclusive upper bound (the kernel's {@code limit_pfn + 1}).
 * {@code dma32bitPfn = 2^(32-shift)} is the first pfn above 4 GiB.
 *
 * <h2>The tree walk</h2>
 *
 * Allocation is <em>top-down first fit</em> with natural alignment: with {@code alignMask = ~0 << fls(size-1)} a
 * candidate under a ceiling {@code high} is {@code (high - size) & alignMask}. The walk starts at a cached node —
 * {@code cached32Node} for limits at or below 4 GiB, {@code cachedNode} above — and steps to lower nodes while the
 * candidate still collides with the node below ({@code candidate <= below.pfnHi}) and stays above the floor:
 *
 * <pre>
 *   high = min(high, curr.pfnLo);  candidate = (high - size) &amp; alignMask;  curr = curr.prev
 *   ... repeat while curr exists, candidate &lt;= curr.pfnHi and candidate &gt;= low
 * </pre>
 *
 * <p>The arithmetic is unsigned and wraps ({@code high - size} below zero becomes huge, which the
 * {@code high < size} test then rejects). If the walk fails, it is retried once over the part the cached node had
 * skipped — {@code [retryPfn + 1, limit)} with {@code retryPfn} the cached node's {@code pfnHi}, starting at the
 * lowest node whose {@code pfnHi >= limit} (the anchor when the limit is above 4 GiB, {@code iova_find_limit}) —
 * and if that fails too, {@code max32AllocSize} is set to the size (whatever the limit), so that later requests of
 * that size or more under 4 GiB fail at once, until a tree free below 4 GiB resets it.
 *
 * <p>A new node becomes the cached node of its half ({@code __cached_rbnode_insert_update}); freeing a node at or
 * above a cached node moves that cache to the freed node's successor, <em>before</em> the node leaves the tree
 * ({@code __cached_rbnode_delete_update}). Reservations never touch the caches.
 *
 * <h2>The rcache</h2>
 *
 * Sizes of fewer than 32 granules are rounded up to a power of two in {@code alloc_iova_fast}; sizes up to 32
 * granules are cached on free, per size class {@code order_base_2(size)} (the class of a free comes from the
 * unrounded size, which lands in the same class). Per class and CPU there are two magazines of 127 pfns, {@code
 * loaded} and {@code prev}; per class a LIFO depot of full magazines. A cached pfn stays a node of the tree — the
 * walk still sees it as taken — until the depot work, a retry after failure, or the rcache flush returns it.
 *
 * <ul>
 *   <li>insert: push on {@code loaded} if not full; else swap with {@code prev} if that is not full, and push; else
 *       push {@code loaded} on the depot, schedule the depot work (100 ms, unless pending), start an empty {@code
 *       loaded} and push.
 *   <li>get: use {@code loaded} if not empty; else swap with a non-empty {@code prev}; else pop the depot's head
 *       (the empty {@code loaded} is freed). In the magazine, scan from the top for the first pfn {@code <= limit -
 *       size}; take it and move the top entry into its place. No fitting pfn: fall back to the tree.
 *   <li>depot work: if the depot holds more magazines than CPUs are online, pop one, free its pfns to the tree in
 *       index order and reschedule.
 * </ul>
 *
 * <h2>Worked example</h2>
 *
 * A fresh domain with {@code start_pfn = 1} and no reservations, limit 4 GiB (exclusive pfn {@code 0x100000}): a
 * 1-granule allocation starts at the anchor, {@code high = 0x100000}, candidate {@code 0xfffff}, nothing below:
 * pfn {@code 0xfffff} (IOVA {@code 0xfffff000}). A 23-granule one is rounded to 32 and aligned to 32: from the
 * cached node {@code 0xfffff}, candidate {@code (0xfffff - 32) & ~31 = 0xfffc0}: pfn {@code 0xfffc0}. Had it come
 * first, it would have taken {@code 0xfffe0} — the AHCI domain's first coherent buffer in the VT-d capture ({@code
 * dma_addr=fffe0000 size=91392}). Freeing the 1-granule range puts pfn {@code 0xfffff} on class 0's {@code loaded}
 * magazine; the next 1-granule allocation gets it back from there without touching the tree.
 *
 * <h2>Implementation notes</h2>
 *
 * Nodes form a doubly linked list in address order (so {@code rb_prev}/{@code rb_next} are pointer steps) indexed by
 * a {@code TreeMap} on {@code pfnLo} for lookups. The walk itself is independent of the rbtree's shape, as
 * validated-iova §6 observes, so an ordered map reproduces it exactly. Magazines are reused from a free list; an
 * rcache hit and an rcache insert allocate nothing.
 *
 * <p>Deliberate differences: the 6.0+ retry runs at most once (the kernel would loop if {@code retryPfn + 1} were
 * the start pfn, which no domain reaches); {@code best_fit} and {@code CONFIG_IOMMU_LIMIT_IOVA_ALIGNMENT} are vendor
 * additions and not modelled; no locking (the model runs one operation at a time, on the CPU it names).
 */
public final class IovaDomain {
    /** {@code IOVA_ANCHOR}: the anchor node's pfn, all ones. */
    public static final long ANCHOR_PFN = -1L;
    /** {@code IOVA_MAG_SIZE} (6.0+). */
    public static final int MAG_SIZE = 127;
    /** {@code IOVA_RANGE_CACHE_MAX_SIZE}: size classes 0..5, so up to 32 granules are cached. */
    public static final int RANGE_CACHE_MAX_SIZE = 6;
    /** {@code IOVA_DEPOT_DELAY}, milliseconds. */
    public static final int DEPOT_DELAY_MS = 100;

    /** An allocated or reserved range of IOVA pfns. */
    static final class Node {
        long pfnLo;
        long pfnHi;
        Node prev;
        Node next;
        final boolean reserved;

        Node(long pfnLo, long pfnHi, boolean reserved) {
            this.pfnLo = pfnLo;
            this.pfnHi = pfnHi;
            this.reserved = reserved;
        }
    }

    /** {@code struct iova_magazine}. */
    static final class Magazine {
        final long[] pfns = new long[MAG_SIZE];
        int size;
        Magazine next;

        boolean full() {
            return size == MAG_SIZE;
        }

        boolean empty() {
            return size == 0;
        }
    }

    /** {@code struct iova_rcache}: one size class. */
    private final class Rcache {
        final Magazine[] loaded;
        final Magazine[] prev;
        Magazine depot;
        int depotSize;
        /** When the depot work is due, or -1 when it is not pending. */
        long workDueNs = -1;

        Rcache(int cpus) {
            loaded = new Magazine[cpus];
            prev = new Magazine[cpus];
            for (int c = 0; c < cpus; c++) {
                loaded[c] = newMagazine();
                prev[c] = newMagazine();
            }
        }
    }

    private final long granule;
    private final int shift;
    private final long startPfn;
    private final long dma32bitPfn;
    private final int cpus;
    private final TimerModel timers;
    private final SimClock clock;
    private final TreeMap<Long, Node> index = new TreeMap<>(Long::compareUnsigned);
    private final Node anchor = new Node(ANCHOR_PFN, ANCHOR_PFN, true);
    private Node lowest = anchor;
    private Node cachedNode = anchor;
    private Node cached32Node = anchor;
    private long max32AllocSize;
    private final Rcache[] rcaches = new Rcache[RANGE_CACHE_MAX_SIZE];
    private Magazine spare;
    private long nextWorkDueNs = Long.MAX_VALUE;

    private boolean lastFromRcache;
    private long allocatedPages;
    private long rcacheHits;
    private long treeAllocs;
    private long treeFrees;
    private long allocFailures;
    private long rcacheFlushes;
    private long depotTrims;

    /**
     * {@code init_iova_domain} and {@code iova_domain_init_rcaches}.
     *
     * @param granuleShift log2 of the granule (12 for VT-d)
     * @param startPfn the lowest pfn handed out ({@code base_pfn}, at least 1)
     * @param cpus possible CPUs (per-CPU magazines); also the online count the depot work keeps
     * @param timers when delayed work (the depot trim) runs
     * @param clock simulated time
     */
    public IovaDomain(int granuleShift, long startPfn, int cpus, TimerModel timers, SimClock clock) {
        if (startPfn < 1) {
            throw new IllegalArgumentException("start pfn must be at least 1, got " + startPfn);
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("at least one CPU");
        }
        this.shift = granuleShift;
        this.granule = 1L << granuleShift;
        this.startPfn = startPfn;
        this.dma32bitPfn = 1L << (32 - granuleShift);
        this.max32AllocSize = dma32bitPfn;
        this.cpus = cpus;
        this.timers = timers;
        this.clock = clock;
        index.put(ANCHOR_PFN, anchor);
        for (int i = 0; i < RANGE_CACHE_MAX_SIZE; i++) {
            rcaches[i] = new Rcache(cpus);
        }
    }

    public long granule() {
        return granule;
    }

    public int shift() {
        return shift;
    }

    public long startPfn() {
        return startPfn;
    }

    public long dma32bitPfn() {
        return dma32bitPfn;
    }

    public long max32AllocSize() {
        return max32AllocSize;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Tree

    private static boolean ult(long a, long b) {
        return Long.compareUnsigned(a, b) < 0;
    }

    private static boolean ule(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0;
    }

    /** {@code fls_long(x)}: the 1-based index of the highest set bit, 0 for 0. */
    static int fls(long x) {
        return 64 - Long.numberOfLeadingZeros(x);
    }

    /** {@code order_base_2(n)}: ceil(log2(n)), 0 for 1. */
    static int orderBase2(long n) {
        return n <= 1 ? 0 : fls(n - 1);
    }

    /** The rounding of {@code alloc_iova_fast}: a power of two below 32 granules, unchanged from 32 on. */
    public static long roundForCache(long size) {
        if (size >= 1L << (RANGE_CACHE_MAX_SIZE - 1) || size <= 1) {
            return size;
        }
        return Long.highestOneBit(size - 1) << 1;
    }

    private void linkAfter(Node below, Node n) {
        // n goes between below (may be null) and the node above below
        Node above = below == null ? lowest : below.next;
        n.prev = below;
        n.next = above;
        above.prev = n;
        if (below == null) {
            lowest = n;
        } else {
            below.next = n;
        }
        index.put(n.pfnLo, n);
        if (!n.reserved) {
            allocatedPages += n.pfnHi - n.pfnLo + 1;
        }
    }

    private void unlink(Node n) {
        if (n.prev == null) {
            lowest = n.next;
        } else {
            n.prev.next = n.next;
        }
        n.next.prev = n.prev;
        index.remove(n.pfnLo);
        if (!n.reserved) {
            allocatedPages -= n.pfnHi - n.pfnLo + 1;
        }
    }

    /** {@code private_find_iova}: the node holding {@code pfn}, or null. */
    Node find(long pfn) {
        Long key = index.floorKey(pfn);
        if (key == null) {
            return null;
        }
        Node n = index.get(key);
        return ule(pfn, n.pfnHi) ? n : null;
    }

    /**
     * {@code reserve_iova}: takes {@code [pfnLo, pfnHi]} out of the allocatable space. Overlapping nodes are widened
     * and the rest inserted, as the kernel does ({@code __adjust_overlap_range}); the cached nodes are untouched.
     */
    public void reserve(long pfnLo, long pfnHi) {
        if (ult(pfnHi, pfnLo)) {
            throw new IllegalArgumentException("empty reservation");
        }
        boolean overlap = false;
        for (Node n = lowest; n != null; n = n.next) {
            if (ule(pfnLo, n.pfnHi) && ule(n.pfnLo, pfnHi)) {
                if (ult(pfnLo, n.pfnLo)) {
                    if (!n.reserved) {
                        allocatedPages += n.pfnLo - pfnLo;
                    }
                    index.remove(n.pfnLo);
                    n.pfnLo = pfnLo;
                    index.put(n.pfnLo, n);
                }
                if (ult(n.pfnHi, pfnHi)) {
                    pfnLo = n.pfnHi + 1;
                }
                if (ule(n.pfnLo, pfnLo) && ule(pfnHi, n.pfnHi)) {
                    return;
                }
                overlap = true;
            } else if (overlap) {
                break;
            }
        }
        Long below = index.lowerKey(pfnLo);
        linkAfter(below == null ? null : index.get(below), new Node(pfnLo, pfnHi, true));
    }

    /** {@code iova_find_limit}: where the retry walk starts. */
    private Node findLimit(long limit) {
        if (ult(dma32bitPfn, limit)) {
            return anchor;
        }
        Node n = lowest;
        while (ult(n.pfnHi, limit)) {
            n = n.next;
        }
        return n;
    }

    /**
     * {@code alloc_iova(iovad, size, limit_pfn, true)} → {@code __alloc_and_insert_iova_range(size, limit_pfn + 1)}.
     *
     * @param limit exclusive upper pfn ({@code limit_pfn + 1})
     * @return the new node's {@code pfnLo}, or 0 on failure
     */
    long allocTree(long size, long limit) {
        long alignMask = -1L << fls(size - 1);
        if (ule(limit, dma32bitPfn) && !ult(size, max32AllocSize)) {
            return 0;
        }
        long high = limit;
        long low = startPfn;
        Node curr = ule(limit, dma32bitPfn) ? cached32Node : cachedNode;
        long retryPfn = curr.pfnHi;
        boolean retried = false;
        long newPfn;
        Node above;
        while (true) {
            do {
                if (ult(curr.pfnLo, high)) {
                    high = curr.pfnLo;
                }
                newPfn = (high - size) & alignMask;
                above = curr;
                curr = curr.prev;
            } while (curr != null && ule(newPfn, curr.pfnHi) && !ult(newPfn, low));
            if (ult(high, size) || ult(newPfn, low)) {
                if (!retried && low == startPfn && ult(retryPfn, limit)) {
                    retried = true;
                    high = limit;
                    low = retryPfn + 1;
                    curr = findLimit(limit);
                    continue;
                }
                max32AllocSize = size;
                return 0;
            }
            break;
        }
        insert(above.prev, newPfn, size);
        treeAllocs++;
        return newPfn;
    }

    /** Links an allocation above {@code below} and makes it its half's cached node ({@code __cached_rbnode_insert_update}). */
    private void insert(Node below, long pfn, long size) {
        Node n = new Node(pfn, pfn + size - 1, false);
        linkAfter(below, n);
        if (ult(n.pfnHi, dma32bitPfn)) {
            cached32Node = n;
        } else {
            cachedNode = n;
        }
    }

    /** {@code remove_iova}: the cache update ({@code __cached_rbnode_delete_update}), then the erase. */
    private void removeNode(Node n) {
        Node c32 = cached32Node;
        if (n == c32 || (ult(n.pfnHi, dma32bitPfn) && !ult(n.pfnLo, c32.pfnLo))) {
            cached32Node = n.next;
        }
        if (ult(n.pfnLo, dma32bitPfn)) {
            max32AllocSize = dma32bitPfn;
        }
        if (!ult(n.pfnLo, cachedNode.pfnLo)) {
            cachedNode = n.next;
        }
        unlink(n);
        treeFrees++;
    }

    /** {@code free_iova}: frees the node holding {@code pfn} to the tree; false if there is none. */
    public boolean freeTree(long pfn) {
        Node n = find(pfn);
        if (n == null || n == anchor) {
            return false;
        }
        removeNode(n);
        return true;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fast path: the rcache

    private Magazine newMagazine() {
        Magazine m = spare;
        if (m == null) {
            return new Magazine();
        }
        spare = m.next;
        m.next = null;
        m.size = 0;
        return m;
    }

    private void freeMagazine(Magazine m) {
        m.size = 0;
        m.next = spare;
        spare = m;
    }

    /**
     * {@code alloc_iova_fast}: round, try the rcache of {@code cpu}, then the tree; on a tree failure with {@code
     * flushRcache}, return every cached pfn to the tree and retry once.
     *
     * @param limitPfn the highest pfn the range may end at (inclusive, the kernel's {@code limit_pfn})
     * @return the first pfn, or 0
     */
    public long allocFast(long size, long limitPfn, boolean flushRcache, int cpu) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive");
        }
        size = roundForCache(size);
        long pfn = rcacheGet(size, limitPfn + 1, cpu);
        if (pfn != 0) {
            lastFromRcache = true;
            rcacheHits++;
            return pfn;
        }
        lastFromRcache = false;
        while (true) {
            pfn = allocTree(size, limitPfn + 1);
            if (pfn != 0) {
                return pfn;
            }
            if (!flushRcache) {
                allocFailures++;
                return 0;
            }
            flushRcache = false;
            flushRcaches();
        }
    }

    /** {@code free_iova_fast}: into {@code cpu}'s rcache when the size is cacheable, else to the tree. */
    public void freeFast(long pfn, long size, int cpu) {
        if (rcacheInsert(pfn, size, cpu)) {
            return;
        }
        freeTree(pfn);
    }

    private long rcacheGet(long size, long limit, int cpu) {
        int cls = orderBase2(size);
        if (cls >= RANGE_CACHE_MAX_SIZE) {
            return 0;
        }
        Rcache rc = rcaches[cls];
        Magazine loaded = rc.loaded[cpu];
        if (loaded.empty()) {
            if (!rc.prev[cpu].empty()) {
                rc.loaded[cpu] = rc.prev[cpu];
                rc.prev[cpu] = loaded;
            } else if (rc.depot != null) {
                freeMagazine(loaded);
                Magazine m = rc.depot;
                rc.depot = m.next;
                m.next = null;
                rc.depotSize--;
                rc.loaded[cpu] = m;
            } else {
                return 0;
            }
        }
        return pop(rc.loaded[cpu], limit - size);
    }

    /** {@code iova_magazine_pop}: the topmost pfn {@code <= bound}, swapped out; 0 if none fits. */
    private static long pop(Magazine m, long bound) {
        int i = m.size - 1;
        while (ult(bound, m.pfns[i])) {
            if (i == 0) {
                return 0;
            }
            i--;
        }
        long pfn = m.pfns[i];
        m.pfns[i] = m.pfns[--m.size];
        return pfn;
    }

    private boolean rcacheInsert(long pfn, long size, int cpu) {
        int cls = orderBase2(size);
        if (cls >= RANGE_CACHE_MAX_SIZE) {
            return false;
        }
        Rcache rc = rcaches[cls];
        Magazine loaded = rc.loaded[cpu];
        if (loaded.full()) {
            if (!rc.prev[cpu].full()) {
                rc.loaded[cpu] = rc.prev[cpu];
                rc.prev[cpu] = loaded;
            } else {
                loaded.next = rc.depot;
                rc.depot = loaded;
                rc.depotSize++;
                if (rc.workDueNs < 0) {
                    rc.workDueNs = timers.expiryNs(clock.nowNs(), DEPOT_DELAY_MS);
                    nextWorkDueNs = Math.min(nextWorkDueNs, rc.workDueNs);
                }
                rc.loaded[cpu] = newMagazine();
            }
        }
        Magazine m = rc.loaded[cpu];
        m.pfns[m.size++] = pfn;
        return true;
    }

    /** {@code iova_magazine_free_pfns}: every pfn of {@code m} back to the tree, in index order. */
    private void freeMagazinePfns(Magazine m) {
        for (int i = 0; i < m.size; i++) {
            Node n = find(m.pfns[i]);
            if (n != null && n != anchor) {
                removeNode(n);
            }
        }
        m.size = 0;
    }

    /** {@code free_cpu_cached_iovas} for every CPU, then {@code free_global_cached_iovas}. */
    public void flushRcaches() {
        rcacheFlushes++;
        for (int cpu = 0; cpu < cpus; cpu++) {
            for (Rcache rc : rcaches) {
                freeMagazinePfns(rc.loaded[cpu]);
                freeMagazinePfns(rc.prev[cpu]);
            }
        }
        for (Rcache rc : rcaches) {
            while (rc.depot != null) {
                Magazine m = rc.depot;
                rc.depot = m.next;
                rc.depotSize--;
                freeMagazinePfns(m);
                freeMagazine(m);
            }
        }
    }

    /** When the earliest pending depot work is due, or {@link Long#MAX_VALUE}. */
    public long nextWorkDueNs() {
        return nextWorkDueNs;
    }

    /**
     * Runs every depot work due at or before {@code nowNs}, in time order (then size class), each at its own due
     * time ({@code iova_depot_work_func}).
     */
    public void runWorkUntil(long nowNs) {
        while (nextWorkDueNs <= nowNs) {
            int cls = -1;
            long due = Long.MAX_VALUE;
            for (int i = 0; i < RANGE_CACHE_MAX_SIZE; i++) {
                if (rcaches[i].workDueNs >= 0 && rcaches[i].workDueNs < due) {
                    due = rcaches[i].workDueNs;
                    cls = i;
                }
            }
            Rcache rc = rcaches[cls];
            rc.workDueNs = -1;
            if (rc.depotSize > cpus) {
                Magazine m = rc.depot;
                rc.depot = m.next;
                rc.depotSize--;
                freeMagazinePfns(m);
                freeMagazine(m);
                depotTrims++;
                rc.workDueNs = timers.expiryNs(due, DEPOT_DELAY_MS);
            }
            nextWorkDueNs = Long.MAX_VALUE;
            for (Rcache r : rcaches) {
                if (r.workDueNs >= 0) {
                    nextWorkDueNs = Math.min(nextWorkDueNs, r.workDueNs);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Replay support

    /** Whether the last {@link #allocFast} was served by the rcache. */
    public boolean lastFromRcache() {
        return lastFromRcache;
    }

    /**
     * One-step replay: makes the domain hold {@code [pfn, pfn + size)} as the kernel's allocation although the model
     * chose otherwise. If the range is a cached pfn of the size's class on some CPU it is taken out of that
     * magazine (as the kernel's rcache hit would); else if the space is free a node is inserted as the tree would
     * (updating the cached node). Returns false if the space is held by something else (the model then does not
     * hold it).
     */
    public boolean adopt(long pfn, long size) {
        size = roundForCache(size);
        int cls = orderBase2(size);
        if (cls < RANGE_CACHE_MAX_SIZE && takeCached(rcaches[cls], pfn)) {
            return true;
        }
        Node below = null;
        for (Node n = lowest; n != anchor; n = n.next) {
            if (ule(pfn, n.pfnHi) && ule(n.pfnLo, pfn + size - 1)) {
                return false;
            }
            if (ult(n.pfnHi, pfn)) {
                below = n;
            } else {
                break;
            }
        }
        insert(below, pfn, size);
        return true;
    }

    private boolean takeCached(Rcache rc, long pfn) {
        for (int c = 0; c < cpus; c++) {
            if (takeFrom(rc.loaded[c], pfn) || takeFrom(rc.prev[c], pfn)) {
                return true;
            }
        }
        Magazine before = null;
        for (Magazine m = rc.depot; m != null; before = m, m = m.next) {
            if (takeFrom(m, pfn)) {
                if (m.empty()) { // the kernel's depot holds full magazines only: an emptied one leaves it
                    if (before == null) {
                        rc.depot = m.next;
                    } else {
                        before.next = m.next;
                    }
                    m.next = null;
                    rc.depotSize--;
                    freeMagazine(m);
                }
                return true;
            }
        }
        return false;
    }

    private static boolean takeFrom(Magazine m, long pfn) {
        for (int i = m.size - 1; i >= 0; i--) {
            if (m.pfns[i] == pfn) {
                m.pfns[i] = m.pfns[--m.size];
                return true;
            }
        }
        return false;
    }

    /**
     * One-step replay: undoes the model's own allocation of {@code pfn} that the kernel did not make — back on top
     * of {@code cpu}'s loaded magazine when it came from the rcache, out of the tree otherwise (without the cache
     * update a free would make, since the allocation never happened).
     */
    public void unallocate(long pfn, long size, boolean fromRcache, int cpu) {
        if (fromRcache) {
            rcacheInsert(pfn, roundForCache(size), cpu);
            return;
        }
        Node n = find(pfn);
        if (n == null || n == anchor || n.reserved) {
            return;
        }
        if (cachedNode == n) {
            cachedNode = n.next;
        }
        if (cached32Node == n) {
            cached32Node = n.next;
        }
        unlink(n);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Inspection

    /**
     * Granules held by allocations in the tree (not reservations): the live mappings, plus what waits in a flush
     * queue or sits in the rcache's magazines, which the tree still counts as allocated.
     */
    public long allocatedPages() {
        return allocatedPages;
    }

    /** A range of the tree: {@code [pfnLo, pfnHi]}, and whether it is a reservation. */
    public record Range(long pfnLo, long pfnHi, boolean reserved) {}

    /** The tree's nodes in address order, without the anchor (allocates). */
    public List<Range> ranges() {
        List<Range> out = new ArrayList<>();
        for (Node n = lowest; n != anchor; n = n.next) {
            out.add(new Range(n.pfnLo, n.pfnHi, n.reserved));
        }
        return out;
    }

    /** The pfns held in {@code cpu}'s magazines and the depot of size class {@code cls}, top of each first. */
    public long[] cached(int cls) {
        Rcache rc = rcaches[cls];
        List<Long> out = new ArrayList<>();
        for (int c = 0; c < cpus; c++) {
            for (Magazine m : new Magazine[] {rc.loaded[c], rc.prev[c]}) {
                for (int i = m.size - 1; i >= 0; i--) {
                    out.add(m.pfns[i]);
                }
            }
        }
        for (Magazine m = rc.depot; m != null; m = m.next) {
            for (int i = m.size - 1; i >= 0; i--) {
                out.add(m.pfns[i]);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Full magazines in the depot of size class {@code cls}. */
    public int depotSize(int cls) {
        return rcaches[cls].depotSize;
    }

    /** The cached node's {@code pfnLo} ({@link #ANCHOR_PFN} for the anchor). */
    public long cachedNodePfn() {
        return cachedNode.pfnLo;
    }

    /** The 32-bit cached node's {@code pfnLo} ({@link #ANCHOR_PFN} for the anchor). */
    public long cached32NodePfn() {
        return cached32Node.pfnLo;
    }

    public long rcacheHits() {
        return rcacheHits;
    }

    public long treeAllocs() {
        return treeAllocs;
    }

    public long treeFrees() {
        return treeFrees;
    }

    public long allocFailures() {
        return allocFailures;
    }

    public long rcacheFlushes() {
        return rcacheFlushes;
    }

    public long depotTrims() {
        return depotTrims;
    }

    /**
     * Checks the invariants: nodes in strictly increasing, non-overlapping order ending at the anchor; the index
     * agrees with the list; {@link #allocatedPages()} is the sum of the allocations' sizes; the cached nodes are in the tree; every cached pfn is the start of a non-reserved node
     * and is cached once; the depot counts agree.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    public void checkInvariants() {
        int count = 0;
        long pages = 0;
        Node prevNode = null;
        for (Node n = lowest; n != null; n = n.next) {
            count++;
            if (!n.reserved) {
                pages += n.pfnHi - n.pfnLo + 1;
            }
            if (n.prev != prevNode) {
                throw new IllegalStateException("broken prev link at pfn " + Long.toHexString(n.pfnLo));
            }
            if (ult(n.pfnHi, n.pfnLo)) {
                throw new IllegalStateException("inverted node " + Long.toHexString(n.pfnLo));
            }
            if (prevNode != null && !ult(prevNode.pfnHi, n.pfnLo)) {
                throw new IllegalStateException("overlapping nodes at pfn " + Long.toHexString(n.pfnLo));
            }
            if (index.get(n.pfnLo) != n) {
                throw new IllegalStateException("index disagrees at pfn " + Long.toHexString(n.pfnLo));
            }
            prevNode = n;
        }
        if (prevNode != anchor || count != index.size()) {
            throw new IllegalStateException("list and index differ: " + count + " vs " + index.size());
        }
        if (pages != allocatedPages) {
            throw new IllegalStateException(
                    "allocated pages counted " + allocatedPages + " but the tree holds " + pages);
        }
        if (index.get(cachedNode.pfnLo) != cachedNode || index.get(cached32Node.pfnLo) != cached32Node) {
            throw new IllegalStateException("a cached node is not in the tree");
        }
        HashSet<Long> seen = new HashSet<>();
        for (int cls = 0; cls < RANGE_CACHE_MAX_SIZE; cls++) {
            int depot = 0;
            for (Magazine m = rcaches[cls].depot; m != null; m = m.next) {
                depot++;
                if (m.empty()) {
                    throw new IllegalStateException("an empty magazine in the depot of class " + cls);
                }
            }
            if (depot != rcaches[cls].depotSize) {
                throw new IllegalStateException("depot size " + rcaches[cls].depotSize + " but " + depot + " held");
            }
            for (long pfn : cached(cls)) {
                Node n = index.get(pfn);
                if (n == null || n.reserved) {
                    throw new IllegalStateException("cached pfn " + Long.toHexString(pfn) + " is not an allocation");
                }
                if (!seen.add(pfn)) {
                    throw new IllegalStateException("pfn " + Long.toHexString(pfn) + " cached twice");
                }
            }
        }
    }
}
