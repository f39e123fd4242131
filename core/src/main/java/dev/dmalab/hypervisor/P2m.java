package dev.dmalab.hypervisor;

import dev.dmalab.util.LongLongMap;
import java.util.ArrayList;
import java.util.List;

/**
 * A domain's physical-to-machine map: guest frame number to machine frame number, in 4 KiB frames.
 *
 * <ul>
 *   <li>An ARM dom0 is mapped 1:1 ({@code XENFEAT_direct_mapped}): its own RAM banks translate to themselves. A
 *       foreign frame grant-mapped into dom0 overrides one of dom0's frames (stage 2 then points that guest frame
 *       at the granting domain's machine frame).
 *   <li>An x86 PV domain keeps the map itself ({@code xen_p2m_addr}, built from the {@code mfn_list} Xen handed over
 *       at boot): a dense table, rewritten by the guest after {@code XENMEM_exchange}.
 *   <li>An auto-translated domU has a dense table Xen populated when it built the domain.
 * </ul>
 *
 * <p>{@link XenFrames#INVALID} marks a frame with no machine frame (ballooned out, or zapped during an exchange).
 */
public final class P2m {
    private final List<long[]> identity = new ArrayList<>(); // {firstGfn, endGfn}
    private final LongLongMap overrides = new LongLongMap(64, Long.MIN_VALUE + 1);
    private long tableBase;
    private long[] table = new long[0];

    /** Makes {@code [firstGfn, firstGfn + count)} translate to itself (a 1:1 bank). */
    public void addIdentity(long firstGfn, long count) {
        identity.add(new long[] {firstGfn, firstGfn + count});
    }

    /** Installs a dense table: guest frame {@code base + i} translates to {@code mfns[i]}. */
    public void setTable(long base, long[] mfns) {
        this.tableBase = base;
        this.table = mfns.clone();
    }

    /** The machine frame of guest frame {@code gfn}, or {@link XenFrames#INVALID}. */
    public long lookup(long gfn) {
        long o = overrides.get(gfn);
        if (o != Long.MIN_VALUE + 1) {
            return o;
        }
        long i = gfn - tableBase;
        if (i >= 0 && i < table.length) {
            return table[(int) i];
        }
        for (long[] r : identity) {
            if (gfn >= r[0] && gfn < r[1]) {
                return gfn;
            }
        }
        return XenFrames.INVALID;
    }

    /** Points guest frame {@code gfn} at {@code mfn} ({@link XenFrames#INVALID} unmaps it). */
    public void set(long gfn, long mfn) {
        long i = gfn - tableBase;
        if (i >= 0 && i < table.length) {
            table[(int) i] = mfn;
            return;
        }
        overrides.put(gfn, mfn);
    }

    /** Drops an override set by {@link #set} outside the table, restoring the 1:1 (or absent) translation. */
    public void restore(long gfn) {
        overrides.remove(gfn);
    }

    /** Number of guest frames in the dense table. */
    public int tableSize() {
        return table.length;
    }

    /** First guest frame of the dense table. */
    public long tableBase() {
        return tableBase;
    }
}
