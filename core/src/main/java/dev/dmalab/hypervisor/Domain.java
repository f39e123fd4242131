package dev.dmalab.hypervisor;

import dev.dmalab.memory.GuestPhysMap;

/**
 * A Xen domain: its id, how its guest-physical space relates to machine memory, its p2m and its grant table.
 */
public final class Domain implements GuestPhysMap {
    /** How the domain's guest frames map to machine frames. */
    public enum Kind {
        /** ARM dom0: guest physical equals machine ({@code XENFEAT_direct_mapped}); auto-translated. */
        DIRECT_MAPPED,
        /** x86 PV: pseudo-physical frames, machine frames in the page tables, a guest-kept p2m. */
        PV,
        /** An HVM/PVH or ARM guest whose stage-2 table Xen builds (any domU here). */
        AUTO_TRANSLATED
    }

    private final int id;
    private final String name;
    private final Kind kind;
    private final P2m p2m = new P2m();
    private final GrantTable grantTable;
    private long nrFrames;

    Domain(int id, String name, Kind kind) {
        this.id = id;
        this.name = name;
        this.kind = kind;
        this.grantTable = new GrantTable(this);
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** {@code XENFEAT_auto_translated_physmap}: Xen translates the guest's physical addresses (not PV). */
    public boolean autoTranslated() {
        return kind != Kind.PV;
    }

    /** {@code XENFEAT_direct_mapped}. */
    public boolean directMapped() {
        return kind == Kind.DIRECT_MAPPED;
    }

    public P2m p2m() {
        return p2m;
    }

    public GrantTable grantTable() {
        return grantTable;
    }

    /** Frames the domain owns. */
    public long nrFrames() {
        return nrFrames;
    }

    void addFrames(long n) {
        nrFrames += n;
    }

    /**
     * The machine address behind guest-physical address {@code guestPhys}, as the CPU reaches it (stage 2 on ARM,
     * the page tables of a PV guest), or -1 if the frame has no machine frame.
     */
    @Override
    public long machineAddr(long guestPhys) {
        long mfn = p2m.lookup(guestPhys >>> XenFrames.SHIFT);
        return mfn == XenFrames.INVALID ? -1 : (mfn << XenFrames.SHIFT) | (guestPhys & XenFrames.MASK);
    }

    @Override
    public String toString() {
        return name + " (domid " + id + ")";
    }
}
