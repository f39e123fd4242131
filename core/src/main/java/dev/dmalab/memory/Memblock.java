package dev.dmalab.memory;

import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;

/**
 * The early boot allocator: models {@code mm/memblock.c} as far as early DMA pools need it.
 *
 * <p>Memblock starts with every RAM bank free except the ranges the firmware or the kernel image reserved. An
 * allocation is placed <em>top-down</em>: the highest suitably aligned range below the limit, which is what
 * {@code memblock_alloc_low()} / {@code memblock_alloc()} do on x86 and arm64 (memblock's default direction is
 * top-down once the kernel is relocated). What remains free when the buddy allocator takes over is handed to it
 * with {@link #freeRanges()}.
 *
 * <p>Deliberate difference: the real memblock has already served many allocations (page tables, per-CPU areas,
 * log buffers) by the time swiotlb asks; dmalab models only the reservations the platform profile lists, so a
 * pool placed without an explicit base lands higher than on the real machine. Trace replay therefore takes the
 * pool base from the capture (see {@code validated-swiotlb.md} §2), never from this placement.
 */
public final class Memblock {
    private final List<long[]> free = new ArrayList<>(); // sorted, disjoint [start, end)

    public Memblock(PhysicalMemoryMap map) {
        for (MemoryRegion r : map.ramBanks()) {
            free.add(new long[] {r.start(), r.end()});
        }
        for (MemoryRegion r : map.reservedRegions()) {
            reserve(r.start(), r.sizeBytes());
        }
    }

    /** Marks {@code [start, start + size)} as used; parts already used are ignored, as memblock_reserve does. */
    public void reserve(long start, long size) {
        long end = start + size;
        List<long[]> out = new ArrayList<>();
        for (long[] f : free) {
            if (f[1] <= start || f[0] >= end) {
                out.add(f);
                continue;
            }
            if (f[0] < start) {
                out.add(new long[] {f[0], start});
            }
            if (f[1] > end) {
                out.add(new long[] {end, f[1]});
            }
        }
        free.clear();
        free.addAll(out);
    }

    /** Whether all of {@code [start, start + size)} is free. */
    public boolean isFree(long start, long size) {
        for (long[] f : free) {
            if (start >= f[0] && start + size <= f[1]) {
                return true;
            }
        }
        return false;
    }

    /**
     * Allocates {@code size} bytes aligned to {@code align}, top-down, ending at or below {@code limit}: the {@code
     * end} argument of {@code memblock_find_in_range} (callers pass {@code ARCH_LOW_ADDRESS_LIMIT}, the highest
     * usable address, so that a range reaching it ends one byte short and the block lands a page lower).
     *
     * @return the start address, or -1 if nothing fits
     */
    public long allocTopDown(long size, long align, long limit) {
        for (int i = free.size() - 1; i >= 0; i--) {
            long[] f = free.get(i);
            long top = Math.min(f[1], limit);
            if (top - f[0] < size) {
                continue;
            }
            long start = Bits.alignDown(top - size, align);
            if (start >= f[0]) {
                reserve(start, size);
                return start;
            }
        }
        return -1;
    }

    /** The free ranges, ascending, as {@code {start, end}} pairs (copies). */
    public List<long[]> freeRanges() {
        List<long[]> copy = new ArrayList<>();
        for (long[] f : free) {
            copy.add(f.clone());
        }
        return copy;
    }
}
