package dev.dmalab.cache;

import dev.dmalab.memory.MemoryContents;
import dev.dmalab.memory.PhysicalMemoryMap;
import java.util.Arrays;

/**
 * The data caches of all CPUs, in front of {@link MemoryContents}.
 *
 * <h2>Model</h2>
 *
 * <ul>
 *   <li>Each CPU has a set-associative write-back cache of {@link CacheGeometry}; a line is {@link
 *       LineState#CLEAN} or {@link LineState#DIRTY} when present. Replacement is LRU within the set; evicting a
 *       dirty line writes it back.
 *   <li>CPU caches are coherent with each other: a line is present in at most one CPU's cache at a time and
 *       migrates, with its data and state, to the CPU that touches it. This exclusive-ownership protocol gives the
 *       same values as MESI for every interleaving the model can produce (it has no concurrency inside an
 *       access).
 *   <li>CPU accesses through a non-cacheable mapping ({@link MemAttr#NORMAL_NC}, {@link MemAttr#DEVICE}) go to
 *       memory and ignore the caches, so a cacheable alias of the same memory can hold different bytes — the
 *       mismatched-alias hazard that {@code arch_dma_prep_coherent} exists to remove.
 *   <li>A coherent device's read returns a CPU's cached copy if there is one; its write makes every CPU drop the
 *       line (a dirty line is first written back, so bytes outside the device's write survive). A non-coherent
 *       device's accesses see and change memory only.
 *   <li>Maintenance ({@link #clean}, {@link #invalidate}, {@link #cleanInvalidate}) acts on whole lines that
 *       overlap the range, in every CPU's cache. Whether a partial line at the edge is invalidated or cleaned
 *       and invalidated is the arch's choice, made by the caller.
 * </ul>
 *
 * <p>In <em>transparent</em> mode (every device on the platform coherent, as on x86) the caches are provably
 * unobservable through DMA, so they are bypassed entirely: accesses go to memory and maintenance does nothing.
 *
 * <p>Deliberate differences from hardware: one level up to the point of coherency; no write-combining buffers,
 * no store buffers, no cache-line ownership by devices; speculation only as {@link SpeculativeFill} defines.
 */
public final class CacheSystem {
    private static final byte INVALID = 0;
    private static final byte CLEAN = 1;
    private static final byte DIRTY = 2;

    private final MemoryContents memory;
    private final PhysicalMemoryMap map;
    private final CacheGeometry geometry;
    private final boolean enabled;
    private final SpeculativeFill speculation;
    private final int cpus;
    private final int lineBytes;
    private final int lineShift;
    private final int sets;
    private final int ways;
    private final long[][] tags;
    private final byte[][] states;
    private final byte[][] data;
    private final long[][] stamps;
    private final byte[] scratch;
    private long tick;
    private CacheObserver observer;

    private long readHits;
    private long readMisses;
    private long writeBacks;
    private long speculativeFills;

    public CacheSystem(
            MemoryContents memory,
            PhysicalMemoryMap map,
            int cpus,
            CacheGeometry geometry,
            boolean enabled,
            SpeculativeFill speculation) {
        if (cpus < 1 || cpus > 1024) {
            throw new IllegalArgumentException("CPU count out of range [1, 1024]: " + cpus);
        }
        this.memory = memory;
        this.map = map;
        this.geometry = geometry;
        this.enabled = enabled;
        this.speculation = speculation;
        this.cpus = cpus;
        this.lineBytes = geometry.lineBytes();
        this.lineShift = geometry.lineShift();
        this.sets = geometry.sets();
        this.ways = geometry.ways();
        int slots = enabled ? sets * ways : 0;
        this.tags = new long[cpus][slots];
        this.states = new byte[cpus][slots];
        this.data = new byte[cpus][slots * lineBytes];
        this.stamps = new long[cpus][slots];
        for (long[] t : tags) {
            Arrays.fill(t, -1L);
        }
        this.scratch = new byte[lineBytes];
    }

    /** Whether the caches are modelled (false: transparent mode, every access goes to memory). */
    public boolean enabled() {
        return enabled;
    }

    public CacheGeometry geometry() {
        return geometry;
    }

    public int cpus() {
        return cpus;
    }

    public SpeculativeFill speculation() {
        return speculation;
    }

    public void setObserver(CacheObserver observer) {
        this.observer = observer;
    }

    // ---------------------------------------------------------------------------------------------------------
    // CPU accesses

    /** A CPU load of {@code len} bytes at {@code pa} through a mapping of type {@code attr}. */
    public void cpuRead(int cpu, long pa, byte[] dst, int off, int len, MemAttr attr) {
        checkCpu(cpu);
        if (!enabled || !attr.cacheable()) {
            memory.read(pa, dst, off, len);
            return;
        }
        while (len > 0) {
            long line = pa >>> lineShift;
            int in = (int) (pa & (lineBytes - 1));
            int n = Math.min(len, lineBytes - in);
            int slot = acquire(cpu, line, true);
            System.arraycopy(data[cpu], slot * lineBytes + in, dst, off, n);
            pa += n;
            off += n;
            len -= n;
        }
    }

    /** A CPU store of {@code len} bytes at {@code pa} through a mapping of type {@code attr}. */
    public void cpuWrite(int cpu, long pa, byte[] src, int off, int len, MemAttr attr) {
        checkCpu(cpu);
        if (!enabled || !attr.cacheable()) {
            memory.write(pa, src, off, len);
            return;
        }
        while (len > 0) {
            long line = pa >>> lineShift;
            int in = (int) (pa & (lineBytes - 1));
            int n = Math.min(len, lineBytes - in);
            int slot = acquire(cpu, line, false);
            System.arraycopy(src, off, data[cpu], slot * lineBytes + in, n);
            states[cpu][slot] = DIRTY;
            pa += n;
            off += n;
            len -= n;
        }
    }

    /** {@code memset}: a CPU store of {@code len} copies of {@code value}. */
    public void cpuFill(int cpu, long pa, long len, byte value, MemAttr attr) {
        checkCpu(cpu);
        if (!enabled || !attr.cacheable()) {
            memory.fill(pa, len, value);
            return;
        }
        while (len > 0) {
            long line = pa >>> lineShift;
            int in = (int) (pa & (lineBytes - 1));
            int n = (int) Math.min(len, lineBytes - in);
            int slot = acquire(cpu, line, false);
            int base = slot * lineBytes + in;
            Arrays.fill(data[cpu], base, base + n, value);
            states[cpu][slot] = DIRTY;
            pa += n;
            len -= n;
        }
    }

    /**
     * {@code memcpy} by a CPU from {@code srcPa} to {@code dstPa} (non-overlapping), each side through its own
     * mapping type. Allocation-free.
     */
    public void cpuCopy(int cpu, long srcPa, MemAttr srcAttr, long dstPa, MemAttr dstAttr, long len) {
        checkCpu(cpu);
        if (!enabled || (!srcAttr.cacheable() && !dstAttr.cacheable())) {
            memory.copy(srcPa, dstPa, len);
            return;
        }
        while (len > 0) {
            int n = (int) Math.min(len, lineBytes - Math.max(srcPa & (lineBytes - 1), dstPa & (lineBytes - 1)));
            cpuRead(cpu, srcPa, scratch, 0, n, srcAttr);
            cpuWrite(cpu, dstPa, scratch, 0, n, dstAttr);
            srcPa += n;
            dstPa += n;
            len -= n;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Device (bus master) accesses

    /** A DMA read by a device: snoops the CPU caches if {@code coherent}, else reads memory only. */
    public void deviceRead(long pa, byte[] dst, int off, int len, boolean coherent) {
        if (!enabled || !coherent) {
            memory.read(pa, dst, off, len);
            return;
        }
        while (len > 0) {
            long line = pa >>> lineShift;
            int in = (int) (pa & (lineBytes - 1));
            int n = Math.min(len, lineBytes - in);
            boolean found = false;
            for (int c = 0; c < cpus && !found; c++) {
                int slot = find(c, line);
                if (slot >= 0) {
                    System.arraycopy(data[c], slot * lineBytes + in, dst, off, n);
                    found = true;
                }
            }
            if (!found) {
                memory.read(pa, dst, off, n);
            }
            pa += n;
            off += n;
            len -= n;
        }
    }

    /**
     * A DMA write by a device. Coherent: every cached copy of the touched lines is dropped (dirty ones written
     * back first, so the untouched bytes of a partial line survive), then memory is written. Non-coherent: memory
     * only; cached copies go stale.
     */
    public void deviceWrite(long pa, byte[] src, int off, int len, boolean coherent) {
        if (enabled && coherent) {
            cleanInvalidateLines(pa, len, false);
        }
        memory.write(pa, src, off, len);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Maintenance by physical range, on every CPU (DC CVAC / IVAC / CIVAC to the point of coherency)

    /** Writes back every dirty line overlapping {@code [pa, pa + len)}; lines stay present and become clean. */
    public void clean(long pa, long len) {
        if (!enabled || len <= 0) {
            return;
        }
        long first = pa >>> lineShift;
        long last = (pa + len - 1) >>> lineShift;
        for (long line = first; line <= last; line++) {
            for (int c = 0; c < cpus; c++) {
                int slot = find(c, line);
                if (slot >= 0 && states[c][slot] == DIRTY) {
                    writeBack(c, slot);
                    states[c][slot] = CLEAN;
                }
            }
        }
    }

    /** Drops every line overlapping the range without writing it back (dirty CPU data is lost). */
    public void invalidate(long pa, long len) {
        if (!enabled || len <= 0) {
            return;
        }
        long first = pa >>> lineShift;
        long last = (pa + len - 1) >>> lineShift;
        for (long line = first; line <= last; line++) {
            for (int c = 0; c < cpus; c++) {
                int slot = find(c, line);
                if (slot >= 0) {
                    if (states[c][slot] == DIRTY && observer != null) {
                        observer.onDirtyDiscarded(c, line << lineShift);
                    }
                    drop(c, slot);
                }
            }
        }
    }

    /**
     * Invalidates {@code [pa, pa + len)} the way software that does not own whole lines must: a partial line at
     * either end is cleaned and invalidated (so unrelated dirty data sharing the line survives), whole lines are
     * invalidated. This is arm's {@code __dma_inv_area} / {@code dcache_inval_poc} / {@code v7_dma_inv_range} and
     * Xen's {@code invalidate_dcache_va_range}.
     */
    public void invalidateCleaningEdges(long pa, long len) {
        if (len <= 0) {
            return;
        }
        long end = pa + len;
        long first = pa & -lineBytes;
        long last = (end + lineBytes - 1) & -lineBytes;
        if (pa != first) {
            cleanInvalidate(first, lineBytes);
            first += lineBytes;
        }
        if (end != (end & -lineBytes) && last - lineBytes >= first) {
            cleanInvalidate(last - lineBytes, lineBytes);
            last -= lineBytes;
        }
        if (last > first) {
            invalidate(first, last - first);
        }
    }

    /** Writes back dirty lines overlapping the range, then drops them. */
    public void cleanInvalidate(long pa, long len) {
        if (!enabled || len <= 0) {
            return;
        }
        cleanInvalidateLines(pa, len, true);
    }

    private void cleanInvalidateLines(long pa, long len, boolean all) {
        long first = pa >>> lineShift;
        long last = (pa + len - 1) >>> lineShift;
        for (long line = first; line <= last; line++) {
            for (int c = 0; c < cpus; c++) {
                int slot = find(c, line);
                if (slot >= 0) {
                    if (states[c][slot] == DIRTY) {
                        writeBack(c, slot);
                    }
                    drop(c, slot);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Inspection (tests, checker, reports)

    /** The state of the line containing {@code pa} in whichever CPU holds it. */
    public LineState lineState(long pa) {
        if (!enabled) {
            return LineState.INVALID;
        }
        long line = pa >>> lineShift;
        for (int c = 0; c < cpus; c++) {
            int slot = find(c, line);
            if (slot >= 0) {
                return states[c][slot] == DIRTY ? LineState.DIRTY : LineState.CLEAN;
            }
        }
        return LineState.INVALID;
    }

    /** The CPU holding the line containing {@code pa}, or -1. */
    public int ownerCpu(long pa) {
        if (!enabled) {
            return -1;
        }
        long line = pa >>> lineShift;
        for (int c = 0; c < cpus; c++) {
            if (find(c, line) >= 0) {
                return c;
            }
        }
        return -1;
    }

    /**
     * Whether the CPU's view of {@code [pa, pa + len)} differs from memory (a present line whose bytes are not
     * memory's). True for dirty lines and for clean lines that a non-coherent device has since overwritten.
     */
    public boolean cpuViewDiffersFromMemory(long pa, int len) {
        if (!enabled) {
            return false;
        }
        while (len > 0) {
            long line = pa >>> lineShift;
            int in = (int) (pa & (lineBytes - 1));
            int n = Math.min(len, lineBytes - in);
            for (int c = 0; c < cpus; c++) {
                int slot = find(c, line);
                if (slot >= 0) {
                    memory.read(pa, scratch, 0, n);
                    if (!Arrays.equals(data[c], slot * lineBytes + in, slot * lineBytes + in + n, scratch, 0, n)) {
                        return true;
                    }
                }
            }
            pa += n;
            len -= n;
        }
        return false;
    }

    public long readHits() {
        return readHits;
    }

    public long readMisses() {
        return readMisses;
    }

    public long writeBacks() {
        return writeBacks;
    }

    public long speculativeFills() {
        return speculativeFills;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals

    private void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IllegalArgumentException("CPU " + cpu + " does not exist (the machine has " + cpus + ")");
        }
    }

    private int find(int cpu, long line) {
        int base = (int) (line & (sets - 1)) * ways;
        long[] t = tags[cpu];
        for (int w = 0; w < ways; w++) {
            if (t[base + w] == line) {
                return base + w;
            }
        }
        return -1;
    }

    /** Makes {@code line} present in {@code cpu}'s cache and returns its slot. */
    private int acquire(int cpu, long line, boolean isRead) {
        int slot = find(cpu, line);
        if (slot >= 0) {
            if (isRead) {
                readHits++;
            }
            stamps[cpu][slot] = ++tick;
            return slot;
        }
        // Another CPU may own it: migrate with its data and state.
        for (int c = 0; c < cpus; c++) {
            if (c == cpu) {
                continue;
            }
            int other = find(c, line);
            if (other >= 0) {
                int mine = victim(cpu, line);
                System.arraycopy(data[c], other * lineBytes, data[cpu], mine * lineBytes, lineBytes);
                states[cpu][mine] = states[c][other];
                tags[cpu][mine] = line;
                stamps[cpu][mine] = ++tick;
                drop(c, other);
                if (isRead) {
                    readHits++;
                }
                return mine;
            }
        }
        if (isRead) {
            readMisses++;
        }
        int mine = fill(cpu, line);
        if (isRead && speculation == SpeculativeFill.NEXT_LINE) {
            long next = line + 1;
            long nextAddr = next << lineShift;
            if (map.isRam(nextAddr) && ownerCpu(nextAddr) < 0) {
                // A fill must not evict the line just filled: it lives in another set unless sets == 1.
                if (sets > 1 || ways > 1) {
                    int s = fill(cpu, next);
                    stamps[cpu][s] = tick - 1; // older than the demanded line
                    stamps[cpu][mine] = ++tick;
                    speculativeFills++;
                }
            }
        }
        return mine;
    }

    private int fill(int cpu, long line) {
        int slot = victim(cpu, line);
        memory.read(line << lineShift, data[cpu], slot * lineBytes, lineBytes);
        tags[cpu][slot] = line;
        states[cpu][slot] = CLEAN;
        stamps[cpu][slot] = ++tick;
        if (observer != null) {
            observer.onFill(cpu, line << lineShift);
        }
        return slot;
    }

    /** Chooses (and empties) a slot for {@code line} in {@code cpu}'s set: an invalid way, else the LRU way. */
    private int victim(int cpu, long line) {
        int base = (int) (line & (sets - 1)) * ways;
        int best = base;
        long oldest = Long.MAX_VALUE;
        for (int w = 0; w < ways; w++) {
            int s = base + w;
            if (tags[cpu][s] == -1L) {
                return s;
            }
            if (stamps[cpu][s] < oldest) {
                oldest = stamps[cpu][s];
                best = s;
            }
        }
        if (states[cpu][best] == DIRTY) {
            writeBack(cpu, best);
        }
        drop(cpu, best);
        return best;
    }

    private void writeBack(int cpu, int slot) {
        long addr = tags[cpu][slot] << lineShift;
        memory.write(addr, data[cpu], slot * lineBytes, lineBytes);
        writeBacks++;
        if (observer != null) {
            observer.onWriteBack(cpu, addr);
        }
    }

    private void drop(int cpu, int slot) {
        tags[cpu][slot] = -1L;
        states[cpu][slot] = INVALID;
    }
}
