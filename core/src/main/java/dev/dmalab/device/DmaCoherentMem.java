package dev.dmalab.device;

import dev.dmalab.util.Bits;
import java.util.BitSet;

/**
 * A per-device coherent memory pool: models {@code struct dma_coherent_mem} and the allocator of {@code
 * kernel/dma/coherent.c} ({@code dma_alloc_from_dev_coherent}, {@code dma_release_from_dev_coherent}), as declared
 * by {@code dma_declare_coherent_memory()} or a device-tree {@code shared-dma-pool} with {@code no-map}.
 *
 * <p>Allocation is {@code bitmap_find_free_region(bitmap, pages, order)}: the first naturally aligned run of
 * {@code 2^order} free pages, scanning from page 0, with {@code order = get_order(size)}. The caller zeroes the
 * memory and decides the handle (device base, or the translated physical base when {@code
 * use_dev_dma_pfn_offset}).
 */
public final class DmaCoherentMem {
    private final long physBase;
    private final long deviceBase;
    private final long virtBase;
    private final int pages;
    private final int pageShift;
    private final boolean useDevDmaPfnOffset;
    private final BitSet bitmap;

    /**
     * @param physBase CPU physical address of the pool
     * @param deviceBase bus address of the pool as the device sees it
     * @param virtBase kernel virtual address of the pool's mapping
     */
    public DmaCoherentMem(
            long physBase, long deviceBase, long virtBase, long sizeBytes, int pageShift, boolean useDevDmaPfnOffset) {
        long pageBytes = 1L << pageShift;
        if (sizeBytes <= 0 || sizeBytes % pageBytes != 0 || physBase % pageBytes != 0) {
            throw new IllegalArgumentException("coherent pool must be page aligned and non-empty");
        }
        this.physBase = physBase;
        this.deviceBase = deviceBase;
        this.virtBase = virtBase;
        this.pages = Math.toIntExact(sizeBytes >>> pageShift);
        this.pageShift = pageShift;
        this.useDevDmaPfnOffset = useDevDmaPfnOffset;
        this.bitmap = new BitSet(pages);
    }

    public long physBase() {
        return physBase;
    }

    public long deviceBase() {
        return deviceBase;
    }

    public long virtBase() {
        return virtBase;
    }

    public int pages() {
        return pages;
    }

    public long sizeBytes() {
        return (long) pages << pageShift;
    }

    /** Whether handles are {@code phys_to_dma(pool)} rather than the declared device base. */
    public boolean useDevDmaPfnOffset() {
        return useDevDmaPfnOffset;
    }

    /**
     * Allocates {@code size} bytes; returns the first page number, or -1 if the pool cannot satisfy it (too large,
     * or no aligned free run).
     */
    public int allocPages(long size) {
        int order = Bits.getOrder(size, pageShift);
        if (order >= 31 || (1L << order) > pages) {
            return -1;
        }
        int run = 1 << order;
        for (int start = 0; start + run <= pages; start += run) {
            int used = bitmap.nextSetBit(start);
            if (used < 0 || used >= start + run) {
                bitmap.set(start, start + run);
                return start;
            }
        }
        return -1;
    }

    /** {@code bitmap_release_region(bitmap, pageno, order)}. */
    public void releasePages(int pageno, long size) {
        int order = Bits.getOrder(size, pageShift);
        bitmap.clear(pageno, pageno + (1 << order));
    }

    /** Whether the kernel virtual address {@code va} lies in the pool. */
    public boolean containsVirt(long va) {
        return Bits.ule(virtBase, va) && Bits.ult(va - virtBase, sizeBytes());
    }

    public int usedPages() {
        return bitmap.cardinality();
    }
}
