package dev.dmalab.dma;

import java.util.Arrays;

/**
 * An array of {@code struct scatterlist} entries ({@code include/linux/scatterlist.h}) in structure-of-arrays
 * form, so that mapping a list allocates nothing.
 *
 * <p>Entry {@code i} describes CPU memory {@code [pagePhys + offset, pagePhys + offset + length)} ({@code
 * sg_phys}). After {@code dma_map_sg} the first {@code ents} entries also carry {@code sg_dma_address} and {@code
 * sg_dma_len}; a backend that merges segments (dma-iommu) fills fewer entries than it was given.
 *
 * <p>Deliberate difference: no chaining; a list is one array of up to {@link #capacity()} entries.
 */
public final class ScatterList {
    private final long[] pagePhys;
    private final int[] offset;
    private final int[] length;
    private final long[] dmaAddress;
    private final int[] dmaLength;
    private int nents;
    private boolean swiotlbMapped;

    public ScatterList(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a scatterlist needs at least one entry");
        }
        pagePhys = new long[capacity];
        offset = new int[capacity];
        length = new int[capacity];
        dmaAddress = new long[capacity];
        dmaLength = new int[capacity];
    }

    public int capacity() {
        return pagePhys.length;
    }

    /** Number of entries set ({@code sg_init_table} + {@code sg_set_page} calls), the {@code nents} to map. */
    public int nents() {
        return nents;
    }

    /** {@code sg_init_table}: clears the list. */
    public ScatterList clear() {
        nents = 0;
        swiotlbMapped = false;
        Arrays.fill(dmaAddress, 0);
        Arrays.fill(dmaLength, 0);
        return this;
    }

    /**
     * {@code sg_set_page(sg, page, len, offset)} on the next entry, given a page-aligned {@code pagePhys}. {@code
     * offset} may exceed a page for compound pages, as in the kernel.
     */
    public ScatterList add(long pagePhys, int offset, int length) {
        if (nents == capacity()) {
            throw new IllegalStateException("scatterlist full (" + capacity() + " entries)");
        }
        if (length <= 0 || offset < 0) {
            throw new IllegalArgumentException("bad sg entry: offset " + offset + " length " + length);
        }
        this.pagePhys[nents] = pagePhys;
        this.offset[nents] = offset;
        this.length[nents] = length;
        nents++;
        return this;
    }

    /** Adds {@code [phys, phys + length)} splitting nothing: page = phys rounded down to {@code pageSize}. */
    public ScatterList addPhys(long phys, int length, long pageSize) {
        long page = phys & -pageSize;
        return add(page, (int) (phys - page), length);
    }

    public long pagePhys(int i) {
        return pagePhys[i];
    }

    public int offset(int i) {
        return offset[i];
    }

    public int length(int i) {
        return length[i];
    }

    /** {@code sg_phys(sg)}. */
    public long phys(int i) {
        return pagePhys[i] + offset[i];
    }

    /** {@code sg_dma_address(sg)}. */
    public long dmaAddress(int i) {
        return dmaAddress[i];
    }

    /** {@code sg_dma_len(sg)}. */
    public int dmaLength(int i) {
        return dmaLength[i];
    }

    public void setDma(int i, long address, int len) {
        dmaAddress[i] = address;
        dmaLength[i] = len;
    }

    /**
     * {@code sg_dma_mark_swiotlb} / {@code sg_dma_is_swiotlb} (6.x): dma-iommu mapped this list entry by entry through
     * swiotlb bounce buffers (an untrusted device), so its unmap and syncs must go entry by entry too.
     */
    public boolean swiotlbMapped() {
        return swiotlbMapped;
    }

    public void setSwiotlbMapped(boolean mapped) {
        this.swiotlbMapped = mapped;
    }
}
