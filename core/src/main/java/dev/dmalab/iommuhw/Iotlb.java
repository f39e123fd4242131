package dev.dmalab.iommuhw;

import dev.dmalab.util.LongLongMap;
import java.util.ArrayList;
import java.util.List;

/**
 * The IOTLB of an IOMMU unit: translations the hardware has walked and cached, tagged by domain. An entry stays
 * until software invalidates it — per range (a strict unmap's {@code iommu_iotlb_sync}) or for a whole domain (a
 * flush queue's {@code flush_iotlb_all}) — so after an unmap whose invalidation is deferred, a device can still
 * reach the memory the kernel has freed, as on real hardware.
 *
 * <p>Deliberate differences: unlimited capacity and no replacement, so a stale entry survives until the
 * invalidation (real IOTLBs may evict it earlier): the model shows the longest exposure hardware can give; no
 * separate paging-structure or device (ATS) caches.
 */
public final class Iotlb {
    private static final long ABSENT = -1;

    private final List<LongLongMap> byDomain = new ArrayList<>();
    private long hits;
    private long misses;
    private long pageInvalidations;
    private long domainInvalidations;

    private LongLongMap domain(int domainId) {
        while (byDomain.size() <= domainId) {
            byDomain.add(null);
        }
        LongLongMap m = byDomain.get(domainId);
        if (m == null) {
            m = new LongLongMap(64, ABSENT);
            byDomain.set(domainId, m);
        }
        return m;
    }

    /** The cached entry for IOVA pfn {@code pfn} of domain {@code domainId}, or -1 (a miss). */
    long lookup(int domainId, long pfn) {
        long e = domainId < byDomain.size() && byDomain.get(domainId) != null
                ? byDomain.get(domainId).get(pfn)
                : ABSENT;
        if (e == ABSENT) {
            misses++;
        } else {
            hits++;
        }
        return e;
    }

    void fill(int domainId, long pfn, long entry) {
        domain(domainId).put(pfn, entry);
    }

    /** Invalidates {@code granules} entries from IOVA pfn {@code pfn} of the domain (a page-selective flush). */
    public void invalidateRange(int domainId, long pfn, long granules) {
        pageInvalidations++;
        if (domainId >= byDomain.size() || byDomain.get(domainId) == null) {
            return;
        }
        LongLongMap m = byDomain.get(domainId);
        for (long i = 0; i < granules; i++) {
            m.remove(pfn + i);
        }
    }

    /** Invalidates every entry of the domain (a domain-selective flush). */
    public void invalidateDomain(int domainId) {
        domainInvalidations++;
        if (domainId < byDomain.size() && byDomain.get(domainId) != null) {
            byDomain.get(domainId).clear();
        }
    }

    /** Whether an entry for IOVA pfn {@code pfn} of the domain is cached. */
    public boolean holds(int domainId, long pfn) {
        return domainId < byDomain.size()
                && byDomain.get(domainId) != null
                && byDomain.get(domainId).containsKey(pfn);
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    public long pageInvalidations() {
        return pageInvalidations;
    }

    public long domainInvalidations() {
        return domainInvalidations;
    }
}
