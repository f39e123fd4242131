package dev.dmalab.hypervisor;

import dev.dmalab.memory.MemoryRegion;
import dev.dmalab.memory.PhysicalMemoryMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The machine frames Xen has not given to any domain ({@code xen/common/page_alloc.c}): every RAM frame of the
 * machine map, less the ranges the map reserves (Xen's own image and heap metadata), less what domains own.
 *
 * <p>Deliberate difference: Xen's buddy allocator keeps per-zone free lists and hands out the head of a list; the
 * model keeps free ranges and allocates top-down below the address limit, naturally aligned. Both prefer high memory
 * and honour {@code MEMF_bits}; which exact frame Xen picks depends on its allocation history, which the model does
 * not have.
 */
public final class XenHeap {
    /** start frame -> end frame (exclusive), disjoint and never adjacent. */
    private final TreeMap<Long, Long> free = new TreeMap<>();

    private long freeFrames;

    public XenHeap(PhysicalMemoryMap machineMap) {
        for (MemoryRegion r : machineMap.ramBanks()) {
            long first = (r.start() + XenFrames.MASK) >>> XenFrames.SHIFT;
            long end = r.end() >>> XenFrames.SHIFT;
            if (end > first) {
                free(first, end - first);
            }
        }
        for (MemoryRegion r : machineMap.reservedRegions()) {
            long first = r.start() >>> XenFrames.SHIFT;
            long end = (r.end() + XenFrames.MASK) >>> XenFrames.SHIFT;
            takeWhateverIsFree(first, end);
        }
    }

    /** Number of free frames. */
    public long freeFrames() {
        return freeFrames;
    }

    /** Whether every frame of {@code [first, first + count)} is free. */
    public boolean isFree(long first, long count) {
        Map.Entry<Long, Long> e = free.floorEntry(first);
        return e != null && first + count <= e.getValue();
    }

    /**
     * Takes the frames {@code [first, first + count)} (a 1:1 dom0 bank, a profile-given PV layout).
     *
     * @return false, taking nothing, if any of them is not free
     */
    public boolean claim(long first, long count) {
        if (count <= 0 || !isFree(first, count)) {
            return false;
        }
        remove(first, first + count);
        return true;
    }

    /**
     * {@code alloc_heap_pages(order, MEMF_bits(addressBits))}: {@code 2^order} contiguous frames, naturally aligned,
     * ending at or below {@code 2^addressBits} (0: no limit); the highest such run.
     *
     * @return the first frame, or {@link XenFrames#INVALID}
     */
    public long alloc(int order, int addressBits) {
        long count = 1L << order;
        long limit = addressBits <= 0 || addressBits >= 64 ? Long.MAX_VALUE : 1L << (addressBits - XenFrames.SHIFT);
        for (Map.Entry<Long, Long> e : free.descendingMap().entrySet()) {
            long top = Math.min(e.getValue(), limit);
            long start = (top - count) & -count;
            if (top - count >= 0 && start >= e.getKey()) {
                remove(start, start + count);
                return start;
            }
        }
        return XenFrames.INVALID;
    }

    /** Returns {@code [first, first + count)} to the heap. */
    public void free(long first, long count) {
        if (count <= 0) {
            return;
        }
        long end = first + count;
        Map.Entry<Long, Long> below = free.floorEntry(first);
        if (below != null && below.getValue() > first) {
            throw new IllegalStateException("frame 0x" + Long.toHexString(first) + " is already free");
        }
        Map.Entry<Long, Long> above = free.ceilingEntry(first);
        if (above != null && above.getKey() < end) {
            throw new IllegalStateException("frame 0x" + Long.toHexString(above.getKey()) + " is already free");
        }
        long start = first;
        if (below != null && below.getValue() == first) {
            start = below.getKey();
            free.remove(start);
        }
        if (above != null && above.getKey() == end) {
            end = above.getValue();
            free.remove(above.getKey());
        }
        free.put(start, end);
        freeFrames += count;
    }

    private void remove(long first, long end) {
        Map.Entry<Long, Long> e = free.floorEntry(first);
        long s = e.getKey();
        long t = e.getValue();
        free.remove(s);
        if (s < first) {
            free.put(s, first);
        }
        if (end < t) {
            free.put(end, t);
        }
        freeFrames -= end - first;
    }

    private void takeWhateverIsFree(long first, long end) {
        long at = first;
        while (at < end) {
            Map.Entry<Long, Long> e = free.floorEntry(at);
            if (e != null && e.getValue() > at) {
                long stop = Math.min(end, e.getValue());
                remove(at, stop);
                at = stop;
            } else {
                Long next = free.ceilingKey(at);
                if (next == null || next >= end) {
                    return;
                }
                at = next;
            }
        }
    }
}
