package dev.dmalab.swiotlb;

import dev.dmalab.util.Bits;
import java.util.Arrays;

/**
 * One swiotlb pool: models {@code struct io_tlb_pool} and the slot allocator of {@code kernel/dma/swiotlb.c} in its
 * two generations — the single global index of 4.20–5.x ({@code swiotlb_tbl_map_single} of 5.0) and the per-area
 * search of 6.9+ ({@code swiotlb_search_pool_area} / {@code swiotlb_release_slots} of 6.12).
 *
 * <h2>Notation</h2>
 *
 * <pre>
 *   slot          2 KiB (IO_TLB_SIZE = 1 &lt;&lt; IO_TLB_SHIFT, IO_TLB_SHIFT = 11) of the pool; slot s covers
 *                 [start + s*2048, start + (s+1)*2048)
 *   segment       128 consecutive slots (IO_TLB_SEGSIZE); segment k = slots [128k, 128k+128). No allocation
 *                 crosses a segment, so nothing longer than 256 KiB is ever bounced.
 *   list[s]       the free-run length at s: how many free slots start at s and stay inside s's segment;
 *                 0 for a used slot
 *   area          nslabs / nareas consecutive slots with their own cursor (index), used count and lock (6.x);
 *                 the CPU that maps picks area (cpu &amp; (nareas - 1)) first
 *   cursor        area.index, area-relative: where the next search of the area starts
 *   tbl           the bus address of slot 0 masked with the device's segment boundary mask
 *   orig          the physical address of the buffer being bounced
 * </pre>
 *
 * <h2>Invariants ({@link #checkInvariants()})</h2>
 *
 * <ol>
 *   <li>{@code list[s] == 0} iff slot s is used.
 *   <li>For a free slot s, {@code list[s] == 1 + list[s+1]} if s+1 is free and in the same segment, else 1. So a
 *       free run of n slots reads n, n-1, …, 1, and the encoding is canonical: it depends only on which slots are
 *       used, not on the order of allocations and frees.
 *   <li>The used slots of an area add up to its {@code used} count (6.x), and of the pool to the total.
 *   <li>A used slot holds the original address its bytes belong to; a free slot holds {@code INVALID_PHYS_ADDR}.
 * </ol>
 *
 * <h2>Allocation, 6.12 ({@link #searchArea})</h2>
 *
 * The caller has rounded the request to {@code size} bytes ({@code nslots = ceil(size / 2048)}) and chosen the
 * masks. A slot is a <em>candidate</em> when its bus address {@code tbl + s*2048} meets the allocation alignment
 * ({@code alloc_align_mask | 2047}, which is {@code PAGE_SIZE - 1} for a page-or-larger streaming map without
 * other constraints) and, for a device with {@code min_align_mask}, carries the same bits above bit 10 as {@code
 * orig} under that mask. Starting at the cursor, the walk steps by 1 past non-candidates and by {@code stride} past
 * candidates that do not fit ({@code list[s] < nslots} or the run would cross the boundary-mask window), wrapping
 * to 0 (not modulo) at the end of the area, and gives up after {@code area_nslabs} slots have been counted. The
 * first fitting candidate is taken: its slots get {@code list = 0}, the free slots just before it in the same
 * segment are renumbered 1, 2, 3, … (they now end at the allocation), and the cursor moves to {@code found +
 * nslots} (wrapped), even if that slot is misaligned. If the area has fewer than {@code nslots} free slots the
 * search fails at once without walking.
 *
 * <h2>Allocation, 5.0 ({@link #searchGlobal})</h2>
 *
 * One index for the whole pool, rounded up to {@code stride} (2 for a page-or-larger request with 4 KiB pages,
 * else 1); the walk steps by {@code stride} only, skipping positions whose run would cross the boundary window,
 * and stops when it comes back to where it began. The returned address is always 2 KiB aligned: 5.0 keeps no
 * sub-slot offset.
 *
 * <h2>Release ({@link #release}, {@link #release50})</h2>
 *
 * The freed run [k, k+n) is renumbered from its end: it continues the free run after it (if that is in the same
 * segment), and the free run before it (in the same segment) is renumbered to continue it. Allocation and release
 * therefore keep invariant 2.
 *
 * <h2>Worked example</h2>
 *
 * <pre>
 *   A fresh 256-slot pool, one area. list = 128,127,...,1 | 128,127,...,1 ; cursor 0.
 *   map 4096 bytes, orig 0x1000, no masks, page 4 KiB:
 *       nslots 2, alloc_align 4095 -> candidates are even slots (pool start page aligned)
 *       slot 0: candidate, list[0] = 128 >= 2 -> found. list[0..1] = 0. cursor = 2. returns start.
 *   map 512 bytes:  nslots 1, alloc_align 2047 -> every slot is a candidate. slot 2 fits -> cursor 3.
 *   unmap the first mapping (slots 0..1): list[2] = 0 (used), so count starts at 0:
 *       list[1] = 1, list[0] = 2. Nothing before slot 0 in the segment.
 *   unmap the second (slot 2): count = list[3] = 125 -> list[2] = 126; then list[1] = 127, list[0] = 128.
 *       The segment is whole again, and the cursor stays at 3: the next search starts there, not at 0.
 * </pre>
 *
 * <h2>Representation</h2>
 *
 * The kernel stores {@code list[]} as a counter per slot and pays a walk of up to 127 slots to renumber on every
 * allocation and free. Because the encoding is canonical (invariant 2), the model stores instead one bit per slot
 * (used or free) and derives {@code list[s]} on demand as the distance from {@code s} to the next used slot or the
 * end of its segment — two 64-bit words per segment, so {@link #list(int)}, the fit test {@code list[s] >= nslots},
 * claiming and freeing are O(1) word operations. Every value the kernel would read is the same; only the cost
 * differs.
 *
 * <p>Deliberate differences: no locking (the model is single-threaded; per-area state is still separate, so the
 * order of reuse per CPU is the kernel's); no dynamic or transient pools (CONFIG_SWIOTLB_DYNAMIC is off in the
 * modelled distribution configs).
 */
public final class IoTlbPool {
    public static final int IO_TLB_SHIFT = 11;
    public static final int IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
    public static final int IO_TLB_SEGSIZE = 128;
    /** {@code INVALID_PHYS_ADDR}. */
    public static final long INVALID_PHYS_ADDR = Bits.U64_MAX;

    private final long start;
    private final int nslabs;
    private final int nareas;
    private final int areaNslabs;
    private final long[] origAddr;
    private final long[] allocSize;
    private final long[] usedBits; // bit s: slot s is used (list[s] == 0)
    private final int[] padSlots;
    private final int[] areaIndex;
    private final long[] areaUsed;

    /**
     * {@code swiotlb_init_io_tlb_pool}: a fresh pool.
     *
     * @param start physical address of slot 0 (page aligned)
     * @param nslabs number of slots, a multiple of 128 (or 1 for 5.0's {@code swiotlb=noforce})
     * @param nareas a power of two dividing {@code nslabs} (1 before 6.0)
     */
    public IoTlbPool(long start, int nslabs, int nareas) {
        if (nslabs < 1 || (nslabs != 1 && nslabs % IO_TLB_SEGSIZE != 0)) {
            throw new IllegalArgumentException("swiotlb nslabs must be a multiple of 128: " + nslabs);
        }
        if (nareas < 1 || !Bits.isPowerOfTwo(nareas) || nslabs % nareas != 0) {
            throw new IllegalArgumentException("swiotlb areas must be a power of two dividing nslabs: " + nareas);
        }
        this.start = start;
        this.nslabs = nslabs;
        this.nareas = nareas;
        this.areaNslabs = nslabs / nareas;
        this.origAddr = new long[nslabs];
        this.allocSize = new long[nslabs];
        this.usedBits = new long[(nslabs + 63) >>> 6];
        this.padSlots = new int[nslabs];
        this.areaIndex = new int[nareas];
        this.areaUsed = new long[nareas];
        Arrays.fill(origAddr, INVALID_PHYS_ADDR);
    }

    public long start() {
        return start;
    }

    /** Exclusive end. */
    public long end() {
        return start + ((long) nslabs << IO_TLB_SHIFT);
    }

    public int nslabs() {
        return nslabs;
    }

    public int nareas() {
        return nareas;
    }

    public int areaNslabs() {
        return areaNslabs;
    }

    public boolean contains(long paddr) {
        return Bits.ule(start, paddr) && Bits.ult(paddr, end());
    }

    /** The slot index holding {@code paddr} (which must be in the pool). */
    public int slotOf(long paddr) {
        return (int) ((paddr - start) >>> IO_TLB_SHIFT);
    }

    public long slotAddr(int slot) {
        return start + ((long) slot << IO_TLB_SHIFT);
    }

    public long origAddr(int slot) {
        return origAddr[slot];
    }

    public long allocSize(int slot) {
        return allocSize[slot];
    }

    /**
     * The kernel's {@code slots[slot].list}: 0 for a used slot, else how many free slots start at {@code slot}
     * inside its 128-slot segment (a fresh pool reads 128, 127, …, 1 per segment).
     */
    public int list(int slot) {
        if (isUsed(slot)) {
            return 0;
        }
        return freeRunEnd(slot) - slot;
    }

    /** Whether slot {@code slot} is allocated. */
    public boolean isUsed(int slot) {
        return (usedBits[slot >>> 6] & (1L << slot)) != 0;
    }

    /** The first used slot at or after {@code slot} within its segment, or the segment's end. */
    private int freeRunEnd(int slot) {
        int segEnd = Math.min((slot | (IO_TLB_SEGSIZE - 1)) + 1, nslabs);
        int w = slot >>> 6;
        long bits = usedBits[w] & (-1L << slot);
        while (true) {
            if (bits != 0) {
                return Math.min((w << 6) + Long.numberOfTrailingZeros(bits), segEnd);
            }
            w++;
            if (w << 6 >= segEnd) {
                return segEnd;
            }
            bits = usedBits[w];
        }
    }

    /** {@code list[slot] >= nslots}: a free run of at least {@code nslots} starts at {@code slot}. */
    private boolean fits(int slot, int nslots) {
        return !isUsed(slot) && slot + nslots <= freeRunEnd(slot);
    }

    private void setUsed(int from, int to, boolean used) {
        for (int i = from; i < to; ) {
            int w = i >>> 6;
            int end = Math.min(to, (w + 1) << 6);
            long mask = (end - i == 64 ? -1L : ((1L << (end - i)) - 1)) << i;
            usedBits[w] = used ? usedBits[w] | mask : usedBits[w] & ~mask;
            i = end;
        }
    }

    public int padSlots(int slot) {
        return padSlots[slot];
    }

    /** The area's cursor ({@code area->index}, area-relative). */
    public int areaIndex(int area) {
        return areaIndex[area];
    }

    /** The area's used slots. */
    public long areaUsed(int area) {
        return areaUsed[area];
    }

    /** Used slots in the whole pool. */
    public long used() {
        long u = 0;
        for (long a : areaUsed) {
            u += a;
        }
        return u;
    }

    /** {@code nr_slots(val)}: slots needed for {@code val} bytes. */
    public static long nrSlots(long val) {
        return (val + IO_TLB_SIZE - 1) >>> IO_TLB_SHIFT;
    }

    /**
     * {@code iommu_is_span_boundary(index, nr, shift, boundary_size)}: whether a run of {@code nr} slots at {@code
     * index} crosses a {@code boundarySize}-slot window of bus space offset by {@code shift} slots.
     */
    static boolean spanBoundary(long index, long nr, long shift, long boundarySize) {
        long s = (shift + index) & (boundarySize - 1);
        return s + nr > boundarySize;
    }

    private int wrapArea(int index) {
        return index >= areaNslabs ? 0 : index;
    }

    // -------------------------------------------------------------------------------------------------------------
    // 6.12

    /**
     * {@code swiotlb_search_pool_area} (6.9+): finds and takes {@code nrSlots(allocSize)} slots in {@code area}.
     *
     * @param tblDma {@code phys_to_dma_unencrypted(pool->start) & boundary_mask}
     * @param boundaryMask the device's {@code dma_get_seg_boundary()}
     * @param minAlignMask the device's {@code dma_get_min_align_mask()}
     * @param orig the original physical address (0 for {@code swiotlb_alloc})
     * @param allocSizeBytes the rounded request ({@code mapping_size + offset}, aligned)
     * @param allocAlignMask 0 for streaming maps; granule-1 for dma-iommu; PAGE_SIZE-1 based for allocations
     * @param pageSize {@code PAGE_SIZE}
     * @return the first slot of the run (absolute index), or -1
     */
    public int searchArea(
            int area,
            long tblDma,
            long boundaryMask,
            long minAlignMask,
            long orig,
            long allocSizeBytes,
            long allocAlignMask,
            long pageSize) {
        long maxSlots = (boundaryMask >>> IO_TLB_SHIFT) + 1;
        long iotlbAlignMask = minAlignMask;
        int nslots = (int) nrSlots(allocSizeBytes);
        long offset = orig & minAlignMask & (IO_TLB_SIZE - 1);
        if (nslots == 0 || area >= nareas) {
            throw new IllegalArgumentException("BUG_ON: nslots " + nslots + " area " + area);
        }
        if (allocAlignMask == 0 && iotlbAlignMask == 0 && allocSizeBytes >= pageSize) {
            allocAlignMask = pageSize - 1;
        }
        allocAlignMask |= IO_TLB_SIZE - 1;
        iotlbAlignMask &= ~allocAlignMask;
        long stride = (Math.max(allocAlignMask, iotlbAlignMask) >>> IO_TLB_SHIFT) + 1;

        if (nslots > areaNslabs - areaUsed[area]) {
            return -1;
        }
        int slotBase = area * areaNslabs;
        int index = areaIndex[area];
        long shift = nrSlots(tblDma);
        for (long slotsChecked = 0; slotsChecked < areaNslabs; ) {
            int slot = slotBase + index;
            long slotDma = tblDma + ((long) slot << IO_TLB_SHIFT);
            if ((slotDma & allocAlignMask) != 0
                    || (orig != 0 && (slotDma & iotlbAlignMask) != (orig & iotlbAlignMask))) {
                index = wrapArea(index + 1);
                slotsChecked++;
                continue;
            }
            if (!spanBoundary(slot, nslots, shift, maxSlots) && fits(slot, nslots)) {
                take(slot, nslots, allocSizeBytes, offset);
                areaIndex[area] = wrapArea(index + nslots);
                areaUsed[area] += nslots;
                return slot;
            }
            index = wrapArea((int) (index + stride));
            slotsChecked += stride;
        }
        return -1;
    }

    private void take(int slot, int nslots, long allocSizeBytes, long offset) {
        for (int i = slot; i < slot + nslots; i++) {
            allocSize[i] = allocSizeBytes - (offset + ((long) (i - slot) << IO_TLB_SHIFT));
        }
        claim(slot, nslots);
    }

    /**
     * Marks [slot, slot + nslots) used. (The kernel also renumbers the free run before it in the same segment;
     * with the bitmap representation that follows from the bits.)
     */
    private void claim(int slot, int nslots) {
        setUsed(slot, slot + nslots, true);
    }

    /**
     * {@code swiotlb_find_slots} for a non-dynamic pool: the CPU's area first, then the others round-robin.
     *
     * @return the first slot, or -1 if no area can hold the request
     */
    public int findSlots(
            int cpu,
            long tblDma,
            long boundaryMask,
            long minAlignMask,
            long orig,
            long allocSizeBytes,
            long allocAlignMask,
            long pageSize) {
        int first = cpu & (nareas - 1);
        int i = first;
        do {
            int slot =
                    searchArea(i, tblDma, boundaryMask, minAlignMask, orig, allocSizeBytes, allocAlignMask, pageSize);
            if (slot >= 0) {
                return slot;
            }
            if (++i >= nareas) {
                i = 0;
            }
        } while (i != first);
        return -1;
    }

    /**
     * Trace replay's one-step mode (not a kernel function): takes the run {@code [slot, slot + nslots)} that the
     * real kernel chose, as {@link #searchArea} would have had it found the run there — sizes recorded, the area's
     * cursor moved to the end of the run, its used count raised.
     *
     * @return false (and nothing changed) if a slot of the run is in use or the run leaves its area
     */
    public boolean adopt(int slot, int nslots, long allocSizeBytes, long offset) {
        if (slot < 0 || nslots < 1 || slot + nslots > nslabs) {
            return false;
        }
        int area = slot / areaNslabs;
        if ((slot + nslots - 1) / areaNslabs != area) {
            return false;
        }
        for (int i = slot; i < slot + nslots; i++) {
            if (isUsed(i)) {
                return false;
            }
        }
        take(slot, nslots, allocSizeBytes, offset);
        areaIndex[area] = wrapArea(slot - area * areaNslabs + nslots);
        areaUsed[area] += nslots;
        return true;
    }

    /** Records the data slots of a mapping made by {@link #findSlots} (step 8 of {@code swiotlb_tbl_map_single}). */
    public void recordOrig(int dataSlot, int pad, long orig, long allocSizeBytes) {
        padSlots[dataSlot] = pad;
        long dataSlots = nrSlots(allocSizeBytes) - pad;
        for (int i = 0; i < dataSlots; i++) {
            origAddr[dataSlot + i] = orig + ((long) i << IO_TLB_SHIFT);
        }
    }

    /**
     * {@code swiotlb_release_slots} (6.12): frees the mapping whose bounce address is {@code tlbAddr}, with the size
     * the slots remember.
     *
     * @return the number of slots freed
     */
    public int release(long tlbAddr, long minAlignMask) {
        long offset = tlbAddr & minAlignMask & (IO_TLB_SIZE - 1);
        int index = (int) ((tlbAddr - offset - start) >>> IO_TLB_SHIFT);
        index -= padSlots[index];
        int nslots = (int) nrSlots(allocSize[index] + offset);
        int area = index / areaNslabs;
        freeRun(index, nslots, true);
        areaUsed[area] -= nslots;
        return nslots;
    }

    /**
     * Frees [index, index + nslots). (The kernel renumbers the run from its end, continuing the free run after it
     * in the same segment, then the free run before it; the bits give the same {@code list} values.)
     */
    private void freeRun(int index, int nslots, boolean clearSizes) {
        setUsed(index, index + nslots, false);
        for (int i = index; i < index + nslots; i++) {
            origAddr[i] = INVALID_PHYS_ADDR;
            if (clearSizes) {
                allocSize[i] = 0;
                padSlots[i] = 0;
            }
        }
    }

    // -------------------------------------------------------------------------------------------------------------
    // 4.20 / 5.x

    /**
     * The slot search of 4.20–5.11 {@code swiotlb_tbl_map_single}: one global index (kept as area 0's cursor).
     *
     * @param tblDmaAddr the bus address of the pool start as the caller passes it (dma-direct: {@code
     *     __phys_to_dma(io_tlb_start)}; Xen: its own {@code start_dma_addr})
     * @param boundaryMask {@code dma_get_seg_boundary(hwdev)}
     * @param size the mapping size
     * @param earlyExit 5.1+: fail at once when fewer than {@code nslots} slots are free in total
     * @return the first slot, or -1
     */
    public int searchGlobal(long tblDmaAddr, long boundaryMask, long size, long pageSize, boolean earlyExit) {
        long mask = boundaryMask;
        long tbl = tblDmaAddr & mask;
        long offsetSlots = Bits.alignUp(tbl, IO_TLB_SIZE) >>> IO_TLB_SHIFT;
        long maxSlots =
                mask + 1 != 0 ? Bits.alignUp(mask + 1, IO_TLB_SIZE) >>> IO_TLB_SHIFT : 1L << (64 - IO_TLB_SHIFT);
        int nslots = (int) (Bits.alignUp(size, IO_TLB_SIZE) >>> IO_TLB_SHIFT);
        int stride = size >= pageSize ? (int) (pageSize >>> IO_TLB_SHIFT) : 1;
        if (nslots == 0) {
            throw new IllegalArgumentException("BUG_ON(!nslots)");
        }
        if (earlyExit && nslots > nslabs - areaUsed[0]) {
            return -1;
        }
        int index = (int) Bits.alignUp(areaIndex[0], stride);
        if (index >= nslabs) {
            index = 0;
        }
        int wrap = index;
        do {
            while (spanBoundary(index, nslots, offsetSlots, maxSlots)) {
                index += stride;
                if (index >= nslabs) {
                    index = 0;
                }
                if (index == wrap) {
                    return -1;
                }
            }
            if (fits(index, nslots)) {
                claim(index, nslots);
                areaIndex[0] = index + nslots < nslabs ? index + nslots : 0;
                areaUsed[0] += nslots;
                return index;
            }
            index += stride;
            if (index >= nslabs) {
                index = 0;
            }
        } while (index != wrap);
        return -1;
    }

    /** Records the slots of a 5.0 mapping: {@code orig_addr[index + i] = orig + i * 2048}. */
    public void recordOrig50(int index, long orig, long size) {
        int nslots = (int) (Bits.alignUp(size, IO_TLB_SIZE) >>> IO_TLB_SHIFT);
        for (int i = 0; i < nslots; i++) {
            origAddr[index + i] = orig + ((long) i << IO_TLB_SHIFT);
        }
    }

    /** The release of 4.20–5.12 {@code swiotlb_tbl_unmap_single}: {@code nslots} from the caller's size. */
    public int release50(long tlbAddr, long size) {
        int nslots = (int) (Bits.alignUp(size, IO_TLB_SIZE) >>> IO_TLB_SHIFT);
        int index = (int) ((tlbAddr - start) >>> IO_TLB_SHIFT);
        freeRun(index, nslots, false);
        areaUsed[0] -= nslots;
        return nslots;
    }

    // -------------------------------------------------------------------------------------------------------------

    /** Verifies invariants 1–4 of the class comment; throws {@link IllegalStateException} naming the first breach. */
    public void checkInvariants() {
        long[] usedPerArea = new long[nareas];
        for (int s = 0; s < nslabs; s++) {
            if (isUsed(s)) {
                usedPerArea[s / areaNslabs]++;
                if (origAddr[s] == INVALID_PHYS_ADDR && !isPadSlot(s)) {
                    throw new IllegalStateException("used slot " + s + " has no original address");
                }
                continue;
            }
            boolean lastOfSegment = (s % IO_TLB_SEGSIZE) == IO_TLB_SEGSIZE - 1 || s == nslabs - 1;
            int expect = lastOfSegment || isUsed(s + 1) ? 1 : list(s + 1) + 1;
            if (list(s) != expect) {
                throw new IllegalStateException("list[" + s + "] = " + list(s) + ", expected " + expect);
            }
            if (origAddr[s] != INVALID_PHYS_ADDR) {
                throw new IllegalStateException("free slot " + s + " still holds an original address");
            }
        }
        long total = 0;
        for (int a = 0; a < nareas; a++) {
            if (usedPerArea[a] != areaUsed[a]) {
                throw new IllegalStateException(
                        "area " + a + " counts " + areaUsed[a] + " used slots but " + usedPerArea[a] + " are used");
            }
            if (areaIndex[a] < 0 || areaIndex[a] >= areaNslabs) {
                throw new IllegalStateException("area " + a + " cursor " + areaIndex[a] + " out of range");
            }
            total += usedPerArea[a];
        }
        if (total != used()) {
            throw new IllegalStateException("used slots " + total + " != counted " + used());
        }
        for (int i = nslabs; i < usedBits.length * 64; i++) {
            if ((usedBits[i >>> 6] & (1L << i)) != 0) {
                throw new IllegalStateException("bit " + i + " set beyond the pool's " + nslabs + " slots");
            }
        }
    }

    /** A used slot before a data slot whose pad count covers it (6.9+ alignment padding). */
    private boolean isPadSlot(int s) {
        for (int d = s + 1; d < Math.min(nslabs, s + IO_TLB_SEGSIZE); d++) {
            if (padSlots[d] > 0) {
                return d - padSlots[d] <= s;
            }
            if (!isUsed(d)) {
                return false;
            }
        }
        return false;
    }
}
