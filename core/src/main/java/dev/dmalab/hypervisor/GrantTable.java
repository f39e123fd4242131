package dev.dmalab.hypervisor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One domain's grant table ({@code xen/common/grant_table.c}, v1 entries): which of its frames it lets which
 * domain map, and how many mappings of each grant are active.
 *
 * <p>The granting guest's kernel picks the reference; Linux keeps references 0–7 for the toolstack ({@code
 * GNTTAB_NR_RESERVED_ENTRIES}), so the model hands out 8, 9, 10, … in order.
 */
public final class GrantTable {
    /** {@code GNTTAB_NR_RESERVED_ENTRIES}. */
    public static final int FIRST_FREE_REF = 8;

    /** A grant entry: {@code gfn} of the owner, mappable by {@code granteeId}. */
    public static final class Entry {
        private final int ref;
        private final int granteeId;
        private final long gfn;
        private final boolean readOnly;
        private int activeMaps;
        private boolean revoked;

        Entry(int ref, int granteeId, long gfn, boolean readOnly) {
            this.ref = ref;
            this.granteeId = granteeId;
            this.gfn = gfn;
            this.readOnly = readOnly;
        }

        public int ref() {
            return ref;
        }

        public int granteeId() {
            return granteeId;
        }

        public long gfn() {
            return gfn;
        }

        public boolean readOnly() {
            return readOnly;
        }

        /** Mappings currently using this grant. */
        public int activeMaps() {
            return activeMaps;
        }

        void mapped() {
            activeMaps++;
        }

        void unmapped() {
            activeMaps--;
        }

        boolean revoked() {
            return revoked;
        }

        void revoke() {
            revoked = true;
        }
    }

    private final Domain owner;
    private final List<Entry> entries = new ArrayList<>();

    GrantTable(Domain owner) {
        this.owner = owner;
    }

    public Domain owner() {
        return owner;
    }

    /** {@code gnttab_grant_foreign_access(granteeId, gfn, readOnly)}: returns the new reference. */
    int grant(int granteeId, long gfn, boolean readOnly) {
        int ref = FIRST_FREE_REF + entries.size();
        entries.add(new Entry(ref, granteeId, gfn, readOnly));
        return ref;
    }

    /** The live entry {@code ref}, or null. */
    public Entry entry(int ref) {
        int i = ref - FIRST_FREE_REF;
        if (i < 0 || i >= entries.size()) {
            return null;
        }
        Entry e = entries.get(i);
        return e.revoked() ? null : e;
    }

    /** All entries, in reference order (revoked ones included). */
    public List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }
}
