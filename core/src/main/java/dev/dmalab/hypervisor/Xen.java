package dev.dmalab.hypervisor;

import dev.dmalab.cache.CacheSystem;
import dev.dmalab.memory.MemoryRegion;
import dev.dmalab.memory.PhysicalMemoryMap;
import dev.dmalab.util.LongLongMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;

/**
 * The hypervisor: machine memory, domains, grant tables and the hypercalls that DMA depends on.
 *
 * <p>Machine memory is the machine map of the platform (all of the host's RAM); the bytes live in the shared memory
 * model, addressed by machine address, and the CPU caches are indexed by machine address too (they are physically
 * tagged, and the physical address on the bus is the machine address).
 *
 * <p>Modelled hypercalls ([M]: structure from Xen 4.x {@code grant_table.c} / {@code memory.c} as summarised in the
 * spec §7; return codes as Xen returns them):
 *
 * <ul>
 *   <li>{@code GNTTABOP_map_grant_ref} / {@code unmap_grant_ref} ({@link #mapGrantRef}, {@link #unmapGrantRef}): an
 *       auto-translated mapper gets the granted machine frame at one of its guest frames (stage 2); every mapper is
 *       told the frame's bus address ({@code dev_bus_addr}), which is what Linux records in its own p2m.
 *   <li>{@code GNTTABOP_cache_flush} ({@link #cacheFlush}): clean and/or invalidate up to one 4 KiB frame by machine
 *       address, for a frame the caller owns or has mapped through a grant.
 *   <li>{@code XENMEM_exchange} ({@link #exchange}): trade a domain's frames for machine-contiguous ones below an
 *       address limit.
 * </ul>
 */
public final class Xen {
    /** {@code GNTTAB_CACHE_CLEAN}. */
    public static final int CACHE_CLEAN = 1;
    /** {@code GNTTAB_CACHE_INVAL}. */
    public static final int CACHE_INVAL = 2;
    /** {@code GNTTAB_CACHE_SOURCE_GREF}. */
    public static final int CACHE_SOURCE_GREF = 1 << 31;

    /** An active grant mapping ({@code maptrack} entry of the mapper). */
    public record Mapping(int handle, Domain mapper, Domain granter, int ref, long hostGfn, long mfn) {}

    /** One {@code GNTTABOP_cache_flush} request as the guest issued it, and Xen's answer. */
    public record CacheFlush(long devBusAddr, int offset, int length, int op, int rc) {}

    /** The result of {@code GNTTABOP_map_grant_ref}: status ({@code GNTST_*}), handle and {@code dev_bus_addr}. */
    public record MapResult(int status, int handle, long devBusAddr) {}

    private final String version;
    private final PhysicalMemoryMap machineMap;
    private final CacheSystem caches;
    private final boolean cacheFlushHypercall;
    private final XenHeap heap;
    private final TreeMap<Integer, Domain> domains = new TreeMap<>();
    private final List<long[]> directOwners = new ArrayList<>(); // {firstMfn, endMfn, domid}
    private final LongLongMap owner = new LongLongMap(1024, -1); // mfn -> domid, for frames not in directOwners
    private final LongLongMap m2p = new LongLongMap(1024, XenFrames.INVALID); // mfn -> gfn, idem
    private final List<Mapping> maptrack = new ArrayList<>();
    private long cacheFlushCalls;
    private List<CacheFlush> cacheFlushLog;
    private long exchangedFrames;

    /**
     * @param version the Xen release, e.g. "4.17"
     * @param machineMap the host's memory map (machine addresses)
     * @param caches the CPU caches, for {@code GNTTABOP_cache_flush}
     * @param cacheFlushHypercall whether {@code GNTTABOP_cache_flush} exists (ARM Xen 4.5+; x86 never needs it)
     */
    public Xen(String version, PhysicalMemoryMap machineMap, CacheSystem caches, boolean cacheFlushHypercall) {
        this.version = version;
        this.machineMap = machineMap;
        this.caches = caches;
        this.cacheFlushHypercall = cacheFlushHypercall;
        this.heap = new XenHeap(machineMap);
    }

    public String version() {
        return version;
    }

    public PhysicalMemoryMap machineMap() {
        return machineMap;
    }

    public XenHeap heap() {
        return heap;
    }

    public boolean hasCacheFlushHypercall() {
        return cacheFlushHypercall;
    }

    public Collection<Domain> domains() {
        return Collections.unmodifiableCollection(domains.values());
    }

    /** The domain with id {@code domid}, or null. */
    public Domain domain(int domid) {
        return domains.get(domid);
    }

    /** Starts keeping every {@code GNTTABOP_cache_flush} request (for tests and explanations). */
    public void recordCacheFlushes() {
        if (cacheFlushLog == null) {
            cacheFlushLog = new ArrayList<>();
        }
    }

    /** The requests recorded since {@link #recordCacheFlushes}, in order (empty if not recording). */
    public List<CacheFlush> cacheFlushLog() {
        return cacheFlushLog == null ? List.of() : Collections.unmodifiableList(cacheFlushLog);
    }

    /** {@code GNTTABOP_cache_flush} calls so far. */
    public long cacheFlushCalls() {
        return cacheFlushCalls;
    }

    /** Frames handed out by {@code XENMEM_exchange} so far. */
    public long exchangedFrames() {
        return exchangedFrames;
    }

    private Domain newDomain(int domid, String name, Domain.Kind kind) {
        if (domains.containsKey(domid)) {
            throw new IllegalArgumentException("domain " + domid + " exists already");
        }
        Domain d = new Domain(domid, name, kind);
        domains.put(domid, d);
        return d;
    }

    // -------------------------------------------------------------------------------------------------------------
    // Building domains

    /**
     * An ARM dom0 mapped 1:1 ({@code allocate_memory_11}): each bank's machine frames become dom0's frames at the
     * same addresses.
     *
     * @throws IllegalArgumentException if a bank is not free machine RAM
     */
    public Domain createDirectMappedDom0(List<MemoryRegion> banks) {
        Domain d = newDomain(0, "Domain-0", Domain.Kind.DIRECT_MAPPED);
        for (MemoryRegion b : banks) {
            long first = b.start() >>> XenFrames.SHIFT;
            long count = b.sizeBytes() >>> XenFrames.SHIFT;
            if ((b.start() & XenFrames.MASK) != 0 || (b.sizeBytes() & XenFrames.MASK) != 0) {
                throw new IllegalArgumentException("dom0 bank " + b + " is not 4 KiB aligned");
            }
            if (!heap.claim(first, count)) {
                throw new IllegalArgumentException("dom0 bank " + b + " is not free machine RAM");
            }
            d.p2m().addIdentity(first, count);
            directOwners.add(new long[] {first, first + count, 0});
            d.addFrames(count);
        }
        return d;
    }

    /**
     * An x86 PV dom0 of {@code nrFrames} pseudo-physical frames (pfn 0 upwards), given the machine frames {@code
     * [machineBase, machineBase + nrFrames)} in chunks of {@code chunkFrames}: with {@code reversed} the chunks are
     * handed out from the top down (as a debug build of Xen populates dom0's p2m, high to low), so consecutive pfns
     * are machine-contiguous only within a chunk.
     *
     * @throws IllegalArgumentException if the machine frames are not free RAM
     */
    public Domain createPvDom0(long nrFrames, long machineBase, int chunkFrames, boolean reversed) {
        if (chunkFrames <= 0 || nrFrames % chunkFrames != 0) {
            throw new IllegalArgumentException(
                    "PV dom0: " + nrFrames + " frames are not a whole number of " + chunkFrames + "-frame chunks");
        }
        if (!heap.claim(machineBase, nrFrames)) {
            throw new IllegalArgumentException("PV dom0: machine frames 0x" + Long.toHexString(machineBase) + "+0x"
                    + Long.toHexString(nrFrames) + " are not free machine RAM");
        }
        Domain d = newDomain(0, "Domain-0", Domain.Kind.PV);
        long[] table = new long[Math.toIntExact(nrFrames)];
        long chunks = nrFrames / chunkFrames;
        for (long c = 0; c < chunks; c++) {
            long machineChunk = reversed ? chunks - 1 - c : c;
            for (int i = 0; i < chunkFrames; i++) {
                long pfn = c * chunkFrames + i;
                long mfn = machineBase + machineChunk * chunkFrames + i;
                table[(int) pfn] = mfn;
                owner.put(mfn, 0);
                m2p.put(mfn, pfn);
            }
        }
        d.p2m().setTable(0, table);
        d.addFrames(nrFrames);
        return d;
    }

    /**
     * An auto-translated domU of {@code nrFrames} guest frames from {@code firstGfn}, its machine frames taken one
     * at a time from the heap's top (so they are not machine-contiguous in guest order).
     *
     * @throws IllegalStateException if the heap runs out
     */
    public Domain createDomU(int domid, String name, long firstGfn, long nrFrames) {
        Domain d = newDomain(domid, name, Domain.Kind.AUTO_TRANSLATED);
        long[] table = new long[Math.toIntExact(nrFrames)];
        for (int i = 0; i < nrFrames; i++) {
            long mfn = heap.alloc(0, 0);
            if (mfn == XenFrames.INVALID) {
                throw new IllegalStateException("Xen heap exhausted building " + name);
            }
            table[i] = mfn;
            owner.put(mfn, domid);
            m2p.put(mfn, firstGfn + i);
        }
        d.p2m().setTable(firstGfn, table);
        d.addFrames(nrFrames);
        return d;
    }

    /** The domain owning machine frame {@code mfn}, or null (free, Xen's own, or not RAM). */
    public Domain ownerOf(long mfn) {
        for (int i = 0; i < directOwners.size(); i++) { // indexed: no iterator on the swiotlb-xen hot path
            long[] r = directOwners.get(i);
            if (mfn >= r[0] && mfn < r[1]) {
                return domains.get((int) r[2]);
            }
        }
        long id = owner.get(mfn);
        return id < 0 ? null : domains.get((int) id);
    }

    /** The machine-to-phys table ({@code machine_to_phys_mapping}): the owner's guest frame, or INVALID. */
    public long m2p(long mfn) {
        for (int i = 0; i < directOwners.size(); i++) { // indexed: no iterator on the swiotlb-xen hot path
            long[] r = directOwners.get(i);
            if (mfn >= r[0] && mfn < r[1]) {
                return mfn;
            }
        }
        return m2p.get(mfn);
    }

    // -------------------------------------------------------------------------------------------------------------
    // Grant tables

    /**
     * The granting guest's {@code gnttab_grant_foreign_access(grantee, gfn, readonly)}: an entry in its own table.
     *
     * @return the grant reference
     */
    public int grantAccess(Domain granter, Domain grantee, long gfn, boolean readOnly) {
        if (granter.p2m().lookup(gfn) == XenFrames.INVALID) {
            throw new IllegalArgumentException(granter + " has no frame 0x" + Long.toHexString(gfn) + " to grant");
        }
        return granter.grantTable().grant(grantee.id(), gfn, readOnly);
    }

    /**
     * {@code GNTTABOP_map_grant_ref} with {@code GNTMAP_host_map}: maps {@code granter}'s grant {@code ref} for
     * {@code mapper}. An auto-translated mapper names the guest frame to map at ({@code host_addr}); its stage 2 then
     * points {@code hostGfn} at the granted machine frame. A PV mapper maps through its page tables, which the model
     * does not keep: the kernel records the frame in its own p2m.
     */
    public MapResult mapGrantRef(Domain mapper, Domain granter, int ref, long hostGfn, boolean readOnly) {
        if (granter == null || granter == mapper) {
            return new MapResult(XenErrno.GNTST_BAD_DOMAIN, -1, 0);
        }
        GrantTable.Entry e = granter.grantTable().entry(ref);
        if (e == null) {
            return new MapResult(XenErrno.GNTST_BAD_GNTREF, -1, 0);
        }
        if (e.granteeId() != mapper.id() || (e.readOnly() && !readOnly)) {
            return new MapResult(XenErrno.GNTST_PERMISSION_DENIED, -1, 0);
        }
        long mfn = granter.p2m().lookup(e.gfn());
        if (mfn == XenFrames.INVALID) {
            return new MapResult(XenErrno.GNTST_GENERAL_ERROR, -1, 0);
        }
        if (mapper.autoTranslated()) {
            mapper.p2m().set(hostGfn, mfn);
        }
        e.mapped();
        int handle = maptrack.size();
        maptrack.add(new Mapping(handle, mapper, granter, ref, hostGfn, mfn));
        return new MapResult(XenErrno.GNTST_OKAY, handle, mfn << XenFrames.SHIFT);
    }

    /** {@code GNTTABOP_unmap_grant_ref}: undoes mapping {@code handle} of {@code mapper}. */
    public int unmapGrantRef(Domain mapper, int handle) {
        Mapping m = handle >= 0 && handle < maptrack.size() ? maptrack.get(handle) : null;
        if (m == null || m.mapper() != mapper) {
            return XenErrno.GNTST_BAD_HANDLE;
        }
        maptrack.set(handle, null);
        m.granter().grantTable().entry(m.ref()).unmapped();
        if (mapper.autoTranslated()) {
            if (mapper.directMapped()) {
                mapper.p2m().restore(m.hostGfn());
            } else {
                mapper.p2m().set(m.hostGfn(), XenFrames.INVALID);
            }
        }
        return XenErrno.GNTST_OKAY;
    }

    /** Whether {@code mapper} holds an active grant mapping of machine frame {@code mfn}. */
    public boolean grantMapExists(Domain mapper, long mfn) {
        for (Mapping m : maptrack) {
            if (m != null && m.mapper() == mapper && m.mfn() == mfn) {
                return true;
            }
        }
        return false;
    }

    // -------------------------------------------------------------------------------------------------------------
    // GNTTABOP_cache_flush

    /**
     * {@code GNTTABOP_cache_flush} for one request: {@code op} ({@link #CACHE_CLEAN}, {@link #CACHE_INVAL} or both)
     * on {@code length} bytes at {@code offset} into the frame of {@code devBusAddr}. Checks in Xen's order: the
     * range must stay within one 4 KiB frame and the op must have no other bits (else -EINVAL); an empty request
     * does nothing; the frame must be RAM with an owner (-EINVAL / -EPERM), and the caller must own it or have it
     * mapped through a grant (-EINVAL). Invalidation cleans and invalidates a partial line at either end, as Xen's
     * {@code invalidate_dcache_va_range} does.
     *
     * @return 0 or a negative errno; -ENOSYS when the hypercall does not exist
     */
    public int cacheFlush(Domain caller, long devBusAddr, int offset, int length, int op) {
        int rc = doCacheFlush(caller, devBusAddr, offset, length, op);
        if (cacheFlushLog != null) {
            cacheFlushLog.add(new CacheFlush(devBusAddr, offset, length, op, rc));
        }
        return rc;
    }

    private int doCacheFlush(Domain caller, long devBusAddr, int offset, int length, int op) {
        if (!cacheFlushHypercall) {
            return -XenErrno.ENOSYS;
        }
        cacheFlushCalls++;
        if (offset < 0
                || offset >= XenFrames.SIZE
                || length < 0
                || length > XenFrames.SIZE
                || offset + length > XenFrames.SIZE
                || (op & ~(CACHE_INVAL | CACHE_CLEAN)) != 0) {
            return -XenErrno.EINVAL;
        }
        if (length == 0 || op == 0) {
            return 0;
        }
        long mfn = devBusAddr >>> XenFrames.SHIFT;
        if (!machineMap.isRam(mfn << XenFrames.SHIFT)) {
            return -XenErrno.EINVAL;
        }
        Domain frameOwner = ownerOf(mfn);
        if (frameOwner == null) {
            return -XenErrno.EPERM;
        }
        if (frameOwner != caller && !grantMapExists(caller, mfn)) {
            return -XenErrno.EINVAL;
        }
        long start = (mfn << XenFrames.SHIFT) + offset;
        boolean clean = (op & CACHE_CLEAN) != 0;
        boolean inval = (op & CACHE_INVAL) != 0;
        if (clean && inval) {
            caches.cleanInvalidate(start, length);
        } else if (inval) {
            caches.invalidateCleaningEdges(start, length); // invalidate_dcache_va_range
        } else {
            caches.clean(start, length);
        }
        return 0;
    }

    // -------------------------------------------------------------------------------------------------------------
    // XENMEM_exchange

    /**
     * {@code XENMEM_exchange} for a PV domain, as {@code xen_create_contiguous_region} issues it: the {@code
     * inFrames.length} machine frames (extents of order 0, all owned by {@code d}) are exchanged for one extent of
     * order {@code outOrder} — machine-contiguous, naturally aligned, below {@code 2^addressBits} — placed at guest
     * frame {@code outGfn} in the machine-to-phys table. The old frames go back to the heap (their contents are not
     * copied); the guest must rewrite its p2m.
     *
     * @return the first machine frame of the new extent, or a negative errno (-EINVAL: a frame not owned by {@code
     *     d} or sizes that do not add up; -ENOMEM: no such extent free), in which case nothing changed
     */
    public long exchange(Domain d, long[] inFrames, int outOrder, long outGfn, int addressBits) {
        if (inFrames.length != (1L << outOrder)) {
            return -XenErrno.EINVAL;
        }
        for (long mfn : inFrames) {
            if (ownerOf(mfn) != d) {
                return -XenErrno.EINVAL;
            }
        }
        long out = heap.alloc(outOrder, addressBits);
        if (out == XenFrames.INVALID) {
            return -XenErrno.ENOMEM;
        }
        for (long mfn : inFrames) {
            owner.remove(mfn);
            m2p.remove(mfn);
            heap.free(mfn, 1);
        }
        for (int i = 0; i < inFrames.length; i++) {
            owner.put(out + i, d.id());
            m2p.put(out + i, outGfn + i);
        }
        exchangedFrames += inFrames.length;
        return out;
    }

    /**
     * {@code XENMEM_exchange} the other way, as {@code xen_destroy_contiguous_region} issues it: one extent of
     * {@code 2^inOrder} frames starting at {@code firstMfn} for as many single frames, with no address limit, placed
     * at guest frames {@code outGfn + i}.
     *
     * @return the new frames, or null (-EINVAL / -ENOMEM: nothing changed)
     */
    public long[] exchangeToSingles(Domain d, long firstMfn, int inOrder, long outGfn) {
        int n = 1 << inOrder;
        for (int i = 0; i < n; i++) {
            if (ownerOf(firstMfn + i) != d) {
                return null;
            }
        }
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = heap.alloc(0, 0);
            if (out[i] == XenFrames.INVALID) {
                for (int j = 0; j < i; j++) {
                    heap.free(out[j], 1);
                }
                return null;
            }
        }
        for (int i = 0; i < n; i++) {
            owner.remove(firstMfn + i);
            m2p.remove(firstMfn + i);
        }
        heap.free(firstMfn, n);
        for (int i = 0; i < n; i++) {
            owner.put(out[i], d.id());
            m2p.put(out[i], outGfn + i);
        }
        exchangedFrames += n;
        return out;
    }
}
