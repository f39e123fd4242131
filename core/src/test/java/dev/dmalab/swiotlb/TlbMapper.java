package dev.dmalab.swiotlb;

import dev.dmalab.util.Bits;

/**
 * Drives an {@link IoTlbPool} the way the 6.10+ {@code swiotlb_tbl_map_single} does (offset, rounded size, find,
 * pad slots, recorded original) and the way {@code swiotlb_release_slots} is reached on unmap, without a device:
 * the tests of the slot allocator call this instead of repeating the caller's arithmetic.
 */
final class TlbMapper {
    static final long PAGE = 4096;

    final IoTlbPool pool;
    final long boundaryMask;
    final long tblDma;
    final long pageSize;

    TlbMapper(IoTlbPool pool, long boundaryMask, long pageSize) {
        this.pool = pool;
        this.boundaryMask = boundaryMask;
        this.tblDma = pool.start() & boundaryMask; // phys == dma in these tests
        this.pageSize = pageSize;
    }

    /** An all-ones boundary (no window) and 4 KiB pages. */
    TlbMapper(IoTlbPool pool) {
        this(pool, Bits.U64_MAX, PAGE);
    }

    /** The bounce address of a streaming map (alloc_align_mask 0) on {@code cpu}, or -1. */
    long map(int cpu, long minAlign, long orig, long mappingSize) {
        return map(cpu, minAlign, orig, mappingSize, 0);
    }

    /** The bounce address, or -1 when no area has room. */
    long map(int cpu, long minAlign, long orig, long mappingSize, long allocAlignMask) {
        long offset = orig & minAlign & (allocAlignMask | (IoTlbPool.IO_TLB_SIZE - 1));
        long size = Bits.alignUp(mappingSize + offset, allocAlignMask + 1);
        int index = pool.findSlots(cpu, tblDma, boundaryMask, minAlign, orig, size, allocAlignMask, pageSize);
        if (index < 0) {
            return -1;
        }
        int pad = (int) (offset >>> IoTlbPool.IO_TLB_SHIFT);
        index += pad;
        pool.recordOrig(index, pad, orig, size);
        return pool.slotAddr(index) + (offset & (IoTlbPool.IO_TLB_SIZE - 1));
    }

    /** A plain map on CPU 0 with no masks: {@code size} bytes of original {@code orig}. */
    long map(long orig, long size) {
        return map(0, 0, orig, size, 0);
    }

    /** {@code swiotlb_release_slots}; returns the slots freed. */
    int unmap(long tlb, long minAlign) {
        return pool.release(tlb, minAlign);
    }

    int unmap(long tlb) {
        return pool.release(tlb, 0);
    }

    /** The slot holding bounce address {@code tlb}. */
    int slot(long tlb) {
        return pool.slotOf(tlb);
    }

    /** {@code list[from..to)} as an array, for comparing runs of the free-run encoding. */
    int[] lists(int from, int to) {
        int[] out = new int[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = pool.list(i);
        }
        return out;
    }

    /** The list values of a free run of {@code n} slots: n, n-1, ..., 1. */
    static int[] descending(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = n - i;
        }
        return out;
    }

    /** {@code descending(n)} shifted: a run whose first slot reads {@code first} and that has {@code len} slots. */
    static int[] countingDown(int first, int len) {
        int[] out = new int[len];
        for (int i = 0; i < len; i++) {
            out[i] = first - i;
        }
        return out;
    }
}
