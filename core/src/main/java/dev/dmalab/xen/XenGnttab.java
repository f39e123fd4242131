package dev.dmalab.xen;

import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.hypervisor.XenErrno;
import dev.dmalab.hypervisor.XenFrames;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.memory.PageAllocator;
import dev.dmalab.memory.Zone;
import java.util.TreeMap;

/**
 * A backend's grant mapping in dom0 ({@code drivers/xen/grant-table.c} {@code gnttab_map_refs} / {@code
 * gnttab_unmap_refs}, with {@code xen_alloc_unpopulated_pages} / {@code alloc_xenballooned_pages} for the page):
 * dom0 takes one of its pages, hands its frame back (ballooning), and asks Xen to map the domU's granted frame there;
 * then {@code set_foreign_p2m_mapping} records the foreign frame in the kernel's p2m ({@link XenP2m}), which is what
 * makes swiotlb-xen give the device the foreign machine address.
 *
 * <p>With pages larger than 4 KiB the grant is mapped at the first Xen frame of the page, as Linux does.
 *
 * <p>Deliberate difference: the ballooned frame is not returned to Xen's heap (nothing else would allocate it during
 * a run), so unmapping simply brings the page's own frame back.
 */
public final class XenGnttab {
    private final Xen xen;
    private final Domain self;
    private final XenP2m p2m;
    private final PageAllocator pages;
    private final int pageShift;
    private final TreeMap<Long, Integer> handles = new TreeMap<>();

    public XenGnttab(XenP2m p2m, PageAllocator pages) {
        this.xen = p2m.hypervisor();
        this.self = p2m.domain();
        this.p2m = p2m;
        this.pages = pages;
        this.pageShift = pages.pageSize().shift();
    }

    /**
     * Maps {@code granter}'s grant {@code ref} into a fresh dom0 page.
     *
     * @return the page's physical address in dom0
     * @throws IllegalStateException if Xen refuses the mapping (the status is in the message)
     */
    @KernelFunction("gnttab_map_refs")
    public long mapForeign(Domain granter, int ref, boolean readOnly) {
        long pfn = pages.alloc(0, Zone.NORMAL, false);
        if (pfn < 0) {
            throw new IllegalStateException("dom0 has no page left to map a grant into");
        }
        long gfn = (pfn << pageShift) >>> XenFrames.SHIFT;
        Xen.MapResult r = xen.mapGrantRef(self, granter, ref, gfn, readOnly);
        if (r.status() != XenErrno.GNTST_OKAY) {
            pages.free(pfn, 0);
            throw new IllegalStateException(
                    "GNTTABOP_map_grant_ref of " + granter + " ref " + ref + " failed: status " + r.status());
        }
        p2m.setForeign(gfn, r.devBusAddr() >>> XenFrames.SHIFT);
        handles.put(pfn << pageShift, r.handle());
        return pfn << pageShift;
    }

    /** Undoes {@link #mapForeign} for the page at {@code pagePhys} and frees the page. */
    @KernelFunction("gnttab_unmap_refs")
    public void unmapForeign(long pagePhys) {
        Integer handle = handles.remove(pagePhys);
        if (handle == null) {
            throw new IllegalArgumentException("no grant mapped at 0x" + Long.toHexString(pagePhys));
        }
        long gfn = pagePhys >>> XenFrames.SHIFT;
        p2m.clearForeign(gfn);
        xen.unmapGrantRef(self, handle);
        pages.free(pagePhys >>> pageShift, 0);
    }
}
