package dev.dmalab.xen;

import dev.dmalab.hypervisor.Domain;
import dev.dmalab.hypervisor.Xen;
import dev.dmalab.hypervisor.XenFrames;
import dev.dmalab.util.LongLongMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The dom0 kernel's view of its physical-to-machine map, in 4 KiB Xen frames ({@code include/xen/page.h}, spec
 * §7.1–7.2).
 *
 * <ul>
 *   <li>ARM/arm64 ({@code arch/arm/xen/p2m.c}): dom0 is mapped 1:1, so {@code pfn_to_bfn(pfn) = pfn} except for
 *       foreign frames that a backend grant-mapped into dom0; those are recorded in the {@code phys_to_mach} tree
 *       by {@code set_foreign_p2m_mapping}. {@code bfn_to_pfn} is the identity.
 *   <li>x86 PV ({@code arch/x86/xen/p2m.c}): the domain's p2m table ({@code xen_p2m_addr}), with foreign frames
 *       marked ({@code FOREIGN_FRAME}); {@code mfn_to_pfn} goes through Xen's machine-to-phys table and checks the
 *       answer against the p2m; {@code bfn_to_local_pfn} is {@code ~0} for a frame the domain does not own.
 * </ul>
 */
public final class XenP2m {
    /** {@code ~0}: no local frame. */
    public static final long NO_PFN = -1L;

    private final Xen xen;
    private final Domain self;
    private final boolean pv;
    /**
     * ARM {@code phys_to_mach}: xen pfn -> machine frame, for grant-mapped foreign frames. Primitive maps: every
     * swiotlb-xen map and unmap looks frames up here, and must not box.
     */
    private final LongLongMap physToMach = new LongLongMap(16, XenFrames.INVALID);
    /** x86 PV: pfns whose p2m entry carries {@code FOREIGN_FRAME}, with the entry they replaced. */
    private final LongLongMap foreignPv = new LongLongMap(16, XenFrames.INVALID);

    public XenP2m(Xen xen, Domain self) {
        this.xen = xen;
        this.self = self;
        this.pv = !self.autoTranslated();
    }

    public Xen hypervisor() {
        return xen;
    }

    public Domain domain() {
        return self;
    }

    /** Whether this is an x86 PV domain (the kernel keeps the p2m itself). */
    public boolean pv() {
        return pv;
    }

    /** {@code pfn_to_bfn(xen_pfn)}: the bus (machine) frame the device must be given. */
    public long pfnToBfn(long xenPfn) {
        if (pv) {
            long mfn = self.p2m().lookup(xenPfn);
            return mfn == XenFrames.INVALID ? XenFrames.INVALID : mfn;
        }
        long foreign = physToMach.get(xenPfn);
        return foreign != XenFrames.INVALID ? foreign : xenPfn;
    }

    /** {@code bfn_to_pfn(bfn)}: ARM identity; x86 PV {@code mfn_to_pfn} with the p2m back-check. */
    public long bfnToPfn(long bfn) {
        if (!pv) {
            return bfn;
        }
        long pfn = xen.m2p(bfn);
        if (pfn == XenFrames.INVALID || self.p2m().lookup(pfn) != bfn) {
            return NO_PFN;
        }
        return pfn;
    }

    /** {@code bfn_to_local_pfn(bfn)}: the local frame, or {@link #NO_PFN} for a frame this domain does not own. */
    public long bfnToLocalPfn(long bfn) {
        if (!pv) {
            return bfn;
        }
        long pfn = bfnToPfn(bfn);
        if (pfn == NO_PFN || foreignPv.containsKey(pfn)) {
            return NO_PFN;
        }
        return pfn;
    }

    /**
     * {@code set_foreign_p2m_mapping} for one frame: records that guest frame {@code xenPfn} now shows machine frame
     * {@code mfn} of another domain. On x86 PV this rewrites the p2m entry (which is also what the CPU's page tables
     * reach); on ARM stage 2 was set by the hypervisor and the kernel only notes the bus frame.
     */
    public void setForeign(long xenPfn, long mfn) {
        if (pv) {
            foreignPv.put(xenPfn, self.p2m().lookup(xenPfn));
            self.p2m().set(xenPfn, mfn);
        } else {
            physToMach.put(xenPfn, mfn);
        }
    }

    /** {@code clear_foreign_p2m_mapping} for one frame. */
    public void clearForeign(long xenPfn) {
        if (pv) {
            self.p2m().set(xenPfn, foreignPv.remove(xenPfn)); // INVALID when it was not foreign
        } else {
            physToMach.remove(xenPfn);
        }
    }

    /** Whether guest frame {@code xenPfn} currently shows a foreign frame. */
    public boolean isForeign(long xenPfn) {
        return pv ? foreignPv.containsKey(xenPfn) : physToMach.containsKey(xenPfn);
    }

    /** The recorded foreign frames, ascending (xen pfn to machine frame). */
    public Map<Long, Long> foreignFrames() {
        TreeMap<Long, Long> out = new TreeMap<>();
        if (pv) {
            for (long pfn : foreignPv.sortedKeys()) {
                out.put(pfn, self.p2m().lookup(pfn));
            }
        } else {
            for (long pfn : physToMach.sortedKeys()) {
                out.put(pfn, physToMach.get(pfn));
            }
        }
        return out;
    }
}
