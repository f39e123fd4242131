package dev.dmalab.check;

import dev.dmalab.cache.CacheObserver;
import dev.dmalab.cache.CacheSystem;
import dev.dmalab.device.BusMaster;
import dev.dmalab.device.BusObserver;
import dev.dmalab.device.Device;
import dev.dmalab.dma.Direction;
import dev.dmalab.dma.DmaAttrs;
import dev.dmalab.dma.DmaCallListener;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.DmaParams;
import dev.dmalab.iommuhw.IommuContext;
import dev.dmalab.kernel.CpuAccessObserver;
import dev.dmalab.kernel.CpuMemory;
import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelObjects;
import dev.dmalab.util.Bits;
import dev.dmalab.util.LongLongMap;
import dev.dmalab.util.SimClock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DMA sanitizer: dma-debug's checks on the API calls, and the checks only a model can make on CPU and device
 * memory accesses.
 *
 * <h2>What it models</h2>
 *
 * {@code kernel/dma/debug.c} as of Linux 6.x (read at 0604aa87b098, spec §4): one entry per live mapping, segment
 * or coherent allocation in a hash of 16384 buckets indexed by {@code dev_addr >> 13}; exact lookups with the
 * best-fit rule (size, type, direction and entry count each score a point; several matches and no perfect one is
 * no match); containing lookups for syncs that walk back bucket by bucket; {@code dma_mapping_error()} marking the
 * first unchecked entry; the cache-line tracking of device-writable mappings whose {@code -EEXIST} is reported
 * (5.14+); the leak report on {@code BUS_NOTIFY_UNBOUND_DRIVER}; every message with its fields; and {@code
 * err_printk}'s reporting: {@code error_count} always counts, a report is shown only when the driver filter
 * matches and {@code all_errors} is set or {@code num_errors} is still positive, and {@code num_errors} drops by
 * one for every error while it is positive — filtered-out ones included, as in the kernel.
 *
 * <p>Beyond dma-debug, each streaming mapping also has an owner (device from map and {@code sync_for_device}, CPU
 * for the synced range after {@code sync_for_cpu}), indexed by CPU physical address so that every CPU load and store
 * a driver makes is judged; device accesses are judged against the device's live entries and its recently
 * unmapped ones; and cache lines a non-coherent device wrote while a CPU held them are remembered until the CPU
 * refills them, to name stale reads and write-backs that destroy device data.
 *
 * <h2>Deliberate differences</h2>
 *
 * <ul>
 *   <li>One finding per category per call: where dma-debug repeats an error for each segment of a scatterlist,
 *       the checker reports it once, for the first segment.
 *   <li>The {@code -EEXIST} overlap is reported only for a non-coherent device, and not when the mapping
 *       bounced: on a coherent one it is harmless, and the kernel's reports there were false positives (anchors
 *       §2.1; 7.0 narrowed them by architecture, this checks the device).
 *   <li>A sync whose range starts inside a mapping but runs past its end is {@link Category#SYNC_OUT_OF_RANGE}
 *       with dma-debug's "outside allocated range" text; the kernel's containing lookup finds no entry for it and
 *       says "has not allocated".
 *   <li>{@code dma_unmap_sg} is matched by its CPU physical addresses (the trace event's payload), not by the DMA
 *       addresses in the list; segment sizes at unmap are therefore not compared.
 *   <li>{@code dma_alloc_pages} memory is tracked as a single mapping whose map-error check does not apply, and
 *       is not given an owner (it is the driver's to sync).
 *   <li>Not modelled: the entry pool and its growth messages, "exceeded 7 overlapping mappings", the kernel text
 *       and rodata check (the model has no kernel image), the "Mapped at:" stack (the finding carries the call
 *       chain of the call that revealed the bug instead).
 * </ul>
 *
 * <p>CPU ownership of a single mapping is one byte range (the union of the ranges synced for the CPU, cut back by
 * syncs for the device); a scatterlist is owned as a whole.
 */
public final class DmaChecker implements DmaCallListener, CpuAccessObserver, BusObserver, CacheObserver {
    static final int HASH_SIZE = 16384;
    static final int HASH_FN_SHIFT = 13;
    private static final int RECENT_UNMAPS = 64;

    static final int SINGLE = 0;
    static final int SG = 1;
    static final int COHERENT = 2;
    static final int RESOURCE = 3;
    private static final String[] TYPE_NAMES = {"single", "scather-gather", "coherent", "resource"};

    private static final int MAP_ERR_NOT_APPLICABLE = 0;
    private static final int MAP_ERR_NOT_CHECKED = 1;
    private static final int MAP_ERR_CHECKED = 2;

    /**
     * One dma-debug entry: a mapping, one mapped segment of a scatterlist, or a coherent allocation. The entry of a
     * single mapping is reused for a later one once it is unmapped (see {@link #recycle}), so that a correct
     * driver's map and unmap allocate nothing; its fields are therefore set by {@link #init}, not final.
     */
    static final class Entry {
        long id;
        Device dev;
        int type;
        Direction dir;
        long dmaAddr;
        long size;
        long phys;
        long cpuVa;
        int sgCallEnts;
        int sgMappedEnts;
        boolean bounced;
        long timeNs;
        int mapErr;
        /** Still in the hash (a scatterlist may be unmapped in part). */
        boolean live;
        /** A cache-line mark refers to this entry, so it must not be reused. */
        boolean pinned;

        /** The next entry in its hash bucket, or in the free list. */
        Entry next;
        /** The first entry of the call (itself for all but scatterlist segments): owner state lives there. */
        Entry head;
        /** Head only: the CPU-owned byte range, offsets from the start of the CPU buffer; empty when lo >= hi. */
        long cpuLo;

        long cpuHi;
        boolean cpuOwnsAll;
        boolean reportedCpuRead;
        boolean reportedCpuWrite;
        boolean reportedLostData;
        /** Head of a scatterlist only: every entry of the call and its CPU ranges (null for one entry). */
        List<Entry> members;

        List<CpuRange> ranges;
        /** Head only: the first CPU range of the call (the only one of a single mapping), or null. */
        CpuRange range0;
        /** The range this entry uses for a single mapping, made once and kept when the entry is reused. */
        CpuRange own;
        /** A single mapping whose CPU buffer belongs in the physical-address index (see {@code physIndexed}). */
        boolean singleRange;

        long[] sgPhys;

        Entry init(
                long id,
                Device dev,
                int type,
                Direction dir,
                long dmaAddr,
                long size,
                long phys,
                long cpuVa,
                int sgCallEnts,
                int sgMappedEnts,
                boolean bounced,
                long timeNs) {
            this.id = id;
            this.dev = dev;
            this.type = type;
            this.dir = dir;
            this.dmaAddr = dmaAddr;
            this.size = size;
            this.phys = phys;
            this.cpuVa = cpuVa;
            this.sgCallEnts = sgCallEnts;
            this.sgMappedEnts = sgMappedEnts;
            this.bounced = bounced;
            this.timeNs = timeNs;
            this.mapErr = MAP_ERR_NOT_APPLICABLE;
            this.live = true;
            this.pinned = false;
            this.next = null;
            this.head = this;
            this.cpuLo = 0;
            this.cpuHi = 0;
            this.cpuOwnsAll = false;
            this.reportedCpuRead = false;
            this.reportedCpuWrite = false;
            this.reportedLostData = false;
            // members, ranges and sgPhys are null here: only a fresh entry or a reused single one gets here (a
            // scatterlist head, which has them, is never reused); range0 and singleRange are the caller's to set
            return this;
        }

        /** How many entries the call made (head only). */
        int memberCount() {
            return members == null ? 1 : members.size();
        }

        /** The {@code i}th entry of the call (head only). */
        Entry member(int i) {
            return members == null ? this : members.get(i);
        }

        boolean deviceOwns(long off, long len) {
            if (head.cpuOwnsAll) {
                return false;
            }
            return !(head.cpuLo <= off && off + len <= head.cpuHi);
        }
    }

    /** A CPU byte range of a streaming mapping, in the physical-address index. */
    static final class CpuRange {
        Entry owner;
        long pa;
        long len;
        /** Offset of {@link #pa} from the start of the owner's CPU buffer (0 for scatterlist elements). */
        long offset;

        /** The next range in its hash bucket. */
        CpuRange next;

        CpuRange init(Entry owner, long pa, long len, long offset) {
            this.owner = owner;
            this.pa = pa;
            this.len = len;
            this.offset = offset;
            this.next = null;
            return this;
        }
    }

    /** Per device: bounces announced for the next map, and the last unmapped ranges. */
    private static final class DevState {
        int pendingBounces;
        final long[] recentDma = new long[RECENT_UNMAPS];
        final long[] recentSize = new long[RECENT_UNMAPS];
        final long[] recentPhys = new long[RECENT_UNMAPS];
        final long[] recentTimeNs = new long[RECENT_UNMAPS];
        int recentCount;
        int recentNext;

        void rememberUnmap(long dma, long size, long phys, long timeNs) {
            recentDma[recentNext] = dma;
            recentSize[recentNext] = size;
            recentPhys[recentNext] = phys;
            recentTimeNs[recentNext] = timeNs;
            recentNext = (recentNext + 1) & (RECENT_UNMAPS - 1);
            recentCount = Math.min(recentCount + 1, RECENT_UNMAPS);
        }

        /** Index of the newest remembered unmap containing {@code addr}, or -1. */
        int recentContaining(long addr) {
            return newest(0, addr);
        }

        /** Index of the newest remembered unmap that started at DMA address {@code dma}, or -1. */
        int recentStartingAt(long dma) {
            return newest(1, dma);
        }

        /** Index of the newest remembered unmap whose CPU buffer started at {@code phys}, or -1. */
        int recentWithPhys(long phys) {
            return newest(2, phys);
        }

        private int newest(int key, long value) {
            for (int k = 1; k <= recentCount; k++) {
                int i = Math.floorMod(recentNext - k, RECENT_UNMAPS);
                boolean hit =
                        switch (key) {
                            case 0 -> recentDma[i] <= value && value - recentDma[i] < Math.max(recentSize[i], 1);
                            case 1 -> recentDma[i] == value;
                            default -> recentPhys[i] == value;
                        };
                if (hit) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** A cache line a non-coherent device wrote while a CPU held it. */
    private record Mark(Device dev, long busAddr, Entry entry) {}

    private final Kernel kernel;
    private final SimClock clock;
    private final CacheSystem caches;
    private final CpuMemory cpu;
    private final KernelObjects objects;
    private final CheckOptions options;
    private final int lineBytes;
    private final int lineShift;
    private final boolean reportEexist;

    private final Entry[] buckets = new Entry[HASH_SIZE];
    /** Entries of unmapped single mappings and allocations, kept for reuse (linked through their {@code next}). */
    private Entry freeEntries;

    private final CpuRange[] physBuckets = new CpuRange[HASH_SIZE];
    private final LongLongMap activeCachelines = new LongLongMap(1024, -1);
    private final Map<Device, DevState> devices = new IdentityHashMap<>();
    private final Map<Long, Mark> marks = new HashMap<>();
    /** The device of the last {@link #state} lookup and its state. */
    private Device lastDev;

    private DevState lastState;
    private long maxEntrySize = 1;
    private long maxRangeSize = 1;
    /**
     * Whether single mappings are in the physical-address index. Until the index is first read (a CPU access, or
     * a {@code dma_unmap_sg} matched by phys) they are left out, so that a run that never reads it — an API-only
     * workload, a trace replay — pays nothing for it; {@link #ensurePhysIndex} then builds it as eager insertion
     * would have (same chains, same order), and from then on every mapping is inserted at once.
     */
    private boolean physIndexed;

    private long nextId = 1;
    private int liveEntries;

    private final List<DmaFinding> findings = new ArrayList<>();
    /** The categories reported during the current call, one bit per {@link Category#ordinal()} (at most 64). */
    private long reportedThisCall;

    static {
        if (Category.values().length > Long.SIZE) {
            throw new AssertionError("reportedThisCall holds one bit per category: at most 64 categories");
        }
    }

    private long errorCount;
    private long suppressed;
    private int numErrorsLeft;
    private Entry accessEntry;

    /**
     * @param lineBytes the cache-line size {@code L1_CACHE_BYTES} (cache-line tracking and sharing)
     */
    public DmaChecker(
            Kernel kernel,
            CacheSystem caches,
            CpuMemory cpu,
            KernelObjects objects,
            int lineBytes,
            CheckOptions options) {
        if (Integer.bitCount(lineBytes) != 1) {
            throw new IllegalArgumentException("cache line size must be a power of two: " + lineBytes);
        }
        this.kernel = kernel;
        this.clock = kernel.clock();
        this.caches = caches;
        this.cpu = cpu;
        this.objects = objects;
        this.options = options;
        this.lineBytes = lineBytes;
        this.lineShift = Integer.numberOfTrailingZeros(lineBytes);
        this.reportEexist = kernel.has(Feature.DMA_DEBUG_EEXIST);
        this.numErrorsLeft = options.numErrors();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Results

    /** The findings so far, in the order found. */
    public List<DmaFinding> findings() {
        return Collections.unmodifiableList(findings);
    }

    /** dma-debug's {@code error_count}: every dma-debug error, shown or not. */
    public long errorCount() {
        return errorCount;
    }

    /** dma-debug errors counted but not reported (past {@code num_errors}, or filtered out). */
    public long suppressed() {
        return suppressed;
    }

    /** How many dma-debug entries were ever made (mappings, scatterlist segments, coherent allocations). */
    public long entriesMade() {
        return nextId - 1;
    }

    /** The live dma-debug entries (mappings, segments, coherent allocations). */
    public int liveEntries() {
        return liveEntries;
    }

    public CheckOptions options() {
        return options;
    }

    // ---------------------------------------------------------------------------------------------------------
    // API events

    @Override
    public void onEvent(DmaEvent e) {
        reportedThisCall = 0;
        if (e instanceof DmaEvent.Map m) {
            map(
                    m.device(),
                    m.kind(),
                    m.dir(),
                    m.dmaAddr(),
                    m.size(),
                    m.phys(),
                    m.attrs(),
                    m.stamp().timeNs());
        } else if (e instanceof DmaEvent.Unmap u) {
            unmap(u.device(), u.kind(), u.dir(), u.dmaAddr(), u.size());
        } else if (e instanceof DmaEvent.MapSg m) {
            onMapSg(m);
        } else if (e instanceof DmaEvent.MapSgErr m) {
            state(m.device()).pendingBounces = 0;
        } else if (e instanceof DmaEvent.UnmapSg u) {
            onUnmapSg(u);
        } else if (e instanceof DmaEvent.SyncSingle s) {
            syncSingle(s.device(), s.forCpu(), s.dir(), s.dmaAddr(), s.size());
        } else if (e instanceof DmaEvent.SyncSg s) {
            onSyncSg(s);
        } else if (e instanceof DmaEvent.Alloc a) {
            onAlloc(a);
        } else if (e instanceof DmaEvent.Free f) {
            if (f.cpuAddr() != 0) {
                boolean coherent = f.kind() == DmaEvent.AllocKind.COHERENT;
                checkUnmap(
                        f.device(),
                        coherent ? "dma_free_coherent" : "dma_free_pages",
                        coherent ? COHERENT : SINGLE,
                        f.dmaAddr(),
                        f.size(),
                        coherent ? Direction.BIDIRECTIONAL : f.dir(),
                        0,
                        coherent ? f.cpuAddr() : -1);
            }
        } else if (e instanceof DmaEvent.SwiotlbBounced b) {
            bounced(b.device());
        } else if (e instanceof DmaEvent.MappingErrorCheck c) {
            onMappingError(c.device(), c.dmaAddr());
        } else if (e instanceof DmaEvent.MapSingle m) {
            onMapSingle(m);
        } else if (e instanceof DmaEvent.DriverUnbound u) {
            onUnbound(u.device());
        }
    }

    @Override
    public void onMap(
            Device dev,
            boolean traced,
            DmaEvent.MapKind kind,
            Direction dir,
            long dmaAddr,
            long size,
            long phys,
            long attrs) {
        reportedThisCall = 0;
        map(dev, kind, dir, dmaAddr, size, phys, attrs, simNowNs());
    }

    @Override
    public void onUnmap(
            Device dev, boolean traced, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size, long attrs) {
        reportedThisCall = 0;
        unmap(dev, kind, dir, dmaAddr, size);
    }

    @Override
    public void onSyncSingle(Device dev, boolean traced, boolean forCpu, Direction dir, long dmaAddr, long size) {
        reportedThisCall = 0;
        syncSingle(dev, forCpu, dir, dmaAddr, size);
    }

    private void syncSingle(Device dev, boolean forCpu, Direction dir, long dmaAddr, long size) {
        Entry entry = checkSync(dev, syncName(forCpu, false), dmaAddr, size, dir, SINGLE, 0, forCpu);
        if (entry != null) {
            own(entry, dmaAddr - entry.dmaAddr, size, forCpu, false);
        }
    }

    @Override
    public void onSwiotlbBounced(Device dev, boolean traced, long dmaMask, long devAddr, long size, boolean force) {
        reportedThisCall = 0;
        bounced(dev);
    }

    /** swiotlb announced a bounce: the next map (or the buffers of the next scatterlist map) of {@code dev}. */
    private void bounced(Device dev) {
        if (dev != null) {
            state(dev).pendingBounces++;
        }
    }

    @Override
    public void onMappingErrorCheck(Device dev, long dmaAddr) {
        reportedThisCall = 0;
        onMappingError(dev, dmaAddr);
    }

    private void unmap(Device dev, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size) {
        boolean resource = kind == DmaEvent.MapKind.RESOURCE;
        checkUnmap(
                dev,
                resource ? "dma_unmap_resource" : "dma_unmap_page",
                resource ? RESOURCE : SINGLE,
                dmaAddr,
                size,
                dir,
                0,
                -1);
    }

    private static String syncName(boolean forCpu, boolean sg) {
        if (sg) {
            return forCpu ? "dma_sync_sg_for_cpu" : "dma_sync_sg_for_device";
        }
        return forCpu ? "dma_sync_single_for_cpu" : "dma_sync_single_for_device";
    }

    private void onMapSingle(DmaEvent.MapSingle m) {
        if (!cpu.addressSpace().isLinear(m.va())) {
            String what = cpu.addressSpace().isVmalloc(m.va()) ? "vmalloc" : "invalid";
            report(
                    Category.MAP_VMALLOC,
                    m.device(),
                    -1,
                    m.size(),
                    -1,
                    "dma_map_single",
                    "device driver maps memory from " + what + " area [addr=" + Bits.hex0x(m.va()) + "] [len="
                            + m.size() + "]");
        }
    }

    private void map(
            Device dev, DmaEvent.MapKind kind, Direction dir, long dmaAddr, long size, long phys, long attrs, long t) {
        DevState st = state(dev);
        boolean bounced = st.pendingBounces > 0;
        st.pendingBounces = 0;
        if (dmaAddr == Bits.U64_MAX) {
            return; // dma-debug records no entry for a failed map
        }
        boolean resource = kind == DmaEvent.MapKind.RESOURCE;
        String call = resource ? "dma_map_resource" : "dma_map_page";
        if (!resource) {
            checkStack(dev, call, phys);
        }
        Entry entry = newEntry()
                .init(nextId++, dev, resource ? RESOURCE : SINGLE, dir, dmaAddr, size, phys, -1, 0, 0, bounced, t);
        entry.mapErr = MAP_ERR_NOT_CHECKED;
        addEntry(entry, attrs, call);
        entry.singleRange = !resource;
        entry.range0 = !resource && physIndexed ? addOwnRange(entry) : null;
        if (!resource) {
            checkPlacement(dev, call, dir, phys, size, dmaAddr, bounced);
        }
    }

    private void onMapSg(DmaEvent.MapSg m) {
        DevState st = state(m.device());
        boolean bounced = st.pendingBounces >= m.nents();
        st.pendingBounces = 0;
        for (int i = 0; i < m.nents(); i++) {
            checkStack(m.device(), "dma_map_sg", m.phys()[i]);
        }
        Entry head = null;
        List<Entry> members = new ArrayList<>(m.ents());
        for (int i = 0; i < m.ents(); i++) {
            Entry entry = newEntry()
                    .init(
                            nextId++,
                            m.device(),
                            SG,
                            m.dir(),
                            m.dmaAddrs()[i],
                            m.dmaLengths()[i],
                            i < m.nents() ? m.phys()[i] : -1,
                            -1,
                            m.nents(),
                            m.ents(),
                            bounced,
                            m.stamp().timeNs());
            entry.singleRange = false;
            entry.range0 = null;
            entry.mapErr = MAP_ERR_NOT_APPLICABLE;
            if (head == null) {
                head = entry;
            }
            entry.head = head;
            members.add(entry);
            checkSgSegment(m.device(), m.dmaAddrs()[i], m.dmaLengths()[i]);
            addEntry(entry, m.attrs(), "dma_map_sg");
        }
        if (head == null) {
            return;
        }
        head.members = members;
        head.sgPhys = m.phys().clone();
        List<CpuRange> ranges = new ArrayList<>(m.nents());
        for (int i = 0; i < m.nents(); i++) {
            ranges.add(addRange(new CpuRange(), head, m.phys()[i], m.lengths()[i], 0));
            checkPlacement(m.device(), "dma_map_sg", m.dir(), m.phys()[i], m.lengths()[i], -1, bounced);
        }
        head.ranges = ranges;
        head.range0 = ranges.isEmpty() ? null : ranges.get(0);
    }

    private void onAlloc(DmaEvent.Alloc a) {
        if (a.cpuAddr() == 0) {
            return;
        }
        boolean coherent = a.kind() == DmaEvent.AllocKind.COHERENT;
        Entry entry = newEntry()
                .init(
                        nextId++,
                        a.device(),
                        coherent ? COHERENT : SINGLE,
                        coherent ? Direction.BIDIRECTIONAL : a.dir(),
                        a.dmaAddr(),
                        a.size(),
                        a.phys(),
                        a.cpuAddr(),
                        0,
                        0,
                        false,
                        a.stamp().timeNs());
        entry.mapErr = MAP_ERR_NOT_APPLICABLE;
        entry.cpuOwnsAll = true;
        entry.singleRange = false;
        entry.range0 = null;
        addEntry(entry, a.attrs(), coherent ? "dma_alloc_coherent" : "dma_alloc_pages");
    }

    private void onMappingError(Device dev, long addr) {
        for (Entry e = buckets[bucket(addr)]; e != null; e = e.next) {
            if (e.dev == dev && e.dmaAddr == addr && e.mapErr == MAP_ERR_NOT_CHECKED) {
                e.mapErr = MAP_ERR_CHECKED;
                return;
            }
        }
    }

    /** dma-debug's {@code check_unmap}; {@code cpuVa} is the CPU address given to {@code dma_free_coherent}. */
    private void checkUnmap(
            Device dev, String call, int type, long addr, long size, Direction dir, int sgCallEnts, long cpuVa) {
        Entry entry = findExact(dev, addr, size, type, dir, sgCallEnts);
        if (entry == null) {
            reportNotAllocated(dev, call, addr, true, size, -1);
            return;
        }
        if (size == entry.size
                && type == entry.type
                && (type != COHERENT || cpuVa == entry.cpuVa)
                && dir == entry.dir
                && entry.mapErr != MAP_ERR_NOT_CHECKED) {
            removeCall(entry.head); // the correct driver's unmap: nothing to report
            return;
        }
        reportUnmapMismatches(entry, dev, call, type, addr, size, dir, cpuVa);
        removeCall(entry.head);
    }

    /** The reports of {@link #checkUnmap} for an entry that does not match the unmap in every respect. */
    private void reportUnmapMismatches(
            Entry entry, Device dev, String call, int type, long addr, long size, Direction dir, long cpuVa) {
        if (size != entry.size) {
            report(
                    Category.UNMAP_WRONG_SIZE,
                    dev,
                    addr,
                    size,
                    entry.phys,
                    call,
                    "device driver frees DMA memory with different size [device address=" + hex16(addr) + "] [map size="
                            + entry.size + " bytes] [unmap size=" + size + " bytes]");
        }
        if (type != entry.type) {
            report(
                    Category.UNMAP_WRONG_TYPE,
                    dev,
                    addr,
                    size,
                    entry.phys,
                    call,
                    "device driver frees DMA memory with wrong function [device address=" + hex16(addr) + "] [size="
                            + size + " bytes] [mapped as " + TYPE_NAMES[entry.type] + "] [unmapped as "
                            + TYPE_NAMES[type] + "]");
        } else if (type == COHERENT && cpuVa != entry.cpuVa) {
            report(
                    Category.FREE_WRONG_CPU_ADDRESS,
                    dev,
                    addr,
                    size,
                    entry.phys,
                    call,
                    "device driver frees DMA memory with different CPU address [device address=" + hex16(addr)
                            + "] [size=" + size + " bytes] [cpu alloc address=" + hex16(cpuPhys(entry.cpuVa))
                            + "] [cpu free address=" + hex16(cpuPhys(cpuVa)) + "]");
        }
        if (dir != entry.dir) {
            report(
                    Category.UNMAP_WRONG_DIRECTION,
                    dev,
                    addr,
                    size,
                    entry.phys,
                    call,
                    "device driver frees DMA memory with different direction [device address=" + hex16(addr)
                            + "] [size=" + size + " bytes] [mapped with " + dir2name(entry.dir)
                            + "] [unmapped with " + dir2name(dir) + "]");
        }
        if (entry.mapErr == MAP_ERR_NOT_CHECKED && options.checkMapErrors()) {
            report(
                    Category.UNCHECKED_MAP_ERROR,
                    dev,
                    addr,
                    size,
                    entry.phys,
                    call,
                    "device driver failed to check map error[device address=" + hex16(addr) + "] [size=" + size
                            + " bytes] [mapped as " + TYPE_NAMES[entry.type] + "]");
        }
    }

    /** The unmap or free found no entry; {@code addr} is unknown (-1 with {@code phys} set) for dma_unmap_sg. */
    private void reportNotAllocated(Device dev, String call, long addr, boolean addrKnown, long size, long phys) {
        if (addrKnown && addr == Bits.U64_MAX) {
            report(
                    Category.INVALID_FREE,
                    dev,
                    addr,
                    size,
                    phys,
                    call,
                    "device driver tries to free an invalid DMA memory address");
            return;
        }
        DevState st = state(dev);
        boolean again = addrKnown ? st.recentStartingAt(addr) >= 0 : st.recentWithPhys(phys) >= 0;
        report(
                again ? Category.DOUBLE_UNMAP : Category.UNMAP_NOT_MAPPED,
                dev,
                addrKnown ? addr : -1,
                size,
                phys,
                call,
                "device driver tries to free DMA memory it has not allocated [device address="
                        + (addrKnown ? hex16(addr) : "?") + "] [size=" + size + " bytes]"
                        + (addrKnown ? "" : " [phys=" + Bits.hex0x(phys) + "]"));
    }

    private void onUnmapSg(DmaEvent.UnmapSg u) {
        Device dev = u.device();
        long first = u.phys().length == 0 ? -1 : u.phys()[0];
        Entry head = findByPhys(dev, first, SG, u.nents());
        if (head == null) {
            Entry other = findByPhys(dev, first, -1, 0);
            if (other != null) {
                report(
                        Category.UNMAP_WRONG_TYPE,
                        dev,
                        other.dmaAddr,
                        other.size,
                        first,
                        "dma_unmap_sg",
                        "device driver frees DMA memory with wrong function [device address=" + hex16(other.dmaAddr)
                                + "] [size=" + other.size + " bytes] [mapped as " + TYPE_NAMES[other.type]
                                + "] [unmapped as " + TYPE_NAMES[SG] + "]");
                removeCall(other.head);
            } else {
                reportNotAllocated(dev, "dma_unmap_sg", -1, false, 0, first);
            }
            return;
        }
        if (u.nents() != head.sgCallEnts) {
            report(
                    Category.UNMAP_SG_WRONG_NENTS,
                    dev,
                    head.dmaAddr,
                    head.size,
                    first,
                    "dma_unmap_sg",
                    "device driver frees DMA sg list with different entry count [map count=" + head.sgCallEnts
                            + "] [unmap count=" + u.nents() + "]");
        }
        if (u.dir() != head.dir) {
            report(
                    Category.UNMAP_WRONG_DIRECTION,
                    dev,
                    head.dmaAddr,
                    head.size,
                    first,
                    "dma_unmap_sg",
                    "device driver frees DMA memory with different direction [device address="
                            + hex16(head.dmaAddr) + "] [size=" + head.size + " bytes] [mapped with "
                            + dir2name(head.dir) + "] [unmapped with " + dir2name(u.dir()) + "]");
        }
        // debug_dma_unmap_sg walks only the entries it is given: with fewer, the rest stay in the hash.
        removeFirst(head, Math.min(u.nents(), head.memberCount()));
    }

    private void onSyncSg(DmaEvent.SyncSg s) {
        int nelems = s.dmaAddrs().length;
        if (nelems == 0) {
            return;
        }
        Entry first = findExact(s.device(), s.dmaAddrs()[0], s.lengths()[0], SG, s.dir(), nelems);
        int mapped = first == null ? 0 : first.sgMappedEnts;
        Entry owner = null;
        for (int i = 0; i < nelems && i < mapped; i++) {
            Entry e = checkSync(
                    s.device(),
                    syncName(s.forCpu(), true),
                    s.dmaAddrs()[i],
                    s.lengths()[i],
                    s.dir(),
                    SG,
                    nelems,
                    s.forCpu());
            if (owner == null) {
                owner = e;
            }
        }
        if (owner != null) {
            own(owner, 0, 0, s.forCpu(), true);
        }
    }

    /** dma-debug's {@code check_sync}; returns the entry the sync hit, or null. */
    private Entry checkSync(
            Device dev, String call, long addr, long size, Direction dir, int type, int sgCallEnts, boolean toCpu) {
        Entry entry = findContaining(dev, addr, size, type, dir, sgCallEnts);
        if (entry == null) {
            Entry start = findStart(dev, addr);
            if (start == null) {
                report(
                        Category.SYNC_NOT_MAPPED,
                        dev,
                        addr,
                        size,
                        -1,
                        call,
                        "device driver tries to sync DMA memory it has not allocated [device address=" + hex16(addr)
                                + "] [size=" + size + " bytes]");
                return null;
            }
            report(
                    Category.SYNC_OUT_OF_RANGE,
                    dev,
                    addr,
                    size,
                    start.phys,
                    call,
                    "device driver syncs DMA memory outside allocated range [device address="
                            + hex16(start.dmaAddr) + "] [allocation size=" + start.size + " bytes] [sync offset+size="
                            + (addr - start.dmaAddr + size) + "]");
            entry = start;
        }
        if (entry.dir != Direction.BIDIRECTIONAL) {
            String fields = " [device address=" + hex16(addr) + "] [size=" + entry.size + " bytes] [mapped with "
                    + dir2name(entry.dir) + "] [synced with " + dir2name(dir) + "]";
            if (dir != entry.dir) {
                report(
                        Category.SYNC_WRONG_DIRECTION,
                        dev,
                        addr,
                        size,
                        entry.phys,
                        call,
                        "device driver syncs DMA memory with different direction" + fields);
            }
            if (toCpu && entry.dir != Direction.FROM_DEVICE && dir != Direction.TO_DEVICE) {
                report(
                        Category.SYNC_WRONG_DIRECTION,
                        dev,
                        addr,
                        size,
                        entry.phys,
                        call,
                        "device driver syncs device read-only DMA memory for cpu" + fields);
            }
            if (!toCpu && entry.dir != Direction.TO_DEVICE && dir != Direction.FROM_DEVICE) {
                report(
                        Category.SYNC_WRONG_DIRECTION,
                        dev,
                        addr,
                        size,
                        entry.phys,
                        call,
                        "device driver syncs device write-only DMA memory to device" + fields);
            }
        }
        if (sgCallEnts != 0 && type == SG && entry.type == SG && sgCallEnts != entry.sgCallEnts) {
            report(
                    Category.SYNC_SG_WRONG_NENTS,
                    dev,
                    addr,
                    size,
                    entry.phys,
                    call,
                    "device driver syncs DMA sg list with different entry count [map count=" + entry.sgCallEnts
                            + "] [sync count=" + sgCallEnts + "]");
        }
        return entry;
    }

    /** Moves ownership of {@code [off, off + len)} of {@code entry}'s call (or all of a scatterlist). */
    private static void own(Entry entry, long off, long len, boolean toCpu, boolean whole) {
        Entry h = entry.head;
        if (h.type == COHERENT) {
            return;
        }
        if (whole || h.type == SG) {
            h.cpuOwnsAll = toCpu;
            h.cpuLo = 0;
            h.cpuHi = 0;
        } else if (toCpu) {
            if (h.cpuLo >= h.cpuHi) {
                h.cpuLo = off;
                h.cpuHi = off + len;
            } else {
                h.cpuLo = Math.min(h.cpuLo, off);
                h.cpuHi = Math.max(h.cpuHi, off + len);
            }
        } else {
            h.cpuOwnsAll = false;
            long lo = off;
            long hi = off + len;
            if (lo <= h.cpuLo && hi >= h.cpuHi) {
                h.cpuLo = 0;
                h.cpuHi = 0;
            } else if (lo <= h.cpuLo && hi > h.cpuLo) {
                h.cpuLo = hi;
            } else if (hi >= h.cpuHi && lo < h.cpuHi) {
                h.cpuHi = lo;
            } else if (lo > h.cpuLo && hi < h.cpuHi) {
                // the device takes back a hole: keep the larger CPU-owned side
                if (lo - h.cpuLo >= h.cpuHi - hi) {
                    h.cpuHi = lo;
                } else {
                    h.cpuLo = hi;
                }
            }
        }
        if (!toCpu) {
            h.reportedCpuRead = false;
            h.reportedCpuWrite = false;
        }
    }

    private void onUnbound(Device dev) {
        int count = 0;
        Entry last = null;
        for (Entry first : buckets) {
            for (Entry e = first; e != null; e = e.next) {
                if (e.dev == dev) {
                    count++;
                    last = e;
                }
            }
        }
        if (count == 0) {
            return;
        }
        report(
                Category.LEAK_AT_UNBIND,
                dev,
                last.dmaAddr,
                last.size,
                last.phys,
                "device_release_driver",
                "device driver has pending DMA allocations while released from device [count=" + count
                        + "]\nOne of leaked entries details: [device address=" + hex16(last.dmaAddr) + "] [size="
                        + last.size + " bytes] [mapped with " + dir2name(last.dir) + "] [mapped as "
                        + TYPE_NAMES[last.type] + "]");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Map-time checks of where a buffer lies

    private void checkStack(Device dev, String call, long phys) {
        if (!objects.hasStacks()) {
            return;
        }
        KernelObjects.LiveObject stack = objects.stackOf(kernel.context().pid());
        if (stack != null && phys >= stack.pa() && phys < stack.end()) {
            report(
                    Category.MAP_STACK,
                    dev,
                    -1,
                    0,
                    phys,
                    call,
                    "device driver maps memory from stack [addr="
                            + Bits.hex0x(cpu.addressSpace().physToVirt(phys)) + "]");
        }
    }

    private void checkSgSegment(Device dev, long start, int len) {
        long max = DmaParams.maxSegmentSize(dev);
        if (len > max) {
            report(
                    Category.SG_SEGMENT_TOO_LONG,
                    dev,
                    start,
                    len,
                    -1,
                    "dma_map_sg",
                    "mapping sg segment longer than device claims to support [len=" + len + "] [max=" + max + "]");
        }
        long boundary = DmaParams.segmentBoundary(kernel.version(), dev);
        long end = start + len - 1;
        if (((start ^ end) & ~boundary) != 0) {
            report(
                    Category.SG_SEGMENT_BOUNDARY,
                    dev,
                    start,
                    len,
                    -1,
                    "dma_map_sg",
                    "mapping sg segment across boundary [start=" + hex16(start) + "] [end=" + hex16(end)
                            + "] [boundary=" + hex16(boundary) + "]");
        }
    }

    /** Cache-line sharing (non-coherent, device-writable, not bounced) and sub-granule IOMMU exposure. */
    private void checkPlacement(
            Device dev, String call, Direction dir, long phys, long size, long dmaAddr, boolean bounced) {
        if (size <= 0 || bounced || objects.size() == 0) {
            return; // kept small, so that the JIT inlines it where there is nothing to look up
        }
        boolean sharing = dir.deviceWrites() && !dev.dmaCoherent();
        IommuContext ctx = dev.iommuContext();
        boolean exposure = ctx != null && ctx.kind() == IommuContext.Kind.TRANSLATED;
        if (sharing || exposure) {
            checkPlacementAgainstObjects(dev, call, dir, phys, size, dmaAddr, sharing, exposure, ctx);
        }
    }

    private void checkPlacementAgainstObjects(
            Device dev,
            String call,
            Direction dir,
            long phys,
            long size,
            long dmaAddr,
            boolean sharing,
            boolean exposure,
            IommuContext ctx) {
        KernelObjects.LiveObject self = objects.firstOverlapping(phys, 1);
        if (sharing) {
            long mask = lineBytes - 1;
            long end = phys + size;
            KernelObjects.LiveObject other = objects.firstOverlappingOther(phys & ~mask, phys - (phys & ~mask), self);
            if (other == null) {
                other = objects.firstOverlappingOther(end, Bits.alignUp(end, lineBytes) - end, self);
            }
            if (other != null) {
                report(
                        Category.CACHELINE_SHARING,
                        dev,
                        dmaAddr,
                        size,
                        phys,
                        call,
                        "the " + dir2name(dir) + " buffer at phys " + Bits.hex0x(phys) + " (" + size
                                + " bytes) shares a " + lineBytes + "-byte cache line with the live " + other.kind()
                                + " at " + Bits.hex0x(other.pa()) + " (" + other.size() + " bytes)");
            }
        }
        if (exposure) {
            long granule = 1L << ctx.unit().granuleShift();
            long lo = phys & -granule;
            long end = phys + size;
            long hi = Bits.alignUp(end, granule);
            KernelObjects.LiveObject other = objects.firstOverlappingOther(lo, phys - lo, self);
            if (other == null) {
                other = objects.firstOverlappingOther(end, hi - end, self);
            }
            if (other != null) {
                report(
                        Category.SUBPAGE_EXPOSURE,
                        dev,
                        dmaAddr,
                        size,
                        phys,
                        call,
                        "the IOMMU maps " + Bits.hex0x(lo) + "-" + Bits.hex0x(hi - 1) + " for this " + size
                                + "-byte mapping, so the device can also reach the live " + other.kind() + " at "
                                + Bits.hex0x(other.pa()) + " (" + other.size() + " bytes)");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // CPU accesses

    @Override
    public void onCpuAccess(int cpuNo, long va, long pa, long len, boolean write) {
        reportedThisCall = 0;
        boolean violated = checkOwnership(pa, len, write);
        if (!write && !violated && !marks.isEmpty()) {
            checkStaleRead(pa, len);
        }
    }

    private boolean checkOwnership(long pa, long len, boolean write) {
        if (liveEntries == 0) {
            return false;
        }
        ensurePhysIndex();
        long end = pa + len;
        long lowest = Math.max(0, pa - maxRangeSize) >>> HASH_FN_SHIFT;
        boolean violated = false;
        for (long bn = (end - 1) >>> HASH_FN_SHIFT; bn >= lowest; bn--) {
            for (CpuRange r = physBuckets[(int) (bn & (HASH_SIZE - 1))]; r != null; r = r.next) {
                if (r.pa >= end || r.pa + r.len <= pa || (r.pa >>> HASH_FN_SHIFT) != bn) {
                    continue;
                }
                violated |= judgeCpuAccess(r, pa, end, write);
            }
        }
        return violated;
    }

    /** Reports a CPU access to the part of {@code r} it overlaps if the device owns it; true if it does. */
    private boolean judgeCpuAccess(CpuRange r, long pa, long end, boolean write) {
        Entry h = r.owner.head;
        if (!write && h.dir == Direction.TO_DEVICE) {
            return false;
        }
        long lo = Math.max(pa, r.pa);
        long hi = Math.min(end, r.pa + r.len);
        if (!h.deviceOwns(r.offset + (lo - r.pa), hi - lo)) {
            return false;
        }
        if (write ? h.reportedCpuWrite : h.reportedCpuRead) {
            return true;
        }
        if (write) {
            h.reportedCpuWrite = true;
        } else {
            h.reportedCpuRead = true;
        }
        report(
                write ? Category.CPU_WRITE_DEVICE_OWNED : Category.CPU_READ_DEVICE_OWNED,
                h.dev,
                h.dmaAddr,
                hi - lo,
                lo,
                write ? "cpu write" : "cpu read",
                "the CPU " + (write ? "wrote" : "read") + " " + (hi - lo) + " bytes at phys " + Bits.hex0x(lo)
                        + " of a " + dir2name(h.dir) + " " + TYPE_NAMES[h.type] + " mapping (dma "
                        + Bits.hex0x(h.dmaAddr) + ", " + h.size + " bytes) while the device owns it");
        return true;
    }

    private void checkStaleRead(long pa, long len) {
        long mask = lineBytes - 1;
        for (long line = pa & ~mask; line < pa + len; line += lineBytes) {
            long ma = cpu.machineAddr(line);
            Mark mark = marks.get(ma);
            if (mark == null || caches.ownerCpu(ma) < 0) {
                continue;
            }
            long lo = Math.max(pa, line);
            long hi = Math.min(pa + len, line + lineBytes);
            if (!caches.cpuViewDiffersFromMemory(cpu.machineAddr(lo), (int) (hi - lo))) {
                continue;
            }
            marks.remove(ma);
            report(
                    Category.STALE_READ,
                    mark.dev(),
                    mark.busAddr(),
                    hi - lo,
                    lo,
                    "cpu read",
                    "the CPU read " + (hi - lo) + " bytes at phys " + Bits.hex0x(lo)
                            + " from a cache line the device wrote (bus address " + Bits.hex0x(mark.busAddr())
                            + ") with no invalidate since: it got the old bytes");
            return;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Device accesses

    @Override
    public void onDeviceAccessStart(Device dev, boolean write, long busAddr, long len) {
        reportedThisCall = 0;
        accessEntry = null;
        if (len <= 0) {
            return;
        }
        String call = write ? "device write" : "device read";
        Entry entry = findStart(dev, busAddr);
        if (entry == null) {
            DevState st = state(dev);
            int i = st.recentContaining(busAddr);
            if (i >= 0) {
                report(
                        Category.USE_AFTER_UNMAP,
                        dev,
                        busAddr,
                        len,
                        st.recentPhys[i],
                        call,
                        "the device " + (write ? "wrote " : "read ") + len + " bytes at bus address "
                                + Bits.hex0x(busAddr) + " of the mapping " + Bits.hex0x(st.recentDma[i]) + " ("
                                + st.recentSize[i] + " bytes) unmapped " + micros(simNowNs() - st.recentTimeNs[i])
                                + " before" + iommuNote(dev));
            } else {
                report(
                        Category.WILD_DMA,
                        dev,
                        busAddr,
                        len,
                        -1,
                        call,
                        "the device " + (write ? "wrote " : "read ") + len + " bytes at bus address "
                                + Bits.hex0x(busAddr) + ", outside every live mapping and allocation of "
                                + dev.name() + iommuNote(dev));
            }
            return;
        }
        accessEntry = entry;
        if (write && entry.dir == Direction.TO_DEVICE) {
            report(
                    Category.DEVICE_WRITE_TO_DEVICE_MAPPING,
                    dev,
                    busAddr,
                    len,
                    entry.phys,
                    call,
                    "the device wrote " + len + " bytes at bus address " + Bits.hex0x(busAddr)
                            + " into a DMA_TO_DEVICE mapping (dma " + Bits.hex0x(entry.dmaAddr) + ", " + entry.size
                            + " bytes)");
        }
        // Cover the access with consecutive live entries; a gap is past the end of what the driver handed over.
        long end = busAddr + len;
        Entry cur = entry;
        long covered = cur.dmaAddr + cur.size;
        while (covered < end) {
            Entry next = findStart(dev, covered);
            if (next == null) {
                if (write) {
                    report(
                            Category.DEVICE_WRITE_PAST_END,
                            dev,
                            busAddr,
                            len,
                            entry.phys,
                            call,
                            "the device wrote " + len + " bytes at bus address " + Bits.hex0x(busAddr) + ", "
                                    + (end - covered) + " bytes past the end of the mapping " + Bits.hex0x(cur.dmaAddr)
                                    + " (" + cur.size + " bytes)");
                }
                return;
            }
            cur = next;
            covered = cur.dmaAddr + cur.size;
        }
    }

    private static String iommuNote(Device dev) {
        IommuContext ctx = dev.iommuContext();
        return ctx != null && ctx.kind() == IommuContext.Kind.TRANSLATED
                ? " (behind an IOMMU: a fault if unmapped and invalidated, else a stale IOTLB hit)"
                : "";
    }

    @Override
    public void onDeviceAccess(Device dev, boolean write, long busAddr, long phys, int len, BusMaster.Status status) {
        if (!write || phys < 0 || status != BusMaster.Status.OK || dev.dmaCoherent() || !caches.enabled()) {
            return;
        }
        long mask = lineBytes - 1;
        for (long line = phys & ~mask; line < phys + len; line += lineBytes) {
            if (caches.ownerCpu(line) >= 0) {
                if (accessEntry != null) {
                    accessEntry.pinned = true;
                    accessEntry.head.pinned = true;
                }
                marks.put(line, new Mark(dev, busAddr + Math.max(0, line - phys), accessEntry));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Caches

    @Override
    public void onFill(int cpuNo, long lineAddr) {
        if (!marks.isEmpty()) {
            marks.remove(lineAddr);
        }
    }

    @Override
    public void onWriteBack(int cpuNo, long lineAddr) {
        if (marks.isEmpty()) {
            return;
        }
        Mark mark = marks.remove(lineAddr);
        if (mark == null) {
            return;
        }
        Entry h = mark.entry() == null ? null : mark.entry().head;
        if (h != null) {
            if (h.reportedLostData) {
                return;
            }
            h.reportedLostData = true;
        }
        report(
                Category.LOST_DEVICE_DATA,
                mark.dev(),
                mark.busAddr(),
                lineBytes,
                lineAddr,
                "cache write-back",
                "CPU " + cpuNo + " wrote back a dirty cache line at " + Bits.hex0x(lineAddr)
                        + " over bytes the device had written (bus address " + Bits.hex0x(mark.busAddr())
                        + "): the device's data is lost");
    }

    // ---------------------------------------------------------------------------------------------------------
    // The hash

    private static int bucket(long dmaAddr) {
        return (int) ((dmaAddr >>> HASH_FN_SHIFT) & (HASH_SIZE - 1));
    }

    private void addEntry(Entry entry, long attrs, String call) {
        int b = bucket(entry.dmaAddr);
        if (buckets[b] == null) {
            buckets[b] = entry;
        } else {
            Entry t = buckets[b];
            while (t.next != null) {
                t = t.next;
            }
            t.next = entry; // at the tail, as dma-debug's hash_bucket_add
        }
        liveEntries++;
        maxEntrySize = Math.max(maxEntrySize, entry.size);
        if (entry.dir != Direction.TO_DEVICE && entry.phys >= 0) {
            trackCacheline(entry, attrs, call);
        }
    }

    /** dma-debug's {@code active_cacheline_insert} for a device-writable entry, with its EEXIST report. */
    private void trackCacheline(Entry entry, long attrs, String call) {
        long cln = entry.phys >>> lineShift;
        long overlap = activeCachelines.get(cln);
        if (overlap < 0) {
            activeCachelines.put(cln, 0);
        } else {
            activeCachelines.put(cln, overlap + 1);
            if (reportEexist
                    && !DmaAttrs.has(attrs, DmaAttrs.SKIP_CPU_SYNC)
                    && !entry.dev.dmaCoherent()
                    && !entry.bounced) {
                report(
                        Category.OVERLAPPING_CACHELINE,
                        entry.dev,
                        entry.dmaAddr,
                        entry.size,
                        entry.phys,
                        call,
                        "cacheline tracking EEXIST, overlapping mappings aren't supported");
            }
        }
    }

    /** A free entry to {@link Entry#init}: a reused one when there is one. */
    private Entry newEntry() {
        Entry e = freeEntries;
        if (e == null) {
            return new Entry();
        }
        freeEntries = e.next;
        return e;
    }

    /**
     * Keeps the entry of an unmapped call, with its own range, for reuse — only a single entry no cache-line mark
     * refers to (a scatterlist's entries share lists and stay where they are). Its fields keep their old values
     * until {@link Entry#init} sets them.
     */
    private void recycle(Entry head) {
        if (head.members != null || head.pinned) {
            return;
        }
        head.next = freeEntries;
        freeEntries = head;
    }

    /** Indexes the CPU buffer of a single mapping by physical address, in the entry's own range object. */
    private CpuRange addOwnRange(Entry entry) {
        if (entry.own == null) {
            entry.own = new CpuRange();
        }
        return addRange(entry.own, entry, entry.phys, entry.size, 0);
    }

    /** Tests only: builds the physical-address index now, so that every later mapping is inserted at once. */
    void indexEagerly() {
        ensurePhysIndex();
    }

    /** Builds the physical-address index on its first read (see {@link #physIndexed}). */
    private void ensurePhysIndex() {
        if (!physIndexed) {
            buildPhysIndex();
        }
    }

    /**
     * Every live call's CPU ranges, inserted again in the order the calls were made (entry ids rise with every
     * call; a scatterlist's ranges in list order), which gives each bucket the chain eager insertion gives.
     */
    private void buildPhysIndex() {
        physIndexed = true;
        Map<Entry, Boolean> seen = new IdentityHashMap<>();
        List<Entry> heads = new ArrayList<>();
        for (Entry first : buckets) {
            for (Entry e = first; e != null; e = e.next) {
                if (seen.put(e.head, Boolean.TRUE) == null) {
                    heads.add(e.head);
                }
            }
        }
        heads.sort(Comparator.comparingLong(h -> h.id));
        Arrays.fill(physBuckets, null);
        for (Entry h : heads) {
            if (h.ranges != null) {
                for (CpuRange r : h.ranges) {
                    addRange(r, h, r.pa, r.len, r.offset);
                }
            } else if (h.singleRange) {
                h.range0 = addOwnRange(h);
            }
        }
    }

    /** Indexes {@code r}, set to the given range of {@code owner}, by physical address. */
    private CpuRange addRange(CpuRange r, Entry owner, long pa, long len, long offset) {
        r.init(owner, pa, len, offset);
        int b = bucket(pa);
        r.next = physBuckets[b];
        physBuckets[b] = r;
        maxRangeSize = Math.max(maxRangeSize, len);
        return r;
    }

    /** Removes every entry of a call (one, or a scatterlist's segments) and its CPU ranges. */
    private void removeCall(Entry head) {
        removeFirst(head, head.memberCount());
    }

    /**
     * Removes the first {@code n} entries of a call; its CPU ranges go with the last entry (a scatterlist
     * partly unmapped stays mapped, and device-owned, for the checker as for the kernel).
     */
    private void removeFirst(Entry head, int n) {
        DevState st = state(head.dev);
        long now = simNowNs();
        for (int i = 0; i < n; i++) {
            Entry e = head.member(i);
            if (!e.live) {
                continue; // already removed by an earlier partial unmap
            }
            removeEntry(e);
            st.rememberUnmap(e.dmaAddr, e.size, e.phys, now);
        }
        int count = head.memberCount();
        for (int i = 0; i < count; i++) {
            if (head.member(i).live) {
                return;
            }
        }
        if (head.ranges != null) {
            for (CpuRange r : head.ranges) {
                removeRange(r);
            }
        } else if (head.range0 != null) {
            removeRange(head.range0);
        }
        recycle(head);
    }

    private void removeEntry(Entry entry) {
        if (!entry.live) {
            return;
        }
        entry.live = false;
        int b = bucket(entry.dmaAddr);
        Entry prev = null;
        for (Entry e = buckets[b]; e != null; prev = e, e = e.next) {
            if (e == entry) {
                if (prev == null) {
                    buckets[b] = e.next;
                } else {
                    prev.next = e.next;
                }
                e.next = null;
                liveEntries--;
                break;
            }
        }
        if (entry.dir != Direction.TO_DEVICE && entry.phys >= 0) {
            untrackCacheline(entry);
        }
    }

    /** dma-debug's {@code active_cacheline_remove}. */
    private void untrackCacheline(Entry entry) {
        long cln = entry.phys >>> lineShift;
        long overlap = activeCachelines.get(cln) - 1;
        if (overlap < 0) {
            activeCachelines.remove(cln);
        } else {
            activeCachelines.put(cln, overlap);
        }
    }

    private void removeRange(CpuRange range) {
        int b = bucket(range.pa);
        CpuRange prev = null;
        for (CpuRange r = physBuckets[b]; r != null; prev = r, r = r.next) {
            if (r == range) {
                if (prev == null) {
                    physBuckets[b] = r.next;
                } else {
                    prev.next = r.next;
                }
                return;
            }
        }
    }

    /** dma-debug's exact lookup with the best-fit rule. */
    private Entry findExact(Device dev, long addr, long size, int type, Direction dir, int sgCallEnts) {
        int b = bucket(addr);
        Entry e = buckets[b];
        if (e != null
                && e.dev == dev
                && e.dmaAddr == addr
                && e.size == size
                && e.type == type
                && e.dir == dir
                && e.sgCallEnts == sgCallEnts) {
            return e; // the first in its bucket matches on every count: bucketFind would return it at once
        }
        return bucketFind(b, dev, addr, size, type, dir, sgCallEnts, false);
    }

    /**
     * dma-debug's containing lookup: an entry holding all of {@code [addr, addr + size)}, best fit within a bucket,
     * walking back bucket by bucket while a bucket yields none (only as far as the largest live entry could reach).
     */
    private Entry findContaining(Device dev, long addr, long size, int type, Direction dir, int sgCallEnts) {
        if (liveEntries == 0) {
            return null;
        }
        long lowest = Math.max(0, addr - maxEntrySize) >>> HASH_FN_SHIFT;
        for (long bn = addr >>> HASH_FN_SHIFT; bn >= lowest; bn--) {
            Entry e = bucketFind((int) (bn & (HASH_SIZE - 1)), dev, addr, size, type, dir, sgCallEnts, true);
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /**
     * dma-debug's {@code __hash_bucket_find}: among the bucket's entries that match (same device and address, or
     * containing the range), a perfect fit (size, type, direction and entry count) at once, else the best one if it
     * is the only match, else none.
     */
    private Entry bucketFind(
            int bucket, Device dev, long addr, long size, int type, Direction dir, int sgCallEnts, boolean containing) {
        Entry best = null;
        int matches = 0;
        int bestLevel = -1;
        for (Entry e = buckets[bucket]; e != null; e = e.next) {
            boolean match = e.dev == dev
                    && (containing ? e.dmaAddr <= addr && addr + size <= e.dmaAddr + e.size : e.dmaAddr == addr);
            if (!match) {
                continue;
            }
            matches++;
            int level = (e.size == size ? 1 : 0)
                    + (e.type == type ? 1 : 0)
                    + (e.dir == dir ? 1 : 0)
                    + (e.sgCallEnts == sgCallEnts ? 1 : 0);
            if (level == 4) {
                return e;
            }
            if (level > bestLevel) {
                bestLevel = level;
                best = e;
            }
        }
        return matches == 1 ? best : null;
    }

    /** The live entry of {@code dev} that contains {@code addr}, or null. */
    private Entry findStart(Device dev, long addr) {
        if (liveEntries == 0) {
            return null;
        }
        long lowest = Math.max(0, addr - maxEntrySize) >>> HASH_FN_SHIFT;
        for (long bn = addr >>> HASH_FN_SHIFT; bn >= lowest; bn--) {
            for (Entry e = buckets[(int) (bn & (HASH_SIZE - 1))]; e != null; e = e.next) {
                if (e.dev == dev && e.dmaAddr <= addr && addr - e.dmaAddr < e.size) {
                    return e;
                }
            }
        }
        return null;
    }

    /** The live head of {@code dev} whose first CPU range starts at {@code phys} ({@code type} -1: any type). */
    private Entry findByPhys(Device dev, long phys, int type, int sgCallEnts) {
        ensurePhysIndex();
        Entry found = null;
        for (CpuRange r = physBuckets[bucket(phys)]; r != null; r = r.next) {
            Entry h = r.owner.head;
            if (h.dev != dev || r.pa != phys || (type >= 0 && h.type != type)) {
                continue;
            }
            if (h.range0 != null && h.range0 != r) {
                continue;
            }
            if (found == null || (h.sgCallEnts == sgCallEnts && found.sgCallEnts != sgCallEnts)) {
                found = h;
            }
        }
        return found;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Reporting

    private void report(
            Category category, Device dev, long dmaAddr, long size, long phys, String call, String message) {
        String driver = dev == null ? "NULL" : dev.driverString();
        if (category.dmaDebug()) {
            // err_printk: every error counts and uses up num_errors; only a shown one reaches the log.
            errorCount++;
            boolean show = driverFilterMatches(dev) && (options.allErrors() || numErrorsLeft > 0);
            if (!options.allErrors() && numErrorsLeft > 0) {
                numErrorsLeft--;
            }
            if (!show) {
                suppressed++;
                return;
            }
            kernel.printk().warn("DMA-API: " + driver + " " + (dev == null ? "NULL" : dev.name()) + ": " + message);
        }
        long bit = 1L << category.ordinal();
        boolean again = (reportedThisCall & bit) != 0;
        reportedThisCall |= bit;
        if (category != Category.LOST_DEVICE_DATA && again) {
            return; // one finding per category per call (the log above keeps the kernel's repeats)
        }
        findings.add(new DmaFinding(
                category,
                dev == null ? "NULL" : dev.name(),
                driver,
                dmaAddr,
                size,
                phys,
                call,
                kernel.callChain(),
                message,
                simNowNs(),
                call.startsWith("device") || call.startsWith("cache")
                        ? -1
                        : kernel.context().cpu()));
    }

    private boolean driverFilterMatches(Device dev) {
        String filter = options.driverFilter();
        if (filter == null) {
            return true;
        }
        return dev != null && filter.equals(dev.driverName());
    }

    private DevState state(Device dev) {
        return dev == lastDev && lastState != null ? lastState : lookUpState(dev);
    }

    private DevState lookUpState(Device dev) {
        lastState = devices.computeIfAbsent(dev, d -> new DevState());
        lastDev = dev;
        return lastState;
    }

    private long simNowNs() {
        return clock.nowNs();
    }

    private long cpuPhys(long va) {
        long pa = cpu.addressSpace().virtToPhys(va);
        return pa < 0 ? va : pa;
    }

    private static String hex16(long v) {
        return String.format(java.util.Locale.ROOT, "0x%016x", v);
    }

    private static String dir2name(Direction d) {
        return d.kernelName();
    }

    private static String micros(long ns) {
        return ns % 1000 == 0 ? ns / 1000 + " µs" : String.format(java.util.Locale.ROOT, "%.3f µs", ns / 1000.0);
    }
}
